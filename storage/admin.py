"""The queries behind the admin's management pages: experts, moderation, the audit log.

Reads and writes, no decisions (which edits are allowed, what a pause holds, which dates a
filter means belong to :mod:`smscat.relay.services.management`). Writes take the connection of the
caller's ``async with db.transaction()``; reads that need no transaction take the
:class:`Database`. Times are compared as stored (UTC ISO-8601 text with milliseconds).

It must never: log anything, or put a phone number into an audit entry. Only
:func:`experts_overview` returns numbers (the caller shows their last four digits at most).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from smscat.relay.core.outbox_states import OutboxStatus
from smscat.relay.core.types import Expert, Thread
from smscat.storage.db import EXPERT_CONFIG_FIELDS, Database, ExpertRow
from smscat.storage.experts import PRESENT, as_expert
from smscat.storage.sql import placeholders
from smscat.storage.threads import HOLDER, as_thread

Conn = aiosqlite.Connection


# -- experts ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExpertOverview:
    """An expert or assistant as the admin's list shows them: with their assistant's name and
    the count of open threads they own or hold."""

    expert: Expert
    assistant_name: str | None
    open_threads: int


async def experts_overview(db: Database, open_statuses: Iterable[str]) -> list[ExpertOverview]:
    """Every expert and assistant (absent ones too), with the count of open threads each owns
    or holds (:data:`.threads.HOLDER`), and the name of their assistant; present ones first
    (:data:`.experts.PRESENT`), then by role and name."""
    wanted = tuple(open_statuses)
    marks = placeholders(wanted)
    rows = await db.fetchall(
        "SELECT e.*, a.name AS assistant_name,"
        f" (SELECT COUNT(*) FROM threads t WHERE (t.expert_id = e.id OR {HOLDER} = e.id)"
        f" AND t.status IN ({marks})) AS open_threads"
        f" FROM (SELECT *, {PRESENT} AS present FROM experts) e"
        " LEFT JOIN experts a ON a.id = e.assistant_id"
        " ORDER BY e.present DESC, e.role, e.name, e.id",
        wanted,
    )
    return [ExpertOverview(as_expert(r), r["assistant_name"], int(r["open_threads"])) for r in rows]


async def insert_expert(conn: Conn, expert: ExpertRow, now: str) -> None:
    """A new expert owned by nobody's config: an admin added it (``config_fields`` empty)."""
    columns = ", ".join(EXPERT_CONFIG_FIELDS)
    marks = placeholders(EXPERT_CONFIG_FIELDS)
    await conn.execute(
        f"INSERT INTO experts (id, {columns}, config_fields, created_at, updated_at)"
        f" VALUES (?, {marks}, '[]', ?, ?)",
        (expert.id, *(getattr(expert, f) for f in EXPERT_CONFIG_FIELDS), now, now),
    )


async def experts_naming_assistant(conn: Conn, assistant_id: str) -> list[str]:
    """Ids of the present experts (:data:`.experts.PRESENT`) who name ``assistant_id`` as
    assistant."""
    async with conn.execute(
        f"SELECT id FROM experts WHERE assistant_id = ? AND {PRESENT} ORDER BY id",
        (assistant_id,),
    ) as cur:
        return [str(r["id"]) for r in await cur.fetchall()]


async def threads_held(conn: Conn, person_id: str, statuses: Iterable[str]) -> int:
    """Open threads ``person_id`` holds (:data:`.threads.HOLDER`) although another expert
    owns them."""
    wanted = tuple(statuses)
    marks = placeholders(wanted)
    async with conn.execute(
        f"SELECT COUNT(*) FROM threads WHERE {HOLDER} = ? AND expert_id != ?"
        f" AND status IN ({marks})",
        (person_id, person_id, *wanted),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def redirect_queued(conn: Conn, old: str, new: str, kinds: Iterable[str]) -> int:
    """Unsent SMS of ``kinds`` to an expert's old number go to the new one; how many."""
    wanted = tuple(kinds)
    marks = placeholders(wanted)
    async with conn.execute(
        f"UPDATE outbox SET recipient = ? WHERE recipient = ? AND status = ? AND kind IN ({marks})",
        (new, old, OutboxStatus.QUEUED.value, *wanted),
    ) as cur:
        return cur.rowcount


# -- moderation ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ThreadFilter:
    expert_id: str | None = None
    status: str | None = None
    thread_id: int | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """One page of rows and how many match in all."""

    rows: list[aiosqlite.Row] = field(default_factory=list)
    total: int = 0


@dataclass(frozen=True, slots=True)
class ModeratedThread:
    """A thread as the admin's list shows it: with its expert's name and its question as
    public pages show it (numbers masked when it was written; None: no message)."""

    thread: Thread
    expert_name: str
    question: str | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class ThreadsFound:
    """One page of threads and how many match in all."""

    threads: list[ModeratedThread]
    total: int


async def threads_page(db: Database, wanted: ThreadFilter, limit: int, offset: int) -> ThreadsFound:
    """Threads, newest first, with their expert's name and their question's masked text."""
    where: list[str] = []
    params: list[Any] = []
    if wanted.expert_id:
        where.append("t.expert_id = ?")
        params.append(wanted.expert_id)
    if wanted.status:
        where.append("t.status = ?")
        params.append(wanted.status)
    if wanted.thread_id is not None:
        where.append("t.id = ?")
        params.append(wanted.thread_id)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    (count,) = await db.fetchall(f"SELECT COUNT(*) FROM threads t {clause}", params)
    rows = await db.fetchall(
        "SELECT t.*, e.name AS expert_name,"
        " (SELECT m.public_text FROM messages m WHERE m.thread_id = t.id ORDER BY m.id LIMIT 1)"
        " AS question"
        f" FROM threads t JOIN experts e ON e.id = t.expert_id {clause}"
        " ORDER BY t.id DESC LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    threads = [ModeratedThread(as_thread(r), str(r["expert_name"]), r["question"]) for r in rows]
    return ThreadsFound(threads, int(count[0]))


async def set_hidden(conn: Conn, thread_id: int, hidden: bool) -> None:
    await conn.execute("UPDATE threads SET hidden = ? WHERE id = ?", (int(hidden), thread_id))


# -- the audit log -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditFilter:
    action: str | None = None
    actor: str | None = None
    subject: str | None = None
    since: str | None = None  # stored form, inclusive
    until: str | None = None  # stored form, exclusive


async def audit_page(db: Database, wanted: AuditFilter, limit: int, offset: int) -> Found:
    """Audit entries, newest first."""
    where: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("action", wanted.action),
        ("actor", wanted.actor),
        ("subject", wanted.subject),
    ):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if wanted.since:
        where.append("at >= ?")
        params.append(wanted.since)
    if wanted.until:
        where.append("at < ?")
        params.append(wanted.until)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    (count,) = await db.fetchall(f"SELECT COUNT(*) FROM audit_log {clause}", params)
    rows = await db.fetchall(
        f"SELECT id, at, actor, action, subject, detail FROM audit_log {clause}"
        " ORDER BY at DESC, id DESC LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    return Found(rows, int(count[0]))


async def audit_actions(db: Database) -> list[str]:
    """Every action the log holds, for the filter's choices."""
    rows = await db.fetchall("SELECT DISTINCT action FROM audit_log ORDER BY action")
    return [str(r[0]) for r in rows]
