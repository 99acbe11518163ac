"""The outbox: SMS queued, sent part by part, rescheduled, failed, cancelled. No decisions.

Writes take the connection of the caller's ``async with db.transaction()``, so that a state
change and the SMS it causes commit together; reads that need no transaction take the
:class:`Database`. Every change of ``outbox.status`` is made here, by :func:`_move`, as
:mod:`smscat.relay.core.outbox_states` says: the target and the statuses it may leave from
come from its table, so a move the table lacks changes no row, even in a race. Reads return
the core's frozen records (``OutboxSms``, ``OutboxPart`` of :mod:`smscat.relay.core.records`),
never a row. Nothing here logs.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiosqlite

from smscat.relay.core.outbox_states import (
    INITIAL,
    VOID,
    OutboxEvent,
    OutboxStatus,
    sources,
    target,
)
from smscat.relay.core.records import OUTBOX_KINDS, OutboxPart, OutboxSms, member
from smscat.storage.db import Database
from smscat.storage.sql import Conn, fetch_one, insert, moment, moment_or_none, placeholders


def as_outbox_sms(row: aiosqlite.Row) -> OutboxSms:
    """A row of ``outbox`` (``SELECT *``) as the core's record."""
    return OutboxSms(
        id=int(row["id"]),
        kind=member(row["kind"], OUTBOX_KINDS, "outbox kind"),
        priority=int(row["priority"]),
        recipient=str(row["recipient"]),
        text=str(row["text"]),
        thread_id=None if row["thread_id"] is None else int(row["thread_id"]),
        ref=int(row["ref"]),
        status=OutboxStatus(row["status"]),
        attempts=int(row["attempts"]),
        next_attempt_at=moment(row["next_attempt_at"]),
        created_at=moment(row["created_at"]),
        modem_id=row["modem_id"],
        sent_at=moment_or_none(row["sent_at"]),
        avoid_modem=row["avoid_modem"],
        error=row["error"],
    )


def as_outbox_part(row: aiosqlite.Row) -> OutboxPart:
    """A row of ``outbox_parts`` (``SELECT *``) as the core's record."""
    return OutboxPart(
        outbox_id=int(row["outbox_id"]),
        seq=int(row["seq"]),
        total=int(row["total"]),
        modem_id=str(row["modem_id"]),
        mr=int(row["mr"]),
        sent_at=moment(row["sent_at"]),
        delivered_at=moment_or_none(row["delivered_at"]),
        report=None if row["report"] is None else int(row["report"]),
    )


async def _move(
    conn: Conn,
    event: OutboxEvent,
    where: str,
    params: Sequence[Any] = (),
    *,
    also: str = "",
    also_params: Sequence[Any] = (),
) -> int:
    """Move the rows ``where`` picks that are in a source status of ``event`` to its target,
    setting ``also`` (``", column = ?, …"``) with them; how many rows moved."""
    came_from = sorted(sources(event))
    async with conn.execute(
        f"UPDATE outbox SET status = ?{also}"
        f" WHERE ({where}) AND status IN ({placeholders(came_from)})",
        (target(event), *also_params, *params, *came_from),
    ) as cur:
        return cur.rowcount


async def hold_questions(conn: Conn, recipient: str, until: str) -> None:
    """What already waits for ``recipient`` is held until ``until`` too (a pause)."""
    await conn.execute(
        "UPDATE outbox SET next_attempt_at = ? WHERE status = ?"
        " AND kind = 'to_expert' AND recipient = ? AND next_attempt_at < ?",
        (until, OutboxStatus.QUEUED, recipient, until),
    )


async def release_questions(conn: Conn, recipient: str, release: str, paused_until: str) -> None:
    """Only what a pause held goes at ``release`` (a daily cap's wait stays), as 恢复 does:
    questions, and notices that waited for the pause's end (a weekly digest)."""
    await conn.execute(
        "UPDATE outbox SET next_attempt_at = ? WHERE status = ?"
        " AND kind IN ('to_expert', 'notice') AND recipient = ? AND next_attempt_at > ?"
        " AND next_attempt_at <= ?",
        (release, OutboxStatus.QUEUED, recipient, release, paused_until),
    )


