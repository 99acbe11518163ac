"""The relay's policy questions, each answered by one function over typed facts.

* May this number get an SMS, and why not: :func:`patient_refusal` (a patient's number),
  :func:`recipient_refusal` (any SMS :meth:`Relay.enqueue` queues), :func:`takes_sms`.
* Who holds a thread: :func:`holder`; who may answer it: :func:`may_answer`; who holds a new
  one: :func:`first_holder`; who may take threads over: :func:`takes_handoff`.
* Is this expert present: :func:`is_present`; may they assist: :func:`can_assist`.
* Is this expert paused, quiet, or when may they be written to: :func:`paused_until`,
  :func:`quiet_until`, :func:`send_time`, :func:`question_time`, and why a question would
  wait: :func:`not_accepting`. :mod:`.schedule` does the arithmetic; this module asks it.
* What is an answer: :data:`ANSWER_SENDERS`, :func:`is_answer`.

Storage's SQL filters say the same as these functions (``storage.experts.PRESENT``,
``storage.threads.HOLDER`` and ``storage.threads.ANSWER``) and name the function they mirror;
``tests/storage/test_policy_sql.py`` runs both over one table of rows.

Pure: ``now`` is always a parameter. It must never read a clock, do I/O, or import anything
outside the standard library.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Final, Literal

from smscat.relay.core import schedule
from smscat.relay.core.retry import OutboxKind
from smscat.relay.core.types import Expert, Phone, Thread

FOREVER: Final = datetime(9999, 12, 31, tzinfo=UTC)  # an indefinite pause ends then
PATIENT_KINDS: Final[frozenset[OutboxKind]] = frozenset({"to_patient", "verification", "care"})

LineKind = tuple[str, bool]  # (country calling code, is a mobile) of a valid E.164 number


# -- may this number get an SMS ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TextRules:
    """What the department's configuration says about whom we may text.

    ``line_kind`` tells a number's country and whether it is a mobile (``None``: not a valid
    number); it needs a numbering plan, which the core does not carry, so the daemon hands in
    ``smscat.modem.address.line_kind``.
    """

    code_countries: frozenset[str]  # calling codes of numbers a patient may use ("86")
    line_kind: Callable[[str], LineKind | None] = field(repr=False)
    admin_phones: frozenset[str] = field(default=frozenset(), repr=False)  # alerts.phones


Refusal = Literal[
    "phone_erased",
    "phone_invalid",
    "phone_country",
    "phone_not_mobile",
    "phone_staff",
    "phone_stopped",
    "phone_unverified",
    "no_consent",
    "not_staff",
]


def patient_refusal(
    e164: str, phone: Phone | None, rules: TextRules, *, code: bool = False
) -> Refusal | None:
    """Why the relay may not text ``e164`` as a patient; None: it may.

    The one answer for codes, links, answers, replies to a patient's SMS and what an admin
    sends again. ``phone`` is the number's row (None when it has none yet); ``code``: for a
    verification code, which goes before the number is verified. In this order (the first
    that holds is the reason, an ``error.<key>`` of :mod:`.texts`):

    * ``phone_erased``: the row was erased (its number is a placeholder now);
    * ``phone_invalid``: not a valid number at all;
    * ``phone_country``: not of a country in ``code_countries`` (SMS pumping sends codes to
      foreign premium ranges);
    * ``phone_not_mobile``: a landline, or anything else that is not a mobile;
    * ``phone_staff``: an admin's (``admin_phones``), an expert's or an assistant's;
    * ``phone_stopped``: STOP, and no START since;
    * ``phone_unverified``: for anything but a code, a number never verified.
    """
    if phone is not None and phone.erased_at is not None:
        return "phone_erased"
    line = rules.line_kind(e164)
    if line is None:
        return "phone_invalid"
    country, mobile = line
    if country not in rules.code_countries:
        return "phone_country"
    if not mobile:
        return "phone_not_mobile"
    if e164 in rules.admin_phones or (phone is not None and phone.staff):
        return "phone_staff"
    if phone is not None and phone.stopped_at is not None:
        return "phone_stopped"
    if not code and (phone is None or phone.verified_at is None):
        return "phone_unverified"
    return None


def takes_sms(phone: Phone, rules: TextRules) -> bool:
    """Whether a patient's phone may get an SMS from us now (:func:`patient_refusal`)."""
    return patient_refusal(phone.e164, phone, rules) is None


def recipient_refusal(
    kind: OutboxKind,
    e164: str,
    phone: Phone | None,
    *,
    is_staff_number: bool,
    patient: bool,
    confirms: bool,
    rules: TextRules,
    consented: bool = False,
) -> Refusal | None:
    """Why an SMS of ``kind`` may not go to ``e164`` (None: it may): one rule for every SMS.

    ``is_staff_number``: ``e164`` is an expert's or an assistant's (present or not);
    ``phone``: its phones row, if any. A patient's SMS (``to_patient``, ``verification``, or
    ``patient``: a notice for a patient, as a link) goes where :func:`patient_refusal` lets it,
    never to staff, and a code to a number not yet verified. ``confirms``: the confirmation of
    the number's own STOP or START, which a stopped or never-verified number gets. A follow-up
    plan's SMS (``care``) goes to a number staff enrolled, verified or not, only with the
    patient's recorded consent (``consented``: the number has a running enrolment with it),
    else ``no_consent``; after STOP, never. Anything
    else is staff's: an expert's, an assistant's or an admin's number gets it; a question
    (``to_expert``) goes to nobody else (``not_staff``), and a notice to any other number is a
    patient's.
    """
    patient = patient or confirms or kind in PATIENT_KINDS
    if patient and is_staff_number:
        return "phone_staff"  # (a number without a phones row has no ``staff`` in it)
    if not patient:
        if is_staff_number:
            return None
        if kind == "to_expert":
            return "not_staff"
        if e164 in rules.admin_phones:
            return None
    unverified_ok = kind in ("verification", "care") or confirms
    refused = patient_refusal(e164, phone, rules, code=unverified_ok)
    if confirms and refused == "phone_stopped":
        return None  # the confirmation of its own STOP
    if refused is None and kind == "care" and not consented:
        return "no_consent"
    return refused


