"""The relay's tables: reads and writes, no decisions.

Writes take the connection of the caller's ``async with db.transaction()``, so that a state
change and the SMS it causes commit together. Reads that need no transaction take the
:class:`Database`. Phone numbers go in and out of ``phones``, ``experts``, ``outbox`` and
``inbound`` only; nothing here logs.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from smscat.relay.masking import mask_numbers
from smscat.relay.numbers import is_digit
from smscat.storage.db import Database

Conn = aiosqlite.Connection


async def _one(conn: Conn, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
    async with conn.execute(sql, tuple(params)) as cur:
        return await cur.fetchone()


async def _all(conn: Conn, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
    async with conn.execute(sql, tuple(params)) as cur:
        return list(await cur.fetchall())


async def _insert(conn: Conn, sql: str, params: Sequence[Any]) -> int:
    async with conn.execute(sql, tuple(params)) as cur:
        assert cur.lastrowid is not None
        return cur.lastrowid


# -- experts ------------------------------------------------------------------------------------


async def experts(db: Database) -> list[aiosqlite.Row]:
    """Experts patients can ask (assistants work behind them and are not listed)."""
    return await db.fetchall(
        "SELECT * FROM experts WHERE active = 1 AND role = 'expert' AND left_at IS NULL"
        " ORDER BY name"
    )


async def expert(conn: Conn, expert_id: str) -> aiosqlite.Row | None:
    return await _one(conn, "SELECT * FROM experts WHERE id = ?", (expert_id,))


async def expert_by_phone(conn: Conn, e164: str) -> aiosqlite.Row | None:
    return await _one(conn, "SELECT * FROM experts WHERE phone = ?", (e164,))


async def set_paused(conn: Conn, expert_id: str, until: str | None) -> None:
    await conn.execute("UPDATE experts SET paused_until = ? WHERE id = ?", (until, expert_id))


async def hold_questions(conn: Conn, recipient: str, until: str) -> None:
    """What already waits for ``recipient`` is held until ``until`` too (a pause)."""
    await conn.execute(
        "UPDATE outbox SET next_attempt_at = ? WHERE status = 'queued'"
        " AND kind = 'to_expert' AND recipient = ? AND next_attempt_at < ?",
        (until, recipient, until),
    )


async def release_questions(conn: Conn, recipient: str, release: str, paused_until: str) -> None:
    """Only what a pause held goes at ``release`` (a daily cap's wait stays), as 恢复 does:
    questions, and notices that waited for the pause's end (a weekly digest)."""
    await conn.execute(
        "UPDATE outbox SET next_attempt_at = ? WHERE status = 'queued'"
        " AND kind IN ('to_expert', 'notice') AND recipient = ? AND next_attempt_at > ?"
        " AND next_attempt_at <= ?",
        (release, recipient, release, paused_until),
    )


async def median_first_answer(db: Database, since: str) -> dict[str, float]:
    """Seconds from a thread's creation to its first expert message, median per expert, over
    the threads created since ``since`` (how fast they answer lately; bounded work)."""
    rows = await db.fetchall(
        "SELECT t.expert_id, (julianday(MIN(m.at)) - julianday(t.created_at)) * 86400 AS s"
        # recent threads first, then their messages: the index, or a scan of every message
        " FROM threads t INDEXED BY threads_created"
        " CROSS JOIN messages m ON m.thread_id = t.id AND m.sender = 'expert'"
        " WHERE t.created_at >= ? GROUP BY t.id",
        (since,),
    )
    by_expert: dict[str, list[float]] = {}
    for row in rows:
        by_expert.setdefault(row["expert_id"], []).append(float(row["s"]))
    out = {}
    for expert_id, values in by_expert.items():
        values.sort()
        mid = len(values) // 2
        out[expert_id] = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    return out


# -- patients' phones and verification codes ---------------------------------------------------


# A patient's phone row, and ``staff``: whether the number is an expert's (or an assistant's).
_PHONE = (
    "SELECT p.*, EXISTS (SELECT 1 FROM experts e WHERE e.phone = p.e164) AS staff FROM phones p"
)


async def phone(conn: Conn, e164: str) -> aiosqlite.Row | None:
    return await _one(conn, f"{_PHONE} WHERE p.e164 = ?", (e164,))


async def phone_by_id(conn: Conn, phone_id: int) -> aiosqlite.Row | None:
    return await _one(conn, f"{_PHONE} WHERE p.id = ?", (phone_id,))


async def ensure_phone(conn: Conn, e164: str, now: str) -> int:
    await conn.execute(
        "INSERT INTO phones (e164, created_at) VALUES (?, ?) ON CONFLICT (e164) DO NOTHING",
        (e164, now),
    )
    row = await phone(conn, e164)
    assert row is not None
    return int(row["id"])


async def mark_phone_verified(conn: Conn, phone_id: int, now: str) -> None:
    await conn.execute(
        "UPDATE phones SET verified_at = COALESCE(verified_at, ?) WHERE id = ?", (now, phone_id)
    )


async def stop_phone(conn: Conn, phone_id: int, now: str) -> bool:
    """Record STOP; False when the number had already stopped."""
    async with conn.execute(
        "UPDATE phones SET stopped_at = ? WHERE id = ? AND stopped_at IS NULL", (now, phone_id)
    ) as cur:
        return cur.rowcount == 1


async def start_phone(conn: Conn, phone_id: int) -> bool:
    """Record START (the end of a STOP); False when the number had not stopped."""
    async with conn.execute(
        "UPDATE phones SET stopped_at = NULL WHERE id = ? AND stopped_at IS NOT NULL", (phone_id,)
    ) as cur:
        return cur.rowcount == 1


async def insert_verification(
    conn: Conn, verification_id: str, phone_id: int, code_hash: str, now: str, expires: str
) -> None:
    await conn.execute(
        "INSERT INTO verifications (id, phone_id, code_hash, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (verification_id, phone_id, code_hash, now, expires),
    )


async def verifications_since(conn: Conn, phone_id: int, since: str) -> int:
    row = await _one(
        conn,
        "SELECT COUNT(*) FROM verifications WHERE phone_id = ? AND created_at >= ?",
        (phone_id, since),
    )
    return int(row[0]) if row else 0


async def verifications_total_since(conn: Conn, since: str) -> int:
    row = await _one(conn, "SELECT COUNT(*) FROM verifications WHERE created_at >= ?", (since,))
    return int(row[0]) if row else 0


async def verification(conn: Conn, verification_id: str) -> aiosqlite.Row | None:
    return await _one(
        conn,
        "SELECT v.*, p.e164 FROM verifications v JOIN phones p ON p.id = v.phone_id WHERE v.id = ?",
        (verification_id,),
    )


async def count_attempt(conn: Conn, verification_id: str) -> None:
    await conn.execute(
        "UPDATE verifications SET attempts = attempts + 1 WHERE id = ?", (verification_id,)
    )


async def use_verification(conn: Conn, verification_id: str, now: str) -> None:
    await conn.execute(
        "UPDATE verifications SET verified_at = COALESCE(verified_at, ?), used_at = ? WHERE id = ?",
        (now, now, verification_id),
    )


# -- threads and messages ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewThread:
    expert_id: str
    code: int
    token_hash: str
    nickname: str
    public: bool
    phone_id: int | None
    status: str
    now: str
    handler_id: str | None = None  # who gets the thread's SMS: the expert or their assistant


async def codes_in_use(
    conn: Conn, people: Iterable[str], phone_id: int | None, since: str
) -> set[int]:
    """Codes of threads created since ``since`` that these people (expert, assistant) own or
    hold, or that this patient asked."""
    ids = tuple(people)
    marks = ", ".join("?" * len(ids))
    rows = await _all(
        conn,
        f"SELECT code FROM threads WHERE (expert_id IN ({marks}) OR handler_id IN ({marks})"
        f" OR phone_id = ?) AND (created_at >= ? OR status NOT IN ('closed', 'expired'))",
        (*ids, *ids, phone_id, since),  # an open thread keeps its code however old
    )
    return {int(r["code"]) for r in rows}


async def insert_thread(conn: Conn, t: NewThread) -> int:
    return await _insert(
        conn,
        "INSERT INTO threads (expert_id, code, token_hash, nickname, public, phone_id, status,"
        " created_at, last_message_at, handler_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            t.expert_id,
            t.code,
            t.token_hash,
            t.nickname,
            int(t.public),
            t.phone_id,
            t.status,
            t.now,
            t.now,
            t.handler_id or t.expert_id,
        ),
    )


