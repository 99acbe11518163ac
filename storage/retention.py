"""The retention job's reads and writes: erase phone numbers, delete old private threads.

No decisions: which numbers and threads go, what an SMS's sender normalises to and which text
holds a number (in whatever form it was typed) are :mod:`smscat.relay.services.retention`'s business
(a text is judged by the ``match`` it hands :func:`cells_where`, run inside SQLite); the
columns where a number can be are listed here (:data:`TEXT_COLUMNS`, :data:`JSON_COLUMNS`,
:data:`NUMBER_COLUMNS`, and :data:`NO_PATIENT_TEXT` for every other text column). This
module runs the statements it is handed, inside the caller's transaction, and counts the rows
they touched. Lists of ids and numbers travel as one JSON parameter (``json_each``), so a long
list needs no SQL of its own and never meets SQLite's variable limit. Nothing here logs; no
count or error names a number.

``PRAGMA secure_delete`` (see :func:`secure_delete`) makes SQLite overwrite what a statement
deletes or replaces with zeros; :func:`vacuum` rebuilds the file, dropping the old row images
earlier updates left in free page space; :func:`checkpoint` empties the write-ahead log. After
the three, an erased number has no copy in the database, its WAL or a backup taken afterwards.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

import aiosqlite

from smscat.relay.core.records import InboundPart
from smscat.relay.core.types import Phone
from smscat.storage import outbox as outbox_db
from smscat.storage.db import Database
from smscat.storage.inbound import as_inbound_part
from smscat.storage.phones import as_phone

Conn = aiosqlite.Connection
ERASED_SENDER: Final = "erased"  # inbound.sender and outbox.recipient of an erased number

# Where a number can be written in any form (typed by a patient or an expert, quoted in an
# error, named in an admin's audit entry): every cell is read by the caller's detector.
TEXT_COLUMNS: Final = (
    ("messages", "text"),
    ("messages", "public_text"),
    ("inbound", "text"),
    ("outbox", "text"),
    ("outbox", "error"),
    ("threads", "nickname"),
    ("care_enrolments", "nickname"),
    ("care_enrolments", "consent_by"),
    ("care_enrolments", "created_by"),
    ("care_replies", "text"),
    ("audit_log", "actor"),
    ("audit_log", "subject"),
    ("alerts", "subject"),
)
# The same, kept as JSON (json_valid): read and rewritten value by value.
JSON_COLUMNS: Final = (("audit_log", "detail"), ("alerts", "detail"))
# Where a number is a number: erased row by row by :func:`erase_numbers`.
NUMBER_COLUMNS: Final = (
    ("phones", "e164"),
    ("outbox", "recipient"),
    ("recipient_modem", "recipient"),
    ("inbound", "sender"),
    ("inbound_parts", "pdu"),  # the raw SMS: its sender in semi-octets, and its text
    ("inbound_parts", "dedup_key"),  # the modem and the raw SMS
)
# Every other TEXT column: ids, times, states, hashes, modems, the experts' own data. Nothing a
# patient's number can be written into. A test fails when a TEXT column is in none of the four.
NO_PATIENT_TEXT: Final = {
    "alerts": ("kind", "opened_at", "notified_at", "cleared_at"),
    "api_tokens": (
        *("name", "token_hash", "scopes", "created_at", "created_by", "last_used_at"),
        *("revoked_at", "revoked_by"),
    ),
    "care_calls": ("step", "listed_at", "done_at", "done_by"),
    "care_links": ("token_hash", "step", "created_at"),
    "care_enrolments": (
        *("plan", "anchor", "doctor_id", "department", "status", "ended_reason", "ended_at"),
        *("consent_at", "consent_how", "source", "next_at", "created_at"),
    ),
    "care_escalations": (
        *("person_id", "raised_at", "assigned_at", "deadline_at", "acked_at", "acked_by"),
    ),
    "care_plans": ("name", "body", "updated_at", "updated_by"),  # staff write plans: no patient
    "care_replies": ("step", "choice", "keywords", "at"),  # (keywords: the plan's words)
    "care_sends": ("step", "kind", "at"),
    "audit_log": ("at", "action"),
    "experts": (
        *("id", "name", "title", "department", "phone", "specialty", "config_fields"),
        *("created_at", "updated_at", "paused_until", "role", "assistant_id", "quiet_hours"),
        *("welcomed_at", "left_at"),
    ),
    "inbound": ("modem_id", "received_at", "outcome", "resolved_at", "missing", "completed_at"),
    "inbound_parts": ("modem_id", "received_at"),
    "link_sms": ("created_at",),
    "messages": ("sender", "at"),
    "outbox": (
        *("kind", "status", "modem_id", "next_attempt_at", "created_at", "sent_at"),
        *("avoid_modem",),
    ),
    "outbox_parts": ("modem_id", "sent_at", "delivered_at"),
    "outbox_parts_spent": ("modem_id", "sent_at"),
    "phones": ("verified_at", "stopped_at", "created_at", "erased_at"),
    "recipient_modem": ("modem_id", "at"),
    "refused_pins": ("modem_id", "pin_hash", "refused_at"),
    "thread_links": ("token_hash", "created_at"),
    "threads": (
        *("expert_id", "token_hash", "status", "created_at", "last_message_at", "closed_at"),
        *("handler_id", "thanked_at"),
    ),
    "verifications": ("id", "code_hash", "created_at", "expires_at", "verified_at", "used_at"),
}


def _ids(values: Iterable[Any]) -> str:
    return json.dumps(list(values))


_IN = "IN (SELECT value FROM json_each(?))"


async def _count(conn: Conn, sql: str, params: Sequence[Any]) -> int:
    async with conn.execute(sql, tuple(params)) as cur:
        return max(cur.rowcount, 0)


@asynccontextmanager
async def secure_delete(db: Database) -> AsyncIterator[None]:
    """``PRAGMA secure_delete=ON`` for the block, then the connection's previous setting."""
    (before,) = await db.fetchall("PRAGMA secure_delete")
    await db.fetchall("PRAGMA secure_delete = ON")
    try:
        yield
    finally:
        await db.fetchall(f"PRAGMA secure_delete = {int(before[0])}")


