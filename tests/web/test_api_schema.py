"""Schemathesis against the live API: whatever the OpenAPI document allows, and what it does not,
never gets a 5xx.

The daemon runs in the test's event loop; schemathesis is synchronous (``requests``), so the whole
run goes to a worker thread and the loop keeps serving. Bounded: a fixed number of derandomised
examples per operation and mode, no shrinking (a 5xx is reported with its curl command instead).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.errors import FailureGroup

from tests.support.daemon import daemon

EXAMPLES = 30
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@dataclass
class Tally:
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    nothing_to_negate: set[str] = field(default_factory=set)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def of(self, operation_id: str) -> Counter[int]:
        return Counter({s: n for (op, s), n in self.statuses.items() if op == operation_id})


def fuzz(base: str, thread_id: int, token: str) -> Tally:
    """Every documented operation, both modes; then the thread operations on a real thread."""
    tally = Tally()
    schema = schemathesis.openapi.from_url(f"{base}/api/openapi.json", timeout=5)
    with requests.Session() as session:
        session.trust_env = False  # 127.0.0.1 only: no proxy from the environment

        def run(operation_id: str, strategy: st.SearchStrategy[schemathesis.Case[Any]]) -> None:
            @BOUNDED
            @given(case=strategy)
            def one(case: schemathesis.Case[Any]) -> None:
                response = case.call(base_url=base, session=session, timeout=10)
                tally.statuses[operation_id, response.status_code] += 1
                try:
                    case.validate_response(response, checks=[not_a_server_error])
                except FailureGroup as exc:
                    tally.server_errors.append(str(exc))

            one()

        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result.err()  # the document loads whole
            operation = result.ok()
            operation_id = operation.definition.raw["operationId"]
            for mode in MODES:
                try:
                    run(operation_id, operation.as_strategy(generation_mode=mode))
                except Unsatisfiable:  # no parameter and no body: nothing can be made invalid
                    tally.nothing_to_negate.add(operation_id)
            if operation_id in {"getThread", "followUp"}:
                owned = operation.as_strategy(
                    path_parameters={"id": thread_id},
                    headers={"Authorization": f"Bearer {token}"},
                )
                run(operation_id, owned)
            if operation_id == "ask":
                run(operation_id, operation.as_strategy().map(_to_a_real_expert))
    return tally


def _to_a_real_expert(case: schemathesis.Case[Any]) -> schemathesis.Case[Any]:
    if isinstance(case.body, dict):
        case.body["expert_id"] = "zhang"
    return case


async def test_no_request_the_schema_allows_or_forbids_gets_a_5xx(tmp_path: Path) -> None:
    async with daemon(tmp_path) as (running, client):
        status, asked = await client.call(
            "POST", "/api/questions", expert_id="zhang", nickname="小王", text="头疼", public=True
        )
        assert status == 201, asked

        tally = await asyncio.to_thread(fuzz, running.url, asked["id"], asked["token"])

    report: dict[str, Any] = {op: dict(tally.of(op)) for op, _ in tally.statuses}
    assert tally.server_errors == [], "\n".join(tally.server_errors[:5])
    assert not any(status >= 500 for _, status in tally.statuses), report
    assert tally.nothing_to_negate <= {"listExperts", "openapi"}
    operations = {op for op, _ in tally.statuses}
    # Every documented operation but the document's own path, which schemathesis leaves out.
    assert operations == {
        "listExperts",
        "startVerification",
        "ask",
        "careEvent",
        "enrol",
        "getThread",
        "followUp",
        "board",
    }
    with_inputs = operations - tally.nothing_to_negate  # one request exhausts the others
    assert all(sum(tally.of(op).values()) >= 10 for op in with_inputs), report
    assert tally.requests >= 300, report
    # The fuzzing reached past the refusals too.
    assert tally.of("getThread")[200] > 0, report
    assert tally.of("followUp")[201] > 0, report
    assert tally.of("ask")[201] > 0, report
    assert tally.of("board")[200] > 0, report
