"""The outbox pump's callbacks: an SMS went, failed for good, or its status report came back.

Each is one transaction: the outbox row's new status and what it means for the thread (a
question sent or delivered, an answer that did not reach the patient), decided by the thread's
state machine (:class:`.thread_ops.ThreadOps`). A link in a sent notice is cut off the stored
text: once on the phone, the link works for whoever holds it, and the database keeps none.
It must never log a number or a text.
"""

from __future__ import annotations

import logging
import re

from smscat.modem import pdu
from smscat.modem.address import AddressError, normalise
from smscat.relay.core import lifecycle
from smscat.relay.core.lifecycle import Status
from smscat.relay.services.context import Context
from smscat.relay.services.thread_ops import ThreadOps
from smscat.storage import outbox as outbox_db
from smscat.storage import threads as threads_db
from smscat.storage.db import iso

log = logging.getLogger(__name__)

_LINK_TOKEN = re.compile(r"(/t/[0-9]+/)[A-Za-z0-9_-]{16,}")


class Delivery:
    """What the pump reports back (:mod:`.outbox` calls these)."""

    def __init__(self, ctx: Context, threads: ThreadOps) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.options = ctx.options
        self.threads = threads

    async def sent(self, outbox_id: int, modem_id: str) -> None:
        """Every part of an outbox SMS was accepted by a modem (the pump calls this)."""
        now = self.ctx.clock()
        async with self.db.transaction() as conn:
            sms = await outbox_db.outbox_row(conn, outbox_id)
            assert sms is not None
            await outbox_db.mark_sent(conn, outbox_id, modem_id, iso(now))
            if sms.kind == "notice" and _LINK_TOKEN.search(sms.text):
                # the links work for whoever holds them: once on the phone, none in the database
                await outbox_db.set_outbox_text(conn, outbox_id, _LINK_TOKEN.sub(r"\1…", sms.text))
            if sms.kind == "to_expert" and sms.thread_id is not None:
                thread = await threads_db.thread(conn, sms.thread_id)
                assert thread is not None
                # held (a pause ended) or failed (a later follow-up went through): going again
                if Status(thread.status) in (Status.HELD, Status.FAILED):
                    thread = await self.threads.step(conn, thread, lifecycle.Released(), now)
                if Status(thread.status) in lifecycle.OPEN:  # not withdrawn meanwhile
                    await self.threads.step(conn, thread, lifecycle.Sent(), now)

    async def failed(self, outbox_id: int, attempts: int, reason: str) -> None:
        """An outbox SMS will not go (a permanent error, or too many attempts)."""
        now = self.ctx.clock()
        async with self.db.transaction() as conn:
            sms = await outbox_db.outbox_row(conn, outbox_id)
            assert sms is not None
            await outbox_db.mark_failed(conn, outbox_id, attempts, reason)
            await self.db.audit(conn, "relay", "sms.failed", str(outbox_id), {"error": reason})
            event: lifecycle.Event | None = None
            if sms.kind == "to_expert":
                event = lifecycle.SendFailed(reason)
            elif sms.kind == "to_patient":
                event = lifecycle.AnswerFailed(reason)
            if event is not None and sms.thread_id is not None:
                thread = await threads_db.thread(conn, sms.thread_id)
                assert thread is not None
                await self.threads.step(conn, thread, event, now)  # the table decides, any status
        log.warning("outbox %d failed after %d attempt(s): %s", outbox_id, attempts, reason)

    async def on_report(self, modem_id: str, report: pdu.StatusReport) -> None:
        """A status report from ``modem_id``: the part it names is delivered (once every part
        is, a question's thread steps to delivered). Failure reports change nothing."""
        now = self.ctx.clock()
        try:
            recipient = normalise(report.recipient)
        except AddressError:
            return
        async with self.db.transaction() as conn:
            part = await outbox_db.match_report(
                conn, modem_id, report.mr, recipient, iso(now - self.options.report_window)
            )
            if part is None:
                return
            if not report.delivered:
                return  # a failure report; the SMS stays "sent" (admins see it in issue 7)
            whole = await outbox_db.mark_part_delivered(
                conn, part.outbox_id, part.seq, report.status, iso(now)
            )
            sms = await outbox_db.outbox_row(conn, part.outbox_id) if whole else None
            if sms is not None and sms.kind == "to_expert" and sms.thread_id is not None:
                thread = await threads_db.thread(conn, sms.thread_id)
                assert thread is not None
                if Status(thread.status) is Status.SENT:
                    await self.threads.step(conn, thread, lifecycle.Delivered(), now)