async def vacuum(db: Database) -> bool:
    """Rebuild the database file; False when another transaction is open on the connection.

    Routine updates (an SMS's status, a message's outcome) leave the row's old image in the
    page's free space unless ``secure_delete`` was on at the time; only a rebuild clears that.
    """
    try:
        await db.fetchall("VACUUM")
    except aiosqlite.OperationalError:
        return False  # "cannot VACUUM from within a transaction": the next purge does it
    return True


async def checkpoint(db: Database) -> bool:
    """Copy the WAL into the database file and truncate it; False when a reader held it back."""
    try:
        (row,) = await db.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
    except aiosqlite.OperationalError:
        return False  # a transaction is open on this connection: the next checkpoint does it
    return int(row[0]) == 0


# -- phone numbers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErasedRows:
    """Rows changed to erase phone numbers."""

    phones: int = 0  # phones rows now 'erased:<id>'
    verifications: int = 0  # deleted
    threads_unlinked: int = 0  # threads that kept their content but lost the phone
    outbox: int = 0  # SMS to the number: recipient erased (and cancelled if still queued)
    recipient_modem: int = 0  # deleted
    inbound: int = 0  # SMS from the number: sender erased
    inbound_parts: int = 0  # raw PDUs (sender, text): blanked, or deleted if pending
    texts: int = 0  # free-text cells the number was typed in
    links: int = 0  # links sent again to its threads, and its SMS of links (deleted)
    unknown_sms: int = 0  # SMS from numbers nobody knows (never posted): deleted
    unknown_parts: int = 0  # their raw PDUs: deleted
    care: int = 0  # 随访 enrolments: nickname and replies blanked, cancelled if still running


async def stale_phones(conn: Conn, before: str) -> list[Phone]:
    """Patients' numbers (not erased, not an expert's) with no activity since ``before``.

    Activity is the phone's creation, its newest verification, its threads' last messages, and
    its 随访 enrolments (a running one is activity now; an ended one, when it ended).
    """
    async with conn.execute(
        "SELECT p.*, 0 AS staff FROM phones p"
        " WHERE p.erased_at IS NULL AND p.e164 NOT IN (SELECT phone FROM experts)"
        " AND max(p.created_at,"
        " COALESCE((SELECT MAX(t.last_message_at) FROM threads t WHERE t.phone_id = p.id), ''),"
        " COALESCE((SELECT MAX(v.created_at) FROM verifications v WHERE v.phone_id = p.id), ''),"
        " COALESCE((SELECT MAX(CASE WHEN c.status IN ('active', 'paused') THEN ? ELSE"
        " COALESCE(c.ended_at, c.created_at) END) FROM care_enrolments c WHERE c.phone_id = p.id),"
        " '')) < ? ORDER BY p.id",
        (before, before),
    ) as cur:
        return [as_phone(row) for row in await cur.fetchall()]


async def inbound_senders(conn: Conn) -> list[str]:
    """Every distinct sender of a stored SMS, as received (not necessarily E.164)."""
    async with conn.execute(
        "SELECT DISTINCT sender FROM inbound WHERE sender != ?", (ERASED_SENDER,)
    ) as cur:
        return [str(row[0]) for row in await cur.fetchall()]


async def pending_parts(conn: Conn) -> list[InboundPart]:
    """Raw parts not yet assembled into a message, in the order they were stored."""
    async with conn.execute(
        "SELECT * FROM inbound_parts WHERE inbound_id IS NULL ORDER BY id"
    ) as cur:
        return [as_inbound_part(row) for row in await cur.fetchall()]


