"""Threads and their messages, the public board and the patient's page. No decisions.

A thread is read as the core's :class:`~smscat.relay.core.types.Thread` (:func:`as_thread`);
who holds it and what answers it are :mod:`smscat.relay.core.policy`'s questions, which
:data:`HOLDER` and :data:`ANSWER` say again in SQL.

Writes take the connection of the caller's ``async with db.transaction()``, so that a state
change and the SMS it causes commit together; reads that need no transaction take the
:class:`Database`. Nothing here logs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import aiosqlite

from smscat.relay.core.lifecycle import ENDED
from smscat.relay.core.masking import mask_numbers
from smscat.relay.core.numbers import is_digit
from smscat.relay.core.outbox_states import VOID, OutboxStatus
from smscat.relay.core.policy import ANSWER_SENDERS
from smscat.relay.core.records import MESSAGE_SENDERS, Message, member
from smscat.relay.core.stats import ThreadFacts, median_first_answers
from smscat.relay.core.types import Thread
from smscat.storage import care as care_db
from smscat.storage.db import Database
from smscat.storage.sql import (
    Conn,
    fetch_all,
    fetch_one,
    insert,
    moment,
    moment_or_none,
    placeholders,
)

# policy.holder in SQL, over a row of ``threads``: who holds the thread now. Unqualified: use
# it where only ``threads`` has these columns.
HOLDER: Final = "COALESCE(handler_id, expert_id)"
# policy.is_answer in SQL, over a row of ``messages``; its parameters are ANSWER_PARAMS.
ANSWER_PARAMS: Final = tuple(sorted(ANSWER_SENDERS))
ANSWER: Final = f"sender IN ({placeholders(ANSWER_PARAMS)})"


def as_thread(row: aiosqlite.Row) -> Thread:
    """A row of ``threads`` (``SELECT *``) as the core's fact."""
    helpful = row["helpful"]
    return Thread(
        id=int(row["id"]),
        code=int(row["code"]),
        status=str(row["status"]),
        expert_id=str(row["expert_id"]),
        handler_id=row["handler_id"],
        phone_id=None if row["phone_id"] is None else int(row["phone_id"]),
        nickname=str(row["nickname"]),
        public=bool(row["public"]),
        hidden=bool(row["hidden"]),
        created_at=moment(row["created_at"]),
        last_message_at=moment(row["last_message_at"]),
        closed_at=moment_or_none(row["closed_at"]),
        thanked_at=moment_or_none(row["thanked_at"]),
        helpful=None if helpful is None else bool(helpful),
        token_hash=str(row["token_hash"]),
    )


async def median_first_answer(db: Database, since: str) -> dict[str, float]:
    """Seconds from a thread's creation to its first answer (:data:`ANSWER`), median per
    expert, over the threads created since ``since`` (how fast they answer lately; bounded
    work). The arithmetic is the monthly report's (:func:`.stats.median_first_answers`)."""
    rows = await db.fetchall(
        "SELECT t.expert_id, t.created_at, MIN(m.at) AS first_answer_at"
        # recent threads first, then their messages: the index, or a scan of every message
        " FROM threads t INDEXED BY threads_created"
        f" CROSS JOIN messages m ON m.thread_id = t.id AND m.{ANSWER}"
        " WHERE t.created_at >= ? GROUP BY t.id",
        (*ANSWER_PARAMS, since),
    )
    answered = [
        ThreadFacts(
            str(r["expert_id"]), moment(r["created_at"]), moment(r["first_answer_at"]), None
        )  # (thanks are not read: the board shows none)
        for r in rows
    ]
    return median_first_answers(answered)


@dataclass(frozen=True, slots=True)
class NewThread:
    expert_id: str
    code: int
    token_hash: str = field(repr=False)
    nickname: str = field(repr=False)  # typed by the patient: it may hold a number
    public: bool
    phone_id: int | None
    status: str
    now: str
    handler_id: str | None = None  # who holds it (gets its SMS); None: the owner (HOLDER)