async def thread(conn: Conn, thread_id: int) -> aiosqlite.Row | None:
    return await _one(conn, "SELECT * FROM threads WHERE id = ?", (thread_id,))


async def set_status(conn: Conn, thread_id: int, status: str, now: str) -> None:
    closed = now if status in ("closed", "expired") else None
    await conn.execute(
        "UPDATE threads SET status = ?, closed_at = COALESCE(?, closed_at) WHERE id = ?",
        (status, closed, thread_id),
    )


# -- the patient's thread: thanks, helpful, more links (migration 005) ---------------------------


async def link_hashes(db: Database, thread_id: int) -> list[str]:
    """The token hashes of the links sent again for this thread (its first is in ``threads``)."""
    rows = await db.fetchall(
        "SELECT token_hash FROM thread_links WHERE thread_id = ? ORDER BY id", (thread_id,)
    )
    return [str(r["token_hash"]) for r in rows]


async def insert_link(conn: Conn, thread_id: int, token_hash: str, now: str) -> None:
    await conn.execute(
        "INSERT INTO thread_links (thread_id, token_hash, created_at) VALUES (?, ?, ?)",
        (thread_id, token_hash, now),
    )


async def has_answer(conn: Conn, thread_id: int) -> bool:
    """Whether the expert (or their assistant) has written in this thread."""
    row = await _one(
        conn,
        "SELECT 1 FROM messages WHERE thread_id = ? AND sender IN ('expert', 'assistant') LIMIT 1",
        (thread_id,),
    )
    return row is not None


