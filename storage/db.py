"""The SQLite database: one writer connection, numbered migrations, serialised transactions.

Storage persists and answers queries; it makes no business decisions. Every write runs inside
``async with db.transaction()`` (``BEGIN IMMEDIATE``), one at a time, on the single connection,
so concurrent writers queue in Python instead of failing with SQLITE_BUSY.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Self

import aiosqlite

from smscat.storage.errors import MigrationError, NotFound
from smscat.storage.sql import placeholders

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
EXPERT_CONFIG_FIELDS = (
    "name",
    "title",
    "department",
    "phone",
    "specialty",
    "role",
    "assistant_id",
    "quiet_hours",
    "daily_cap",
    "confirm_replies",
    "digest",
)


def iso(when: datetime) -> str:
    """A moment as stored: UTC, milliseconds (so stored times compare as strings)."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


def utcnow() -> str:
    return iso(datetime.now(UTC))


def migrations() -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` for every bundled migration, in order."""
    found = []
    for entry in resources.files("smscat.storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError(f"migrations are not numbered 001, 002, … without gaps: {versions}")
    return found


@dataclass(frozen=True, slots=True)
class ExpertRow:
    """An expert's data as config.yaml states it (phone in E.164)."""

    id: str
    name: str
    title: str
    department: str
    phone: str
    specialty: str | None
    role: str = "expert"
    assistant_id: str | None = None
    quiet_hours: str = "[]"  # JSON list of "HH:MM-HH:MM"
    daily_cap: int | None = None
    confirm_replies: int = 0
    digest: int = 1

    def __repr__(self) -> str:
        return f"ExpertRow(id={self.id!r}, name={self.name!r})"


@dataclass(frozen=True, slots=True)
class SyncReport:
    inserted: tuple[str, ...]
    updated: tuple[str, ...]


class Database:
    """The open database. Use ``async with Database.open(path) as db``."""

    def __init__(self, conn: aiosqlite.Connection, path: Path | None = None) -> None:
        self._conn = conn
        self._path = path  # the file: copied before a migration changes it
        self._write_lock = asyncio.Lock()
        self._writer: asyncio.Task[Any] | None = None  # the task holding the connection
        self._on_commit: list[Callable[[], object]] | None = None  # the open transaction's

    @classmethod
    @asynccontextmanager
    async def open(cls, path: Path) -> AsyncIterator[Self]:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            # deleted or overwritten content (an erased phone number) is zeroed in the file
            await conn.execute("PRAGMA secure_delete=ON")
            # FULL: a commit is on disk before the SIM copy is deleted or the browser is told
            await conn.execute("PRAGMA synchronous=FULL")
            await conn.execute("PRAGMA busy_timeout=5000")
            db = cls(conn, path)
            await db.migrate()
            yield db
        finally:
            await conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A serialised ``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on any exception).

        What :meth:`after_commit` registered inside it runs once the COMMIT is done, and is
        dropped on a rollback.
        """
        async with self._write_lock:
            self._writer = asyncio.current_task()
            callbacks: list[Callable[[], object]] = []
            self._on_commit = callbacks
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    await self._conn.execute("ROLLBACK")
                    raise
                await self._conn.execute("COMMIT")
            finally:
                self._writer = None
                self._on_commit = None
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` once the calling task's transaction has committed (not at all if
        it rolls back); registered twice, it runs once. Outside a transaction: RuntimeError."""
        if self._on_commit is None or self._writer is not asyncio.current_task():
            raise RuntimeError("after_commit outside a transaction")
        if callback not in self._on_commit:
            self._on_commit.append(callback)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[aiosqlite.Connection]:
        """The connection, for reads that need no transaction (never write through it).

        Reads share the one connection, so they wait for another task's open transaction to
        end: nothing reads a row that may still be rolled back. Inside its own transaction a
        task reads at once (and sees its own writes).
        """
        task = asyncio.current_task()
        if self._writer is not None and self._writer is task:
            yield self._conn
            return
        async with self._write_lock:
            self._writer = task  # (a nested read in this task goes straight through)
            try:
                yield self._conn
            finally:
                self._writer = None

    async def schema_version(self) -> int:
        async with self._conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self) -> list[str]:
        """Apply every migration newer than the file's ``user_version``; each in one transaction.

        A database that already holds a schema is copied first (:func:`pre_migration_copy`):
        an upgrade that goes wrong, or a downgrade of the program, can go back to that file.
        """
        available = migrations()
        current = await self.schema_version()
        if current > len(available):
            raise MigrationError(
                f"the database's schema ({current}) is newer than this smscat's"
                f" ({len(available)}): run the smscat that wrote it, or restore a backup"
            )
        if 0 < current < len(available) and self._path is not None:
            target = pre_migration_copy(self._path, current, len(available))
            await asyncio.to_thread(backup, self._path, target)
        applied = []
        for version, name, sql in available[current:]:
            async with self.transaction() as conn:
                try:
                    for statement in _statements(sql):
                        await conn.execute(statement)
                except aiosqlite.Error as exc:
                    raise MigrationError(f"{name}: {exc}") from exc
                await conn.execute(f"PRAGMA user_version = {version}")
            applied.append(name)
        return applied

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        async with self.reading() as conn, conn.execute(sql, tuple(params)) as cur:
            return list(await cur.fetchall())

    async def audit(
        self,
        conn: aiosqlite.Connection,
        actor: str,
        action: str,
        subject: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append to the audit log inside the caller's transaction."""
        await conn.execute(
            "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            (utcnow(), actor, action, subject, json.dumps(detail) if detail else None),
        )

    async def sync_experts(
        self, experts: Iterable[ExpertRow], *, at: datetime | None = None
    ) -> SyncReport:
        """Insert experts missing from the database; refresh the fields config still owns.

        A field an admin edited in the database is no longer config-owned and is never
        overwritten; an expert absent from config is left as it is (never deleted). ``at`` (the
        daemon's clock; default now) stamps the rows: an inserted expert joined then.
        """
        inserted: list[str] = []
        updated: list[str] = []
        async with self.transaction() as conn:
            # assistants first: an expert's row refers to its assistant's
            for expert in sorted(experts, key=lambda e: e.role != "assistant"):
                async with conn.execute("SELECT * FROM experts WHERE id = ?", (expert.id,)) as cur:
                    row = await cur.fetchone()
                now = utcnow() if at is None else iso(at)
                if row is None:
                    columns = ", ".join(EXPERT_CONFIG_FIELDS)
                    marks = placeholders(EXPERT_CONFIG_FIELDS)
                    await conn.execute(
                        f"INSERT INTO experts (id, {columns}, config_fields, created_at,"
                        f" updated_at) VALUES (?, {marks}, ?, ?, ?)",
                        (
                            expert.id,
                            *(getattr(expert, f) for f in EXPERT_CONFIG_FIELDS),
                            json.dumps(list(EXPERT_CONFIG_FIELDS)),
                            now,
                            now,
                        ),
                    )
                    await self.audit(conn, "config", "expert.insert", expert.id)
                    inserted.append(expert.id)
                    continue
                owned = set(json.loads(row["config_fields"]))
                changes = {
                    field: getattr(expert, field)
                    for field in EXPERT_CONFIG_FIELDS
                    if field in owned and row[field] != getattr(expert, field)
                }
                if not changes:
                    continue
                assignments = ", ".join(f"{field} = ?" for field in changes)
                await conn.execute(
                    f"UPDATE experts SET {assignments}, updated_at = ? WHERE id = ?",
                    (*changes.values(), now, expert.id),
                )
                await self.audit(
                    conn, "config", "expert.update", expert.id, {"fields": sorted(changes)}
                )
                updated.append(expert.id)
        return SyncReport(tuple(inserted), tuple(updated))

    async def admin_edit_expert(self, expert_id: str, actor: str, **fields: Any) -> None:
        """An admin's edit: the edited fields stop being owned by config.yaml."""
        async with self.transaction() as conn:
            await self.edit_expert(conn, expert_id, actor, fields)

    async def edit_expert(
        self, conn: aiosqlite.Connection, expert_id: str, actor: str, fields: dict[str, Any]
    ) -> None:
        """:meth:`admin_edit_expert` inside the caller's transaction."""
        unknown = set(fields) - {*EXPERT_CONFIG_FIELDS, "active"}
        if unknown:
            raise ValueError(f"not an editable expert field: {sorted(unknown)}")
        async with conn.execute(
            "SELECT config_fields FROM experts WHERE id = ?", (expert_id,)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"expert {expert_id!r}")
        owned = [f for f in json.loads(row["config_fields"]) if f not in fields]
        assignments = ", ".join(f"{field} = ?" for field in fields)
        await conn.execute(
            f"UPDATE experts SET {assignments}, config_fields = ?, updated_at = ? WHERE id = ?",
            (*fields.values(), json.dumps(owned), utcnow(), expert_id),
        )
        await self.audit(conn, actor, "expert.edit", expert_id, {"fields": sorted(fields)})


