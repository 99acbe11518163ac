"""The patient's own thread page: read it, write a follow-up, withdraw, thank, rate.

Every call first checks the page's token (:meth:`.links.Links.thread_for`): a wrong token and
an unknown thread get the same :class:`NotFound`. Thanks and ratings send no SMS (an expert is
never interrupted for them); a follow-up goes on like one by SMS (:mod:`.forwarding`). It must
never log what the patient wrote.
"""

from __future__ import annotations

import logging
from typing import Any

from smscat.relay.core import lifecycle, texts
from smscat.relay.core.errors import Conflict, Invalid
from smscat.relay.core.lifecycle import Status
from smscat.relay.services.context import Context
from smscat.relay.services.forwarding import Forwarding
from smscat.relay.services.links import Links
from smscat.relay.services.thread_ops import ThreadOps
from smscat.storage import threads as threads_db
from smscat.storage.db import iso

log = logging.getLogger(__name__)


class PatientPage:
    """What the thread's page reads and does, for the holder of its link."""

    def __init__(
        self, ctx: Context, links: Links, forwarding: Forwarding, threads: ThreadOps
    ) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.options = ctx.options
        self.links = links
        self.forwarding = forwarding
        self.threads = threads

    async def thread_view(
        self, thread_id: int, token: str, lang: str = texts.DEFAULT_LANG
    ) -> dict[str, Any]:
        """The thread for its patient: status, messages, ``waiting`` (follow-ups kept until the
        expert answers) and a ``notice`` in ``lang`` when something is held up."""
        thread = await self.links.thread_for(thread_id, token)
        posts = await threads_db.messages(self.db, thread_id)
        waiting = len(lifecycle.waiting_follow_ups([p.sender for p in posts]))
        view: dict[str, Any] = {
            "id": thread_id,
            "status": thread.status,
            "messages": [{"from": p.sender, "text": p.text, "at": iso(p.at)} for p in posts],
            "waiting": waiting,
        }
        notice = lifecycle.page_notice(
            Status(thread.status), await threads_db.latest_to_patient_failed(self.db, thread_id)
        )
        if notice is not None:
            view["notice"] = texts.render(notice, lang)
        elif waiting and Status(thread.status) in lifecycle.OPEN:
            view["notice"] = texts.render("page.followups_waiting", lang, count=waiting)
        return view

    async def follow_up(self, thread_id: int, token: str, text: str) -> None:
        """A follow-up written on the thread's page."""
        text = text.strip()
        if not 1 <= len(text) <= self.options.max_text:
            raise Invalid("text_length", field="text")
        await self.links.thread_for(thread_id, token)
        now = self.ctx.clock()
        async with self.db.transaction() as conn:
            thread = await threads_db.thread(conn, thread_id)
            assert thread is not None
            if Status(thread.status) not in lifecycle.OPEN:
                raise Conflict("thread_closed")
            await self.forwarding.post_follow_up(conn, thread, text, now, inbound_id=None)

    async def withdraw(self, thread_id: int, token: str) -> None:
        """The patient takes the question back: what is still queued for it is cancelled."""
        await self.links.thread_for(thread_id, token)
        now = self.ctx.clock()
        async with self.db.transaction() as conn:
            thread = await threads_db.thread(conn, thread_id)
            assert thread is not None
            if Status(thread.status) not in lifecycle.OPEN:
                raise Conflict("thread_closed")
            await self.threads.step(conn, thread, lifecycle.Withdrawn(), now)

    async def thread_extras(self, thread_id: int, token: str) -> dict[str, Any]:
        """What the thread's page offers besides the conversation: ``answered`` (it can be
        rated and thanked), ``thanked``, ``helpful`` (None: not said) and ``link_by_sms`` (the
        thread has a phone that takes SMS, so a new link can go to it)."""
        thread = await self.links.thread_for(thread_id, token)
        async with self.db.reading() as conn:
            answered = await threads_db.has_answer(conn, thread_id)
            phone = await self.links.link_phone(conn, thread)
        return {
            "answered": answered,
            "thanked": thread.thanked_at is not None,
            "helpful": thread.helpful,
            "link_by_sms": phone is not None,
        }

    async def thank(self, thread_id: int, token: str) -> None:
        """The patient thanks the expert for the answer: once; thanking again changes nothing.

        No SMS: an expert is never interrupted for thanks; the weekly digest and the monthly
        statistics count them (``threads.thanked_at``).
        """
        await self.links.thread_for(thread_id, token)
        now = self.ctx.clock()
        async with self.db.transaction() as conn:
            if not await threads_db.has_answer(conn, thread_id):
                raise Conflict("not_answered")
            thanked = await threads_db.thank(conn, thread_id, iso(now))
            if thanked:
                await self.db.audit(conn, "patient", "thread.thank", str(thread_id))
        if thanked:
            log.info("thread %d: thanked", thread_id)

    async def rate(self, thread_id: int, token: str, helpful: bool) -> None:
        """The patient says whether the answer helped (and may change their mind). No SMS."""
        await self.links.thread_for(thread_id, token)
        async with self.db.transaction() as conn:
            if not await threads_db.has_answer(conn, thread_id):
                raise Conflict("not_answered")
            if await threads_db.set_helpful(conn, thread_id, helpful):
                detail = {"helpful": helpful}
                await self.db.audit(conn, "patient", "thread.helpful", str(thread_id), detail)