async def thank(conn: Conn, thread_id: int, now: str) -> bool:
    """Record the patient's thanks; False when the thread was thanked before (kept as it was)."""
    async with conn.execute(
        "UPDATE threads SET thanked_at = ? WHERE id = ? AND thanked_at IS NULL", (now, thread_id)
    ) as cur:
        return cur.rowcount == 1


async def set_helpful(conn: Conn, thread_id: int, helpful: bool) -> bool:
    """Record whether the answer helped; False when it already said so."""
    async with conn.execute(
        "UPDATE threads SET helpful = ? WHERE id = ? AND helpful IS NOT ?",
        (int(helpful), thread_id, int(helpful)),
    ) as cur:
        return cur.rowcount == 1


async def threads_for_links(
    conn: Conn, phone_id: int, open_statuses: Iterable[str], limit: int
) -> list[aiosqlite.Row]:
    """A phone's threads for an SMS of links: open ones first, then the latest activity."""
    wanted = tuple(open_statuses)
    marks = ", ".join("?" * len(wanted))
    return await _all(
        conn,
        f"SELECT * FROM threads WHERE phone_id = ?"
        f" ORDER BY status IN ({marks}) DESC, last_message_at DESC, id DESC LIMIT ?",
        (phone_id, *wanted, limit),
    )


async def insert_link_sms(conn: Conn, phone_id: int, links: int, now: str) -> None:
    await conn.execute(
        "INSERT INTO link_sms (phone_id, links, created_at) VALUES (?, ?, ?)",
        (phone_id, links, now),
    )


async def link_sms_since(conn: Conn, phone_id: int | None, since: str) -> int:
    """SMS of links sent since ``since`` to one phone (None: to every phone together)."""
    if phone_id is None:
        row = await _one(conn, "SELECT COUNT(*) FROM link_sms WHERE created_at >= ?", (since,))
    else:
        row = await _one(
            conn,
            "SELECT COUNT(*) FROM link_sms WHERE phone_id = ? AND created_at >= ?",
            (phone_id, since),
        )
    return int(row[0]) if row else 0


@dataclass(frozen=True, slots=True)
class NewMessage:
    thread_id: int
    sender: str
    text: str = field(repr=False)
    public_text: str = field(repr=False)  # what a public page may show (and search)
    at: str
    inbound_id: int | None = None