async def codes_in_use(
    conn: Conn, people: Iterable[str], phone_id: int | None, since: str
) -> set[int]:
    """Codes of threads created since ``since`` that these people (expert, assistant) own or
    hold, or that this patient asked, and of the people's follow-up escalations
    (:func:`.care.escalation_codes`): one space, so that a reply's code names one thing."""
    ids = tuple(people)
    marks = placeholders(ids)
    ended = tuple(str(s) for s in ENDED)
    rows = await fetch_all(
        conn,
        f"SELECT code FROM threads WHERE (expert_id IN ({marks}) OR {HOLDER} IN ({marks})"
        f" OR phone_id = ?) AND (created_at >= ? OR status NOT IN ({placeholders(ended)}))",
        (*ids, *ids, phone_id, since, *ended),  # an open thread keeps its code however old
    )
    return {int(r["code"]) for r in rows} | await care_db.escalation_codes(conn, ids, since)


async def insert_thread(conn: Conn, t: NewThread) -> int:
    return await insert(
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
            t.handler_id,
        ),
    )


async def thread(conn: Conn, thread_id: int) -> Thread | None:
    row = await fetch_one(conn, "SELECT * FROM threads WHERE id = ?", (thread_id,))
    return None if row is None else as_thread(row)


async def _threads(conn: Conn, sql: str, params: Iterable[Any]) -> list[Thread]:
    return [as_thread(r) for r in await fetch_all(conn, sql, tuple(params))]


async def _threads_in(
    conn: Conn, condition: str, value: object, statuses: Iterable[str], order: str
) -> list[Thread]:
    """Threads matching ``condition`` (one ``?``, for ``value``) in one of ``statuses``."""
    wanted = tuple(statuses)
    return await _threads(
        conn,
        f"SELECT * FROM threads WHERE {condition} AND status IN ({placeholders(wanted)})"
        f" ORDER BY {order}",
        (value, *wanted),
    )


async def set_status(conn: Conn, thread_id: int, status: str, now: str) -> None:
    closed = now if status in ENDED else None
    await conn.execute(
        "UPDATE threads SET status = ?, closed_at = COALESCE(?, closed_at) WHERE id = ?",
        (status, closed, thread_id),
    )


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
    """Whether the thread has an answer (:data:`ANSWER`: the expert's or their assistant's)."""
    row = await fetch_one(
        conn,
        f"SELECT 1 FROM messages WHERE thread_id = ? AND {ANSWER} LIMIT 1",
        (thread_id, *ANSWER_PARAMS),
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
) -> list[Thread]:
    """A phone's threads for an SMS of links: open ones first, then the latest activity."""
    wanted = tuple(open_statuses)
    marks = placeholders(wanted)
    return await _threads(
        conn,
        f"SELECT * FROM threads WHERE phone_id = ?"
        f" ORDER BY status IN ({marks}) DESC, last_message_at DESC, id DESC LIMIT ?",
        (phone_id, *wanted, limit),
    )


@dataclass(frozen=True, slots=True)
class NewMessage:
    thread_id: int
    sender: str
    text: str = field(repr=False)
    public_text: str = field(repr=False)  # what a public page may show (and search)
    at: str
    inbound_id: int | None = None


async def insert_message(conn: Conn, m: NewMessage) -> int:
    message_id = await insert(
        conn,
        "INSERT INTO messages (thread_id, sender, text, public_text, at, inbound_id)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (m.thread_id, m.sender, m.text, m.public_text, m.at, m.inbound_id),
    )
    await conn.execute("UPDATE threads SET last_message_at = ? WHERE id = ?", (m.at, m.thread_id))
    return message_id


def as_message(row: aiosqlite.Row) -> Message:
    """A row of ``messages`` (``SELECT *``) as the core's record."""
    return Message(
        id=int(row["id"]),
        thread_id=int(row["thread_id"]),
        sender=member(row["sender"], MESSAGE_SENDERS, "message sender"),
        text=str(row["text"]),
        public_text=str(row["public_text"]),
        at=moment(row["at"]),
        inbound_id=None if row["inbound_id"] is None else int(row["inbound_id"]),
    )


async def messages(db: Database, thread_id: int) -> list[Message]:
    """A thread's messages, oldest first."""
    rows = await db.fetchall("SELECT * FROM messages WHERE thread_id = ? ORDER BY id", (thread_id,))
    return [as_message(r) for r in rows]


async def latest_to_patient_failed(db: Database, thread_id: int) -> bool:
    """Whether the thread's latest SMS to the patient's phone failed for good."""
    rows = await db.fetchall(
        "SELECT status FROM outbox WHERE thread_id = ? AND kind = 'to_patient'"
        " ORDER BY id DESC LIMIT 1",
        (thread_id,),
    )
    return bool(rows) and rows[0]["status"] == OutboxStatus.FAILED