@dataclass(frozen=True, slots=True)
class NewSms:
    kind: str
    priority: int
    recipient: str = field(repr=False)
    text: str = field(repr=False)
    thread_id: int | None
    ref: int | None = None  # the concatenation reference; None: the recipient's next one


async def enqueue(conn: Conn, sms: NewSms, now: str) -> int:
    ref = sms.ref if sms.ref is not None else await next_ref(conn, sms.recipient)
    return await insert(
        conn,
        "INSERT INTO outbox (kind, priority, recipient, text, thread_id, ref, status,"
        " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (sms.kind, sms.priority, sms.recipient, sms.text, sms.thread_id, ref, INITIAL, now, now),
    )


async def next_ref(conn: Conn, recipient: str) -> int:
    """One more than the last reference used for ``recipient`` (wrapping at 256).

    The recipient's phone joins the parts of a long SMS by the sender's number and this
    reference: two long SMS in flight to one phone with the same one would be merged into one
    garbled message. Counting per recipient keeps 256 messages between two uses of a value;
    random values met in about one of 256 pairs (measured: 1 in a 500-question benchmark).
    """
    row = await fetch_one(
        conn, "SELECT ref FROM outbox WHERE recipient = ? ORDER BY id DESC LIMIT 1", (recipient,)
    )
    return (int(row["ref"]) + 1) % 256 if row is not None else secrets.randbelow(256)


async def same_sms_since(conn: Conn, recipient: str, text: str, since: str) -> bool:
    row = await fetch_one(
        conn,
        "SELECT 1 FROM outbox WHERE recipient = ? AND text = ? AND created_at >= ?"
        f" AND status NOT IN ({placeholders(VOID)}) LIMIT 1",
        (recipient, text, since, *VOID),
    )
    return row is not None


async def due(db: Database, now: str, limit: int) -> list[OutboxSms]:
    """Queued SMS that are due, highest priority first, then oldest."""
    rows = await db.fetchall(
        "SELECT * FROM outbox WHERE status = ? AND next_attempt_at <= ?"
        " ORDER BY priority, id LIMIT ?",
        (OutboxStatus.QUEUED, now, limit),
    )
    return [as_outbox_sms(r) for r in rows]


async def due_of_kinds(db: Database, now: str, kinds: list[str], limit: int) -> list[int]:
    """The ids of queued SMS of these kinds that are due, in the order :func:`due` gives them."""
    marks = placeholders(kinds)
    rows = await db.fetchall(
        f"SELECT id FROM outbox WHERE status = ? AND next_attempt_at <= ?"
        f" AND kind IN ({marks}) ORDER BY priority, id LIMIT ?",
        (OutboxStatus.QUEUED, now, *kinds, limit),
    )
    return [int(r["id"]) for r in rows]


async def parts_sent_since(db: Database, modem_id: str, since: Iterable[str]) -> list[int]:
    """Parts this modem sent since each of the given times (one query for all of them)."""
    moments = list(since)
    if not moments:
        return []
    sums = ", ".join("COALESCE(SUM(sent_at >= ?), 0)" for _ in moments)
    mine = "modem_id = ? AND sent_at >= ?"
    # (parts of an SMS that went again from another SIM count too: this SIM sent them)
    (row,) = await db.fetchall(
        f"SELECT {sums} FROM (SELECT sent_at FROM outbox_parts WHERE {mine}"
        f" UNION ALL SELECT sent_at FROM outbox_parts_spent WHERE {mine})",
        (*moments, *(modem_id, min(moments)) * 2),
    )
    return [int(n) for n in row]


async def home_modem(db: Database, recipient: str) -> str | None:
    rows = await db.fetchall(
        "SELECT modem_id FROM recipient_modem WHERE recipient = ?", (recipient,)
    )
    return str(rows[0]["modem_id"]) if rows else None


async def set_home_modem(conn: Conn, recipient: str, modem_id: str, now: str) -> None:
    """The first modem that wrote to ``recipient`` stays its home (kept on failover)."""
    await conn.execute(
        "INSERT INTO recipient_modem (recipient, modem_id, at) VALUES (?, ?, ?)"
        " ON CONFLICT (recipient) DO NOTHING",
        (recipient, modem_id, now),
    )


