"""随访 follow-up plans: enrolments, what went to each patient, replies, escalations, calls.

It decides nothing (the planner is :mod:`smscat.relay.core.care`); it stores and reads what the
service (:mod:`smscat.relay.services.care`) decided, inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import aiosqlite

from smscat.relay.core.care import RUNNING, Enrolment, Escalation, Progress
from smscat.storage.sql import (
    Conn,
    fetch_all,
    fetch_one,
    insert,
    moment,
    moment_or_none,
    placeholders,
)

_RUNNING = tuple(sorted(RUNNING))


def as_enrolment(row: aiosqlite.Row) -> Enrolment:
    return Enrolment(
        id=row["id"],
        plan=row["plan"],
        phone_id=row["phone_id"],
        nickname=row["nickname"],
        anchor=date.fromisoformat(row["anchor"]),
        doctor_id=row["doctor_id"],
        department=row["department"],
        status=row["status"],
        ended_reason=row["ended_reason"],
        consent_by=row["consent_by"],
        consent_at=moment(row["consent_at"]),
        consent_how=row["consent_how"],
        source=row["source"],
        next_at=moment_or_none(row["next_at"]),
        created_at=moment(row["created_at"]),
    )


def as_escalation(row: aiosqlite.Row) -> Escalation:
    return Escalation(
        id=row["id"],
        enrolment_id=row["enrolment_id"],
        reply_id=row["reply_id"],
        person_id=row["person_id"],
        code=row["code"],
        rota_index=row["rota_index"],
        raised_at=moment(row["raised_at"]),
        deadline_at=moment(row["deadline_at"]),
        acked_at=moment_or_none(row["acked_at"]),
        acked_by=row["acked_by"],
    )


# -- plans edited by admins -----------------------------------------------------------------


async def plan_bodies(conn: Conn) -> dict[str, str]:
    """Plans as admins last saved them (name → JSON body): these win over config.yaml's."""
    rows = await fetch_all(conn, "SELECT name, body FROM care_plans")
    return {r["name"]: r["body"] for r in rows}


async def save_plan(conn: Conn, name: str, body: str, at: str, by: str) -> None:
    await conn.execute(
        "INSERT INTO care_plans (name, body, updated_at, updated_by) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET body = excluded.body,"
        " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        (name, body, at, by),
    )


# -- enrolments -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NewEnrolment:
    plan: str
    phone_id: int
    nickname: str = field(repr=False)
    anchor: date
    doctor_id: str | None
    department: str
    consent_by: str
    consent_at: str
    consent_how: str
    source: str
    now: str
    created_by: str


async def enrol(conn: Conn, e: NewEnrolment) -> tuple[Enrolment, bool]:
    """The enrolment of this patient in this plan, made now unless one runs already (or one
    for the same anchor date exists): a patient enrolled twice is one enrolment. Whether it
    was made now."""
    async with conn.execute(
        "INSERT INTO care_enrolments (plan, phone_id, nickname, anchor, doctor_id, department,"
        " status, consent_by, consent_at, consent_how, source, next_at, created_at, created_by)"
        " VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (
            e.plan,
            e.phone_id,
            e.nickname,
            e.anchor.isoformat(),
            e.doctor_id,
            e.department,
            e.consent_by,
            e.consent_at,
            e.consent_how,
            e.source,
            e.now,
            e.now,
            e.created_by,
        ),
    ) as cur:
        made = cur.rowcount == 1
    row = await fetch_one(
        conn,
        "SELECT * FROM care_enrolments WHERE plan = ? AND phone_id = ?"
        f" AND (status IN ({placeholders(_RUNNING)}) OR anchor = ?) ORDER BY id DESC LIMIT 1",
        (e.plan, e.phone_id, *_RUNNING, e.anchor.isoformat()),
    )
    assert row is not None
    return as_enrolment(row), made


async def enrolment(conn: Conn, enrolment_id: int) -> Enrolment | None:
    row = await fetch_one(conn, "SELECT * FROM care_enrolments WHERE id = ?", (enrolment_id,))
    return None if row is None else as_enrolment(row)


async def due(conn: Conn, now: str, limit: int) -> list[Enrolment]:
    """Active enrolments the planner should look at by ``now``, the longest waiting first."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM care_enrolments WHERE status = 'active' AND next_at <= ?"
        " ORDER BY next_at LIMIT ?",
        (now, limit),
    )
    return [as_enrolment(r) for r in rows]


async def next_due(conn: Conn) -> str | None:
    """When the planner has anything to do next (None: nothing is planned)."""
    row = await fetch_one(conn, "SELECT MIN(next_at) FROM care_enrolments WHERE status = 'active'")
    return None if row is None else row[0]


async def running_of_phone(conn: Conn, phone_id: int, plan: str | None = None) -> list[Enrolment]:
    """The phone's enrolments that may still send (active or paused), oldest first."""
    rows = await fetch_all(
        conn,
        f"SELECT * FROM care_enrolments WHERE phone_id = ? AND status IN ({placeholders(_RUNNING)})"
        " AND (? IS NULL OR plan = ?) ORDER BY id",
        (phone_id, *_RUNNING, plan, plan),
    )
    return [as_enrolment(r) for r in rows]


