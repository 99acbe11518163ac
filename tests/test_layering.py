"""The import arrows of STYLE.md, checked by parsing every module's imports: no exemptions.

Each module belongs to exactly one layer, named by its folder. A layer may import itself, the layers
listed for it in :data:`ALLOWED`, and (except the relay core) any third-party package; the core
imports the standard library only. A second test fails on any import cycle between modules, lazy
imports inside functions included. Two more keep the house readable: no module of relay/, storage/
or web/ over 500 lines but the wording catalogues, and no private name imported across modules.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {
    "smscat.relay": "relay",
    "smscat.modem": "modem",
    "smscat.web": "web",
    "smscat.storage": "storage",
    "smscat.hwsim": "hw-sim",
}
# layer -> the smscat layers it may import (itself always allowed)
ALLOWED: dict[str, set[str]] = {
    "modem": set(),
    "hwsim": set(),
    "relay.core": set(),
    "storage": {"relay.core"},
    "relay.services": {"relay.core", "storage", "modem"},
    "web": {"relay.core", "relay.services"},
    "relay.daemon": {"relay.core", "relay.services", "storage", "modem", "web", "hwsim"},
    "relay": set(),  # the package's own __init__: nothing
}


def modules() -> dict[str, Path]:
    """Every smscat module by dotted name."""
    found: dict[str, Path] = {}
    for package, folder in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


MODULES = modules()


def layer(module: str) -> str:
    parts = module.split(".")[1:]
    if parts[0] == "relay" and len(parts) > 1 and parts[1] in {"core", "services", "daemon"}:
        return f"relay.{parts[1]}"
    return parts[0]


def imports(module: str) -> Iterator[str]:
    """The modules (smscat's or others') that ``module`` imports, anywhere in its body."""
    path = MODULES[module]
    is_package = path.name == "__init__.py"
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here[: len(here) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield sub if sub in MODULES else base


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_inwards(module: str) -> None:
    own = layer(module)
    wrong = set()
    for name in imports(module):
        if name.split(".")[0] == "smscat":
            target = layer(name) if name.count(".") else ""
            if target != own and target not in ALLOWED[own]:
                wrong.add(name)
        elif own == "relay.core" and name.split(".")[0] not in sys.stdlib_module_names:
            wrong.add(name)  # the relay core is pure policy: standard library only
    assert not wrong, f"{module} ({own}) must not import {sorted(wrong)}"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def graph() -> dict[str, set[str]]:
    return {m: {n for n in imports(m) if n in MODULES and n != m} for m in MODULES}


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_check_sees_every_layer() -> None:
    seen = {layer(m) for m in MODULES}
    assert seen == set(ALLOWED)
    assert "smscat.hwsim.engine" in MODULES


SIZED = ("smscat.relay", "smscat.storage", "smscat.web")
CATALOGUES = {"smscat.relay.core.texts", "smscat.web.texts"}  # wording, however long
MAX_LINES = 500


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(SIZED)))
def test_no_module_over_500_lines(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert module in CATALOGUES or lines <= MAX_LINES, f"{module}: {lines} lines"


def private_imports(module: str, source: str) -> list[str]:
    """The private names (``_x``) ``module`` imports from another smscat module."""
    tree = ast.parse(source)
    return [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("smscat")
        for alias in node.names
        if alias.name.startswith("_") and node.module != module
    ]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_is_imported_from_another_module(module: str) -> None:
    assert private_imports(module, MODULES[module].read_text(encoding="utf-8")) == []


def test_the_private_import_check_finds_one() -> None:
    source = "from smscat.web.site import _route_name, href\nfrom os import _exit\n"
    assert private_imports("smscat.web.board", source) == ["smscat.web.site._route_name"]
