"""API tokens for machine clients (the hospital's systems): stored by the hash of their secret.

Reads and writes, no decisions (which names and scopes are allowed, when a use is worth
writing down: :mod:`smscat.relay.services.api_tokens`). Writes take the connection of the
caller's ``async with db.transaction()``; reads take the :class:`Database` or that connection.

It must never: see a token's secret (only its hash comes in), or return the hash in a record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from smscat.storage.db import Database, iso
from smscat.storage.sql import fetch_one, insert, moment, moment_or_none

Conn = aiosqlite.Connection


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token as admins see it: its name, what it may do, and when it was made, used, revoked.
    (Its hash stays in the database: what identifies a token to a program is its name.)"""

    id: int
    name: str
    scopes: frozenset[str]
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def _as_token(row: aiosqlite.Row) -> ApiToken:
    scopes = json.loads(row["scopes"])
    return ApiToken(
        id=int(row["id"]),
        name=str(row["name"]),
        scopes=frozenset(str(s) for s in scopes),
        created_at=moment(row["created_at"]),
        created_by=str(row["created_by"]),
        last_used_at=moment_or_none(row["last_used_at"]),
        revoked_at=moment_or_none(row["revoked_at"]),
        revoked_by=row["revoked_by"],
    )


_COLUMNS = "id, name, scopes, created_at, created_by, last_used_at, revoked_at, revoked_by"


async def insert_token(
    conn: Conn, name: str, token_hash: str, scopes: list[str], by: str, now: datetime
) -> int:
    """A new token (the caller checked the name is free); its id."""
    return await insert(
        conn,
        "INSERT INTO api_tokens (name, token_hash, scopes, created_at, created_by)"
        " VALUES (?, ?, ?, ?, ?)",
        (name, token_hash, json.dumps(sorted(scopes)), iso(now), by),
    )


async def by_name(conn: Conn, name: str) -> ApiToken | None:
    row = await fetch_one(conn, f"SELECT {_COLUMNS} FROM api_tokens WHERE name = ?", (name,))
    return None if row is None else _as_token(row)


async def by_hash(db: Database, token_hash: str) -> ApiToken | None:
    """The token whose secret hashes to ``token_hash``, revoked or not; None: no such token."""
    async with db.reading() as conn:
        row = await fetch_one(
            conn, f"SELECT {_COLUMNS} FROM api_tokens WHERE token_hash = ?", (token_hash,)
        )
    return None if row is None else _as_token(row)


async def all_tokens(db: Database) -> list[ApiToken]:
    """Every token, live ones first, then by name."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM api_tokens ORDER BY revoked_at IS NOT NULL, name"
    )
    return [_as_token(r) for r in rows]


async def revoke(conn: Conn, token_id: int, by: str, now: datetime) -> bool:
    """Revoke a live token; False when it was revoked already."""
    async with conn.execute(
        "UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL",
        (iso(now), by, token_id),
    ) as cur:
        return cur.rowcount == 1


async def touch(conn: Conn, token_id: int, now: datetime, unless_after: datetime) -> None:
    """Note a use now, unless one was noted after ``unless_after`` (a concurrent request wrote
    it already)."""
    await conn.execute(
        "UPDATE api_tokens SET last_used_at = ?"
        " WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)",
        (iso(now), token_id, iso(unless_after)),
    )