async def consented(conn: Conn, e164: str) -> bool:
    """Whether ``e164`` has an enrolment that may still send, so recorded consent (the
    recipient rule's ``consented`` fact for a plan's SMS)."""
    row = await fetch_one(
        conn,
        "SELECT EXISTS (SELECT 1 FROM care_enrolments c JOIN phones p ON p.id = c.phone_id"
        f" WHERE p.e164 = ? AND c.status IN ({placeholders(_RUNNING)}))",
        (e164, *_RUNNING),
    )
    return bool(row and row[0])


async def set_next(conn: Conn, enrolment_id: int, next_at: str | None) -> None:
    await conn.execute(
        "UPDATE care_enrolments SET next_at = ? WHERE id = ?", (next_at, enrolment_id)
    )


async def set_status(
    conn: Conn, enrolment_id: int, status: str, reason: str | None, at: str
) -> bool:
    """Move an enrolment on (paused, active again, completed, cancelled); False when it had
    ended already (an ended enrolment never runs again)."""
    ended = status in ("completed", "cancelled")
    async with conn.execute(
        "UPDATE care_enrolments SET status = ?, ended_reason = ?, ended_at = ?,"
        " next_at = CASE WHEN ? = 'active' THEN ? ELSE next_at END"
        f" WHERE id = ? AND status IN ({placeholders(_RUNNING)}) AND status != ?",
        (status, reason, at if ended else None, status, at, enrolment_id, *_RUNNING, status),
    ) as cur:
        return cur.rowcount == 1


async def progress(conn: Conn, enrolment: Enrolment) -> Progress:
    """What the planner needs of one enrolment: its sends, answered steps, listed calls, and the
    patient's latest plan SMS of any enrolment (for the gap)."""
    sends = await fetch_all(
        conn, "SELECT step, kind, at FROM care_sends WHERE enrolment_id = ?", (enrolment.id,)
    )
    answered = await fetch_all(
        conn, "SELECT DISTINCT step FROM care_replies WHERE enrolment_id = ?", (enrolment.id,)
    )
    listed = await fetch_all(
        conn, "SELECT step FROM care_calls WHERE enrolment_id = ?", (enrolment.id,)
    )
    last = await fetch_one(
        conn,
        "SELECT MAX(s.at) FROM care_sends s JOIN care_enrolments c ON c.id = s.enrolment_id"
        " WHERE c.phone_id = ? AND s.outbox_id IS NOT NULL",
        (enrolment.phone_id,),
    )
    return Progress(
        anchor=enrolment.anchor,
        sent={(r["step"], r["kind"]): moment(r["at"]) for r in sends},
        answered=frozenset(r["step"] for r in answered),
        listed=frozenset(r["step"] for r in listed),
        last_sent=moment_or_none(last[0] if last else None),
    )


async def add_send(
    conn: Conn, enrolment_id: int, step: str, kind: str, outbox_id: int | None, at: str
) -> None:
    await conn.execute(
        "INSERT INTO care_sends (enrolment_id, step, kind, outbox_id, at) VALUES (?, ?, ?, ?, ?)",
        (enrolment_id, step, kind, outbox_id, at),
    )


async def queued_sms(conn: Conn, enrolment_ids: Iterable[int]) -> list[int]:
    """The outbox ids of these enrolments' SMS that have not gone yet."""
    ids = tuple(enrolment_ids)
    rows = await fetch_all(
        conn,
        "SELECT s.outbox_id FROM care_sends s JOIN outbox o ON o.id = s.outbox_id"
        f" WHERE s.enrolment_id IN ({placeholders(ids)}) AND o.status = 'queued'",
        ids,
    )
    return [int(r[0]) for r in rows]


# -- replies, calls -------------------------------------------------------------------------


async def add_reply(
    conn: Conn,
    enrolment_id: int,
    step: str,
    inbound_id: int | None,
    text: str,
    choice: str | None,
    red_flag: bool,
    keywords: Iterable[str],
    at: str,
) -> int:
    return await insert(
        conn,
        "INSERT INTO care_replies (enrolment_id, step, inbound_id, text, choice, red_flag,"
        " keywords, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            enrolment_id,
            step,
            inbound_id,
            text,
            choice,
            int(red_flag),
            json.dumps(list(keywords), ensure_ascii=False),
            at,
        ),
    )


