"""`smscat backup --to FILE`: a consistent copy of a database that is being written."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from smscat.relay.daemon.cli import main
from smscat.storage.db import Database, backup


async def test_a_backup_taken_during_writes_is_a_consistent_database(tmp_path: Path) -> None:
    source, target = tmp_path / "live.db", tmp_path / "copy.db"
    async with Database.open(source) as db:
        stop = asyncio.Event()

        async def write() -> int:
            n = 0
            while not stop.is_set():
                async with db.transaction() as conn:
                    await db.audit(conn, "test", "tick", str(n))
                n += 1
                await asyncio.sleep(0)
            return n

        writer = asyncio.create_task(write())
        await asyncio.sleep(0.05)
        await asyncio.to_thread(backup, source, target)
        stop.set()
        written = await writer
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (copied,) = copy.execute("SELECT COUNT(*) FROM audit_log").fetchone()
        subjects = [int(r[0]) for r in copy.execute("SELECT subject FROM audit_log ORDER BY id")]
    assert 0 < copied <= written
    assert subjects == list(range(copied))  # a prefix: one snapshot, no torn transaction


def test_the_cli_copies_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("storage: {path: data/smscat.db}\n", encoding="utf-8")
    assert main(["backup", "-c", str(config), "--to", str(tmp_path / "b.db")]) == 1  # no db yet
    asyncio.run(_create(tmp_path / "data" / "smscat.db"))
    assert main(["backup", "-c", str(config), "--to", str(tmp_path / "b.db")]) == 0
    with sqlite3.connect(tmp_path / "b.db") as copy:
        assert copy.execute("PRAGMA user_version").fetchone()[0] >= 2
    assert main(["backup", "-c", str(config), "--to", str(tmp_path / "b.db")]) == 1
    assert "exists" in capsys.readouterr().err


async def _create(path: Path) -> None:
    async with Database.open(path):
        pass
