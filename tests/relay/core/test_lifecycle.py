"""The thread state machine: every (status, event) pair, each transition, and random walks."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.relay.core.lifecycle import (
    ANSWER_UNDELIVERED,
    DELIVERY_DELAYED,
    EVENT_TYPES,
    INVALID,
    OPEN,
    AlertAdmins,
    AnswerFailed,
    AutoClose,
    CancelPending,
    Delivered,
    Effect,
    Event,
    ExpertReplied,
    Held,
    InvalidTransition,
    NotifyPatient,
    PatientFollowUp,
    Released,
    SendFailed,
    Sent,
    Status,
    Withdrawn,
    page_notice,
    step,
)

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
RECENT = NOW - timedelta(hours=1)  # AutoClose not due
LONG_AGO = NOW - timedelta(days=7)  # AutoClose due (exactly the default week)

Q, H, S, D = Status.QUEUED, Status.HELD, Status.SENT, Status.DELIVERED
A, C, F, E = Status.ANSWERED, Status.CLOSED, Status.FAILED, Status.EXPIRED


def sample(event_type: type[Event]) -> Event:
    if event_type is Held:
        return Held("paused")
    if event_type is SendFailed:
        return SendFailed("permanent")
    if event_type is AnswerFailed:
        return AnswerFailed("permanent")
    return event_type()  # type: ignore[call-arg]


def go(
    status: Status, event: Event, last_message_at: datetime = RECENT
) -> tuple[Status, tuple[Effect, ...]]:
    return step(status, event, NOW, last_message_at=last_message_at)


# The whole table, written out once more by hand: (status, event) -> (new status, effects) when
# AutoClose is not due; None where the pair is invalid.
FAIL_EFFECTS = (NotifyPatient("delivery_delayed"), AlertAdmins("permanent"))
ANSWER_FAIL_EFFECTS = (NotifyPatient("page.answer_undelivered"), AlertAdmins("permanent"))
LATE = (AutoClose, SendFailed, AnswerFailed)  # what a closed thread still accepts, as no-ops
EXPECTED: dict[tuple[Status, type[Event]], tuple[Status, tuple[Effect, ...]] | None] = {
    (Q, Held): (H, ()),
    (Q, Released): None,
    (Q, Sent): (S, ()),
    (Q, Delivered): (Q, ()),
    (Q, AnswerFailed): (Q, ANSWER_FAIL_EFFECTS),
    (Q, SendFailed): (F, FAIL_EFFECTS),
    (Q, ExpertReplied): (A, ()),
    (Q, PatientFollowUp): (Q, ()),
    (Q, Withdrawn): (C, (CancelPending(),)),
    (Q, AutoClose): (Q, ()),
    (H, Held): (H, ()),
    (H, Released): (Q, ()),
    (H, Sent): (S, ()),
    (H, Delivered): (H, ()),
    (H, AnswerFailed): (H, ANSWER_FAIL_EFFECTS),
    (H, SendFailed): (F, FAIL_EFFECTS),
    (H, ExpertReplied): (A, ()),
    (H, PatientFollowUp): (H, ()),
    (H, Withdrawn): (C, (CancelPending(),)),
    (H, AutoClose): (H, ()),
    (S, Held): None,
    (S, Released): None,
    (S, Sent): (S, ()),
    (S, Delivered): (D, ()),
    (S, AnswerFailed): (S, ANSWER_FAIL_EFFECTS),
    (S, SendFailed): (S, (AlertAdmins("permanent"),)),  # an older one failed late
    (S, ExpertReplied): (A, ()),
    (S, PatientFollowUp): (Q, ()),
    (S, Withdrawn): (C, (CancelPending(),)),
    (S, AutoClose): (S, ()),
    (D, Held): None,
    (D, Released): None,
    (D, Sent): (D, ()),
    (D, Delivered): (D, ()),
    (D, AnswerFailed): (D, ANSWER_FAIL_EFFECTS),
    (D, SendFailed): (D, (AlertAdmins("permanent"),)),
    (D, ExpertReplied): (A, ()),
    (D, PatientFollowUp): (Q, ()),
    (D, Withdrawn): (C, (CancelPending(),)),
    (D, AutoClose): (D, ()),
    (A, Held): None,
    (A, Released): None,
    (A, Sent): (A, ()),
    (A, Delivered): (A, ()),
    (A, AnswerFailed): (A, ANSWER_FAIL_EFFECTS),
    (A, SendFailed): (A, FAIL_EFFECTS),
    (A, ExpertReplied): (A, ()),
    (A, PatientFollowUp): (Q, ()),
    (A, Withdrawn): (C, (CancelPending(),)),
    (A, AutoClose): (A, ()),
    (F, Held): None,
    (F, Released): (Q, ()),
    (F, Sent): None,
    (F, Delivered): (F, ()),
    (F, AnswerFailed): (F, ANSWER_FAIL_EFFECTS),
    (F, SendFailed): (F, ()),  # told already
    (F, ExpertReplied): (A, ()),
    (F, PatientFollowUp): (F, ()),
    (F, Withdrawn): (C, (CancelPending(),)),
    (F, AutoClose): (F, ()),
    **{(C, event): None for event in EVENT_TYPES if event not in LATE},
    **{(C, event): (C, ()) for event in LATE},  # an SMS a modem had when the thread closed
    **{(E, event): None for event in EVENT_TYPES if event not in LATE},
    **{(E, event): (E, ()) for event in LATE},
}


def test_the_expected_table_covers_every_pair() -> None:
    assert set(EXPECTED) == set(itertools.product(Status, EVENT_TYPES))
    assert len(EVENT_TYPES) == 10
    assert {pair for pair, outcome in EXPECTED.items() if outcome is None} == INVALID


@pytest.mark.parametrize(("status", "event_type"), sorted(EXPECTED, key=str))
def test_every_pair(status: Status, event_type: type[Event]) -> None:
    expected = EXPECTED[status, event_type]
    if expected is None:
        with pytest.raises(InvalidTransition) as info:
            go(status, sample(event_type))
        assert (info.value.status, info.value.event) == (status, event_type)
        assert str(info.value) == f"{event_type.__name__} is not allowed in status {status}"
    else:
        assert go(status, sample(event_type)) == expected


# --- each arrow of the brief, spelled out ----------------------------------------------------


def test_hold_and_release() -> None:
    assert go(Q, Held("night")) == (H, ())
    assert go(H, Released()) == (Q, ())


def test_sent_then_delivered() -> None:
    assert go(Q, Sent()) == (S, ())
    assert go(S, Delivered()) == (D, ())


@pytest.mark.parametrize("status", [Q, S, D, H])
def test_expert_may_answer_before_any_report(status: Status) -> None:
    assert go(status, ExpertReplied()) == (A, ())


@pytest.mark.parametrize("status", [A, S, D])
def test_follow_up_goes_back_to_the_queue(status: Status) -> None:
    assert go(status, PatientFollowUp()) == (Q, ())


@pytest.mark.parametrize("status", [Q, H])
def test_send_failure_tells_the_patient_and_the_admins(status: Status) -> None:
    assert go(status, SendFailed("modem")) == (
        F,
        (NotifyPatient("delivery_delayed"), AlertAdmins("modem")),
    )


@pytest.mark.parametrize("status", sorted(OPEN))
def test_an_answer_that_cannot_reach_the_patient_tells_them_and_the_admins(status: Status) -> None:
    """Issue 15: the status stays (the answer is on the thread), the page and the admins say so."""
    assert go(status, AnswerFailed("modem")) == (
        status,
        (NotifyPatient(ANSWER_UNDELIVERED), AlertAdmins("modem")),
    )


@pytest.mark.parametrize(
    ("status", "answer_sms_failed", "key"),
    [
        (F, False, DELIVERY_DELAYED),
        (F, True, DELIVERY_DELAYED),  # the question not reaching the doctor matters more
        (A, True, ANSWER_UNDELIVERED),
        (Q, True, ANSWER_UNDELIVERED),
        (A, False, None),
        (S, False, None),
        (C, True, None),  # withdrawn: AnswerFailed told no one
    ],
)
def test_the_page_notice_is_what_the_table_told_the_patient(
    status: Status, answer_sms_failed: bool, key: str | None
) -> None:
    assert page_notice(status, answer_sms_failed) == key


def test_an_admin_retries_a_failed_thread() -> None:
    assert go(F, Released()) == (Q, ())


@pytest.mark.parametrize("status", sorted(OPEN))
def test_withdrawn_closes_and_cancels_what_waits(status: Status) -> None:
    assert go(status, Withdrawn()) == (C, (CancelPending(),))


def test_open_is_everything_but_closed_and_expired() -> None:
    assert frozenset(Status) - OPEN == {C, E}


@pytest.mark.parametrize(
    ("status", "after"),
    [(A, (C, ())), *((s, (E, (CancelPending(),))) for s in (Q, H, S, D, F))],
)
def test_auto_close_when_due(status: Status, after: tuple[Status, tuple[Effect, ...]]) -> None:
    assert go(status, AutoClose(), LONG_AGO) == after


@pytest.mark.parametrize("status", list(Status))
def test_auto_close_before_it_is_due_changes_nothing(status: Status) -> None:
    almost = NOW - timedelta(days=7) + timedelta(microseconds=1)
    assert go(status, AutoClose(), almost) == (status, ())


def test_auto_close_period_is_a_parameter() -> None:
    day_ago = NOW - timedelta(days=1)
    assert go(A, AutoClose(), day_ago) == (A, ())
    assert step(A, AutoClose(), NOW, last_message_at=day_ago, auto_close=timedelta(days=1)) == (
        C,
        (),
    )


@pytest.mark.parametrize("status", [C, E])
def test_closed_and_expired_are_absorbing(status: Status) -> None:
    assert go(status, AutoClose(), LONG_AGO) == (status, ())
    for event_type in EVENT_TYPES:
        if event_type in LATE:  # an SMS a modem had taken fails after the thread closed
            assert go(status, sample(event_type), LONG_AGO) == (status, ())
        else:
            with pytest.raises(InvalidTransition):
                go(status, sample(event_type))


def test_a_plain_string_status_is_accepted_and_returned_as_status() -> None:
    new, _ = step("held", Released(), NOW, last_message_at=RECENT)  # type: ignore[arg-type]
    assert new is Status.QUEUED
    same, _ = step("sent", Sent(), NOW, last_message_at=RECENT)  # type: ignore[arg-type]
    assert same is Status.SENT


def test_something_that_is_no_event_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="str"):
        step(Q, "Sent", NOW, last_message_at=RECENT)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "when",
    [datetime(2025, 3, 1, 8, 0), datetime(2025, 3, 1, 16, 0, tzinfo=timezone(timedelta(hours=8)))],
)
def test_times_must_be_aware_utc(when: datetime) -> None:
    with pytest.raises(ValueError, match="now"):
        step(Q, Sent(), when, last_message_at=RECENT)
    with pytest.raises(ValueError, match="last_message_at"):
        step(Q, Sent(), NOW, last_message_at=when)


def test_invalid_transition_is_a_value_error_naming_only_status_and_event() -> None:
    with pytest.raises(ValueError, match=r"^Held is not allowed in status sent$"):
        go(S, Held("+8613800138000 text"))


# --- random walks -----------------------------------------------------------------------------

events = st.one_of(
    st.builds(Held, st.sampled_from(["paused", "night"])),
    st.builds(SendFailed, st.sampled_from(["transient", "modem", "permanent"])),
    st.builds(AnswerFailed, st.sampled_from(["transient", "modem", "permanent"])),
    *(
        st.just(event_type())  # type: ignore[call-arg]
        for event_type in EVENT_TYPES
        if event_type not in (Held, SendFailed, AnswerFailed)
    ),
)
walks = st.lists(st.tuples(events, st.integers(0, 10 * 24)), max_size=40)


@given(walks)
def test_random_walk_from_queued(walk: list[tuple[Event, int]]) -> None:
    status = Status.QUEUED
    now = NOW
    last_message_at = NOW
    for event, hours_later in walk:
        now += timedelta(hours=hours_later)
        if EXPECTED[status, type(event)] is None:
            with pytest.raises(InvalidTransition):
                step(status, event, now, last_message_at=last_message_at)
            continue
        new, effects = step(status, event, now, last_message_at=last_message_at)
        assert isinstance(new, Status)
        assert all(isinstance(e, NotifyPatient | AlertAdmins | CancelPending) for e in effects)
        if status not in OPEN:
            assert (new, effects) == (status, ())  # absorbing
        if CancelPending() in effects:
            assert new in {C, E}
        if any(isinstance(e, AlertAdmins) for e in effects):
            assert isinstance(event, SendFailed | AnswerFailed)
        if isinstance(event, AutoClose) and status in OPEN:
            due = now - last_message_at >= timedelta(days=7)
            assert (new in {C, E}) == due
        if isinstance(event, ExpertReplied | PatientFollowUp):
            last_message_at = now
        status = new
