"""The relay's policy questions, one test per question, each over a table of cases.

Each table is the rule written out by hand: a case that a second, different rule somewhere
would answer otherwise is a row here. ``tests/storage/test_policy_sql.py`` checks that the SQL
filters storage uses say the same over real rows.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from smscat.modem.address import line_kind
from smscat.relay.core import policy
from smscat.relay.core.retry import OutboxKind
from smscat.relay.core.types import Expert, Phone, Thread

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, a Tuesday
EARLIER = NOW - timedelta(days=3)

MOBILE = "+8613800138000"
LANDLINE = "+861012345678"
FOREIGN = "+447911123456"  # a British mobile: not of a code country
ADMIN = "+8613900139000"
INVALID = "+86123"
ERASED = "erased:7"

RULES = policy.TextRules(
    code_countries=frozenset({"86"}), line_kind=line_kind, admin_phones=frozenset({ADMIN})
)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def expert(**changes: Any) -> Expert:
    base = Expert(id="zhang", name="张明", phone="+8613800138001", created_at=EARLIER)
    return dataclasses.replace(base, **changes)


def phone(**changes: Any) -> Phone:
    base = Phone(id=7, e164=MOBILE, created_at=EARLIER, verified_at=EARLIER)
    return dataclasses.replace(base, **changes)


def thread(**changes: Any) -> Thread:
    base = Thread(
        id=1, code=12, status="sent", expert_id="zhang", created_at=EARLIER,
        last_message_at=EARLIER,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


# -- may this phone be texted, and why not ----------------------------------------------------

PATIENT_CASES = [
    # (id, number, its phones row, code?, the refusal)
    ("verified mobile", MOBILE, phone(), False, None),
    ("code to a new mobile", MOBILE, None, True, None),
    ("code to a mobile with a row", MOBILE, phone(verified_at=None), True, None),
    ("no row, not a code", MOBILE, None, False, "phone_unverified"),
    ("row never verified", MOBILE, phone(verified_at=None), False, "phone_unverified"),
    ("stopped", MOBILE, phone(stopped_at=EARLIER), False, "phone_stopped"),
    ("stopped, a code", MOBILE, phone(stopped_at=EARLIER), True, "phone_stopped"),
    ("staff row", MOBILE, phone(staff=True), False, "phone_staff"),
    ("staff before stopped", MOBILE, phone(staff=True, stopped_at=EARLIER), False, "phone_staff"),
    ("admin number, no row", ADMIN, None, True, "phone_staff"),
    ("landline", LANDLINE, None, True, "phone_not_mobile"),
    ("foreign", FOREIGN, None, True, "phone_country"),
    ("not a number", INVALID, None, True, "phone_invalid"),
    ("erased row", ERASED, phone(e164=ERASED, erased_at=EARLIER), False, "phone_erased"),
    ("erased before anything", ERASED, phone(e164=ERASED, erased_at=EARLIER, staff=True), True,
     "phone_erased"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("number", "row", "code", "refusal"),
    [pytest.param(*case[1:], id=case[0]) for case in PATIENT_CASES],
)
def test_may_this_patient_number_be_texted(
    number: str, row: Phone | None, code: bool, refusal: str | None
) -> None:
    assert policy.patient_refusal(number, row, RULES, code=code) == refusal
    if row is not None and not code:
        assert policy.takes_sms(row, RULES) is (refusal is None)


RECIPIENT_CASES: list[tuple[str, OutboxKind, str, Phone | None, bool, bool, bool, str | None]] = [
    # (id, kind, number, phones row, is staff's number, patient, confirms, the refusal)
    ("question to an expert", "to_expert", MOBILE, None, True, False, False, None),
    ("question to anyone else", "to_expert", MOBILE, phone(), False, False, False, "not_staff"),
    ("question to an admin", "to_expert", ADMIN, None, False, False, False, "not_staff"),
    ("notice to an expert", "notice", MOBILE, None, True, False, False, None),
    ("notice to an admin", "notice", ADMIN, None, False, False, False, None),
    ("notice to a verified patient", "notice", MOBILE, phone(), False, False, False, None),
    ("notice to an unknown number", "notice", MOBILE, None, False, False, False,
     "phone_unverified"),
    ("link to a patient", "notice", MOBILE, phone(), False, True, False, None),
    ("link to an expert's number", "notice", MOBILE, None, True, True, False, "phone_staff"),
    ("answer to a patient", "to_patient", MOBILE, phone(), False, False, False, None),
    ("answer to a stopped patient", "to_patient", MOBILE, phone(stopped_at=EARLIER), False,
     False, False, "phone_stopped"),
    ("answer to an expert's number", "to_patient", MOBILE, phone(staff=True), True, False, False,
     "phone_staff"),
    ("answer to an admin", "to_patient", ADMIN, None, False, False, False, "phone_staff"),
    ("code to a new number", "verification", MOBILE, None, False, False, False, None),
    ("code to an expert's number", "verification", MOBILE, None, True, False, False,
     "phone_staff"),
    ("code to a landline", "verification", LANDLINE, None, False, False, False,
     "phone_not_mobile"),
    ("STOP confirmed", "notice", MOBILE, phone(stopped_at=EARLIER), False, False, True, None),
    ("START confirmed, never verified", "notice", MOBILE, phone(verified_at=None), False, False,
     True, None),
    ("confirmation to an erased row", "notice", ERASED, phone(e164=ERASED, erased_at=EARLIER),
     False, False, True, "phone_erased"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "number", "row", "staff", "patient", "confirms", "refusal"),
    [pytest.param(*case[1:], id=case[0]) for case in RECIPIENT_CASES],
)
def test_may_this_sms_go_to_this_recipient(
    kind: OutboxKind,
    number: str,
    row: Phone | None,
    staff: bool,
    patient: bool,
    confirms: bool,
    refusal: str | None,
) -> None:
    got = policy.recipient_refusal(
        kind, number, row, is_staff_number=staff, patient=patient, confirms=confirms, rules=RULES
    )
    assert got == refusal


# -- who holds a thread -----------------------------------------------------------------------

HOLDER_CASES = [
    # (id, handler_id, holder, may answer by assignment: {person: yes?})
    ("no handler: the owner", None, "zhang", {"zhang": True, "wang": False}),
    ("handed to the assistant", "wang", "wang", {"zhang": True, "wang": True, "li": False}),
    ("handler is the owner", "zhang", "zhang", {"zhang": True, "wang": False}),
    ("moved to a colleague's assistant", "zhao", "zhao", {"zhao": True, "wang": False}),
]


@pytest.mark.parametrize(
    ("handler", "held_by", "answers"), [pytest.param(*c[1:], id=c[0]) for c in HOLDER_CASES]
)
def test_who_holds_a_thread(handler: str | None, held_by: str, answers: dict[str, bool]) -> None:
    case = thread(handler_id=handler)
    assert policy.holder(case) == held_by
    assert {p: policy.may_answer(case, p) for p in answers} == answers


ASSISTANT = expert(id="wang", role="assistant", phone="+8613800138009")
FIRST_HOLDER_CASES = [
    # (id, the expert's assistant_id, the assistant loaded, who holds a new thread)
    ("no assistant", None, None, "zhang"),
    ("a present assistant", "wang", ASSISTANT, "wang"),
    ("the assistant left", "wang", dataclasses.replace(ASSISTANT, left_at=EARLIER), "zhang"),
    ("the assistant deactivated", "wang", dataclasses.replace(ASSISTANT, active=False), "zhang"),
    ("named but gone from the database", "wang", None, "zhang"),
    ("someone else's assistant", "li", ASSISTANT, "zhang"),
]


@pytest.mark.parametrize(
    ("assistant_id", "assistant", "held_by"),
    [pytest.param(*c[1:], id=c[0]) for c in FIRST_HOLDER_CASES],
)
def test_who_holds_a_new_thread(
    assistant_id: str | None, assistant: Expert | None, held_by: str
) -> None:
    assert policy.first_holder(expert(assistant_id=assistant_id), assistant).id == held_by


HANDOFF_CASES = [
    # (id, the colleague, who leaves, may take over)
    ("a present colleague", expert(id="li"), "zhang", True),
    ("oneself", expert(id="zhang"), "zhang", False),
    ("an assistant", expert(id="wang", role="assistant"), "zhang", False),
    ("a colleague who left", expert(id="li", left_at=EARLIER, active=False), "zhang", False),
    ("a deactivated colleague", expert(id="li", active=False), "zhang", False),
    ("left but still marked active", expert(id="li", left_at=EARLIER), "zhang", False),
]


@pytest.mark.parametrize(
    ("colleague", "leaving", "takes"), [pytest.param(*c[1:], id=c[0]) for c in HANDOFF_CASES]
)
def test_who_may_take_over_a_leaving_experts_threads(
    colleague: Expert, leaving: str, takes: bool
) -> None:
    assert policy.takes_handoff(colleague, leaving) is takes


# -- is this expert present -------------------------------------------------------------------

PRESENCE_CASES = [
    # (id, active, left_at, present (and, as an assistant, may assist))
    ("active, never left", True, None, True),
    ("left (a hand-off clears active too)", False, EARLIER, False),
    ("deactivated by an admin, never left", False, None, False),
    ("left, active not cleared", True, EARLIER, False),
]


@pytest.mark.parametrize(
    ("active", "left_at", "present"), [pytest.param(*c[1:], id=c[0]) for c in PRESENCE_CASES]
)
def test_is_this_expert_present(active: bool, left_at: datetime | None, present: bool) -> None:
    person = expert(active=active, left_at=left_at)
    assert policy.is_present(person) is present
    assistant = dataclasses.replace(person, role="assistant")
    assert policy.can_assist(assistant) is present
    assert policy.can_assist(dataclasses.replace(assistant, role="expert")) is False
    assert policy.can_assist(None) is False


# -- paused, quiet: may this expert be written to now --------------------------------------------

PAUSE_CASES = [
    # (id, paused_until as stored, the pause's end now)
    ("never paused", None, None),
    ("paused until an hour ago", NOW - timedelta(hours=1), None),
    ("ends right now", NOW, None),
    ("three more hours", NOW + timedelta(hours=3), NOW + timedelta(hours=3)),
    ("until resumed", policy.FOREVER, policy.FOREVER),
]


@pytest.mark.parametrize(("stored", "until"), [pytest.param(*c[1:], id=c[0]) for c in PAUSE_CASES])
def test_is_this_expert_paused(stored: datetime | None, until: datetime | None) -> None:
    assert policy.paused_until(expert(paused_until=stored), NOW) == until


NIGHT = ("22:00-07:30",)
SCHEDULE_CASES = [
    # (id, now, quiet hours, paused until, daily cap, questions already set for,
    #  quiet_until, send_time, question_time, not_accepting)
    ("daytime, nothing set", local(24, 10), NIGHT, None, None, (),
     None, None, None, None),
    ("at night", local(24, 23), NIGHT, None, None, (),
     local(25, 7, 30), local(25, 7, 30), local(25, 7, 30), "quiet"),
    ("night ends now", local(25, 7, 30), NIGHT, None, None, (),
     None, None, None, None),
    ("paused for the afternoon", local(24, 10), NIGHT, local(24, 15), None, (),
     None, local(24, 15), local(24, 15), "paused"),
    ("a pause that ends at night", local(24, 10), NIGHT, local(24, 23), None, (),
     None, local(25, 7, 30), local(25, 7, 30), "paused"),
    ("paused and quiet: paused is said", local(24, 23), NIGHT, local(25, 1), None, (),
     local(25, 7, 30), local(25, 7, 30), local(25, 7, 30), "paused"),
    ("a pause that is over", local(24, 10), NIGHT, local(24, 9), None, (),
     None, None, None, None),
    ("cap not reached", local(24, 10), NIGHT, None, 2, (local(24, 8),),
     None, None, None, None),
    ("cap reached today", local(24, 10), NIGHT, None, 2, (local(24, 8), local(24, 9)),
     None, None, local(25, 7, 30), "cap"),
    ("cap reached, and quiet", local(24, 23), NIGHT, None, 1, (local(25, 7, 30),),
     local(25, 7, 30), local(25, 7, 30), local(26, 7, 30), "quiet"),
    ("a cap of none at all", local(24, 10), (), None, 0, (),
     None, None, local(24, 10) + timedelta(days=365), "cap"),
    ("no windows, no cap", local(24, 3), (), None, None, (),
     None, None, None, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("now", "windows", "paused", "cap", "scheduled", "quiet", "send", "question", "why"),
    [pytest.param(*c[1:], id=c[0]) for c in SCHEDULE_CASES],
)
def test_may_this_expert_be_written_to_now(
    now: datetime,
    windows: tuple[str, ...],
    paused: datetime | None,
    cap: int | None,
    scheduled: tuple[datetime, ...],
    quiet: datetime | None,
    send: datetime | None,
    question: datetime | None,
    why: str | None,
) -> None:
    person = expert(quiet_hours=windows, paused_until=paused, daily_cap=cap)
    assert policy.quiet_until(person, SHANGHAI, now) == quiet
    assert policy.send_time(person, SHANGHAI, now) == send
    assert policy.question_time(person, SHANGHAI, now, scheduled) == question
    assert policy.not_accepting(person, SHANGHAI, now, scheduled) == why


# -- what is an answer ------------------------------------------------------------------------

ANSWER_CASES = [
    ("expert", True),
    ("assistant", True),
    ("patient", False),
    ("system", False),
    ("Expert", False),  # stored lower-case, compared as stored
    ("", False),
]


@pytest.mark.parametrize(("sender", "answers"), [pytest.param(s, a, id=s or "empty") for s, a in
                                                 ANSWER_CASES])  # fmt: skip
def test_what_is_an_answer(sender: str, answers: bool) -> None:
    assert policy.is_answer(sender) is answers
    assert (sender in policy.ANSWER_SENDERS) is answers


# -- the facts never show a number or what a patient typed ------------------------------------

REPR_CASES = [
    ("an expert", expert(phone="+8613800138001"), "13800138001"),
    ("a short number", expert(phone="+123456"), "123456"),
    ("a patient's phone", phone(e164="+8613912345678"), "13912345678"),
    ("a short patient number", phone(e164="+4912"), "4912"),
    ("a thread's nickname", thread(nickname="王小明13800138000"), "王小明"),
    ("a thread's token", thread(token_hash="deadbeefcafe"), "deadbeef"),
]


@pytest.mark.parametrize(("fact", "secret"), [pytest.param(*c[1:], id=c[0]) for c in REPR_CASES])
def test_a_fact_repr_never_shows_a_number_or_patient_text(fact: object, secret: str) -> None:
    shown = repr(fact)
    assert secret not in shown
    assert type(fact).__name__ in shown
    assert "id=" in shown  # (still says which row it is)


def test_the_rules_repr_never_shows_an_admin_number() -> None:
    assert ADMIN[3:] not in repr(RULES)
    assert "86" in repr(RULES)  # (the countries are no secret)
