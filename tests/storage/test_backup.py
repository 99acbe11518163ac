"""Backups: `smscat backup` (one file, or dated copies with retention), a copy before every
schema upgrade, and a database newer than the program refused in one line."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smscat.relay.daemon.cli import main
from smscat.storage.db import Database, backup, backup_into, migrations


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


# --- a copy before every upgrade; dated copies with retention; a newer file refused ---


def _old_database(path: Path, version: int) -> None:
    """A database as an older smscat left it: the first ``version`` migrations and a row."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        for _, _, sql in migrations()[:version]:
            conn.executescript(sql)
        conn.execute(
            "INSERT INTO audit_log (at, actor, action) VALUES ('2026-01-01', 'old', 'kept')"
        )
        conn.execute(f"PRAGMA user_version = {version}")
        conn.commit()


def _version(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


async def test_an_upgrade_copies_the_database_first_named_with_both_versions(
    tmp_path: Path,
) -> None:
    latest = len(migrations())
    path = tmp_path / "smscat.db"
    _old_database(path, 2)
    async with Database.open(path) as db:
        assert await db.schema_version() == latest
    copy = tmp_path / f"smscat.db.schema-002-before-{latest:03d}"
    assert copy.is_file()
    assert _version(copy) == 2  # the file as the old smscat left it: it can open it again
    with contextlib.closing(sqlite3.connect(copy)) as conn:
        assert conn.execute("SELECT actor, action FROM audit_log").fetchall() == [("old", "kept")]
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_fresh_or_current_database_is_not_copied(tmp_path: Path) -> None:
    path = tmp_path / "smscat.db"
    asyncio.run(_create(path))  # a new file: nothing to keep
    asyncio.run(_create(path))  # up to date: nothing changes
    assert sorted(p.name for p in tmp_path.iterdir() if "schema" in p.name) == []


async def test_a_second_attempt_at_one_upgrade_keeps_the_first_copy(tmp_path: Path) -> None:
    latest = len(migrations())
    first, second = tmp_path / "first.db", tmp_path / "smscat.db"
    _old_database(first, 3)
    _old_database(second, 3)
    name = f"smscat.db.schema-003-before-{latest:03d}"
    (tmp_path / name).write_bytes(b"the copy of an earlier attempt")
    async with Database.open(second):
        pass
    assert (tmp_path / name).read_bytes() == b"the copy of an earlier attempt"
    assert _version(tmp_path / f"{name}.1") == 3


def test_smscat_run_refuses_a_database_newer_than_itself_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "modems: [{id: sim1, port: sim}]\nstorage: {path: smscat.db}\nweb: {port: 0}\n",
        encoding="utf-8",
    )
    asyncio.run(_create(tmp_path / "smscat.db"))
    newer = len(migrations()) + 3
    with contextlib.closing(sqlite3.connect(tmp_path / "smscat.db")) as conn:
        conn.execute(f"PRAGMA user_version = {newer}")
    before = sorted(p.name for p in tmp_path.iterdir())

    assert main(["run", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err  # one line, no traceback
    assert f"schema ({newer}) is newer than this smscat's ({len(migrations())})" in err
    assert _version(tmp_path / "smscat.db") == newer  # untouched, and not copied
    assert sorted(p.name for p in tmp_path.iterdir() if "schema" in p.name) == []
    assert set(before) <= {p.name for p in tmp_path.iterdir()}


def test_dated_copies_beyond_keep_are_deleted_oldest_first(tmp_path: Path) -> None:
    asyncio.run(_create(tmp_path / "smscat.db"))
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("the operator's", encoding="utf-8")
    (folder / "other-20260101T000000Z.db").write_bytes(b"another database's copy")
    day = datetime(2026, 3, 1, 3, 30, tzinfo=UTC)
    made = []
    for n in range(5):
        target, deleted = backup_into(
            folder, tmp_path / "smscat.db", keep=3, at=day + timedelta(days=n)
        )
        made.append(target)
        assert deleted == made[: max(0, len(made) - 3)][-1:]  # one at a time, the oldest
    assert target.name == "smscat-20260305T033000Z.db"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["notes.txt", "other-20260101T000000Z.db", *(p.name for p in made[-3:])]
    )
    with pytest.raises(ValueError, match="keep at least one"):
        backup_into(folder, tmp_path / "smscat.db", keep=0, at=day)


def test_smscat_backup_without_to_writes_a_dated_copy_and_keeps_n(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "storage: {path: data/smscat.db}\nbackups: {dir: saved, keep: 2}\n", encoding="utf-8"
    )
    asyncio.run(_create(tmp_path / "data" / "smscat.db"))
    saved = tmp_path / "saved"
    saved.mkdir()
    older = ["smscat-20250101T000000Z.db", "smscat-20250102T000000Z.db"]
    for name in older:
        (saved / name).write_bytes(b"")

    assert main(["backup", "-c", str(config)]) == 0  # backups.keep: 2
    out = capsys.readouterr().out
    kept = sorted(p.name for p in saved.iterdir())
    assert len(kept) == 2
    assert kept[0] == older[1]  # the newer of the two older copies, and today's
    assert _version(saved / kept[1]) == len(migrations())
    assert f"deleted {saved / older[0]}" in out


def test_keep_on_the_command_line_wins_over_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("storage: {path: smscat.db}\nbackups: {keep: 14}\n", encoding="utf-8")
    asyncio.run(_create(tmp_path / "smscat.db"))
    folder = tmp_path / "backups"
    folder.mkdir()
    for name in ("smscat-20250101T000000Z.db", "smscat-20250102T000000Z.db"):
        (folder / name).write_bytes(b"")
    assert main(["backup", "-c", str(config), "--keep", "1"]) == 0
    (left,) = folder.iterdir()
    assert _version(left) == len(migrations())  # the new copy; both older ones deleted


def test_the_default_backup_folder_is_beside_the_database(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("storage: {path: data/smscat.db}\n", encoding="utf-8")
    asyncio.run(_create(tmp_path / "data" / "smscat.db"))
    assert main(["backup", "-c", str(config)]) == 0
    (copy,) = (tmp_path / "data" / "backups").iterdir()
    assert copy.name.startswith("smscat-")
    assert _version(copy) == len(migrations())


def test_keep_must_be_a_count_and_goes_without_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("storage: {path: smscat.db}\n", encoding="utf-8")
    asyncio.run(_create(tmp_path / "smscat.db"))
    assert main(["backup", "-c", str(config), "--keep", "0"]) == 2
    assert main(["backup", "-c", str(config), "--keep", "3", "--to", str(tmp_path / "b")]) == 2
    assert "--keep" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
