"""What storage tests share: a database file with one expert and one thread on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from smscat.storage.db import Database, ExpertRow

NOW = "2026-11-23T02:00:00.000+00:00"
LATER = "2026-11-23T02:05:00.000+00:00"
EXPERT = ExpertRow("zhang", "张明", "主任医师", "心血管内科", "+8613800138001", None)


@asynccontextmanager
async def with_a_thread(tmp_path: Path) -> AsyncIterator[Database]:
    """A new database with :data:`EXPERT` and thread 1 (queued, private) of theirs."""
    async with Database.open(tmp_path / "smscat.db") as db:
        await db.sync_experts([EXPERT])
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO threads (id, expert_id, code, token_hash, nickname, public, status,"
                " created_at, last_message_at) VALUES (1, 'zhang', 1, 'h', 'n', 0, 'queued', ?, ?)",
                (NOW, NOW),
            )
        yield db
