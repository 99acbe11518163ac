"""Experts' rows: who they are, paused until when, welcomed, left. No decisions.

Reads return the core's :class:`~smscat.relay.core.types.Expert` (:func:`as_expert`), never a
row: the policy questions are asked of its attributes (:mod:`smscat.relay.core.policy`).

Writes take the connection of the caller's ``async with db.transaction()``, so that a state
change and the SMS it causes commit together; reads that need no transaction take the
:class:`Database`. Nothing here logs.
"""

from __future__ import annotations

import json
from typing import Final

import aiosqlite

from smscat.relay.core.records import member
from smscat.relay.core.types import ROLES, Expert
from smscat.storage.db import Database
from smscat.storage.sql import Conn, fetch_all, fetch_one, moment, moment_or_none

# policy.is_present in SQL, over a row of ``experts`` (unqualified: use it where only one
# table has these columns). Every query that asks who is present uses this.
PRESENT: Final = "(active = 1 AND left_at IS NULL)"


def as_expert(row: aiosqlite.Row) -> Expert:
    """A row of ``experts`` (``SELECT *``, extra columns ignored) as the core's fact."""
    return Expert(
        id=str(row["id"]),
        name=str(row["name"]),
        phone=str(row["phone"]),
        created_at=moment(row["created_at"]),
        role=member(row["role"], ROLES, "expert role"),
        title=str(row["title"]),
        department=str(row["department"]),
        specialty=row["specialty"],
        active=bool(row["active"]),
        left_at=moment_or_none(row["left_at"]),
        assistant_id=row["assistant_id"],
        paused_until=moment_or_none(row["paused_until"]),
        quiet_hours=tuple(str(w) for w in json.loads(row["quiet_hours"] or "[]")),
        daily_cap=None if row["daily_cap"] is None else int(row["daily_cap"]),
        digest=bool(row["digest"]),
        confirm_replies=bool(row["confirm_replies"]),
        welcomed_at=moment_or_none(row["welcomed_at"]),
        config_fields=tuple(str(f) for f in json.loads(row["config_fields"] or "[]")),
        updated_at=moment_or_none(row["updated_at"]),
    )


def _maybe(row: aiosqlite.Row | None) -> Expert | None:
    return None if row is None else as_expert(row)


async def experts(db: Database) -> list[Expert]:
    """Experts patients can ask (assistants work behind them and are not listed)."""
    rows = await db.fetchall(
        f"SELECT * FROM experts WHERE {PRESENT} AND role = 'expert' ORDER BY name"
    )
    return [as_expert(r) for r in rows]


async def expert(conn: Conn, expert_id: str) -> Expert | None:
    return _maybe(await fetch_one(conn, "SELECT * FROM experts WHERE id = ?", (expert_id,)))


async def expert_by_phone(conn: Conn, e164: str) -> Expert | None:
    """The expert or assistant whose number ``e164`` is (present or not)."""
    return _maybe(await fetch_one(conn, "SELECT * FROM experts WHERE phone = ?", (e164,)))


async def set_paused(conn: Conn, expert_id: str, until: str | None) -> None:
    await conn.execute("UPDATE experts SET paused_until = ? WHERE id = ?", (until, expert_id))


async def unwelcomed(conn: Conn) -> list[Expert]:
    """Present experts and assistants not yet welcomed by SMS."""
    rows = await fetch_all(conn, f"SELECT * FROM experts WHERE {PRESENT} AND welcomed_at IS NULL")
    return [as_expert(r) for r in rows]


async def mark_welcomed(conn: Conn, expert_id: str, now: str) -> None:
    await conn.execute("UPDATE experts SET welcomed_at = ? WHERE id = ?", (now, expert_id))


async def mark_left(conn: Conn, expert_id: str, now: str) -> None:
    """The expert leaves: no longer present (both columns, as :data:`PRESENT` reads them)."""
    await conn.execute("UPDATE experts SET left_at = ?, active = 0 WHERE id = ?", (now, expert_id))
