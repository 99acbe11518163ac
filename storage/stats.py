"""The queries behind the monthly report and the weekly digest: rows in, :mod:`relay.stats` out.

Reads only, and no decisions: which threads count, how a median is taken and what a month is
belong to :mod:`smscat.relay.core.stats`. The SQL narrows the rows to those that can matter for a
period; the pure code counts them exactly. Times are compared as stored (UTC ISO-8601 text with
milliseconds, see :func:`smscat.storage.db.utcnow`), so the bounds are formatted the same way.
Nothing here returns or logs a phone number except :func:`digest_recipients` (the SMS needs it).
"""

from __future__ import annotations

from datetime import UTC, datetime

import aiosqlite

from smscat.relay.core.stats import ANSWER_SENDERS, ThreadFacts
from smscat.storage.db import Database

_ANSWERS = ", ".join(f"'{sender}'" for sender in ANSWER_SENDERS)


def _stored(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


def _parsed(value: str | None) -> datetime | None:
    if value is None:
        return None
    when = datetime.fromisoformat(value)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


async def thread_facts(db: Database, start: datetime, end: datetime) -> list[ThreadFacts]:
    """Every thread created, thanked, or answered by an expert/assistant in ``[start, end)``."""
    rows = await db.fetchall(
        "SELECT t.expert_id, t.created_at, t.thanked_at,"
        f" (SELECT MIN(m.at) FROM messages m WHERE m.thread_id = t.id AND m.sender IN ({_ANSWERS}))"
        " AS first_answer_at"
        " FROM threads t"
        " WHERE (t.created_at >= ? AND t.created_at < ?)"
        " OR (t.thanked_at >= ? AND t.thanked_at < ?)"
        " OR EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id"
        f" AND m.sender IN ({_ANSWERS}) AND m.at >= ? AND m.at < ?)"
        " ORDER BY t.id",
        (_stored(start), _stored(end)) * 3,
    )
    facts = []
    for row in rows:
        created = _parsed(row["created_at"])
        assert created is not None  # NOT NULL in the schema
        facts.append(
            ThreadFacts(
                str(row["expert_id"]),
                created,
                _parsed(row["first_answer_at"]),
                _parsed(row["thanked_at"]),
            )
        )
    return facts


async def experts(db: Database) -> list[aiosqlite.Row]:
    """Every expert and assistant, without phone numbers, by name."""
    return await db.fetchall(
        "SELECT id, name, title, department, role, active, left_at FROM experts ORDER BY name, id"
    )


async def digest_recipients(db: Database, joined_before: datetime) -> list[aiosqlite.Row]:
    """Active experts (not assistants) who have not opted out of the weekly digest and who
    joined before ``joined_before`` (the reported week's end)."""
    return await db.fetchall(
        "SELECT id, name, phone FROM experts WHERE active = 1 AND role = 'expert'"
        " AND left_at IS NULL AND digest = 1 AND created_at < ? ORDER BY id",
        (_stored(joined_before),),
    )


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
