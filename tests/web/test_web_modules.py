"""How web/ speaks: one language negotiator, and every word a page names in web/texts.py.

Read from the source, like tests/test_layering.py, which checks the import arrows, cycles, module
sizes and private names across modules for every package.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smscat.web import texts

WEB = Path(__file__).resolve().parents[2] / "web"
MODULES = sorted(WEB.glob("*.py"))
TEMPLATES = sorted((WEB / "templates").rglob("*.html"))


def test_every_module_is_seen() -> None:
    names = {p.name for p in MODULES}
    assert {"admin.py", "admin_session.py", "language.py", "texts.py", "site.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_one_language_negotiator(path: Path) -> None:
    """Only web/language.py reads Accept-Language or ``?lang=`` to pick a language."""
    source = path.read_text(encoding="utf-8")
    if path.name == "language.py":
        return
    assert '"Accept-Language"' not in source or "language.negotiate(" in source
    assert 'query.get("lang"' not in source


@pytest.mark.parametrize("path", MODULES + TEMPLATES, ids=lambda p: p.name)
def test_every_word_named_is_in_the_web_catalogue(path: Path) -> None:
    """A key written out in a module (``texts.render("…")``) or a template (``t('…')``) is the
    web's; the relay's words (a modem's ``block.*``) are asked of ``relay_texts``."""
    source = path.read_text(encoding="utf-8")
    named = re.findall(r"(?<![.\w])texts\.render(?:_or)?\(\s*\"([^\"{}]+)\"", source)
    named += re.findall(r"\bt\('([^']+)'\s*[,)]", source)
    assert [key for key in named if key not in texts.TEXTS] == []