async def insert_message(conn: Conn, m: NewMessage) -> int:
    message_id = await _insert(
        conn,
        "INSERT INTO messages (thread_id, sender, text, public_text, at, inbound_id)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (m.thread_id, m.sender, m.text, m.public_text, m.at, m.inbound_id),
    )
    await conn.execute("UPDATE threads SET last_message_at = ? WHERE id = ?", (m.at, m.thread_id))
    return message_id


async def messages(db: Database, thread_id: int) -> list[aiosqlite.Row]:
    return await db.fetchall(
        "SELECT sender, text, at FROM messages WHERE thread_id = ? ORDER BY id", (thread_id,)
    )


async def latest_to_patient_failed(db: Database, thread_id: int) -> bool:
    """Whether the thread's latest SMS to the patient's phone failed for good."""
    rows = await db.fetchall(
        "SELECT status FROM outbox WHERE thread_id = ? AND kind = 'to_patient'"
        " ORDER BY id DESC LIMIT 1",
        (thread_id,),
    )
    return bool(rows) and rows[0]["status"] == "failed"


async def thread_messages(conn: Conn, thread_id: int) -> list[aiosqlite.Row]:
    """A thread's messages, oldest first (``id``, ``sender``, ``text``), in a transaction."""
    return await _all(
        conn, "SELECT id, sender, text FROM messages WHERE thread_id = ? ORDER BY id", (thread_id,)
    )


async def open_threads_of_expert(
    conn: Conn, expert_id: str, statuses: Iterable[str]
) -> list[aiosqlite.Row]:
    """Threads whose SMS go to this person now (the expert, or the assistant holding them)."""
    wanted = tuple(statuses)
    marks = ", ".join("?" * len(wanted))
    return await _all(
        conn,
        f"SELECT * FROM threads WHERE COALESCE(handler_id, expert_id) = ?"
        f" AND status IN ({marks}) ORDER BY code",
        (expert_id, *wanted),
    )


async def threads_owned_by(
    conn: Conn, expert_id: str, statuses: Iterable[str]
) -> list[aiosqlite.Row]:
    """Open threads that belong to this expert, whoever holds them now."""
    wanted = tuple(statuses)
    marks = ", ".join("?" * len(wanted))
    return await _all(
        conn,
        f"SELECT * FROM threads WHERE expert_id = ? AND status IN ({marks}) ORDER BY id",
        (expert_id, *wanted),
    )


async def set_handler(conn: Conn, thread_id: int, handler_id: str) -> None:
    await conn.execute("UPDATE threads SET handler_id = ? WHERE id = ?", (handler_id, thread_id))


async def move_thread(
    conn: Conn, thread_id: int, expert_id: str, handler_id: str, code: int
) -> None:
    await conn.execute(
        "UPDATE threads SET expert_id = ?, handler_id = ?, code = ? WHERE id = ?",
        (expert_id, handler_id, code, thread_id),
    )


async def question_times(conn: Conn, recipient: str, since: str) -> list[str]:
    """When each recent thread's first SMS to ``recipient`` was set to go (for daily caps)."""
    rows = await _all(
        conn,
        "SELECT MIN(o.next_attempt_at) AS at FROM threads t INDEXED BY threads_created"
        " CROSS JOIN outbox o ON o.thread_id = t.id"  # (as in median_first_answer)
        " WHERE t.created_at >= ? AND o.kind = 'to_expert' AND o.recipient = ?"
        " AND o.status != 'cancelled'"
        " GROUP BY t.id",  # one per new thread: follow-ups do not count toward a cap
        (since, recipient),
    )
    return [str(r["at"]) for r in rows]


async def unwelcomed(conn: Conn) -> list[aiosqlite.Row]:
    return await _all(
        conn, "SELECT * FROM experts WHERE active = 1 AND left_at IS NULL AND welcomed_at IS NULL"
    )


async def mark_welcomed(conn: Conn, expert_id: str, now: str) -> None:
    await conn.execute("UPDATE experts SET welcomed_at = ? WHERE id = ?", (now, expert_id))


async def mark_left(conn: Conn, expert_id: str, now: str) -> None:
    await conn.execute("UPDATE experts SET left_at = ?, active = 0 WHERE id = ?", (now, expert_id))


