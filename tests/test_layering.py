"""The import arrows of STYLE.md, checked by parsing every module's imports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {
    "relay": "relay",
    "modem": "modem",
    "web": "web",
    "storage": "storage",
    "hwsim": "hw-sim",
}
# The outer ring of relay/: the composition root, config, CLI, and the thin service that runs
# the pure core's decisions inside storage transactions and hands SMS to the modems.
OUTER_RING = {
    "relay/app.py",
    "relay/config.py",
    "relay/cli.py",
    "relay/modemtool.py",
    "relay/service.py",
    "relay/outbox.py",
    "relay/reporting.py",
    "relay/retention.py",
    "relay/admin_cli.py",
    "relay/alerting.py",
    "relay/management.py",
    "relay/pins.py",
    "relay/admin_access.py",
}
# package -> smscat packages it may import (itself always allowed)
ALLOWED: dict[str, set[str]] = {
    "modem": set(),
    "hwsim": set(),
    "storage": {"relay"},
    "web": {"relay"},
    "relay": set(),  # the relay core: standard library only (see below)
}


def modules() -> list[tuple[str, Path]]:
    found = []
    for package, folder in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            found.append((package, path))
    return found


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize(("package", "path"), modules(), ids=lambda v: str(v))
def test_imports_point_inwards(package: str, path: Path) -> None:
    rel = path.relative_to(ROOT).as_posix()
    if rel in OUTER_RING:
        return  # the composition root, config and CLI may import every package
    wrong = set()
    for name in imports(path):
        parts = name.split(".")
        if parts[0] == "smscat":
            target = parts[1] if len(parts) > 1 else ""
            if target != package and target not in ALLOWED[package]:
                wrong.add(name)
        elif package == "relay" and parts[0] not in sys.stdlib_module_names:
            wrong.add(name)  # the relay core is pure policy: standard library only
    assert not wrong, f"{rel} must not import {sorted(wrong)}"


def test_the_check_sees_every_package() -> None:
    seen = {package for package, _ in modules()}
    assert seen == set(FOLDERS)
    assert any(path.name == "engine.py" for _, path in modules())