async def thread_messages(conn: Conn, thread_id: int) -> list[Message]:
    """A thread's messages, oldest first, in the caller's transaction."""
    rows = await fetch_all(
        conn, "SELECT * FROM messages WHERE thread_id = ? ORDER BY id", (thread_id,)
    )
    return [as_message(r) for r in rows]


async def since_last_answer(conn: Conn, thread_id: int) -> list[str]:
    """What the patient wrote after the thread's latest answer (:data:`ANSWER`; before the
    first answer, the question and every follow-up), oldest first."""
    rows = await fetch_all(
        conn,
        "SELECT text FROM messages WHERE thread_id = ? AND sender = 'patient' AND id > ("
        f"SELECT COALESCE(MAX(id), 0) FROM messages WHERE thread_id = ? AND {ANSWER})"
        " ORDER BY id",
        (thread_id, thread_id, *ANSWER_PARAMS),
    )
    return [str(r["text"]) for r in rows]


async def question(conn: Conn, thread_id: int) -> str:
    """The thread's question: its first patient message ("" for none)."""
    row = await fetch_one(
        conn,
        "SELECT text FROM messages WHERE thread_id = ? AND sender = 'patient' ORDER BY id LIMIT 1",
        (thread_id,),
    )
    return "" if row is None else str(row["text"])


async def open_threads_of_expert(
    conn: Conn, expert_id: str, statuses: Iterable[str]
) -> list[Thread]:
    """Threads whose SMS go to this person now (the expert, or the assistant holding them)."""
    return await _threads_in(conn, f"{HOLDER} = ?", expert_id, statuses, "code")


async def threads_owned_by(conn: Conn, expert_id: str, statuses: Iterable[str]) -> list[Thread]:
    """Open threads that belong to this expert, whoever holds them now."""
    return await _threads_in(conn, "expert_id = ?", expert_id, statuses, "id")


async def set_handler(conn: Conn, thread_id: int, handler_id: str) -> None:
    await conn.execute("UPDATE threads SET handler_id = ? WHERE id = ?", (handler_id, thread_id))


async def move_thread(
    conn: Conn, thread_id: int, expert_id: str, handler_id: str, code: int
) -> None:
    await conn.execute(
        "UPDATE threads SET expert_id = ?, handler_id = ?, code = ? WHERE id = ?",
        (expert_id, handler_id, code, thread_id),
    )


async def question_times(conn: Conn, recipient: str, since: str) -> list[datetime]:
    """When each recent thread's first SMS to ``recipient`` was set to go (for daily caps)."""
    rows = await fetch_all(
        conn,
        "SELECT MIN(o.next_attempt_at) AS at FROM threads t INDEXED BY threads_created"
        " CROSS JOIN outbox o ON o.thread_id = t.id"  # (as in median_first_answer)
        " WHERE t.created_at >= ? AND o.kind = 'to_expert' AND o.recipient = ?"
        f" AND o.status NOT IN ({placeholders(VOID)})"
        " GROUP BY t.id",  # one per new thread: follow-ups do not count toward a cap
        (since, recipient, *VOID),
    )
    return [moment(r["at"]) for r in rows]


async def open_threads_of_phone(conn: Conn, phone_id: int, statuses: Iterable[str]) -> list[Thread]:
    return await _threads_in(conn, "phone_id = ?", phone_id, statuses, "id")


async def threads_due_for_close(conn: Conn, before: str, statuses: Iterable[str]) -> list[int]:
    wanted = tuple(statuses)
    marks = placeholders(wanted)
    rows = await fetch_all(
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
    async with db.reading():  # one wait for the lock, and one view: count, page, messages
        return await _board_page(db, clause, params, page, per_page)


async def _board_page(
    db: Database, clause: str, params: list[Any], page: int, per_page: int
) -> BoardPage:
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
        marks = placeholders(ids)
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


async def posted_message(conn: Conn, inbound_id: int) -> Message | None:
    """The thread message this received SMS was posted as."""
    row = await fetch_one(conn, "SELECT * FROM messages WHERE inbound_id = ?", (inbound_id,))
    return None if row is None else as_message(row)


async def set_message_text(conn: Conn, message_id: int, text: str, public_text: str) -> None:
    await conn.execute(
        "UPDATE messages SET text = ?, public_text = ? WHERE id = ?",
        (text, public_text, message_id),
    )
