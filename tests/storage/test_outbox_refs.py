"""Concatenation references: counted per recipient, so two long SMS to one phone never share one."""

from __future__ import annotations

from pathlib import Path

from smscat.storage import outbox as outbox_db
from smscat.storage.db import Database

NOW = "2026-11-23T02:00:00.000+00:00"


async def _refs(db: Database, recipient: str) -> list[int]:
    rows = await db.fetchall("SELECT ref FROM outbox WHERE recipient = ? ORDER BY id", (recipient,))
    return [int(r["ref"]) for r in rows]


async def test_each_recipient_counts_its_own_references_and_wraps(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "smscat.db") as db:
        async with db.transaction() as conn:
            await outbox_db.enqueue(
                conn, outbox_db.NewSms("notice", 3, "+8613800138001", "a", None, 254), NOW
            )
            for text in "bcd":
                await outbox_db.enqueue(
                    conn, outbox_db.NewSms("notice", 3, "+8613800138001", text, None), NOW
                )
                await outbox_db.enqueue(
                    conn, outbox_db.NewSms("notice", 3, "+8613800138002", text, None), NOW
                )
        assert await _refs(db, "+8613800138001") == [254, 255, 0, 1]
        first, *rest = await _refs(db, "+8613800138002")
        assert rest == [(first + 1) % 256, (first + 2) % 256]  # its own count, from anywhere