async def open_threads_of_phone(
    conn: Conn, phone_id: int, statuses: Iterable[str]
) -> list[aiosqlite.Row]:
    wanted = tuple(statuses)
    marks = ", ".join("?" * len(wanted))
    return await _all(
        conn,
        f"SELECT * FROM threads WHERE phone_id = ? AND status IN ({marks}) ORDER BY id",
        (phone_id, *wanted),
    )


async def threads_due_for_close(conn: Conn, before: str, statuses: Iterable[str]) -> list[int]:
    wanted = tuple(statuses)
    marks = ", ".join("?" * len(wanted))
    rows = await _all(
        conn,
        f"SELECT id FROM threads WHERE status IN ({marks}) AND last_message_at < ?",
        (*wanted, before),
    )
    return [int(r["id"]) for r in rows]


@dataclass(frozen=True, slots=True)
class BoardPage:
    threads: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0


COUNT_BOUND = 10_000  # public threads counted for paging, at most


def _shows(public_text: object, q: object) -> bool:
    """Whether ``q`` is in the text as masked now (run by SQLite for the board's search)."""
    return isinstance(public_text, str) and str(q) in mask_numbers(public_text)


async def board(
    db: Database, expert_id: str | None, q: str | None, page: int, per_page: int
) -> BoardPage:
    """Public, visible threads, newest activity first, as the public sees them: ``q`` searches
    the masked text, so a search cannot confirm someone's number.

    ``public_text`` was masked when it was written, by the masking of that day; a query with a
    digit in it (in any script) is also checked against the text masked now, so a number that
    an older, narrower masking let through cannot be confirmed either."""
    where = ["t.public = 1", "t.hidden = 0"]
    params: list[Any] = []
    if expert_id:
        where.append("t.expert_id = ?")
        params.append(expert_id)
    if q:
        shown = ""
        if any(is_digit(ch) for ch in q):
            async with db.reading() as conn:
                await conn.create_function("smscat_shows", 2, _shows, deterministic=True)
            shown = " AND smscat_shows(m.public_text, ?)"
        where.append(
            "EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id"
            f" AND instr(m.public_text, ?) > 0{shown})"
        )
        params.extend([q, q] if shown else [q])
    clause = " AND ".join(where)
    (count,) = await db.fetchall(  # counted up to a bound: the pages after it are not linked
        f"SELECT COUNT(*) FROM (SELECT 1 FROM threads t WHERE {clause} LIMIT ?)",
        (*params, COUNT_BOUND),
    )
    rows = await db.fetchall(
        f"SELECT t.id, t.expert_id, t.nickname, t.status, t.created_at FROM threads t"
        f" WHERE {clause} ORDER BY t.last_message_at DESC, t.id DESC LIMIT ? OFFSET ?",
        (*params, per_page, (page - 1) * per_page),
    )
    ids = [int(row["id"]) for row in rows]
    posts: dict[int, list[dict[str, Any]]] = {thread_id: [] for thread_id in ids}
    if ids:  # every listed thread's messages in one query
        marks = ", ".join("?" * len(ids))
        for post in await db.fetchall(
            "SELECT thread_id, sender, public_text AS text, at FROM messages"
            f" WHERE thread_id IN ({marks}) ORDER BY thread_id, id",
            ids,
        ):
            posts[int(post["thread_id"])].append(
                {"sender": post["sender"], "text": post["text"], "at": post["at"]}
            )
    threads = [{**dict(row), "messages": posts[int(row["id"])]} for row in rows]
    return BoardPage(threads, int(count[0]))


# -- the outbox ----------------------------------------------------------------------------------


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
    return await _insert(
        conn,
        "INSERT INTO outbox (kind, priority, recipient, text, thread_id, ref, status,"
        " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?)",
        (sms.kind, sms.priority, sms.recipient, sms.text, sms.thread_id, ref, now, now),
    )


async def next_ref(conn: Conn, recipient: str) -> int:
    """One more than the last reference used for ``recipient`` (wrapping at 256).

    The recipient's phone joins the parts of a long SMS by the sender's number and this
    reference: two long SMS in flight to one phone with the same one would be merged into one
    garbled message. Counting per recipient keeps 256 messages between two uses of a value;
    random values met in about one of 256 pairs (measured: 1 in a 500-question benchmark).
    """
    row = await _one(
        conn, "SELECT ref FROM outbox WHERE recipient = ? ORDER BY id DESC LIMIT 1", (recipient,)
    )
    return (int(row["ref"]) + 1) % 256 if row is not None else secrets.randbelow(256)