async def next_due_at(db: Database) -> datetime | None:
    """When the next queued SMS is due (perhaps already); None when nothing is queued."""
    rows = await db.fetchall(
        "SELECT MIN(next_attempt_at) FROM outbox WHERE status = ?", (OutboxStatus.QUEUED,)
    )
    return moment_or_none(rows[0][0]) if rows else None


async def parts_modem(db: Database, outbox_id: int) -> str | None:
    """The modem that sent parts of this SMS already (the rest must go the same way)."""
    rows = await db.fetchall(
        "SELECT modem_id FROM outbox_parts WHERE outbox_id = ? LIMIT 1", (outbox_id,)
    )
    return str(rows[0]["modem_id"]) if rows else None


async def send_whole_again(conn: Conn, outbox_id: int, recipient: str) -> None:
    """The SMS goes again from its first part, with a new concatenation reference.

    Its parts sent so far move to ``outbox_parts_spent`` (they still count against their SIM's
    caps); the new reference keeps the phone from joining old and new parts into one message.
    """
    await conn.execute(
        "INSERT INTO outbox_parts_spent (outbox_id, seq, total, modem_id, mr, sent_at)"
        " SELECT outbox_id, seq, total, modem_id, mr, sent_at FROM outbox_parts"
        " WHERE outbox_id = ?",
        (outbox_id,),
    )
    await conn.execute("DELETE FROM outbox_parts WHERE outbox_id = ?", (outbox_id,))
    await conn.execute(
        "UPDATE outbox SET ref = ? WHERE id = ?", (await next_ref(conn, recipient), outbox_id)
    )


async def avoid_modem(conn: Conn, outbox_id: int, modem_id: str) -> None:
    await conn.execute("UPDATE outbox SET avoid_modem = ? WHERE id = ?", (modem_id, outbox_id))


async def outbox_status(db: Database, outbox_id: int) -> OutboxStatus | None:
    rows = await db.fetchall("SELECT status FROM outbox WHERE id = ?", (outbox_id,))
    return OutboxStatus(rows[0]["status"]) if rows else None


async def sent_parts(db: Database, outbox_id: int) -> set[int]:
    rows = await db.fetchall("SELECT seq FROM outbox_parts WHERE outbox_id = ?", (outbox_id,))
    return {int(r["seq"]) for r in rows}


async def outbox_row(conn: Conn, outbox_id: int) -> OutboxSms | None:
    row = await fetch_one(conn, "SELECT * FROM outbox WHERE id = ?", (outbox_id,))
    return None if row is None else as_outbox_sms(row)


async def record_part(
    conn: Conn, outbox_id: int, seq: int, total: int, modem_id: str, mr: int, now: str
) -> None:
    await conn.execute(
        "INSERT INTO outbox_parts (outbox_id, seq, total, modem_id, mr, sent_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (outbox_id, seq, total, modem_id, mr, now),
    )


async def mark_sent(conn: Conn, outbox_id: int, modem_id: str, now: str) -> None:
    """A modem accepted every part (whatever was decided while the last one was in flight)."""
    await _move(
        conn,
        OutboxEvent.SENT,
        "id = ?",
        (outbox_id,),
        also=", modem_id = ?, sent_at = ?, error = NULL",
        also_params=(modem_id, now),
    )


async def reschedule(conn: Conn, outbox_id: int, attempts: int, next_at: str, error: str) -> None:
    await conn.execute(
        "UPDATE outbox SET attempts = ?, next_attempt_at = ?, error = ? WHERE id = ?",
        (attempts, next_at, error, outbox_id),
    )


async def set_outbox_text(conn: Conn, outbox_id: int, text: str) -> None:
    await conn.execute("UPDATE outbox SET text = ? WHERE id = ?", (text, outbox_id))


async def mark_failed(conn: Conn, outbox_id: int, attempts: int, error: str) -> None:
    await _move(
        conn,
        OutboxEvent.FAILED,
        "id = ?",
        (outbox_id,),
        also=", attempts = ?, error = ?",
        also_params=(attempts, error),
    )


