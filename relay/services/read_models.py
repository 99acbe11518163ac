"""What the pages and the admin's dashboard read: experts, the public board, the day's figures.

Reads only, each in one read transaction or one query; nothing here writes a row or queues an
SMS. The one piece of state is :class:`MedianCache` ("usually answers within"), which an
expert's post makes stale (:meth:`.thread_ops.ThreadOps.post`).

Rows that hold numbers (unmatched, unknown senders, failed SMS) come back in E.164 as stored:
the caller masks them before they are shown; nothing here logs them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from smscat.relay.core import lifecycle, policy
from smscat.relay.core.records import InboundSms, OutboxSms
from smscat.relay.services.context import Context
from smscat.relay.services.sending import Sender
from smscat.storage import alerts as alert_store
from smscat.storage import experts as experts_db
from smscat.storage import inbound as inbound_db
from smscat.storage import monitoring
from smscat.storage import outbox as outbox_db
from smscat.storage import threads as threads_db
from smscat.storage.db import Database, iso

MEDIAN_WINDOW = timedelta(days=90)  # "usually answers within": the threads of this period
MEDIAN_FRESH = timedelta(minutes=5)  # how long a worked-out median is shown


class MedianCache:
    """Each expert's median time to a first answer lately, worked out every few minutes."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._medians: tuple[datetime, dict[str, float]] | None = None  # (computed at, values)

    async def get(self, now: datetime) -> dict[str, float]:
        if self._medians is None or not now - MEDIAN_FRESH < self._medians[0] <= now:
            since = iso(now - MEDIAN_WINDOW)
            self._medians = (now, await threads_db.median_first_answer(self.db, since))
        return self._medians[1]

    def forget(self) -> None:
        """Perhaps a first answer was posted: work the medians out again next time."""
        self._medians = None


