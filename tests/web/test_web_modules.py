"""How web/ is cut: no module over 500 lines but the wording catalogue, no private name imported
from another module, one language negotiator, and every word a page names in web/texts.py.

Read from the source (``ast``), like tests/test_layering.py, which checks the import arrows and
cycles.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from smscat.web import texts

WEB = Path(__file__).resolve().parents[2] / "web"
MODULES = sorted(WEB.glob("*.py"))
CATALOGUES = {"texts.py"}  # wording, however long
MAX_LINES = 500
TEMPLATES = sorted((WEB / "templates").rglob("*.html"))


def test_every_module_is_seen() -> None:
    names = {p.name for p in MODULES}
    assert {"admin.py", "admin_session.py", "language.py", "texts.py", "site.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_module_over_500_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert path.name in CATALOGUES or lines <= MAX_LINES, f"{path.name}: {lines} lines"


def private_imports(source: str) -> list[str]:
    """The private names (``_x``) a module imports from smscat's modules."""
    return [
        f"{node.module}.{alias.name}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("smscat")
        for alias in node.names
        if alias.name.startswith("_")
    ]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_private_name_is_imported_from_another_module(path: Path) -> None:
    private = private_imports(path.read_text(encoding="utf-8"))
    assert not private, f"{path.name} imports {private}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_one_language_negotiator(path: Path) -> None:
    """Only web/language.py reads Accept-Language or ``?lang=`` to pick a language."""
    source = path.read_text(encoding="utf-8")
    if path.name == "language.py":
        return
    assert '"Accept-Language"' not in source or "language.negotiate(" in source
    assert 'query.get("lang"' not in source


def test_the_private_import_check_finds_one() -> None:
    source = "from smscat.web.site import _route_name, href\nfrom os import _exit\n"
    assert private_imports(source) == ["smscat.web.site._route_name"]


@pytest.mark.parametrize("path", MODULES + TEMPLATES, ids=lambda p: p.name)
def test_every_word_named_is_in_the_web_catalogue(path: Path) -> None:
    """A key written out in a module (``texts.render("…")``) or a template (``t('…')``) is the
    web's; the relay's words (a modem's ``block.*``) are asked of ``relay_texts``."""
    source = path.read_text(encoding="utf-8")
    named = re.findall(r"(?<![.\w])texts\.render(?:_or)?\(\s*\"([^\"{}]+)\"", source)
    named += re.findall(r"\bt\('([^']+)'\s*[,)]", source)
    assert [key for key in named if key not in texts.TEXTS] == []