async def add_call(conn: Conn, enrolment_id: int, step: str, at: str) -> None:
    await conn.execute(
        "INSERT INTO care_calls (enrolment_id, step, listed_at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (enrolment_id, step, at),
    )


async def call_done(conn: Conn, call_id: int, by: str, at: str) -> bool:
    async with conn.execute(
        "UPDATE care_calls SET done_at = ?, done_by = ? WHERE id = ? AND done_at IS NULL",
        (at, by, call_id),
    ) as cur:
        return cur.rowcount == 1


# -- escalations ----------------------------------------------------------------------------


async def add_escalation(
    conn: Conn,
    enrolment_id: int,
    reply_id: int,
    person_id: str | None,
    code: int | None,
    rota_index: int,
    at: str,
    deadline: str,
) -> int:
    return await insert(
        conn,
        "INSERT INTO care_escalations (enrolment_id, reply_id, person_id, code, rota_index,"
        " raised_at, assigned_at, deadline_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (enrolment_id, reply_id, person_id, code, rota_index, at, at, deadline),
    )


async def escalation(conn: Conn, escalation_id: int) -> Escalation | None:
    row = await fetch_one(conn, "SELECT * FROM care_escalations WHERE id = ?", (escalation_id,))
    return None if row is None else as_escalation(row)


async def open_escalations_of(conn: Conn, person_id: str) -> list[Escalation]:
    """The escalations ``person_id`` must still acknowledge."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM care_escalations WHERE person_id = ? AND acked_at IS NULL ORDER BY id",
        (person_id,),
    )
    return [as_escalation(r) for r in rows]


async def overdue_escalations(conn: Conn, now: str) -> list[Escalation]:
    """Unacknowledged escalations past their deadline that someone still holds."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM care_escalations WHERE acked_at IS NULL AND person_id IS NOT NULL"
        " AND deadline_at <= ? ORDER BY deadline_at",
        (now,),
    )
    return [as_escalation(r) for r in rows]


async def reassign_escalation(
    conn: Conn,
    escalation_id: int,
    person_id: str | None,
    code: int | None,
    rota_index: int,
    at: str,
    deadline: str,
) -> None:
    await conn.execute(
        "UPDATE care_escalations SET person_id = ?, code = ?, rota_index = ?, assigned_at = ?,"
        " deadline_at = ? WHERE id = ? AND acked_at IS NULL",
        (person_id, code, rota_index, at, deadline, escalation_id),
    )


async def ack_escalation(conn: Conn, escalation_id: int, by: str, at: str) -> bool:
    async with conn.execute(
        "UPDATE care_escalations SET acked_at = ?, acked_by = ? WHERE id = ? AND acked_at IS NULL",
        (at, by, escalation_id),
    ) as cur:
        return cur.rowcount == 1


async def escalation_codes(conn: Conn, people: Iterable[str], since: str) -> set[int]:
    """Codes these people were given for escalations since ``since`` or still to acknowledge:
    they share the people's thread codes' space (a reply's code must say which it is)."""
    ids = tuple(people)
    rows = await fetch_all(
        conn,
        f"SELECT code FROM care_escalations WHERE person_id IN ({placeholders(ids)})"
        " AND code IS NOT NULL AND (assigned_at >= ? OR acked_at IS NULL)",
        (*ids, since),
    )
    return {int(r[0]) for r in rows}


async def phone_of(conn: Conn, enrolment_id: int) -> str:
    """The enrolled patient's number (E.164; ``erased:…`` once erased)."""
    row = await fetch_one(
        conn,
        "SELECT p.e164 FROM care_enrolments c JOIN phones p ON p.id = c.phone_id WHERE c.id = ?",
        (enrolment_id,),
    )
    assert row is not None
    return str(row[0])


async def reply_text(conn: Conn, reply_id: int) -> str:
    row = await fetch_one(conn, "SELECT text FROM care_replies WHERE id = ?", (reply_id,))
    return "" if row is None else str(row[0])


# -- links to a plan's page -----------------------------------------------------------------


async def add_link(conn: Conn, token_hash: str, enrolment_id: int, step: str, at: str) -> None:
    """A step's ``{link}``: the hash of its token (never the token), for the enrolment."""
    await conn.execute(
        "INSERT INTO care_links (token_hash, enrolment_id, step, created_at) VALUES (?, ?, ?, ?)",
        (token_hash, enrolment_id, step, at),
    )


async def linked(conn: Conn, token_hash: str) -> Enrolment | None:
    """The enrolment a link's token was made for; None for an unknown token, and for one
    whose patient's number was erased."""
    row = await fetch_one(
        conn,
        "SELECT c.* FROM care_links l JOIN care_enrolments c ON c.id = l.enrolment_id"
        " JOIN phones p ON p.id = c.phone_id WHERE l.token_hash = ? AND p.erased_at IS NULL",
        (token_hash,),
    )
    return None if row is None else as_enrolment(row)
