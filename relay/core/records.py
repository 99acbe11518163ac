"""The relay's traffic as storage returns it: an SMS in the outbox and its parts, an SMS received
and its raw parts, a message posted on a thread, an alert. Frozen, typed.

Storage turns its rows into these (``storage.outbox.as_outbox_sms``, ``storage.inbound.
as_inbound_sms``, ``storage.threads.as_message`` …), so that the services read ``sms.status``
(an :class:`.outbox_states.OutboxStatus`, compared with the state table's sets) instead of
``row["status"] == "sent"``, and mypy sees every read. Times are aware datetimes in UTC;
``None`` where the column is NULL. The facts the policy decides about (an expert, a phone, a
thread) are in :mod:`.types`.

It must never: show a phone number (masked with :func:`.types.masked`) or what someone wrote
(an SMS's text, a raw PDU, an error that may quote either, an alert's subject and detail) in a
repr, do I/O, or import anything outside the standard library.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal, TypeVar, get_args

from smscat.relay.core.outbox_states import OutboxStatus
from smscat.relay.core.retry import OutboxKind
from smscat.relay.core.types import masked_repr

OUTBOX_KINDS: Final[tuple[OutboxKind, ...]] = get_args(OutboxKind)

# What became of a received SMS (``inbound.outcome``; the migrations' CHECK lists the same).
InboundOutcome = Literal[
    "reply", "followup", "command", "unmatched", "unknown_sender", "short_code", "ignored"
]
INBOUND_OUTCOMES: Final[tuple[InboundOutcome, ...]] = (
    "reply", "followup", "command", "unmatched", "unknown_sender", "short_code", "ignored",
)  # fmt: skip

# Who wrote a thread's message (``messages.sender``).
MessageSender = Literal["patient", "expert", "assistant", "system"]
MESSAGE_SENDERS: Final[tuple[MessageSender, ...]] = ("patient", "expert", "assistant", "system")

_Member = TypeVar("_Member", bound=str)


def member(value: object, allowed: Iterable[_Member], what: str) -> _Member:
    """``value`` (a stored column) as one of ``allowed``; ValueError naming ``what`` otherwise.

    The schema's CHECKs allow nothing else, so a miss is a bug or a hand-edited database; the
    error names the column, not the value (which is never a number or a text here, but the
    habit costs nothing).
    """
    for choice in allowed:
        if choice == value:
            return choice
    raise ValueError(f"not a valid {what}")


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class OutboxSms:
    """An SMS in the outbox (a row of ``outbox``): what goes to whom, and how far it got."""

    id: int
    kind: OutboxKind
    priority: int  # lower goes first
    recipient: str  # E.164, or "erased"; masked in the repr
    text: str = field(repr=False)
    thread_id: int | None = None
    ref: int  # the concatenation reference of its parts
    status: OutboxStatus
    attempts: int = 0
    next_attempt_at: datetime  # due from then (a hold, a back-off)
    created_at: datetime
    modem_id: str | None = None  # the modem that sent its last part
    sent_at: datetime | None = None
    avoid_modem: str | None = None  # a SIM that refused it for a reason that may be the SIM's
    error: str | None = field(default=None, repr=False)  # the last failure (may quote a number)

    def __repr__(self) -> str:
        return masked_repr(self, ("recipient",))


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxPart:
    """A part of an outbox SMS a modem accepted (a row of ``outbox_parts``)."""

    outbox_id: int
    seq: int  # 1-based
    total: int
    modem_id: str
    mr: int  # the TP-MR its status report will name
    sent_at: datetime
    delivered_at: datetime | None = None
    report: int | None = None  # TP-ST of the status report


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class InboundSms:
    """A received SMS, whole or routed without a part (a row of ``inbound``)."""

    id: int
    modem_id: str
    sender: str  # as received (E.164, a short code, a name), or "erased"; masked in the repr
    text: str = field(repr=False)
    parts: int  # how many parts it has (or had, when some never came)
    complete: bool
    received_at: datetime  # its first part
    outcome: InboundOutcome
    thread_id: int | None = None
    resolved_at: datetime | None = None  # an admin dealt with it (unmatched, a notice)
    concat_ref: int | None = None  # a long SMS's concatenation reference
    missing: tuple[int, ...] = ()  # part numbers not received (an incomplete SMS)
    forwarded_outbox_id: int | None = None  # the SMS that carried it on (incomplete only)
    completed_at: datetime | None = None  # a late part made it whole

    def __repr__(self) -> str:
        return masked_repr(self, ("sender",))


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundPart:
    """A raw part as read from a SIM (a row of ``inbound_parts``); its PDU holds the sender's
    number and the text, so it is left out of the repr."""

    id: int
    modem_id: str
    pdu: str = field(repr=False)  # hex; '' once blanked by an erasure
    received_at: datetime
    inbound_id: int | None = None  # None while its message is incomplete


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """A message posted on a thread (a row of ``messages``)."""

    id: int
    thread_id: int
    sender: MessageSender
    text: str = field(repr=False)
    public_text: str = field(repr=False)  # as public pages show it, numbers masked
    at: datetime
    inbound_id: int | None = None  # the SMS it was posted from


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """An incident told to the admins (a row of ``alerts``): open until ``cleared_at``."""

    id: int
    kind: str  # modem_down, queue_stalled, cap_near, short_code, sms_failed
    subject: str = field(repr=False)  # a modem id, "outbox", a kind of sender
    opened_at: datetime
    notified_at: datetime | None = None  # told last (when it opened, or reminded)
    cleared_at: datetime | None = None
    detail: str | None = field(default=None, repr=False)  # JSON, as the webhook got it