# -- who holds a thread -----------------------------------------------------------------------


def holder(thread: Thread) -> str:
    """Who holds ``thread`` now, so gets its SMS and answers it by SMS: the person it was
    handed to (the expert's assistant, after 转 or at the start), else its owner."""
    return thread.handler_id or thread.expert_id


def may_answer(thread: Thread, person_id: str) -> bool:
    """Whether an SMS from ``person_id`` may be posted as ``thread``'s answer by an admin: the
    thread's owner, or whoever holds it."""
    return person_id in (thread.expert_id, holder(thread))


def first_holder(expert: Expert, assistant: Expert | None) -> Expert:
    """Who holds a new thread of ``expert``'s (``assistant``: the one they name, loaded): the
    assistant while present, else the expert."""
    if assistant is None or assistant.id != expert.assistant_id or not is_present(assistant):
        return expert
    return assistant


def takes_handoff(colleague: Expert, leaving_id: str) -> bool:
    """Whether ``colleague`` may take over every open thread of ``leaving_id``: another expert
    (not an assistant), present."""
    return colleague.id != leaving_id and colleague.role == "expert" and is_present(colleague)


# -- is this expert present -------------------------------------------------------------------


def is_present(expert: Expert) -> bool:
    """Whether ``expert`` is still with the department: active, and has not left.

    Both, always: ``left_at`` is set by a hand-off (which clears ``active`` too), while an
    admin (or a test) may clear ``active`` alone. Absent people are not on the board, get no
    new question, welcome or digest, are nobody's assistant and take no hand-off.
    """
    return expert.active and expert.left_at is None


def can_assist(person: Expert | None) -> bool:
    """Whether ``person`` may be named as an expert's assistant: a present assistant."""
    return person is not None and person.role == "assistant" and is_present(person)


# -- paused, quiet: may this expert be written to now --------------------------------------------


def paused_until(expert: Expert, now: datetime) -> datetime | None:
    """The end of ``expert``'s pause (:data:`FOREVER`: until 恢复), or None when not paused
    at ``now`` (never paused, or the pause is over)."""
    until = expert.paused_until
    return until if until is not None and until > now else None


def quiet_until(expert: Expert, zone: tzinfo, now: datetime) -> datetime | None:
    """When ``expert``'s quiet hours let an SMS through (None: now); a pause aside.

    For an SMS about their own controls (暂停, 恢复), which a pause must not hold."""
    return schedule.send_time(now, expert.quiet_hours, zone)


def send_time(expert: Expert, zone: tzinfo, now: datetime) -> datetime | None:
    """When anything but a new question may reach ``expert`` (None: now): after their quiet
    hours and their pause."""
    return schedule.send_time(now, expert.quiet_hours, zone, paused_until(expert, now))


def question_time(
    expert: Expert, zone: tzinfo, now: datetime, scheduled: Iterable[datetime] = ()
) -> datetime | None:
    """When a new question may reach ``expert`` (None: now): quiet hours, the pause, and the
    daily cap, counted over ``scheduled`` (when each recent question was set to go; it
    matters only with a cap)."""
    return schedule.question_time(
        now,
        expert.quiet_hours,
        zone,
        cap=expert.daily_cap,
        scheduled=scheduled,
        paused_until=paused_until(expert, now),
    )


NotAccepting = Literal["paused", "cap", "quiet"]


def not_accepting(
    expert: Expert, zone: tzinfo, now: datetime, scheduled: Iterable[datetime] = ()
) -> NotAccepting | None:
    """Why a question asked now would wait, as the board says it (None: it goes now).

    ``paused`` before anything else; else ``cap`` when only the daily cap holds it (the
    quiet hours would let it through now), else ``quiet``."""
    if paused_until(expert, now) is not None:
        return "paused"
    if question_time(expert, zone, now, scheduled) is None:
        return None
    if quiet_until(expert, zone, now) is None:
        return "cap"
    return "quiet"


# -- what is an answer ------------------------------------------------------------------------

ANSWER_SENDERS: Final = frozenset({"expert", "assistant"})


def is_answer(sender: str) -> bool:
    """Whether a thread message by ``sender`` answers it: the expert's or their assistant's.

    The patient's messages and the system's notes never do. The same rule counts a thread as
    answered, times its first answer (the board's median and the monthly report alike), lets
    the patient thank and rate, and releases the follow-ups that waited.
    """
    return sender in ANSWER_SENDERS
