"""What the daemon remembers about a modem across restarts (refused PINs). No decisions.

Writes take the connection of the caller's ``async with db.transaction()``, so that a state
change and the SMS it causes commit together; reads that need no transaction take the
:class:`Database`. Nothing here logs.
"""

from __future__ import annotations

from smscat.storage.db import Database
from smscat.storage.sql import Conn


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
