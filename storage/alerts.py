"""The alerts table and the queries that decide whether something is wrong. No decisions here.

An alert is read as the core's :class:`~smscat.relay.core.records.Alert`, never a row.
"""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from smscat.relay.core.outbox_states import OutboxStatus
from smscat.relay.core.records import Alert
from smscat.storage.db import Database
from smscat.storage.sql import moment, moment_or_none

Key = tuple[str, str]  # (kind, subject)


def as_alert(row: aiosqlite.Row) -> Alert:
    """A row of ``alerts`` (``SELECT *``) as the core's record."""
    return Alert(
        id=int(row["id"]),
        kind=str(row["kind"]),
        subject=str(row["subject"]),
        opened_at=moment(row["opened_at"]),
        notified_at=moment_or_none(row["notified_at"]),
        cleared_at=moment_or_none(row["cleared_at"]),
        detail=row["detail"],
    )


async def open_alerts(db: Database) -> dict[Key, Alert]:
    """Alerts not yet cleared, by (kind, subject)."""
    rows = await db.fetchall("SELECT * FROM alerts WHERE cleared_at IS NULL")
    alerts = [as_alert(r) for r in rows]
    return {(a.kind, a.subject): a for a in alerts}


async def open_alert(
    conn: aiosqlite.Connection, key: Key, detail: dict[str, Any], now: str
) -> None:
    await conn.execute(
        "INSERT INTO alerts (kind, subject, opened_at, notified_at, detail) VALUES (?, ?, ?, ?, ?)",
        (key[0], key[1], now, now, json.dumps(detail, ensure_ascii=False)),
    )


async def renotified(conn: aiosqlite.Connection, alert_id: int, now: str) -> None:
    await conn.execute("UPDATE alerts SET notified_at = ? WHERE id = ?", (now, alert_id))


async def clear_alert(conn: aiosqlite.Connection, alert_id: int, now: str) -> None:
    await conn.execute("UPDATE alerts SET cleared_at = ? WHERE id = ?", (now, alert_id))


async def queue_stalled(db: Database, now: str, since: str) -> bool:
    """SMS have been due since before ``since`` and no part went out after it."""
    waiting = await db.fetchall(
        "SELECT 1 FROM outbox WHERE status = ? AND next_attempt_at <= ? LIMIT 1",
        (OutboxStatus.QUEUED, since),
    )
    if not waiting:
        return False
    moved = await db.fetchall(
        "SELECT 1 FROM outbox_parts WHERE sent_at > ? AND sent_at <= ? LIMIT 1", (since, now)
    )
    return not moved


async def failed_since(db: Database, since: str) -> int:
    """SMS failed for good whose last attempt was due since ``since`` (not sent again)."""
    rows = await db.fetchall(
        "SELECT COUNT(*) FROM outbox WHERE status = ? AND next_attempt_at >= ?",
        (OutboxStatus.FAILED, since),
    )
    return int(rows[0][0])


async def unresolved_notices(db: Database, since: str) -> dict[str, int]:
    """SMS from operators' short codes and from unknown numbers no admin has marked handled
    (since ``since``), counted by kind of sender: ``operator``, ``unknown``."""
    rows = await db.fetchall(
        "SELECT outcome, COUNT(*) FROM inbound WHERE outcome IN ('short_code', 'unknown_sender')"
        " AND resolved_at IS NULL AND received_at >= ? GROUP BY outcome",
        (since,),
    )
    names = {"short_code": "operator", "unknown_sender": "unknown"}
    return {names[str(row[0])]: int(row[1]) for row in rows}
