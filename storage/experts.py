"""Experts' rows: who they are, paused until when, welcomed, left. No decisions.

Writes take the connection of the caller's ``async with db.transaction()``, so that a state
change and the SMS it causes commit together; reads that need no transaction take the
:class:`Database`. Nothing here logs.
"""

from __future__ import annotations

import aiosqlite

from smscat.storage.db import Database
from smscat.storage.sql import Conn, fetch_all, fetch_one


async def experts(db: Database) -> list[aiosqlite.Row]:
    """Experts patients can ask (assistants work behind them and are not listed)."""
    return await db.fetchall(
        "SELECT * FROM experts WHERE active = 1 AND role = 'expert' AND left_at IS NULL"
        " ORDER BY name"
    )


async def expert(conn: Conn, expert_id: str) -> aiosqlite.Row | None:
    return await fetch_one(conn, "SELECT * FROM experts WHERE id = ?", (expert_id,))


async def expert_by_phone(conn: Conn, e164: str) -> aiosqlite.Row | None:
    return await fetch_one(conn, "SELECT * FROM experts WHERE phone = ?", (e164,))


async def set_paused(conn: Conn, expert_id: str, until: str | None) -> None:
    await conn.execute("UPDATE experts SET paused_until = ? WHERE id = ?", (until, expert_id))


async def unwelcomed(conn: Conn) -> list[aiosqlite.Row]:
    return await fetch_all(
        conn, "SELECT * FROM experts WHERE active = 1 AND left_at IS NULL AND welcomed_at IS NULL"
    )


async def mark_welcomed(conn: Conn, expert_id: str, now: str) -> None:
    await conn.execute("UPDATE experts SET welcomed_at = ? WHERE id = ?", (now, expert_id))


async def mark_left(conn: Conn, expert_id: str, now: str) -> None:
    await conn.execute("UPDATE experts SET left_at = ?, active = 0 WHERE id = ?", (now, expert_id))
