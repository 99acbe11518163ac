"""The facts the relay decides about: an expert, a patient's phone, a thread. Frozen, typed.

Storage turns its rows into these (``storage.experts.as_expert``, ``storage.phones.as_phone``,
``storage.threads.as_thread``), and :mod:`.policy` answers its questions over them, so that a
rule reads ``policy.is_present(expert)`` instead of poking at ``row["left_at"]`` in a dozen
places. Times are aware datetimes in UTC; ``None`` where the column is NULL.

It must never: show a phone number or what a patient typed in a repr (numbers are masked with
:func:`.masking.mask_numbers`, a nickname and a token hash are left out), do I/O, or import
anything outside the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Final, Literal

from smscat.relay.core.masking import MASK, mask_numbers
from smscat.relay.core.numbers import is_digit

Role = Literal["expert", "assistant"]
ROLES: Final[tuple[Role, ...]] = ("expert", "assistant")


def masked(number: str) -> str:
    """``number`` as a repr may show it: every digit hidden.

    :func:`.masking.mask_numbers` reads text as a person does and leaves a run of fewer than
    seven digits alone (a dose, a room); in a number field such a run is still a number, so it
    is hidden whole.
    """
    shown = mask_numbers(number)
    return MASK if any(is_digit(ch) for ch in shown) else shown


def masked_repr(fact: Any, numbers: tuple[str, ...]) -> str:
    """The dataclass repr of ``fact`` (a dataclass instance) with the fields in ``numbers``
    masked: the repr of every fact and record here and in :mod:`.records`."""
    shown = []
    for f in fields(fact):
        if not f.repr:
            continue
        value = getattr(fact, f.name)
        if f.name in numbers and isinstance(value, str):
            value = masked(value)
        shown.append(f"{f.name}={value!r}")
    return f"{type(fact).__name__}({', '.join(shown)})"


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Expert:
    """An expert or an assistant (a row of ``experts``): who they are and their controls."""

    id: str
    name: str
    phone: str  # E.164; masked in the repr
    created_at: datetime  # joined (config or an admin added them)
    role: Role = "expert"
    title: str = ""
    department: str = ""
    specialty: str | None = None
    active: bool = True
    left_at: datetime | None = None
    assistant_id: str | None = None
    paused_until: datetime | None = None  # as stored: may lie in the past (policy.paused_until)
    quiet_hours: tuple[str, ...] = ()  # "HH:MM-HH:MM" in the department's time zone
    daily_cap: int | None = None  # new questions per local day; None: no cap
    digest: bool = True  # the weekly SMS digest
    confirm_replies: bool = False  # "已回复#12" after each answer
    welcomed_at: datetime | None = None
    config_fields: tuple[str, ...] = ()  # the fields config.yaml still owns
    updated_at: datetime | None = None

    def __repr__(self) -> str:
        return masked_repr(self, ("phone",))


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Phone:
    """A patient's number (a row of ``phones``) and whether it is staff's."""

    id: int
    e164: str  # E.164, or "erased:<id>" once erased; masked in the repr
    created_at: datetime
    verified_at: datetime | None = None  # a code sent to it was typed in
    stopped_at: datetime | None = None  # STOP / TD / 退订, and no START since
    erased_at: datetime | None = None
    staff: bool = False  # the number is an expert's or an assistant's too

    def __repr__(self) -> str:
        return masked_repr(self, ("e164",))


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Verification:
    """A verification code sent to a phone (a row of ``verifications``, with its number)."""

    id: str  # random, handed to the browser
    phone_id: int
    e164: str  # the phone's number; masked in the repr
    code_hash: str = field(repr=False)
    created_at: datetime
    expires_at: datetime
    attempts: int = 0  # wrong codes typed so far
    verified_at: datetime | None = None
    used_at: datetime | None = None  # the question it let through

    def __repr__(self) -> str:
        return masked_repr(self, ("e164",))


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Thread:
    """A question and its conversation (a row of ``threads``), without its messages."""

    id: int
    code: int  # "#12": unique for its expert, assistant and patient while in use
    status: str  # a lifecycle.Status value
    expert_id: str  # who owns it (whose board it is on)
    handler_id: str | None = None  # who holds it now; None: the owner (policy.holder)
    phone_id: int | None = None  # the patient's verified phone, if any
    nickname: str = field(default="", repr=False)  # typed by the patient
    public: bool = False
    hidden: bool = False
    created_at: datetime
    last_message_at: datetime
    closed_at: datetime | None = None
    thanked_at: datetime | None = None
    helpful: bool | None = None
    token_hash: str = field(default="", repr=False)

    def __repr__(self) -> str:
        return masked_repr(self, ())