async def same_sms_since(conn: Conn, recipient: str, text: str, since: str) -> bool:
    row = await _one(
        conn,
        "SELECT 1 FROM outbox WHERE recipient = ? AND text = ? AND created_at >= ?"
        " AND status != 'cancelled' LIMIT 1",
        (recipient, text, since),
    )
    return row is not None


async def due(db: Database, now: str, limit: int) -> list[aiosqlite.Row]:
    return await db.fetchall(
        "SELECT * FROM outbox WHERE status = 'queued' AND next_attempt_at <= ?"
        " ORDER BY priority, id LIMIT ?",
        (now, limit),
    )


async def due_of_kinds(db: Database, now: str, kinds: list[str], limit: int) -> list[aiosqlite.Row]:
    """Queued SMS of these kinds that are due, in the order :func:`due` gives them."""
    marks = ", ".join("?" * len(kinds))
    return await db.fetchall(
        f"SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= ?"
        f" AND kind IN ({marks}) ORDER BY priority, id LIMIT ?",
        (now, *kinds, limit),
    )


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


async def next_due_at(db: Database) -> str | None:
    rows = await db.fetchall("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'queued'")
    return rows[0][0] if rows else None


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


async def pin_refused(db: Database, modem_id: str, pin_hash: str) -> bool:
    rows = await db.fetchall(
        "SELECT 1 FROM refused_pins WHERE modem_id = ? AND pin_hash = ?", (modem_id, pin_hash)
    )
    return bool(rows)


async def remember_pin(conn: Conn, modem_id: str, pin_hash: str, refused: bool, now: str) -> None:
    """A refusal replaces the modem's last one; an accepted PIN clears it."""
    if refused:
        await conn.execute(
            "INSERT INTO refused_pins (modem_id, pin_hash, refused_at) VALUES (?, ?, ?)"
            " ON CONFLICT (modem_id) DO UPDATE SET pin_hash = excluded.pin_hash,"
            " refused_at = excluded.refused_at",
            (modem_id, pin_hash, now),
        )
    else:
        await conn.execute("DELETE FROM refused_pins WHERE modem_id = ?", (modem_id,))


async def outbox_status(db: Database, outbox_id: int) -> str | None:
    rows = await db.fetchall("SELECT status FROM outbox WHERE id = ?", (outbox_id,))
    return str(rows[0]["status"]) if rows else None


async def sent_parts(db: Database, outbox_id: int) -> set[int]:
    rows = await db.fetchall("SELECT seq FROM outbox_parts WHERE outbox_id = ?", (outbox_id,))
    return {int(r["seq"]) for r in rows}


async def outbox_row(conn: Conn, outbox_id: int) -> aiosqlite.Row | None:
    return await _one(conn, "SELECT * FROM outbox WHERE id = ?", (outbox_id,))


async def record_part(
    conn: Conn, outbox_id: int, seq: int, total: int, modem_id: str, mr: int, now: str
) -> None:
    await conn.execute(
        "INSERT INTO outbox_parts (outbox_id, seq, total, modem_id, mr, sent_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (outbox_id, seq, total, modem_id, mr, now),
    )


async def mark_sent(conn: Conn, outbox_id: int, modem_id: str, now: str) -> None:
    await conn.execute(
        "UPDATE outbox SET status = 'sent', modem_id = ?, sent_at = ?, error = NULL WHERE id = ?",
        (modem_id, now, outbox_id),
    )


async def reschedule(conn: Conn, outbox_id: int, attempts: int, next_at: str, error: str) -> None:
    await conn.execute(
        "UPDATE outbox SET attempts = ?, next_attempt_at = ?, error = ? WHERE id = ?",
        (attempts, next_at, error, outbox_id),
    )


async def set_outbox_text(conn: Conn, outbox_id: int, text: str) -> None:
    await conn.execute("UPDATE outbox SET text = ? WHERE id = ?", (text, outbox_id))


