"""The audit page speaks words: every action the code writes to the audit log has its words
(``admin.audit.action.<action>``), found by reading the source, so a new action cannot reach the
page as a raw key (issue 16)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from smscat.relay.services.admin_access import ACTIONS as ACCESS_ACTIONS
from smscat.web import texts

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("relay", "storage", "web")
# f-strings that name an action: their fixed start, and every value the code fills in
EXPANSIONS = {
    "admin.": ACCESS_ACTIONS,  # AccessLog.record: admin.<action>, one of its ACTIONS
    "thread.": ("transfer", "escalate"),  # ExpertSms._pass_on: thread.<how>, 转 and 升
}


def _strings(node: ast.AST) -> set[str]:
    return {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    }


def _names(tree: ast.Module) -> dict[str, set[str]]:
    """Every string a name is given anywhere in the module (module constants and locals)."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, set()).update(_strings(node.value))
    return found


def _action(node: ast.expr, names: dict[str, set[str]], where: str) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Name):
        assert names.get(node.id), f"{where}: the action {node.id} is given no string"
        return names[node.id]
    if isinstance(node, ast.JoinedStr):
        head = node.values[0]
        assert isinstance(head, ast.Constant), where
        assert head.value in EXPANSIONS, f"{where}: which actions does {head.value}… name?"
        return {f"{head.value}{tail}" for tail in EXPANSIONS[head.value]}
    raise AssertionError(f"{where}: an action this test cannot read")


def written_actions() -> set[str]:
    """The actions of every ``audit(conn, actor, action, …)`` call in the source."""
    actions: set[str] = set()
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = _names(tree)
            for call in ast.walk(tree):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "audit"
                    and len(call.args) >= 3
                ):
                    where = f"{path.relative_to(ROOT)}:{call.lineno}"
                    actions |= _action(call.args[2], names, where)
    return actions


def test_the_source_is_read_whole() -> None:
    actions = written_actions()
    assert {"digest.queued", "expert.insert", "thread.hide", "admin.login", "alert"} <= actions
    assert {"inbound.completed", "inbound.late_part", "thread.transfer"} <= actions


@pytest.mark.parametrize("action", sorted(written_actions()))
def test_every_action_written_has_words(action: str) -> None:
    key = f"admin.audit.action.{action}"
    assert key in texts.TEXTS, f"no words for the audit action {action}"
