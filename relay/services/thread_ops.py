"""A thread's state machine at work: run a step and apply its effects, post a message, close
the quiet ones.

The decisions are :func:`smscat.relay.core.lifecycle.step`'s; this module only loads the thread,
writes the new status and carries out the effects (cancel queued SMS, audit an alert) in the
caller's transaction. It must never queue an SMS itself: what a step means for the other party
is the calling service's to send (through :class:`.sending.Sender`).
"""

from __future__ import annotations

import logging
from datetime import datetime

import aiosqlite

from smscat.relay.core import lifecycle, policy
from smscat.relay.core.lifecycle import Status
from smscat.relay.core.masking import mask_numbers
from smscat.relay.core.types import Thread
from smscat.relay.services.context import Context
from smscat.relay.services.read_models import MedianCache
from smscat.storage import outbox as outbox_db
from smscat.storage import threads as threads_db
from smscat.storage.db import iso

log = logging.getLogger(__name__)


class ThreadOps:
    """Steps and posts for every service, and the auto-close job (:meth:`close_due`)."""

    def __init__(self, ctx: Context, medians: MedianCache) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.options = ctx.options
        self.medians = medians

    async def close_due(self) -> int:
        """Close or expire threads quiet for ``auto_close``; return how many changed."""
        now = self.ctx.clock()
        changed = 0
        async with self.db.transaction() as conn:
            due = await threads_db.threads_due_for_close(
                conn, iso(now - self.options.auto_close), [str(s) for s in lifecycle.OPEN]
            )
            for thread_id in due:
                thread = await threads_db.thread(conn, thread_id)
                assert thread is not None
                after = await self.step(conn, thread, lifecycle.AutoClose(), now)
                changed += after.status != thread.status
        return changed

    async def step(
        self,
        conn: aiosqlite.Connection,
        thread: Thread,
        event: lifecycle.Event,
        now: datetime,
    ) -> Thread:
        """Run the state machine for ``thread`` and apply its effects, in the caller's commit;
        the thread as it is now."""
        status, effects = lifecycle.step(
            Status(thread.status),
            event,
            now,
            last_message_at=thread.last_message_at,
            auto_close=self.options.auto_close,
        )
        if status != thread.status:
            await threads_db.set_status(conn, thread.id, str(status), iso(now))
        for effect in effects:
            if isinstance(effect, lifecycle.CancelPending):
                await outbox_db.cancel_for_thread(conn, thread.id)
            elif isinstance(effect, lifecycle.AlertAdmins):
                await self.db.audit(
                    conn, "relay", "alert", str(thread.id), {"reason": effect.reason}
                )
            elif isinstance(effect, lifecycle.NotifyPatient):
                # the page shows it while its cause stands (lifecycle.page_notice reads the
                # status and the outbox written above): nothing more to store, no SMS
                log.info("thread %d: the page says %s", thread.id, effect.key)
        after = await threads_db.thread(conn, thread.id)
        assert after is not None
        return after

    async def post(
        self,
        conn: aiosqlite.Connection,
        thread_id: int,
        sender: str,
        text: str,
        now: datetime,
        inbound_id: int | None = None,
    ) -> None:
        """A message on a thread, with the masked form public pages show and search."""
        message = threads_db.NewMessage(
            thread_id, sender, text, mask_numbers(text), iso(now), inbound_id
        )
        await threads_db.insert_message(conn, message)
        if policy.is_answer(sender):
            self.medians.forget()  # perhaps a first answer: work the medians out again