async def erase_numbers(
    conn: Conn,
    *,
    phone_ids: Sequence[int],
    numbers: Sequence[str],
    senders: Sequence[str],
    pending_part_ids: Sequence[int],
    now: str,
) -> ErasedRows:
    """Erase ``numbers`` (E.164) from every column that holds a number.

    ``phone_ids`` are their ``phones`` rows: the row stays (threads and the audit log refer to
    it) with ``e164 = 'erased:<id>'``; its verifications, its SMS of links and the links they
    carried go; its threads stay, unlinked (each with its first link).
    ``senders`` are the ``inbound.sender`` values that are these numbers as received, and
    ``pending_part_ids`` the unassembled raw parts sent from them (their PDUs hold the sender).
    """
    phones, nums, froms = _ids(phone_ids), _ids(numbers), _ids(senders)
    erased_phones = await _count(
        conn,
        f"UPDATE phones SET e164 = 'erased:' || id, erased_at = ? WHERE id {_IN}",
        (now, phones),
    )
    verifications = await _count(conn, f"DELETE FROM verifications WHERE phone_id {_IN}", (phones,))
    # the links sent again by SMS went to the number: they go (each thread's first link stays)
    their_threads = f"SELECT id FROM threads WHERE phone_id {_IN}"
    links = await _count(
        conn, f"DELETE FROM thread_links WHERE thread_id IN ({their_threads})", (phones,)
    )
    links += await _count(conn, f"DELETE FROM link_sms WHERE phone_id {_IN}", (phones,))
    unlinked = await _count(
        conn, f"UPDATE threads SET phone_id = NULL WHERE phone_id {_IN}", (phones,)
    )
    # a 随访 enrolment keeps its facts for the statistics, not the nickname or what was said
    care = await _count(
        conn,
        "UPDATE care_enrolments SET nickname = '', status = CASE WHEN status IN"
        " ('active', 'paused') THEN 'cancelled' ELSE status END, ended_reason = CASE WHEN"
        " status IN ('active', 'paused') THEN 'erased' ELSE ended_reason END, next_at = NULL"
        f" WHERE phone_id {_IN}",
        (phones,),
    )
    await conn.execute(
        "UPDATE care_replies SET text = '' WHERE enrolment_id IN"
        f" (SELECT id FROM care_enrolments WHERE phone_id {_IN})",
        (phones,),
    )
    # the links to its plan's page went to the number: they go, and the page with them
    await conn.execute(
        "DELETE FROM care_links WHERE enrolment_id IN"
        f" (SELECT id FROM care_enrolments WHERE phone_id {_IN})",
        (phones,),
    )
    await outbox_db.cancel_for_recipients(conn, numbers)  # what has not gone will not
    outbox = await _count(
        conn, f"UPDATE outbox SET recipient = ? WHERE recipient {_IN}", (ERASED_SENDER, nums)
    )
    recipient_modem = await _count(
        conn, f"DELETE FROM recipient_modem WHERE recipient {_IN}", (nums,)
    )
    parts = await _count(
        conn,
        "UPDATE inbound_parts SET pdu = '', dedup_key = 'erased:' || id"
        f" WHERE inbound_id IN (SELECT id FROM inbound WHERE sender {_IN})",
        (froms,),
    )
    parts += await _count(
        conn,
        f"DELETE FROM inbound_parts WHERE inbound_id IS NULL AND id {_IN}",
        (_ids(pending_part_ids),),
    )
    inbound = await _count(
        conn, f"UPDATE inbound SET sender = ? WHERE sender {_IN}", (ERASED_SENDER, froms)
    )
    return ErasedRows(
        phones=erased_phones,
        verifications=verifications,
        threads_unlinked=unlinked,
        outbox=outbox,
        recipient_modem=recipient_modem,
        inbound=inbound,
        inbound_parts=parts,
        links=links,
        care=care,
    )


async def delete_unknown_senders(conn: Conn, before: str) -> tuple[int, int]:
    """Delete the SMS from unknown numbers received before ``before``, with their raw parts
    (the PDUs hold the sender): ``(SMS, parts)`` deleted. One posted in a thread stays."""
    old = (
        "SELECT i.id FROM inbound i WHERE i.outcome = 'unknown_sender' AND i.received_at < ?"
        " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.inbound_id = i.id)"
    )
    parts = await _count(conn, f"DELETE FROM inbound_parts WHERE inbound_id IN ({old})", (before,))
    sms = await _count(conn, f"DELETE FROM inbound WHERE id IN ({old})", (before,))
    return sms, parts


@dataclass(frozen=True, slots=True)
class TextCell:
    table: str
    column: str
    id: int
    text: str

    def __repr__(self) -> str:  # the text is patient content
        return f"TextCell({self.table}.{self.column}, id={self.id})"


