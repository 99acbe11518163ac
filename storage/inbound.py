"""Inbound SMS: stored parts, reassembled messages, their outcome. No decisions.

Writes take the connection of the caller's ``async with db.transaction()``, so that a state
change and the SMS it causes commit together; reads that need no transaction take the
:class:`Database`. Reads return the core's frozen records (``InboundSms``, ``InboundPart`` of
:mod:`smscat.relay.core.records`), never a row. Nothing here logs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import aiosqlite

from smscat.relay.core.records import INBOUND_OUTCOMES, InboundPart, InboundSms, member
from smscat.storage.db import Database
from smscat.storage.errors import AlreadyAssembled as AlreadyAssembled  # (callers: use errors)
from smscat.storage.sql import (
    Conn,
    fetch_all,
    fetch_one,
    insert,
    moment,
    moment_or_none,
    placeholders,
)


def as_inbound_sms(row: aiosqlite.Row) -> InboundSms:
    """A row of ``inbound`` (``SELECT *``) as the core's record."""
    missing = row["missing"]
    return InboundSms(
        id=int(row["id"]),
        modem_id=str(row["modem_id"]),
        sender=str(row["sender"]),
        text=str(row["text"]),
        parts=int(row["parts"]),
        complete=bool(row["complete"]),
        received_at=moment(row["received_at"]),
        outcome=member(row["outcome"], INBOUND_OUTCOMES, "inbound outcome"),
        thread_id=None if row["thread_id"] is None else int(row["thread_id"]),
        resolved_at=moment_or_none(row["resolved_at"]),
        concat_ref=None if row["concat_ref"] is None else int(row["concat_ref"]),
        missing=tuple(int(n) for n in json.loads(missing)) if missing else (),
        forwarded_outbox_id=(
            None if row["forwarded_outbox_id"] is None else int(row["forwarded_outbox_id"])
        ),
        completed_at=moment_or_none(row["completed_at"]),
    )


def as_inbound_part(row: aiosqlite.Row) -> InboundPart:
    """A row of ``inbound_parts`` (``SELECT *``) as the core's record."""
    return InboundPart(
        id=int(row["id"]),
        modem_id=str(row["modem_id"]),
        pdu=str(row["pdu"]),
        received_at=moment(row["received_at"]),
        inbound_id=None if row["inbound_id"] is None else int(row["inbound_id"]),
    )


async def store_part(conn: Conn, dedup_key: str, modem_id: str, pdu: str, now: str) -> bool:
    """Keep a raw part; False when the same part was stored before."""
    async with conn.execute(
        "INSERT INTO inbound_parts (dedup_key, modem_id, pdu, received_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (dedup_key) DO NOTHING",
        (dedup_key, modem_id, pdu, now),
    ) as cur:
        return cur.rowcount == 1


async def pending_parts(db: Database) -> list[InboundPart]:
    """Raw parts not yet assembled into a message, in the order they were stored."""
    rows = await db.fetchall("SELECT * FROM inbound_parts WHERE inbound_id IS NULL ORDER BY id")
    return [as_inbound_part(r) for r in rows]


@dataclass(frozen=True, slots=True)
class NewInbound:
    modem_id: str
    sender: str = field(repr=False)
    text: str = field(repr=False)
    parts: int
    complete: bool
    received_at: str
    outcome: str
    thread_id: int | None
    concat_ref: int | None = None  # a long SMS's concatenation reference (None: a single SMS)
    missing: tuple[int, ...] = ()  # part numbers that had not arrived (an incomplete SMS)


async def insert_inbound(conn: Conn, m: NewInbound, part_ids: Iterable[int]) -> int:
    inbound_id = await insert(
        conn,
        "INSERT INTO inbound (modem_id, sender, text, parts, complete, received_at, outcome,"
        " thread_id, concat_ref, missing) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            m.modem_id,
            m.sender,
            m.text,
            m.parts,
            int(m.complete),
            m.received_at,
            m.outcome,
            m.thread_id,
            m.concat_ref,
            json.dumps(list(m.missing)) if m.missing else None,
        ),
    )
    await attach_parts(conn, inbound_id, part_ids)
    return inbound_id


