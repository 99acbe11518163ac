"""The outbox state machine: the table written out again by hand, every (status, event) pair,
and random walks of events that never leave what is final or what has gone."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.relay.core.outbox_states import (
    ACCEPTED,
    FINAL,
    INITIAL,
    TRANSITIONS,
    WAITING,
    IllegalTransition,
    OutboxEvent,
    OutboxStatus,
    next_status,
    sources,
    target,
)

Q, S, D = OutboxStatus.QUEUED, OutboxStatus.SENT, OutboxStatus.DELIVERED
F, C = OutboxStatus.FAILED, OutboxStatus.CANCELLED
E = OutboxEvent

# Every legal move, by hand; every pair not here must be refused.
LEGAL: dict[tuple[OutboxStatus, OutboxEvent], OutboxStatus] = {
    (Q, E.SENT): S,
    (F, E.SENT): S,  # it went while a failure was decided
    (C, E.SENT): S,  # it went while a cancel was decided
    (S, E.DELIVERED): D,
    (Q, E.FAILED): F,
    (C, E.FAILED): F,  # cancelled while its last part was in flight, which then failed
    (Q, E.CANCELLED): C,
    (F, E.REQUEUED): Q,
}
PAIRS = list(itertools.product(OutboxStatus, OutboxEvent))


def test_the_statuses_are_the_five_the_schema_allows() -> None:
    assert {s.value for s in OutboxStatus} == {
        "queued",
        "sent",
        "delivered",
        "failed",
        "cancelled",
    }


def test_the_table_is_the_one_written_by_hand() -> None:
    assert TRANSITIONS == LEGAL


@pytest.mark.parametrize(("status", "event"), sorted(LEGAL))
def test_each_legal_move(status: OutboxStatus, event: OutboxEvent) -> None:
    assert next_status(status, event) is LEGAL[status, event]
    assert status in sources(event)
    assert target(event) is LEGAL[status, event]


@given(st.sampled_from(OutboxStatus), st.sampled_from(OutboxEvent))
def test_every_pair_is_a_move_of_the_table_or_refused(
    status: OutboxStatus, event: OutboxEvent
) -> None:
    if (status, event) in LEGAL:
        assert next_status(status, event) is LEGAL[status, event]
        assert status in sources(event)
    else:
        with pytest.raises(IllegalTransition) as info:
            next_status(status, event)
        assert (info.value.status, info.value.event) == (status, event)
        assert status not in sources(event)


@pytest.mark.parametrize(("status", "event"), PAIRS)
def test_sources_are_exactly_the_statuses_the_table_moves_from(
    status: OutboxStatus, event: OutboxEvent
) -> None:
    assert (status in sources(event)) == ((status, event) in LEGAL)


def test_every_event_has_a_source_and_one_target() -> None:
    for event in OutboxEvent:
        assert sources(event)
        assert {LEGAL[s, event] for s in sources(event)} == {target(event)}


def test_an_illegal_move_is_a_value_error_naming_only_status_and_event() -> None:
    with pytest.raises(ValueError, match=r"^outbox event requeued is not allowed in status sent$"):
        next_status(S, E.REQUEUED)


def test_a_plain_string_status_from_the_database_is_accepted() -> None:
    assert next_status("queued", E.SENT) is S
    with pytest.raises(IllegalTransition):
        next_status("delivered", E.CANCELLED)
    with pytest.raises(ValueError, match="'held' is not a valid OutboxStatus"):
        next_status("held", E.SENT)


def test_what_the_statuses_mean() -> None:
    assert INITIAL is Q
    assert frozenset({Q}) == WAITING
    assert frozenset({S, D}) == ACCEPTED
    assert frozenset({D}) == FINAL
    assert sources(E.CANCELLED) == WAITING  # only what has not gone is cancelled
    assert sources(E.REQUEUED) == {F}  # an admin retries only what failed
    assert sources(E.SENT) == frozenset(OutboxStatus) - ACCEPTED  # a modem's word wins


def test_every_status_is_reachable_from_the_initial_one() -> None:
    reached, frontier = {INITIAL}, [INITIAL]
    while frontier:
        status = frontier.pop()
        for (source, _), to in LEGAL.items():
            if source is status and to not in reached:
                reached.add(to)
                frontier.append(to)
    assert reached == set(OutboxStatus)


@given(st.lists(st.sampled_from(OutboxEvent), max_size=30))
def test_a_walk_never_leaves_what_is_final_or_what_has_gone(walk: list[OutboxEvent]) -> None:
    status = INITIAL
    for event in walk:
        if (status, event) not in LEGAL:
            with pytest.raises(IllegalTransition):
                next_status(status, event)
            continue
        new = next_status(status, event)
        assert new is LEGAL[status, event]
        assert status not in FINAL  # nothing moves from a final status
        if status in ACCEPTED:
            assert new in ACCEPTED  # once a modem accepted it, it is never unsent again
        if new in WAITING:
            assert status in WAITING or event is E.REQUEUED  # only an admin puts it back
        status = new