async def mark_failed(conn: Conn, outbox_id: int, attempts: int, error: str) -> None:
    await conn.execute(
        "UPDATE outbox SET status = 'failed', attempts = ?, error = ? WHERE id = ?",
        (attempts, error, outbox_id),
    )


async def cancel_for_thread(conn: Conn, thread_id: int) -> None:
    """Drop the thread's unsent SMS to the expert side (an answer to the patient still goes)."""
    await conn.execute(
        "UPDATE outbox SET status = 'cancelled' WHERE thread_id = ? AND status = 'queued'"
        " AND kind = 'to_expert'",
        (thread_id,),
    )


async def cancel_for_recipient(conn: Conn, recipient: str, kinds: Iterable[str]) -> None:
    wanted = tuple(kinds)
    marks = ", ".join("?" * len(wanted))
    await conn.execute(
        f"UPDATE outbox SET status = 'cancelled' WHERE recipient = ? AND status = 'queued'"
        f" AND kind IN ({marks})",
        (recipient, *wanted),
    )


async def match_report(
    conn: Conn, modem_id: str, mr: int, recipient: str, since: str
) -> aiosqlite.Row | None:
    """The part a status report is for: the newest one with this TP-MR and recipient."""
    return await _one(
        conn,
        "SELECT p.outbox_id, p.seq, p.total, o.thread_id, o.kind FROM outbox_parts p"
        " JOIN outbox o ON o.id = p.outbox_id"
        " WHERE p.modem_id = ? AND p.mr = ? AND o.recipient = ? AND p.sent_at >= ?"
        " AND p.delivered_at IS NULL ORDER BY p.sent_at DESC LIMIT 1",
        (modem_id, mr, recipient, since),
    )


async def mark_part_delivered(conn: Conn, outbox_id: int, seq: int, status: int, now: str) -> bool:
    """Record the report; True when every part of the SMS has now been delivered."""
    await conn.execute(
        "UPDATE outbox_parts SET delivered_at = ?, report = ? WHERE outbox_id = ? AND seq = ?",
        (now, status, outbox_id, seq),
    )
    row = await _one(
        conn,
        "SELECT COUNT(*) AS n, MAX(total) AS total, SUM(delivered_at IS NOT NULL) AS done"
        " FROM outbox_parts WHERE outbox_id = ?",
        (outbox_id,),
    )
    if row is None or row["done"] != row["total"] or row["n"] != row["total"]:
        return False
    await conn.execute(
        "UPDATE outbox SET status = 'delivered' WHERE id = ? AND status = 'sent'", (outbox_id,)
    )
    return True


# -- inbound -------------------------------------------------------------------------------------


async def store_part(conn: Conn, dedup_key: str, modem_id: str, pdu: str, now: str) -> bool:
    """Keep a raw part; False when the same part was stored before."""
    async with conn.execute(
        "INSERT INTO inbound_parts (dedup_key, modem_id, pdu, received_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (dedup_key) DO NOTHING",
        (dedup_key, modem_id, pdu, now),
    ) as cur:
        return cur.rowcount == 1


