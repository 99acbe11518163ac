"""Small helpers every storage module uses: one row, all rows, an insert, an IN-list, and a
stored time read back (:func:`moment`; :func:`smscat.storage.db.iso` writes one).

Storage is split by aggregate (:mod:`.experts`, :mod:`.phones`, :mod:`.threads`, :mod:`.outbox`,
:mod:`.inbound`, :mod:`.modems`, plus the admin, alert, monitoring, retention and stats reads);
each takes the connection of its caller's ``async with db.transaction()`` for a write.
"""

from __future__ import annotations

from collections.abc import Sequence, Sized
from datetime import UTC, datetime
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


def moment(value: str) -> datetime:
    """A stored time (UTC ISO-8601 text) as an aware datetime: the one way storage reads one
    back, so that what it returns compares with the clock's ``now``."""
    when = datetime.fromisoformat(value)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def moment_or_none(value: str | None) -> datetime | None:
    """:func:`moment` of a column that may be NULL."""
    return None if value is None else moment(value)