def pre_migration_copy(path: Path, current: int, target: int) -> Path:
    """A new file beside ``path`` for its copy before schema ``current`` becomes ``target``.

    Named with both versions (``smscat.db.schema-003-before-005``), so the file says which
    smscat can open it; a second attempt at the same upgrade gets ``.1``, ``.2``… and never
    overwrites the first copy.
    """
    base = path.with_name(f"{path.name}.schema-{current:03d}-before-{target:03d}")
    candidate, n = base, 0
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}.{n}")
    return candidate


def backup(source: Path, target: Path) -> None:
    """Copy the database at ``source`` to a new file ``target`` with SQLite's online backup.

    Safe while the daemon writes: the copy is one consistent snapshot. Blocking (call it from
    a thread, or from the CLI). Refuses to overwrite an existing file.
    """
    if target.exists():
        raise FileExistsError(f"{target} exists; choose a new file")
    if not source.exists():
        raise FileNotFoundError(f"no database at {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


_DAILY_NAME = re.compile(r"^(?P<stem>.+)-\d{8}T\d{6}Z\.db$")


def backup_into(folder: Path, source: Path, *, keep: int, at: datetime) -> tuple[Path, list[Path]]:
    """Copy ``source`` to ``folder/<name>-<UTC time>.db``, then delete the oldest such copies
    beyond ``keep``; returns the new file and the deleted ones.

    Only files this function names (same database name, a UTC timestamp) are ever deleted:
    anything else an operator keeps in the folder stays. Blocking, like :func:`backup`.
    """
    if keep < 1:
        raise ValueError("keep at least one backup")
    stamp = at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"{source.stem}-{stamp}.db"
    backup(source, target)
    ours = sorted(
        p
        for p in folder.iterdir()
        if (m := _DAILY_NAME.match(p.name)) and m["stem"] == source.stem and p.is_file()
    )
    stale = ours[:-keep]
    for old in stale:
        old.unlink()
    return target, stale


def _statements(sql: str) -> list[str]:
    """Split a migration script into statements.

    Comments (``--`` to the end of a line) go first, so a semicolon in a comment is harmless;
    our SQL literals hold no ``--`` and no semicolon.
    """
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