async def pending_parts(db: Database) -> list[aiosqlite.Row]:
    return await db.fetchall(
        "SELECT id, modem_id, pdu, received_at FROM inbound_parts WHERE inbound_id IS NULL"
        " ORDER BY id"
    )


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
    inbound_id = await _insert(
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
    marks = ", ".join("?" * len(ids))
    async with conn.execute(
        f"UPDATE inbound_parts SET inbound_id = ? WHERE id IN ({marks}) AND inbound_id IS NULL",
        (inbound_id, *ids),
    ) as cur:
        if cur.rowcount != len(ids):
            # another task assembled these parts first: this message is already posted
            raise AlreadyAssembled


class AlreadyAssembled(Exception):
    """The parts were assembled by someone else meanwhile; roll back this attempt."""


# -- a long SMS that lost a part (migration 008) ---------------------------------------------------


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


async def inbound_row(conn: Conn, inbound_id: int) -> aiosqlite.Row | None:
    return await _one(conn, "SELECT * FROM inbound WHERE id = ?", (inbound_id,))


async def inbound_parts_of(conn: Conn, inbound_id: int) -> list[aiosqlite.Row]:
    """The raw parts a message was assembled from (``id``, ``pdu``, ``received_at``)."""
    return await _all(
        conn,
        "SELECT id, pdu, received_at FROM inbound_parts WHERE inbound_id = ? ORDER BY id",
        (inbound_id,),
    )


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


async def last_outbox_id(conn: Conn) -> int:
    row = await _one(conn, "SELECT COALESCE(MAX(id), 0) FROM outbox")
    return int(row[0]) if row else 0


async def note_forwarded(conn: Conn, inbound_id: int, thread_id: int, after: int) -> None:
    """Remember the SMS that carried this message to the thread's other party: the one queued
    for the thread after outbox id ``after`` (none when nothing was sent on)."""
    await conn.execute(
        "UPDATE inbound SET forwarded_outbox_id = (SELECT MAX(id) FROM outbox WHERE id > ?"
        " AND thread_id = ? AND kind IN ('to_patient', 'to_expert')) WHERE id = ?",
        (after, thread_id, inbound_id),
    )


async def posted_message(conn: Conn, inbound_id: int) -> aiosqlite.Row | None:
    """The thread message this received SMS was posted as (``id``, ``thread_id``, ``sender``)."""
    return await _one(
        conn, "SELECT id, thread_id, sender FROM messages WHERE inbound_id = ?", (inbound_id,)
    )


async def set_message_text(conn: Conn, message_id: int, text: str, public_text: str) -> None:
    await conn.execute(
        "UPDATE messages SET text = ?, public_text = ? WHERE id = ?",
        (text, public_text, message_id),
    )


async def cancel_outbox(conn: Conn, outbox_id: int) -> None:
    """An SMS that has not gone will not (another takes its place)."""
    await conn.execute(
        "UPDATE outbox SET status = 'cancelled' WHERE id = ? AND status = 'queued'", (outbox_id,)
    )


async def parts_sent_of(conn: Conn, outbox_id: int) -> int:
    """Parts of this SMS a modem has accepted so far."""
    row = await _one(conn, "SELECT COUNT(*) FROM outbox_parts WHERE outbox_id = ?", (outbox_id,))
    return int(row[0]) if row else 0


async def unresolved_unmatched(conn: Conn, inbound_id: int) -> aiosqlite.Row | None:
    return await _one(
        conn,
        "SELECT id, sender, text FROM inbound WHERE id = ? AND outcome = 'unmatched'"
        " AND resolved_at IS NULL",
        (inbound_id,),
    )


async def resolve_inbound(
    conn: Conn, inbound_id: int, outcome: str, thread_id: int | None, now: str
) -> None:
    await conn.execute(
        "UPDATE inbound SET outcome = ?, thread_id = ?, resolved_at = ? WHERE id = ?",
        (outcome, thread_id, now, inbound_id),
    )


async def unmatched(db: Database, limit: int) -> list[aiosqlite.Row]:
    """Unresolved unmatched SMS, oldest first (for admins)."""
    return await db.fetchall(
        "SELECT id, modem_id, sender, text, received_at FROM inbound"
        " WHERE outcome = 'unmatched' AND resolved_at IS NULL ORDER BY id LIMIT ?",
        (limit,),
    )


async def counts(db: Database) -> dict[str, dict[str, int]]:
    """Totals for monitoring: parts sent per modem, SMS received per outcome."""
    out: dict[str, dict[str, int]] = {}
    for name, sql in (
        ("parts_by_modem", "SELECT modem_id, COUNT(*) FROM outbox_parts GROUP BY modem_id"),
        ("received_by_outcome", "SELECT outcome, COUNT(*) FROM inbound GROUP BY outcome"),
    ):
        out[name] = {str(r[0]): int(r[1]) for r in await db.fetchall(sql)}
    return out


async def outbox_counts(db: Database) -> dict[str, int]:
    rows = await db.fetchall("SELECT status, COUNT(*) FROM outbox GROUP BY status")
    return {str(r[0]): int(r[1]) for r in rows}


async def set_inbound_outcome(
    conn: Conn, inbound_id: int, outcome: str, thread_id: int | None
) -> None:
    await conn.execute(
        "UPDATE inbound SET outcome = ?, thread_id = ? WHERE id = ?",
        (outcome, thread_id, inbound_id),
    )
