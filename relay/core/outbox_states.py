"""The outbox state machine, as a table: ``next_status(status, event) -> status``.

An SMS in the outbox (``outbox.status``) is queued until a modem has accepted every part of it,
then sent, then delivered once the network reports every part on the phone::

    (enqueued) → QUEUED ─Sent→ SENT ─Delivered→ DELIVERED
                 QUEUED ─Failed→ FAILED ─Requeued→ QUEUED      (an admin retries)
                 QUEUED ─Cancelled→ CANCELLED

:data:`TRANSITIONS` lists every legal ``(status, event)`` pair; any other pair is an
:class:`IllegalTransition`. Storage writes a move as one ``UPDATE … SET status = target(event)
WHERE … AND status IN sources(event)``, so that even two writers racing cannot make a move the
table does not have: the loser changes no row. That is why every event has one target
(checked at import). Decisions beyond the arrows above, each because of a real race:

* ``Sent`` is legal from FAILED and CANCELLED too. A modem's acceptance of the last part is a
  fact: a cancel (the thread withdrawn, a STOP, the number erased) or a failure decided while
  that part was in flight did not stop it, and the outbox says what reached the network.
* ``Failed`` is legal from CANCELLED: a cancel while a part was in flight, and that part then
  failed for good; the admins see the failed SMS (the thread table counts on it: a closed
  thread hears ``SendFailed`` of an SMS a modem had taken, see :mod:`.lifecycle`).
* Once SENT, nothing but ``Delivered`` moves an SMS: a second ``Sent``, a failure, a cancel or
  a retry of an SMS a modem accepted is refused (:data:`ACCEPTED` is never left). A failure
  report from the network leaves it SENT. DELIVERED is :data:`FINAL`.
* ``Cancelled`` touches only what is still :data:`WAITING` (as a pause's holds and releases
  do); ``Requeued`` only a FAILED SMS.

It must never: do I/O, read a clock, or put a phone number or message text into an exception.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class OutboxStatus(StrEnum):
    """The values of ``outbox.status`` (the migrations' CHECK lists the same five)."""

    QUEUED = "queued"  # waits for a modem (perhaps for a time: a hold, a back-off)
    SENT = "sent"  # a modem accepted every part
    DELIVERED = "delivered"  # the network reported every part on the phone
    FAILED = "failed"  # will not go unless an admin retries it
    CANCELLED = "cancelled"  # nobody wants it any more; it never went


class OutboxEvent(StrEnum):
    """What happens to an SMS, named for the storage function that writes it."""

    SENT = "sent"  # the modem accepted the last part (mark_sent)
    DELIVERED = "delivered"  # a report completed the set of delivered parts (mark_part_delivered)
    FAILED = "failed"  # a permanent error, too many attempts, no SIM can ever take it (mark_failed)
    CANCELLED = "cancelled"  # withdrawn, STOP, replaced, expired, erased (cancel_*)
    REQUEUED = "requeued"  # an admin retries a failed SMS with fresh attempts (requeue)


INITIAL: Final = OutboxStatus.QUEUED  # what enqueue writes
WAITING: Final = frozenset({OutboxStatus.QUEUED})  # the pump may still send it
ACCEPTED: Final = frozenset({OutboxStatus.SENT, OutboxStatus.DELIVERED})  # it has gone
FINAL: Final = frozenset({OutboxStatus.DELIVERED})  # nothing moves it again
# never went and never will: it counts toward no daily cap and is no repeat of a text
VOID: Final = frozenset({OutboxStatus.CANCELLED})

Q, S, D = OutboxStatus.QUEUED, OutboxStatus.SENT, OutboxStatus.DELIVERED
F, C = OutboxStatus.FAILED, OutboxStatus.CANCELLED
E = OutboxEvent

TRANSITIONS: Final[dict[tuple[OutboxStatus, OutboxEvent], OutboxStatus]] = {
    (Q, E.SENT): S,
    (F, E.SENT): S,  # it went while a failure was decided (see the module docstring)
    (C, E.SENT): S,  # it went while a cancel was decided
    (S, E.DELIVERED): D,
    (Q, E.FAILED): F,
    (C, E.FAILED): F,  # cancelled while its part was in flight, and that part failed
    (Q, E.CANCELLED): C,
    (F, E.REQUEUED): Q,
}

del Q, S, D, F, C, E  # table shorthands only


class IllegalTransition(ValueError):
    """An event the table does not allow in a status: a caller's bug. Names both, nothing else."""

    def __init__(self, status: OutboxStatus, event: OutboxEvent) -> None:
        super().__init__(f"outbox event {event.value} is not allowed in status {status.value}")
        self.status = status
        self.event = event


def _by_event() -> tuple[
    dict[OutboxEvent, frozenset[OutboxStatus]], dict[OutboxEvent, OutboxStatus]
]:
    """Each event's source statuses and its one target; fails at import if the table has an
    event with no source or with two targets (storage could not write it as one UPDATE)."""
    came_from: dict[OutboxEvent, frozenset[OutboxStatus]] = {}
    goes_to: dict[OutboxEvent, OutboxStatus] = {}
    for event in OutboxEvent:
        pairs = [(source, to) for (source, on), to in TRANSITIONS.items() if on is event]
        targets = {to for _, to in pairs}
        if len(targets) != 1:
            raise RuntimeError(f"outbox event {event.value} must have exactly one target status")
        came_from[event] = frozenset(source for source, _ in pairs)
        (goes_to[event],) = targets
    return came_from, goes_to


_SOURCES, _TARGETS = _by_event()


def next_status(status: OutboxStatus | str, event: OutboxEvent) -> OutboxStatus:
    """The status after ``event``; :class:`IllegalTransition` for a pair not in the table.

    ``status`` may be the plain string read from the ``outbox.status`` column.
    """
    status = OutboxStatus(status)
    event = OutboxEvent(event)
    try:
        return TRANSITIONS[status, event]
    except KeyError:
        raise IllegalTransition(status, event) from None


def sources(event: OutboxEvent) -> frozenset[OutboxStatus]:
    """The statuses ``event`` may leave from: storage's ``WHERE status IN (…)`` for it."""
    return _SOURCES[OutboxEvent(event)]


def target(event: OutboxEvent) -> OutboxStatus:
    """The status ``event`` leads to, from any of its :func:`sources`."""
    return _TARGETS[OutboxEvent(event)]