async def attach_parts(conn: Conn, inbound_id: int, part_ids: Iterable[int]) -> None:
    """The raw parts belong to this message now; :class:`AlreadyAssembled` if one did before."""
    ids = tuple(part_ids)
    marks = placeholders(ids)
    async with conn.execute(
        f"UPDATE inbound_parts SET inbound_id = ? WHERE id IN ({marks}) AND inbound_id IS NULL",
        (inbound_id, *ids),
    ) as cur:
        if cur.rowcount != len(ids):
            # another task assembled these parts first: this message is already posted
            raise AlreadyAssembled


async def incomplete_awaiting(
    db: Database, modem_id: str, sender: str, ref: int, total: int, seq: int, since: str
) -> int | None:
    """The newest message received since ``since`` that went out without part ``seq`` of
    (``sender``, ``ref``, ``total``) on this modem, and still lacks it: its id, or None."""
    rows = await db.fetchall(
        "SELECT id FROM inbound WHERE complete = 0 AND sender = ? AND concat_ref = ?"
        " AND parts = ? AND modem_id = ? AND received_at >= ?"
        " AND EXISTS (SELECT 1 FROM json_each(missing) WHERE value = ?)"
        " ORDER BY id DESC LIMIT 1",
        (sender, ref, total, modem_id, since, seq),
    )
    return int(rows[0]["id"]) if rows else None


async def inbound_row(conn: Conn, inbound_id: int) -> InboundSms | None:
    row = await fetch_one(conn, "SELECT * FROM inbound WHERE id = ?", (inbound_id,))
    return None if row is None else as_inbound_sms(row)


async def inbound_parts_of(conn: Conn, inbound_id: int) -> list[InboundPart]:
    """The raw parts a message was assembled from, in the order they were stored."""
    rows = await fetch_all(
        conn, "SELECT * FROM inbound_parts WHERE inbound_id = ? ORDER BY id", (inbound_id,)
    )
    return [as_inbound_part(r) for r in rows]


async def set_inbound_text(
    conn: Conn, inbound_id: int, text: str, missing: Sequence[int], now: str
) -> None:
    """A late part made the message longer; with nothing ``missing`` it is complete now."""
    await conn.execute(
        "UPDATE inbound SET text = ?, complete = ?, missing = ?,"
        " completed_at = CASE WHEN ? THEN ? ELSE completed_at END WHERE id = ?",
        (
            text,
            int(not missing),
            json.dumps(list(missing)) if missing else None,
            int(not missing),
            now,
            inbound_id,
        ),
    )


async def note_forwarded(conn: Conn, inbound_id: int, thread_id: int, after: int) -> None:
    """Remember the SMS that carried this message to the thread's other party: the one queued
    for the thread after outbox id ``after`` (none when nothing was sent on)."""
    await conn.execute(
        "UPDATE inbound SET forwarded_outbox_id = (SELECT MAX(id) FROM outbox WHERE id > ?"
        " AND thread_id = ? AND kind IN ('to_patient', 'to_expert')) WHERE id = ?",
        (after, thread_id, inbound_id),
    )


async def unresolved_unmatched(conn: Conn, inbound_id: int) -> InboundSms | None:
    """The SMS, if it is unmatched and no admin has dealt with it yet."""
    row = await fetch_one(
        conn,
        "SELECT * FROM inbound WHERE id = ? AND outcome = 'unmatched' AND resolved_at IS NULL",
        (inbound_id,),
    )
    return None if row is None else as_inbound_sms(row)


async def resolve_inbound(
    conn: Conn, inbound_id: int, outcome: str, thread_id: int | None, now: str
) -> None:
    await conn.execute(
        "UPDATE inbound SET outcome = ?, thread_id = ?, resolved_at = ? WHERE id = ?",
        (outcome, thread_id, now, inbound_id),
    )


async def unmatched(db: Database, limit: int) -> list[InboundSms]:
    """Unresolved unmatched SMS, oldest first (for admins)."""
    rows = await db.fetchall(
        "SELECT * FROM inbound WHERE outcome = 'unmatched' AND resolved_at IS NULL"
        " ORDER BY id LIMIT ?",
        (limit,),
    )
    return [as_inbound_sms(r) for r in rows]


async def set_inbound_outcome(
    conn: Conn, inbound_id: int, outcome: str, thread_id: int | None
) -> None:
    await conn.execute(
        "UPDATE inbound SET outcome = ?, thread_id = ? WHERE id = ?",
        (outcome, thread_id, inbound_id),
    )
