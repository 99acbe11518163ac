"""The question/thread state machine, as a table: ``step(status, event, now) -> (status, effects)``.

A thread's status is the state of its latest patient message on its way to the expert, then the
answer::

    QUEUED ─Held→ HELD ─Released→ QUEUED ─Sent→ SENT ─Delivered→ DELIVERED
    QUEUED/HELD/SENT/DELIVERED/FAILED ─ExpertReplied→ ANSWERED ─PatientFollowUp→ QUEUED
    SENT/DELIVERED ─PatientFollowUp→ QUEUED
    QUEUED/HELD ─SendFailed→ FAILED ─Released→ QUEUED     (the patient and the admins are told)
    any open status ─AnswerFailed→ itself                  (the patient and the admins are told)
    any open status ─Withdrawn→ CLOSED
    AutoClose, once due: ANSWERED → CLOSED; QUEUED/HELD/SENT/DELIVERED/FAILED → EXPIRED

Every (status, event type) pair is either in the table or listed in :data:`INVALID`; the module
checks that at import. Decisions beyond the arrows above, each because of a real race:

* A late or repeated report is a no-op: ``Delivered`` outside SENT (an earlier message's report
  arriving after a follow-up was queued, or after the expert answered), ``Sent`` in
  SENT/DELIVERED/ANSWERED (the expert's answer is the newer fact the patient cares about).
* ``Sent`` in HELD goes to SENT: the SMS left the modem before the hold took effect.
* ``SendFailed`` (an SMS to the expert failed for good) in ANSWERED (the expert answered while a
  follow-up was still queued, then that follow-up failed) keeps ANSWERED but still tells the
  patient and the admins. In SENT/DELIVERED an older message failed after a newer one went (it
  was backing off): the status stays, the admins are told. In FAILED it was told already.
* ``AnswerFailed`` (an SMS carrying the expert's message to the patient's phone failed for good)
  never changes the status — the answer is on the thread, whatever happened to its SMS — and
  tells the patient (the page: the SMS did not reach their phone) and the admins.
* ``PatientFollowUp`` in QUEUED/HELD/FAILED keeps the status: the follow-up waits with the
  message before it (for the hold to end, or for an admin's ``Released`` after a failure).
* ``ExpertReplied`` in ANSWERED stays ANSWERED (a second message from the expert), and in FAILED
  goes to ANSWERED (the thread is open; the reply is real).
* ``Held`` and ``Released`` apply only to a thread with something waiting to be sent
  (Held: QUEUED/HELD; Released: HELD/FAILED); elsewhere they are a caller's bug and invalid.
* CLOSED and EXPIRED are absorbing: ``AutoClose`` is a no-op, and so are the failures of an SMS a
  modem had already taken when the thread closed (``SendFailed``, ``AnswerFailed``: the admins
  see the failed SMS in the outbox); the rest are invalid. A reply to a closed thread is the
  caller's business (it treats it as unmatched).

:class:`CancelPending` means: drop this thread's outbox messages to the expert that no modem has
taken yet. It does not cancel an answer on its way to the patient.

**Follow-ups before an answer.** The moment a thread is answered is ``ExpertReplied`` (an
expert's or an assistant's message on it). Until then, at most :data:`FOLLOW_UPS_BEFORE_ANSWER`
of the patient's messages after the question reach the expert's phone; the rest are kept on the
thread (its page says they wait for the doctor) and go to the expert in one SMS when the answer
comes. After an answer the count starts again. :func:`waiting_follow_ups` is that rule, the one
place that says which messages wait; a waiting message does not step the thread (nothing of it
is on its way to the expert).

**Telling the patient.** :class:`NotifyPatient` names the notice the thread's page shows while
its cause stands: the page reads the cause back from storage (the status FAILED; the thread's
latest SMS to the patient failed), and :func:`page_notice` is the one place that turns that into
the key, so a retried or later SMS that goes takes the notice away without a second write.

It must never: read the clock (``now`` and ``last_message_at`` are passed in, aware UTC), do
I/O, or put message text or a phone number into an event, effect or exception.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from smscat.relay.core.policy import is_answer


class Status(StrEnum):
    QUEUED = "queued"  # the latest patient message waits in the outbox
    HELD = "held"  # ... and waits for the expert (paused, night hours) before it may go
    SENT = "sent"  # a modem handed it to the network
    DELIVERED = "delivered"  # the network reported it delivered to the expert's phone
    ANSWERED = "answered"  # the expert replied
    CLOSED = "closed"  # finished: withdrawn, or answered and quiet for a week
    FAILED = "failed"  # could not be sent; an admin decides (Released retries)
    EXPIRED = "expired"  # never answered and quiet for a week


ENDED: Final = frozenset({Status.CLOSED, Status.EXPIRED})  # a thread that is over
OPEN: Final = frozenset(Status) - ENDED  # statuses accepting replies
FOLLOW_UPS_BEFORE_ANSWER: Final = 3  # patient messages after the question that go at once
# open statuses whose latest fact is the patient's message: the thread waits for an answer
AWAITING_ANSWER: Final = OPEN - {Status.ANSWERED}
DELIVERY_DELAYED: Final = "delivery_delayed"  # the question did not reach the expert's phone
ANSWER_UNDELIVERED: Final = "page.answer_undelivered"  # the answer did not reach the patient's


# --- events -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Held:
    reason: str  # a short reason code such as "paused" or "night", never message text


@dataclass(frozen=True, slots=True)
class Released:
    pass


@dataclass(frozen=True, slots=True)
class Sent:
    pass


@dataclass(frozen=True, slots=True)
class Delivered:
    pass


@dataclass(frozen=True, slots=True)
class SendFailed:
    reason: str  # a failure kind or error name for the admins, never message text or a number


@dataclass(frozen=True, slots=True)
class AnswerFailed:
    reason: str  # as for SendFailed: never message text or a number


@dataclass(frozen=True, slots=True)
class ExpertReplied:
    pass


@dataclass(frozen=True, slots=True)
class PatientFollowUp:
    pass


@dataclass(frozen=True, slots=True)
class Withdrawn:
    pass


@dataclass(frozen=True, slots=True)
class AutoClose:
    pass


Event = (
    Held
    | Released
    | Sent
    | Delivered
    | SendFailed
    | AnswerFailed
    | ExpertReplied
    | PatientFollowUp
    | Withdrawn
    | AutoClose
)
EVENT_TYPES: Final[tuple[type[Event], ...]] = (
    Held,
    Released,
    Sent,
    Delivered,
    SendFailed,
    AnswerFailed,
    ExpertReplied,
    PatientFollowUp,
    Withdrawn,
    AutoClose,
)


# --- effects ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NotifyPatient:
    key: str  # a smscat.relay.core.texts key the page shows: DELIVERY_DELAYED, ANSWER_UNDELIVERED


@dataclass(frozen=True, slots=True)
class AlertAdmins:
    reason: str


@dataclass(frozen=True, slots=True)
class CancelPending:
    pass  # see the module docstring for what is cancelled


Effect = NotifyPatient | AlertAdmins | CancelPending
Outcome = tuple[Status, tuple[Effect, ...]]


class InvalidTransition(ValueError):
    """An event that the table does not allow in a status; names both, nothing else."""

    def __init__(self, status: Status, event: type[Event]) -> None:
        super().__init__(f"{event.__name__} is not allowed in status {status.value}")
        self.status = status
        self.event = event


# --- handlers: (status, event, auto_close_due) -> outcome ----------------------------------
Handler = Callable[[Status, Event, bool], Outcome]


def _go(target: Status, *effects: Effect) -> Handler:
    def handler(status: Status, event: Event, due: bool) -> Outcome:
        return target, effects

    return handler


def _stay(status: Status, event: Event, due: bool) -> Outcome:
    return status, ()


def _delivery_failed(target: Status | None, notice: str | None = DELIVERY_DELAYED) -> Handler:
    """Tell the patient (``notice``, unless None) and the admins; move to ``target``, or stay
    when it is None."""

    def handler(status: Status, event: Event, due: bool) -> Outcome:
        assert isinstance(event, SendFailed | AnswerFailed)  # the table routes only these here
        told = (NotifyPatient(notice),) if notice is not None else ()
        return (status if target is None else target), (*told, AlertAdmins(event.reason))

    return handler


def _auto_close(status: Status, event: Event, due: bool) -> Outcome:
    if not due:
        return status, ()
    if status is Status.ANSWERED:
        return Status.CLOSED, ()
    return Status.EXPIRED, (CancelPending(),)


_withdraw: Final = _go(Status.CLOSED, CancelPending())
_fail: Final = _delivery_failed(Status.FAILED)
_answer_failed: Final = _delivery_failed(None, ANSWER_UNDELIVERED)

Q, H, S, D = Status.QUEUED, Status.HELD, Status.SENT, Status.DELIVERED
A, C, F, E = Status.ANSWERED, Status.CLOSED, Status.FAILED, Status.EXPIRED

_TRANSITIONS: Final[dict[tuple[Status, type[Event]], Handler]] = {
    (Q, Held): _go(H),
    (Q, Sent): _go(S),
    (Q, Delivered): _stay,  # an earlier message's report; the latest one is still queued
    (Q, SendFailed): _fail,
    (Q, AnswerFailed): _answer_failed,  # the patient followed up on the page meanwhile
    (Q, ExpertReplied): _go(A),  # the queued message still goes: it is not cancelled
    (Q, PatientFollowUp): _stay,
    (Q, Withdrawn): _withdraw,
    (Q, AutoClose): _auto_close,
    (H, Held): _stay,
    (H, Released): _go(Q),
    (H, Sent): _go(S),  # it left the modem before the hold took effect
    (H, Delivered): _stay,
    (H, SendFailed): _fail,
    (H, AnswerFailed): _answer_failed,
    (H, ExpertReplied): _go(A),
    (H, PatientFollowUp): _stay,
    (H, Withdrawn): _withdraw,
    (H, AutoClose): _auto_close,
    (S, Sent): _stay,
    (S, Delivered): _go(D),
    (S, SendFailed): _delivery_failed(None, None),  # an older message, after a newer one went
    (S, AnswerFailed): _answer_failed,
    (S, ExpertReplied): _go(A),
    (S, PatientFollowUp): _go(Q),
    (S, Withdrawn): _withdraw,
    (S, AutoClose): _auto_close,
    (D, Sent): _stay,
    (D, Delivered): _stay,  # a repeated report
    (D, SendFailed): _delivery_failed(None, None),
    (D, AnswerFailed): _answer_failed,
    (D, ExpertReplied): _go(A),
    (D, PatientFollowUp): _go(Q),
    (D, Withdrawn): _withdraw,
    (D, AutoClose): _auto_close,
    (A, Sent): _stay,
    (A, Delivered): _stay,  # the expert answered before the report came
    (A, SendFailed): _delivery_failed(None),
    (A, AnswerFailed): _answer_failed,
    (A, ExpertReplied): _stay,
    (A, PatientFollowUp): _go(Q),
    (A, Withdrawn): _withdraw,
    (A, AutoClose): _auto_close,
    (F, Released): _go(Q),  # an admin retries
    (F, Delivered): _stay,
    (F, SendFailed): _stay,  # a follow-up failed too: told already
    (F, AnswerFailed): _answer_failed,
    (F, ExpertReplied): _go(A),
    (F, PatientFollowUp): _stay,
    (F, Withdrawn): _withdraw,
    (F, AutoClose): _auto_close,
    (C, AutoClose): _stay,
    (C, SendFailed): _stay,  # a modem had it when the thread closed; see the module docstring
    (C, AnswerFailed): _stay,
    (E, AutoClose): _stay,
    (E, SendFailed): _stay,
    (E, AnswerFailed): _stay,
}

_LATE: Final = (AutoClose, SendFailed, AnswerFailed)  # what a closed thread still hears of
INVALID: Final[frozenset[tuple[Status, type[Event]]]] = frozenset(
    {
        (Q, Released),  # nothing is held or failed
        (S, Held),  # already with the expert: nothing waits to be sent
        (S, Released),
        (D, Held),
        (D, Released),
        (A, Held),
        (A, Released),
        (F, Held),  # an admin decides about a failed thread, not the expert's hours
        (F, Sent),  # a failed message is not sent until Released
        *((C, event) for event in EVENT_TYPES if event not in _LATE),
        *((E, event) for event in EVENT_TYPES if event not in _LATE),
    }
)


del Q, H, S, D, A, C, F, E  # table shorthands only


def _check_total() -> None:
    every = set(itertools.product(Status, EVENT_TYPES))
    handled = set(_TRANSITIONS)
    if handled & INVALID or handled | INVALID != every:
        raise RuntimeError("the lifecycle table must list every (status, event) pair once")


_check_total()


def step(
    status: Status,
    event: Event,
    now: datetime,
    *,
    last_message_at: datetime,
    auto_close: timedelta = timedelta(days=7),
) -> Outcome:
    """The status after ``event`` and what must happen because of it.

    ``last_message_at`` is the time of the thread's latest message either way; ``AutoClose``
    acts only once ``now - last_message_at >= auto_close``, and is a no-op before that.
    Raises :class:`InvalidTransition` for a pair in :data:`INVALID`.
    """
    for name, value in (("now", now), ("last_message_at", last_message_at)):
        if value.utcoffset() != timedelta(0):
            raise ValueError(f"{name} must be timezone-aware UTC")
    status = Status(status)
    event_type = type(event)
    handler = _TRANSITIONS.get((status, event_type))
    if handler is None:
        if (status, event_type) in INVALID:
            raise InvalidTransition(status, event_type)
        raise TypeError(f"not a lifecycle event: {event_type.__name__}")
    return handler(status, event, now - last_message_at >= auto_close)


def waiting_follow_ups(senders: Sequence[str], limit: int = FOLLOW_UPS_BEFORE_ANSWER) -> list[int]:
    """Positions in ``senders`` (who wrote each of a thread's messages, oldest first) of the
    patient's messages that wait for the expert's answer instead of going to the expert's phone.

    The patient's messages since the latest answer (the question itself aside, before the first
    answer) are counted in order: the first ``limit`` went to the expert's phone, the rest wait.
    Once an answer follows, none of them waits any more (they went with it, in one SMS): so the
    messages an answer releases are ``waiting_follow_ups(senders_before_the_answer)``.
    """
    since = 0
    answered = False
    for position, sender in enumerate(senders):
        if is_answer(sender):
            since, answered = position + 1, True
    run = [p for p in range(since, len(senders)) if senders[p] == "patient"]
    if not answered:
        run = run[1:]  # the question: it opened the thread and always goes
    return run[limit:]


def page_notice(status: Status, answer_sms_failed: bool) -> str | None:
    """The notice key the thread's page shows (see :class:`NotifyPatient`), or None.

    ``answer_sms_failed``: the thread's latest SMS to the patient's phone failed for good.
    """
    if Status(status) is Status.FAILED:
        return DELIVERY_DELAYED
    if answer_sms_failed and Status(status) in OPEN:  # closed: AnswerFailed told no one
        return ANSWER_UNDELIVERED
    return None
