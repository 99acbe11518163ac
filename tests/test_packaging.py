"""Installs are reproducible: every dependency pinned, and the two set-up commands use the pins."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line!r}"
            pins[_canonical(name)] = version
    return pins


def test_every_dependency_and_test_dependency_has_an_exact_pin() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    pins = _pins()
    names = {_canonical(m[1]) for spec in wanted if (m := NAME.match(spec))}
    assert names, "pyproject lists dependencies"
    assert sorted(names - pins.keys()) == []
    assert "smscat" not in pins  # the project itself is never pinned


def test_the_readme_install_and_scripts_test_use_the_pins() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert commands is not None
    install, test = commands.group(1).strip().splitlines()
    assert (install, test) == ("scripts/demo", "scripts/test")
    for name in ("demo", "test"):
        script = (ROOT / "scripts" / name).read_text(encoding="utf-8")
        assert re.search(r"pip install [^\n]*-c constraints\.txt", script), name