class ReadModels:
    """The read side of the relay: safe to call concurrently, never writes."""

    def __init__(self, ctx: Context, sender: Sender, medians: MedianCache) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.sender = sender
        self.medians = medians

    # -- the public pages ------------------------------------------------------------------

    async def experts_view(self) -> list[dict[str, Any]]:
        now = self.ctx.clock()
        medians = await self.medians.get(now)
        out = []
        async with self.db.reading() as conn:
            for e in await experts_db.experts(self.db):
                scheduled = await self.sender.scheduled(conn, e, now)
                reason = policy.not_accepting(e, self.ctx.options.zone, now, scheduled)
                out.append(
                    {
                        "id": e.id,
                        "name": e.name,
                        "title": e.title,
                        "department": e.department,
                        "specialty": e.specialty,
                        "accepting": reason is None,
                        "accepting_reason": reason,
                        "median_first_answer_s": medians.get(e.id),
                    }
                )
        return out

    async def front_page(self, recent: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The department page's experts and its ``recent`` public threads, read together: one
        wait for the database (a planner's or the pump's transaction) and one view."""
        async with self.db.reading():
            return await self.experts_view(), await self.board(None, None, 1, recent)

    async def board(
        self, expert_id: str | None, q: str | None, page: int, per_page: int
    ) -> dict[str, Any]:
        """Public threads (the caller masks numbers in what it shows)."""
        found = await threads_db.board(self.db, expert_id, q, page, per_page)
        threads = [
            {
                **t,
                "messages": [
                    {"from": m["sender"], "text": m["text"], "at": m["at"]} for m in t["messages"]
                ],
            }
            for t in found.threads
        ]
        return {"threads": threads, "total": found.total}

    # -- the admin's dashboard and /metrics ------------------------------------------------

    async def monitoring_counts(self) -> dict[str, dict[str, int]]:
        """Parts sent per modem and SMS received per outcome (for /metrics)."""
        return await monitoring.counts(self.db)

    async def outbox_counts(self) -> dict[str, int]:
        """SMS in the outbox by status (an :class:`.OutboxStatus` value; none: left out)."""
        counts = await outbox_db.outbox_counts(self.db)
        return {status.value: n for status, n in counts.items()}

    async def unmatched_inbound(self, limit: int = 100) -> list[dict[str, Any]]:
        """Unresolved unmatched SMS, oldest first: id, modem, sender (E.164), text, time."""
        return [_received(sms) for sms in await inbound_db.unmatched(self.db, limit)]

    async def open_alerts(self) -> list[dict[str, Any]]:
        """Alerts not yet cleared, oldest first: kind, subject, opened_at."""
        found = await alert_store.open_alerts(self.db)
        alerts = sorted(found.values(), key=lambda a: a.opened_at)
        return [
            {"kind": a.kind, "subject": a.subject, "opened_at": iso(a.opened_at)} for a in alerts
        ]

    async def parts_sent_since(self, modem_id: str, since: datetime) -> int:
        """SMS parts ``modem_id`` has sent since ``since``."""
        return (await outbox_db.parts_sent_since(self.db, modem_id, [iso(since)]))[0]

    async def failed_outbox(self, limit: int) -> list[dict[str, Any]]:
        """SMS that failed for good, newest first (recipients in E.164: mask before showing)."""
        return [_failed(sms) for sms in await monitoring.failed_outbox(self.db, limit)]

    async def traffic_since(self, since: datetime) -> dict[str, int]:
        """Parts sent, SMS fully sent, SMS failed and SMS received since ``since``."""
        return await monitoring.traffic_since(self.db, iso(since))

    async def waiting_since(self, before: datetime, limit: int) -> list[dict[str, Any]]:
        """Threads waiting for an answer since before ``before``, oldest first."""
        waiting = [str(s) for s in lifecycle.AWAITING_ANSWER]
        rows = await monitoring.waiting_since(self.db, waiting, iso(before), limit)
        return [dict(r) for r in rows]

    async def short_code_sms(self, since: datetime, limit: int) -> list[dict[str, Any]]:
        """SMS from operators' short codes since ``since``, newest first."""
        found = await monitoring.short_code_sms(self.db, iso(since), limit)
        return [_received(sms) for sms in found]

    async def unknown_sender_sms(self, since: datetime, limit: int) -> list[dict[str, Any]]:
        """SMS from unknown numbers since ``since``, newest first (senders in E.164 as
        received: mask before showing). Never posted, never answered."""
        found = await monitoring.unknown_sender_sms(self.db, iso(since), limit)
        return [_received(sms) for sms in found]

    async def incomplete_sms(self, since: datetime, limit: int) -> list[dict[str, Any]]:
        """SMS routed since ``since`` without a part that has not come yet, newest first:
        ``missing`` (part numbers), ``parts`` (the total), ``thread_id``, ``sender`` (mask it)."""
        return [
            {
                "id": sms.id,
                "modem_id": sms.modem_id,
                "sender": sms.sender,
                "parts": sms.parts,
                "missing": list(sms.missing),
                "outcome": sms.outcome,
                "thread_id": sms.thread_id,
                "received_at": iso(sms.received_at),
            }
            for sms in await monitoring.incomplete_sms(self.db, iso(since), limit)
        ]


def _received(sms: InboundSms) -> dict[str, Any]:
    """A received SMS as the dashboard lists it (times as stored: UTC ISO-8601 text)."""
    return {
        "id": sms.id,
        "modem_id": sms.modem_id,
        "sender": sms.sender,
        "text": sms.text,
        "received_at": iso(sms.received_at),
    }


def _failed(sms: OutboxSms) -> dict[str, Any]:
    """An SMS that failed for good as the dashboard lists it (its text left out)."""
    return {
        "id": sms.id,
        "kind": sms.kind,
        "recipient": sms.recipient,
        "thread_id": sms.thread_id,
        "modem_id": sms.modem_id,
        "attempts": sms.attempts,
        "error": sms.error,
        "created_at": iso(sms.created_at),
    }
