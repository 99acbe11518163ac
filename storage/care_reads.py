"""随访 as the admin pages read it: enrolments page by page, the open escalations and the calls
still to make, each with what a person needs to act on it (nickname, plan, the reply, who holds
it) and the patient's number for the service to mask or, on request, show.

Reads only (the writes are :mod:`.care`'s); it decides nothing. A row's number stays out of its
repr (``erased:<id>`` once the phone was erased).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import aiosqlite

from smscat.relay.core.care import Enrolment, Escalation
from smscat.storage.care import as_enrolment, as_escalation
from smscat.storage.sql import Conn, fetch_all, fetch_one, moment, moment_or_none, placeholders


@dataclass(frozen=True, slots=True)
class EnrolmentRow:
    enrolment: Enrolment
    phone: str = field(repr=False)  # E.164, or erased:<id>
    doctor_name: str | None


@dataclass(frozen=True, slots=True)
class EscalationRow:
    escalation: Escalation
    nickname: str = field(repr=False)
    plan: str
    step: str  # the step the reply answered
    reply: str = field(repr=False)  # the patient's words, as they came
    choice: str | None  # the menu answer, None for free text
    keywords: str  # JSON list of the plan's red-flag words found
    person_name: str | None  # who holds it (None: nobody left on the rota)
    phone: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class CallRow:
    id: int
    enrolment_id: int
    nickname: str = field(repr=False)
    plan: str
    step: str
    listed_at: datetime
    done_at: datetime | None
    phone: str = field(repr=False)


async def enrolments_page(conn: Conn, limit: int, offset: int) -> tuple[list[EnrolmentRow], int]:
    """Enrolments, newest first, with the patient's number and the doctor's name; the total."""
    row = await fetch_one(conn, "SELECT COUNT(*) FROM care_enrolments")
    total = int(row[0]) if row is not None else 0
    rows = await fetch_all(
        conn,
        "SELECT c.*, p.e164 AS phone, e.name AS doctor_name FROM care_enrolments c"
        " JOIN phones p ON p.id = c.phone_id LEFT JOIN experts e ON e.id = c.doctor_id"
        " ORDER BY c.id DESC LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return [EnrolmentRow(as_enrolment(r), r["phone"], r["doctor_name"]) for r in rows], total


async def steps_sent(conn: Conn, enrolment_ids: Sequence[int]) -> dict[int, set[str]]:
    """The steps each of these enrolments sent (reminders aside)."""
    rows = await fetch_all(
        conn,
        "SELECT enrolment_id, step FROM care_sends"
        f" WHERE kind = 'step' AND enrolment_id IN ({placeholders(enrolment_ids)})",
        tuple(enrolment_ids),
    )
    sent: dict[int, set[str]] = {i: set() for i in enrolment_ids}
    for r in rows:
        sent[int(r["enrolment_id"])].add(str(r["step"]))
    return sent


def _escalation_row(row: aiosqlite.Row) -> EscalationRow:
    return EscalationRow(
        escalation=as_escalation(row),
        nickname=row["nickname"],
        plan=row["plan"],
        step=row["step"],
        reply=row["reply"],
        choice=row["choice"],
        keywords=row["keywords"],
        person_name=row["person_name"],
        phone=row["phone"],
    )


async def open_escalations(conn: Conn, limit: int) -> tuple[list[EscalationRow], int]:
    """Escalations nobody acknowledged yet, the oldest first; how many there are."""
    row = await fetch_one(conn, "SELECT COUNT(*) FROM care_escalations WHERE acked_at IS NULL")
    total = int(row[0]) if row is not None else 0
    rows = await fetch_all(
        conn,
        "SELECT x.*, c.nickname, c.plan, r.step, r.text AS reply, r.choice, r.keywords,"
        " e.name AS person_name, p.e164 AS phone FROM care_escalations x"
        " JOIN care_enrolments c ON c.id = x.enrolment_id"
        " JOIN care_replies r ON r.id = x.reply_id JOIN phones p ON p.id = c.phone_id"
        " LEFT JOIN experts e ON e.id = x.person_id"
        " WHERE x.acked_at IS NULL ORDER BY x.raised_at, x.id LIMIT ?",
        (limit,),
    )
    return [_escalation_row(r) for r in rows], total


async def open_calls(conn: Conn, limit: int) -> tuple[list[CallRow], int]:
    """Patients listed for a call and not called yet, the longest waiting first; how many."""
    row = await fetch_one(conn, "SELECT COUNT(*) FROM care_calls WHERE done_at IS NULL")
    total = int(row[0]) if row is not None else 0
    rows = await fetch_all(
        conn,
        "SELECT k.*, c.nickname, c.plan, p.e164 AS phone FROM care_calls k"
        " JOIN care_enrolments c ON c.id = k.enrolment_id JOIN phones p ON p.id = c.phone_id"
        " WHERE k.done_at IS NULL ORDER BY k.listed_at, k.id LIMIT ?",
        (limit,),
    )
    calls = [
        CallRow(
            id=r["id"],
            enrolment_id=r["enrolment_id"],
            nickname=r["nickname"],
            plan=r["plan"],
            step=r["step"],
            listed_at=moment(r["listed_at"]),
            done_at=moment_or_none(r["done_at"]),
            phone=r["phone"],
        )
        for r in rows
    ]
    return calls, total


Listed = Literal["escalation", "call"]
_LISTS: dict[Listed, str] = {"escalation": "care_escalations", "call": "care_calls"}


async def listed_phone(conn: Conn, what: Listed, row_id: int) -> str | None:
    """The number of the patient an escalation or a listed call is about (None: no such row)."""
    row = await fetch_one(
        conn,
        f"SELECT p.e164 FROM {_LISTS[what]} x JOIN care_enrolments c ON c.id = x.enrolment_id"
        " JOIN phones p ON p.id = c.phone_id WHERE x.id = ?",
        (row_id,),
    )
    return None if row is None else str(row[0])
