"""The SQLite database: migrations, WAL, and the config-sync rules for experts."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sqlite3
from pathlib import Path

import pytest

from smscat.storage.db import Database, ExpertRow, migrations
from smscat.storage.errors import MigrationError, NotFound

ZHANG = ExpertRow("zhang", "张明", "主任医师", "心血管内科", "+8613800138001", "冠心病")
LI = ExpertRow("li", "李华", "副主任医师", "心血管内科", "+8613800138002", None)


async def test_new_file_gets_every_migration_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "smscat.db"
    async with Database.open(path) as db:
        assert await db.schema_version() == len(migrations())
        (mode,) = await db.fetchall("PRAGMA journal_mode")
        assert mode[0] == "wal"
        (fk,) = await db.fetchall("PRAGMA foreign_keys")
        assert fk[0] == 1
    assert path.exists()


async def test_reopening_applies_nothing_twice_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "smscat.db"
    async with Database.open(path) as db:
        await db.sync_experts([ZHANG])
    async with Database.open(path) as db:
        assert await db.migrate() == []
        rows = await db.fetchall("SELECT id FROM experts")
    assert [r["id"] for r in rows] == ["zhang"]


async def test_a_database_newer_than_the_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "smscat.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    with pytest.raises(MigrationError, match="newer than this smscat"):
        async with Database.open(path):
            pass


async def test_sync_inserts_then_updates_config_owned_fields(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "db") as db:
        first = await db.sync_experts([ZHANG, LI])
        assert first.inserted == ("zhang", "li")
        assert first.updated == ()
        again = await db.sync_experts([ZHANG, LI])
        assert again.inserted == ()
        assert again.updated == ()
        renamed = dataclasses.replace(ZHANG, name="张明明")
        third = await db.sync_experts([renamed])
        assert third.updated == ("zhang",)
        (row,) = await db.fetchall("SELECT name FROM experts WHERE id = 'zhang'")
        assert row["name"] == "张明明"
        actions = [r["action"] for r in await db.fetchall("SELECT action FROM audit_log")]
        assert actions == ["expert.insert", "expert.insert", "expert.update"]


async def test_admin_edits_are_never_overwritten_by_config(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "db") as db:
        await db.sync_experts([ZHANG])
        await db.admin_edit_expert("zhang", "admin:wang", title="科主任", specialty="心衰")
        changed = ExpertRow("zhang", "张明2", "主任医师X", "心内科", ZHANG.phone, "高血压")
        report = await db.sync_experts([changed])
        assert report.updated == ("zhang",)
        (row,) = await db.fetchall("SELECT * FROM experts WHERE id = 'zhang'")
    assert (row["title"], row["specialty"]) == ("科主任", "心衰")  # the admin's
    assert (row["name"], row["department"]) == ("张明2", "心内科")  # still config's


async def test_an_expert_missing_from_config_is_kept(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "db") as db:
        await db.sync_experts([ZHANG, LI])
        await db.sync_experts([ZHANG])
        rows = await db.fetchall("SELECT id, active FROM experts ORDER BY id")
    assert [(r["id"], r["active"]) for r in rows] == [("li", 1), ("zhang", 1)]


async def test_admin_edit_of_unknown_expert_or_field_fails_clearly(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "db") as db:
        with pytest.raises(NotFound):
            await db.admin_edit_expert("nobody", "admin", name="x")
        with pytest.raises(ValueError, match="not an editable"):
            await db.admin_edit_expert("zhang", "admin", config_fields="[]")


async def test_check_constraints_reject_a_non_e164_phone(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "db") as db:
        bad = ExpertRow("x", "X", "T", "D", "13800138000", None)
        with pytest.raises(sqlite3.IntegrityError):
            await db.sync_experts([bad])
        assert await db.fetchall("SELECT * FROM experts") == []  # rolled back


async def test_concurrent_writers_are_serialised(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "db") as db:

        async def write(i: int) -> None:
            async with db.transaction() as conn:
                await db.audit(conn, "test", "tick", str(i))
                await asyncio.sleep(0)
                await db.audit(conn, "test", "tock", str(i))

        await asyncio.gather(*(write(i) for i in range(20)))
        rows = await db.fetchall("SELECT action, subject FROM audit_log ORDER BY id")
    pairs = [(rows[i]["subject"], rows[i + 1]["subject"]) for i in range(0, len(rows), 2)]
    assert len(rows) == 40
    assert all(a == b for a, b in pairs)  # no transaction interleaved with another


async def test_after_commit_runs_once_after_the_commit_and_never_after_a_rollback(
    tmp_path: Path,
) -> None:
    async with Database.open(tmp_path / "db") as db:
        seen: list[int] = []

        def committed() -> None:  # what is committed is visible to another reader now
            with contextlib.closing(sqlite3.connect(tmp_path / "db")) as other:
                rows = other.execute("SELECT * FROM audit_log WHERE action = 'kept'").fetchall()
            seen.append(len(rows))

        async with db.transaction() as conn:
            await db.audit(conn, "test", "kept")
            db.after_commit(committed)
            db.after_commit(committed)  # registered twice: runs once
            assert seen == []
        assert seen == [1]

        async def rolled_back() -> None:
            async with db.transaction():
                db.after_commit(committed)
                raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            await rolled_back()
        assert seen == [1]
        with pytest.raises(RuntimeError):
            db.after_commit(committed)  # no transaction
