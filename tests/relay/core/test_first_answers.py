"""The time to a first answer and its median per expert: one computation for the board's
"usually answers within" and the monthly report, over a table of threads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smscat.relay.core.stats import ThreadFacts, first_answer_delay, median_first_answers

ASKED = datetime(2026, 11, 3, 2, 0, 0, 123_000, tzinfo=UTC)


def facts(expert_id: str, seconds: float | None) -> ThreadFacts:
    answered = None if seconds is None else ASKED + timedelta(seconds=seconds)
    return ThreadFacts(expert_id, ASKED, answered, None)


CASES = [
    # (id, (expert, seconds to the first answer or None) per thread, the medians)
    ("nothing asked", [], {}),
    ("nothing answered", [("zhang", None), ("zhang", None)], {}),
    ("one answer, to the millisecond", [("zhang", 600.25)], {"zhang": 600.25}),
    ("odd count: the middle one", [("zhang", 60), ("zhang", 600), ("zhang", 30)], {"zhang": 60.0}),
    ("even count: the mean of the middle two", [("zhang", 60), ("zhang", 600)], {"zhang": 330.0}),
    ("unanswered threads do not count", [("zhang", 60), ("zhang", None)], {"zhang": 60.0}),
    ("per expert", [("zhang", 60), ("li", 1800), ("li", None)], {"zhang": 60.0, "li": 1800.0}),
]


@pytest.mark.parametrize(("threads", "medians"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_each_experts_median_time_to_a_first_answer(
    threads: list[tuple[str, float | None]], medians: dict[str, float]
) -> None:
    given = [facts(expert_id, seconds) for expert_id, seconds in threads]
    assert median_first_answers(given) == medians
    assert [first_answer_delay(f) for f in given] == [s for _, s in threads]
