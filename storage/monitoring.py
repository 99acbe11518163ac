"""What the admin's dashboard reads besides the relay's own queries: a few read-only views.

Failed SMS (to retry), traffic of the last hour, threads waiting too long for an answer, the
short-code SMS the SIM got (operator notices), SMS from unknown numbers and SMS that lost a
part: SMS as the core's records (``OutboxSms``, ``InboundSms``). Reading only, except
:func:`resolve_notices`, inside the caller's transaction (an admin's retry of a failed SMS is
:func:`smscat.storage.outbox.requeue`, the outbox's own move). It decides nothing: the caller
says what is "too long".
"""

from __future__ import annotations

from collections.abc import Iterable

import aiosqlite

from smscat.relay.core.outbox_states import OutboxStatus
from smscat.relay.core.records import InboundSms, OutboxSms
from smscat.storage.db import Database
from smscat.storage.inbound import as_inbound_sms
from smscat.storage.outbox import as_outbox_sms
from smscat.storage.sql import placeholders


async def failed_outbox(db: Database, limit: int) -> list[OutboxSms]:
    """SMS that failed for good, newest first."""
    rows = await db.fetchall(
        "SELECT * FROM outbox WHERE status = ? ORDER BY id DESC LIMIT ?",
        (OutboxStatus.FAILED, limit),
    )
    return [as_outbox_sms(r) for r in rows]


async def traffic_since(db: Database, since: str) -> dict[str, int]:
    """Parts sent, SMS fully sent, SMS that failed (for good) and SMS received since ``since``."""
    row = (
        await db.fetchall(
            "SELECT (SELECT COUNT(*) FROM outbox_parts WHERE sent_at >= ?1),"
            " (SELECT COUNT(*) FROM outbox WHERE sent_at >= ?1),"
            " (SELECT COUNT(*) FROM audit_log WHERE action = 'sms.failed' AND at >= ?1),"
            " (SELECT COUNT(*) FROM inbound WHERE received_at >= ?1)",
            (since,),
        )
    )[0]
    return {"parts": row[0], "sent": row[1], "failed": row[2], "received": row[3]}


async def waiting_since(
    db: Database, statuses: Iterable[str], before: str, limit: int
) -> list[aiosqlite.Row]:
    """Threads in ``statuses`` whose last message is older than ``before``, oldest first."""
    wanted = tuple(statuses)
    marks = placeholders(wanted)
    return await db.fetchall(
        "SELECT t.id, t.code, t.status, t.last_message_at, e.name AS expert"
        " FROM threads t JOIN experts e ON e.id = t.expert_id"
        f" WHERE t.status IN ({marks}) AND t.last_message_at < ?"
        " ORDER BY t.last_message_at LIMIT ?",
        (*wanted, before, limit),
    )


async def resolve_notices(conn: aiosqlite.Connection, now: str) -> int:
    """Mark every unhandled SMS from a short code or an unknown number handled; how many."""
    cursor = await conn.execute(
        "UPDATE inbound SET resolved_at = ? WHERE outcome IN ('short_code', 'unknown_sender')"
        " AND resolved_at IS NULL",
        (now,),
    )
    return cursor.rowcount


async def short_code_sms(db: Database, since: str, limit: int) -> list[InboundSms]:
    """SMS from short codes (operator notices: balance, package) not yet handled, newest first."""
    return await _unhandled(db, "short_code", since, limit)


async def unknown_sender_sms(db: Database, since: str, limit: int) -> list[InboundSms]:
    """SMS from numbers neither an expert's nor a verified patient's, not yet handled."""
    return await _unhandled(db, "unknown_sender", since, limit)


async def _unhandled(db: Database, outcome: str, since: str, limit: int) -> list[InboundSms]:
    rows = await db.fetchall(
        "SELECT * FROM inbound WHERE outcome = ? AND resolved_at IS NULL AND received_at >= ?"
        " ORDER BY id DESC LIMIT ?",
        (outcome, since, limit),
    )
    return [as_inbound_sms(r) for r in rows]


async def incomplete_sms(db: Database, since: str, limit: int) -> list[InboundSms]:
    """SMS routed without a part that never arrived (still incomplete), newest first."""
    rows = await db.fetchall(
        "SELECT * FROM inbound WHERE complete = 0 AND received_at >= ? ORDER BY id DESC LIMIT ?",
        (since, limit),
    )
    return [as_inbound_sms(r) for r in rows]


async def counts(db: Database) -> dict[str, dict[str, int]]:
    """Totals for monitoring: parts sent per modem, SMS received per outcome."""
    out: dict[str, dict[str, int]] = {}
    for name, sql in (
        ("parts_by_modem", "SELECT modem_id, COUNT(*) FROM outbox_parts GROUP BY modem_id"),
        ("received_by_outcome", "SELECT outcome, COUNT(*) FROM inbound GROUP BY outcome"),
    ):
        out[name] = {str(r[0]): int(r[1]) for r in await db.fetchall(sql)}
    return out
