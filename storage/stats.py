"""The queries behind the monthly report and the weekly digest: rows in, :mod:`relay.stats` out.

Reads only, and no decisions: which threads count, how a median is taken and what a month is
belong to :mod:`smscat.relay.core.stats`. The SQL narrows the rows to those that can matter for a
period; the pure code counts them exactly. Times are compared as stored (UTC ISO-8601 text with
milliseconds, see :func:`smscat.storage.db.iso`), so the bounds are formatted the same way.
Nothing here returns or logs a phone number except :func:`digest_recipients` (the SMS needs it).
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from smscat.relay.core.stats import ThreadFacts
from smscat.relay.core.types import Expert
from smscat.storage.db import Database, iso
from smscat.storage.experts import PRESENT, as_expert
from smscat.storage.sql import moment, moment_or_none
from smscat.storage.threads import ANSWER, ANSWER_PARAMS


async def thread_facts(db: Database, start: datetime, end: datetime) -> list[ThreadFacts]:
    """Every thread created, thanked, or answered (:data:`.threads.ANSWER`) in ``[start, end)``."""
    bounds = (iso(start), iso(end))
    rows = await db.fetchall(
        "SELECT t.expert_id, t.created_at, t.thanked_at,"
        f" (SELECT MIN(m.at) FROM messages m WHERE m.thread_id = t.id AND m.{ANSWER})"
        " AS first_answer_at"
        " FROM threads t"
        " WHERE (t.created_at >= ? AND t.created_at < ?)"
        " OR (t.thanked_at >= ? AND t.thanked_at < ?)"
        " OR EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id"
        f" AND m.{ANSWER} AND m.at >= ? AND m.at < ?)"
        " ORDER BY t.id",
        (*ANSWER_PARAMS, *bounds, *bounds, *ANSWER_PARAMS, *bounds),
    )
    facts = []
    for row in rows:
        facts.append(
            ThreadFacts(
                str(row["expert_id"]),
                moment(row["created_at"]),
                moment_or_none(row["first_answer_at"]),
                moment_or_none(row["thanked_at"]),
            )
        )
    return facts


async def experts(db: Database) -> list[aiosqlite.Row]:
    """Every expert and assistant, without phone numbers, by name; ``present`` is
    :data:`.experts.PRESENT` (0 or 1)."""
    return await db.fetchall(
        f"SELECT id, name, title, department, role, {PRESENT} AS present FROM experts"
        " ORDER BY name, id"
    )


async def digest_recipients(conn: aiosqlite.Connection, joined_before: datetime) -> list[Expert]:
    """Present experts (not assistants) who have not opted out of the weekly digest and who
    joined before ``joined_before`` (the reported week's end), as they are now."""
    async with conn.execute(
        f"SELECT * FROM experts WHERE {PRESENT} AND role = 'expert'"
        " AND digest = 1 AND created_at < ? ORDER BY id",
        (iso(joined_before),),
    ) as cur:
        rows = await cur.fetchall()
    return [as_expert(r) for r in rows]


async def audited_for_week(
    conn: aiosqlite.Connection, action: str, subject: str, week: str
) -> bool:
    """Whether the audit log has ``action`` on ``subject`` with ``{"week": week}`` in its detail."""
    async with conn.execute(
        "SELECT 1 FROM audit_log WHERE action = ? AND subject = ?"
        " AND json_extract(detail, '$.week') = ? LIMIT 1",
        (action, subject, week),
    ) as cur:
        return await cur.fetchone() is not None
