"""Small helpers every storage module uses: one row, all rows, an insert, an IN-list.

Storage is split by aggregate (:mod:`.experts`, :mod:`.phones`, :mod:`.threads`, :mod:`.outbox`,
:mod:`.inbound`, :mod:`.modems`, plus the admin, alert, monitoring, retention and stats reads);
each takes the connection of its caller's ``async with db.transaction()`` for a write.
"""

from __future__ import annotations

from collections.abc import Sequence, Sized
from typing import Any

import aiosqlite

Conn = aiosqlite.Connection


async def fetch_one(conn: Conn, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
    async with conn.execute(sql, tuple(params)) as cur:
        return await cur.fetchone()


async def fetch_all(conn: Conn, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
    async with conn.execute(sql, tuple(params)) as cur:
        return list(await cur.fetchall())


async def insert(conn: Conn, sql: str, params: Sequence[Any]) -> int:
    async with conn.execute(sql, tuple(params)) as cur:
        assert cur.lastrowid is not None
        return cur.lastrowid


def placeholders(values: Sized) -> str:
    """``?, ?, ?`` for an ``IN (…)`` of ``values``: the one way storage builds an IN-list.

    SQLite reads an empty ``IN ()`` as matching nothing, so no values is no special case.
    """
    return ", ".join("?" * len(values))
