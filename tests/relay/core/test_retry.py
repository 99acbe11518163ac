"""Outbox retry policy: priorities, jittered exponential backoff, and when to give up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.relay.core.retry import (
    MAX_ATTEMPTS,
    PRIORITY,
    FailureKind,
    after_failure,
    backoff_ceiling,
    next_attempt,
    should_give_up,
)

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def test_priority_order() -> None:
    order = ["verification", "to_patient", "to_expert", "notice", "care"]
    assert dict(PRIORITY) == {kind: i for i, kind in enumerate(order)}
    assert sorted(PRIORITY, key=PRIORITY.__getitem__) == order


def test_priority_cannot_be_changed_at_run_time() -> None:
    with pytest.raises(TypeError):
        PRIORITY["notice"] = -1  # type: ignore[index]


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(1, 30), (2, 60), (3, 120), (4, 240), (7, 1920), (8, 3600), (9, 3600), (10_000, 3600)],
)
def test_backoff_ceiling_doubles_up_to_the_cap(attempt: int, ceiling: float) -> None:
    assert backoff_ceiling(attempt) == ceiling


def test_backoff_ceiling_with_other_base_and_cap() -> None:
    assert [backoff_ceiling(n, base=1, cap=5) for n in range(1, 6)] == [1, 2, 4, 5, 5]


@pytest.mark.parametrize("attempt", [0, -1])
def test_attempts_count_from_one(attempt: int) -> None:
    with pytest.raises(ValueError, match="attempt"):
        next_attempt(attempt, NOW, random.Random(1))
    with pytest.raises(ValueError, match="attempt"):
        should_give_up(attempt, "transient")


@pytest.mark.parametrize(
    ("base", "cap"), [(0, 10), (-1, 10), (1, 0), (float("nan"), 10), (1, float("inf"))]
)
def test_base_and_cap_must_be_positive_and_finite(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="base and cap"):
        next_attempt(1, NOW, random.Random(1), base=base, cap=cap)


@pytest.mark.parametrize(
    "now",
    [datetime(2025, 3, 1, 8, 0), datetime(2025, 3, 1, 16, 0, tzinfo=timezone(timedelta(hours=8)))],
)
def test_now_must_be_aware_utc(now: datetime) -> None:
    with pytest.raises(ValueError, match="UTC"):
        next_attempt(1, now, random.Random(1))


def test_seeded_random_gives_the_same_schedule() -> None:
    first = [next_attempt(n, NOW, random.Random(7)) for n in range(1, 9)]
    again = [next_attempt(n, NOW, random.Random(7)) for n in range(1, 9)]
    assert first == again
    other = [next_attempt(n, NOW, random.Random(8)) for n in range(1, 9)]
    assert first != other


def test_jitter_spreads_messages_that_failed_together() -> None:
    rng = random.Random(3)
    times = {next_attempt(3, NOW, rng) for _ in range(50)}
    assert len(times) == 50
    assert min(times) >= NOW + timedelta(seconds=60)
    assert max(times) <= NOW + timedelta(seconds=120)


def test_the_jitter_uses_only_the_given_random() -> None:
    rng = random.Random(11)
    state = rng.getstate()
    first = next_attempt(2, NOW, rng)
    rng.setstate(state)
    assert next_attempt(2, NOW, rng) == first


@given(
    attempt=st.integers(1, 200),
    seed=st.integers(0, 2**32),
    base=st.floats(0.001, 1000),
    cap=st.floats(0.001, 100_000),
)
def test_delay_is_within_half_and_all_of_the_ceiling(
    attempt: int, seed: int, base: float, cap: float
) -> None:
    ceiling = min(cap, base * 2 ** min(attempt - 1, 64))
    delay = next_attempt(attempt, NOW, random.Random(seed), base=base, cap=cap) - NOW
    # timedelta keeps microseconds: allow one either side for its rounding
    assert timedelta(seconds=ceiling * 0.5) - timedelta(microseconds=1) <= delay
    assert delay <= timedelta(seconds=ceiling) + timedelta(microseconds=1)
    assert next_attempt(attempt, NOW, random.Random(seed), base=base, cap=cap).tzinfo is UTC


@given(attempt=st.integers(1, 200), base=st.floats(0.001, 1000), cap=st.floats(0.001, 100_000))
def test_ceiling_never_decreases_and_never_passes_the_cap(
    attempt: int, base: float, cap: float
) -> None:
    assert backoff_ceiling(attempt, base=base, cap=cap) <= backoff_ceiling(
        attempt + 1, base=base, cap=cap
    )
    assert backoff_ceiling(attempt, base=base, cap=cap) <= cap


def test_permanent_gives_up_at_once() -> None:
    assert should_give_up(1, "permanent")


def test_transient_failures_give_up_after_the_attempts() -> None:
    assert MAX_ATTEMPTS == 8
    assert [should_give_up(n, "transient") for n in range(1, 10)] == [False] * 7 + [True] * 2


@given(attempts=st.integers(0, 10_000), elsewhere=st.booleans(), other=st.booleans())
def test_a_modem_failure_costs_the_message_nothing_and_never_fails_it(
    attempts: int, elsewhere: bool, other: bool
) -> None:
    """No network, barred, no SIM: the modem's trouble; the message waits as long as it takes."""
    assert after_failure("modem", attempts, tried_elsewhere=elsewhere, other_sim=other) == (
        "move",
        attempts,
    )
    assert not should_give_up(attempts + 1, "modem")


@given(attempts=st.integers(0, 100), elsewhere=st.booleans(), other=st.booleans())
def test_every_other_failure_counts_one_attempt(
    attempts: int, elsewhere: bool, other: bool
) -> None:
    for kind in ("transient", "suspect", "permanent"):
        _action, counted = after_failure(kind, attempts, tried_elsewhere=elsewhere, other_sim=other)
        assert counted == attempts + 1


def test_a_suspect_refusal_goes_once_to_another_sim_then_fails() -> None:
    assert after_failure("suspect", 0, tried_elsewhere=False, other_sim=True)[0] == "elsewhere"
    assert after_failure("suspect", 1, tried_elsewhere=True, other_sim=True)[0] == "fail"
    assert after_failure("suspect", 0, tried_elsewhere=False, other_sim=False)[0] == "fail"


def test_transient_retries_until_the_last_attempt_and_permanent_fails_at_once() -> None:
    kinds: list[FailureKind] = ["transient"] * MAX_ATTEMPTS
    actions = [
        after_failure(k, n, tried_elsewhere=False, other_sim=True)[0] for n, k in enumerate(kinds)
    ]
    assert actions == ["retry"] * (MAX_ATTEMPTS - 1) + ["fail"]
    assert after_failure("permanent", 0, tried_elsewhere=False, other_sim=True) == ("fail", 1)