async def cancel_for_thread(conn: Conn, thread_id: int) -> None:
    """Drop the thread's unsent SMS to the expert side (an answer to the patient still goes)."""
    await _move(conn, OutboxEvent.CANCELLED, "thread_id = ? AND kind = 'to_expert'", (thread_id,))


async def cancel_for_recipient(conn: Conn, recipient: str, kinds: Iterable[str]) -> None:
    wanted = tuple(kinds)
    marks = placeholders(wanted)
    await _move(
        conn, OutboxEvent.CANCELLED, f"recipient = ? AND kind IN ({marks})", (recipient, *wanted)
    )


async def cancel_for_recipients(conn: Conn, recipients: Sequence[str]) -> int:
    """Drop every unsent SMS to these numbers, of any kind (they are being erased); how many.

    The numbers travel as one JSON parameter: a long list never meets SQLite's variable limit.
    """
    return await _move(
        conn,
        OutboxEvent.CANCELLED,
        "recipient IN (SELECT value FROM json_each(?))",
        (json.dumps(list(recipients)),),
    )


async def match_report(
    conn: Conn, modem_id: str, mr: int, recipient: str, since: str
) -> OutboxPart | None:
    """The part a status report is for: the newest one with this TP-MR and recipient."""
    row = await fetch_one(
        conn,
        "SELECT p.* FROM outbox_parts p JOIN outbox o ON o.id = p.outbox_id"
        " WHERE p.modem_id = ? AND p.mr = ? AND o.recipient = ? AND p.sent_at >= ?"
        " AND p.delivered_at IS NULL ORDER BY p.sent_at DESC LIMIT 1",
        (modem_id, mr, recipient, since),
    )
    return None if row is None else as_outbox_part(row)


async def mark_part_delivered(conn: Conn, outbox_id: int, seq: int, status: int, now: str) -> bool:
    """Record the report; True when every part of the SMS has now been delivered."""
    await conn.execute(
        "UPDATE outbox_parts SET delivered_at = ?, report = ? WHERE outbox_id = ? AND seq = ?",
        (now, status, outbox_id, seq),
    )
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) AS n, MAX(total) AS total, SUM(delivered_at IS NOT NULL) AS done"
        " FROM outbox_parts WHERE outbox_id = ?",
        (outbox_id,),
    )
    if row is None or row["done"] != row["total"] or row["n"] != row["total"]:
        return False
    await _move(conn, OutboxEvent.DELIVERED, "id = ?", (outbox_id,))
    return True


async def last_outbox_id(conn: Conn) -> int:
    row = await fetch_one(conn, "SELECT COALESCE(MAX(id), 0) FROM outbox")
    return int(row[0]) if row else 0


async def cancel_outbox(conn: Conn, outbox_id: int) -> None:
    """An SMS that has not gone will not (another takes its place, or nobody may get it now)."""
    await _move(conn, OutboxEvent.CANCELLED, "id = ?", (outbox_id,))


async def requeue(conn: Conn, outbox_id: int, now: str) -> bool:
    """A failed SMS back in the queue with fresh attempts; False unless it had failed."""
    moved = await _move(
        conn,
        OutboxEvent.REQUEUED,
        "id = ?",
        (outbox_id,),
        also=", attempts = 0, next_attempt_at = ?, error = NULL, avoid_modem = NULL",
        also_params=(now,),
    )
    return moved == 1


async def parts_sent_of(conn: Conn, outbox_id: int) -> int:
    """Parts of this SMS a modem has accepted so far."""
    row = await fetch_one(
        conn, "SELECT COUNT(*) FROM outbox_parts WHERE outbox_id = ?", (outbox_id,)
    )
    return int(row[0]) if row else 0


async def outbox_counts(db: Database) -> dict[OutboxStatus, int]:
    """SMS in the outbox by status (a status no SMS is in is left out)."""
    rows = await db.fetchall("SELECT status, COUNT(*) FROM outbox GROUP BY status")
    return {OutboxStatus(r[0]): int(r[1]) for r in rows}