async def cells_where(
    conn: Conn, columns: Iterable[tuple[str, str]], match: Callable[[str], bool]
) -> list[TextCell]:
    """The cells of ``columns`` whose text ``match`` accepts.

    ``match`` runs inside SQLite (a function of the connection), so only the cells it accepts
    are read out: a scan of every message costs no more rows than it finds.
    """
    allowed = {*TEXT_COLUMNS, *JSON_COLUMNS}

    def accepts(value: object) -> bool:
        return isinstance(value, str) and match(value)

    await conn.create_function("smscat_cell_matches", 1, accepts, deterministic=True)
    cells: list[TextCell] = []
    for table, column in columns:
        if (table, column) not in allowed:
            raise ValueError(f"{table}.{column} is not a free-text column")
        async with conn.execute(
            f"SELECT rowid, {column} FROM {table} WHERE smscat_cell_matches({column})"
        ) as cur:
            rows = await cur.fetchall()
        cells.extend(TextCell(table, column, int(r[0]), str(r[1])) for r in rows)
    return cells


async def replace_text(conn: Conn, cell: TextCell, text: str) -> None:
    if (cell.table, cell.column) not in {*TEXT_COLUMNS, *JSON_COLUMNS}:
        raise ValueError(f"{cell.table}.{cell.column} is not a free-text column")
    await conn.execute(
        f"UPDATE {cell.table} SET {cell.column} = ? WHERE rowid = ?", (text, cell.id)
    )


async def blank_parts(conn: Conn, inbound_ids: Sequence[int]) -> int:
    """Blank the raw parts of these received SMS (their text held an erased number)."""
    return await _count(
        conn,
        "UPDATE inbound_parts SET pdu = '', dedup_key = 'erased:' || id"
        f" WHERE pdu != '' AND inbound_id {_IN}",
        (_ids(inbound_ids),),
    )


# -- threads -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeletedRows:
    """Rows deleted with old private threads."""

    threads: int = 0
    messages: int = 0
    outbox: int = 0
    outbox_parts: int = 0
    inbound: int = 0
    inbound_parts: int = 0
    links: int = 0  # links sent again by SMS


async def stale_private_threads(conn: Conn, before: str) -> list[int]:
    """Private threads whose last message is older than ``before``."""
    async with conn.execute(
        "SELECT id FROM threads WHERE public = 0 AND last_message_at < ? ORDER BY id", (before,)
    ) as cur:
        return [int(row[0]) for row in await cur.fetchall()]


async def delete_threads(conn: Conn, thread_ids: Sequence[int]) -> DeletedRows:
    """Delete threads with their messages, their SMS (and parts), and the SMS received for them.

    A received SMS linked to a deleted thread, or posted as one of its messages, goes with its
    raw parts: its text is the thread's content.
    """
    threads = _ids(thread_ids)
    async with conn.execute(
        f"SELECT id FROM inbound WHERE thread_id {_IN}"
        f" UNION SELECT inbound_id FROM messages WHERE inbound_id IS NOT NULL AND thread_id {_IN}",
        (threads, threads),
    ) as cur:
        inbound = _ids(int(row[0]) for row in await cur.fetchall())
    messages = await _count(conn, f"DELETE FROM messages WHERE thread_id {_IN}", (threads,))
    # A received SMS posted in a thread that stays keeps its row and loses only the link
    # (none is, today: an SMS is posted in the thread it is linked to).
    posted = "SELECT inbound_id FROM messages WHERE inbound_id IS NOT NULL"
    await conn.execute(
        f"UPDATE inbound SET thread_id = NULL WHERE thread_id {_IN} AND id IN ({posted})",
        (threads,),
    )
    unposted = f"id {_IN} AND id NOT IN ({posted})"
    inbound_parts = await _count(
        conn,
        f"DELETE FROM inbound_parts WHERE inbound_id IN (SELECT id FROM inbound WHERE {unposted})",
        (inbound,),
    )
    inbound_rows = await _count(conn, f"DELETE FROM inbound WHERE {unposted}", (inbound,))
    outbox_parts = 0
    for table in ("outbox_parts", "outbox_parts_spent"):
        outbox_parts += await _count(
            conn,
            f"DELETE FROM {table} WHERE outbox_id IN (SELECT id FROM outbox WHERE thread_id {_IN})",
            (threads,),
        )
    outbox = await _count(conn, f"DELETE FROM outbox WHERE thread_id {_IN}", (threads,))
    links = await _count(conn, f"DELETE FROM thread_links WHERE thread_id {_IN}", (threads,))
    deleted = await _count(conn, f"DELETE FROM threads WHERE id {_IN}", (threads,))
    return DeletedRows(deleted, messages, outbox, outbox_parts, inbound_rows, inbound_parts, links)
