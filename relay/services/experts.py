"""The experts' and assistants' presence: a welcome SMS, a pause and its end, a hand-off when
an expert leaves, and who assists whom.

Each change is one transaction with the SMS it causes (through :class:`.sending.Sender`) and an
audit entry; the admin's pages (:mod:`.management`) and the experts' own SMS commands
(:mod:`.expert_sms`) both come here, so a pause is the same pause from either side.
It must never log a number: people are named by their ids.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import aiosqlite

from smscat.relay.core import codes, lifecycle, policy, texts
from smscat.relay.core.errors import Conflict, NotFound
from smscat.relay.core.lifecycle import Status
from smscat.relay.core.types import Expert
from smscat.relay.services.context import Context
from smscat.relay.services.forwarding import Forwarding
from smscat.relay.services.sending import Sender
from smscat.storage import experts as experts_db
from smscat.storage import outbox as outbox_db
from smscat.storage import threads as threads_db
from smscat.storage.db import iso


class Experts:
    """Welcome, pause, resume and hand-off; one per daemon."""

    def __init__(self, ctx: Context, sender: Sender, forwarding: Forwarding) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.options = ctx.options
        self.sender = sender
        self.forwarding = forwarding

    async def first_holder(self, conn: aiosqlite.Connection, expert: Expert) -> Expert:
        """Who holds a new thread of ``expert``'s, so gets its SMS first: the assistant they
        name, loaded, while present; else the expert (:func:`.policy.first_holder`)."""
        assistant = None
        if expert.assistant_id is not None:
            assistant = await experts_db.expert(conn, expert.assistant_id)
        return policy.first_holder(expert, assistant)

    async def welcome_new(self) -> int:
        """A short SMS to each expert or assistant not yet welcomed: how to reply, commands."""
        now = self.ctx.clock()
        async with self.db.transaction() as conn:
            people = await experts_db.unwelcomed(conn)
            for person in people:
                sms = texts.render("welcome_expert", dept=self.options.department)
                await self.sender.enqueue(
                    conn, "notice", person.phone, sms, None, now,
                    not_before=self.sender.send_time(person, now),
                )  # fmt: skip
                await experts_db.mark_welcomed(conn, person.id, iso(now))
        return len(people)

    async def pause_expert(
        self,
        conn: aiosqlite.Connection,
        person: Expert,
        hours: int | None,
        actor: str,
        now: datetime,
    ) -> str:
        """No new question reaches ``person`` for ``hours`` (None: until resumed); the SMS."""
        until = policy.FOREVER if hours is None else now + timedelta(hours=hours)
        await experts_db.set_paused(conn, person.id, iso(until))
        # what is already waiting is held too ("questions wait until the pause ends")
        await outbox_db.hold_questions(conn, person.phone, iso(until))
        detail = {"until_resumed": True} if hours is None else {"hours": hours}
        await self.db.audit(conn, actor, "expert.pause", person.id, detail)
        if hours is None:
            return texts.render("paused_indefinitely", dept=self.options.department)
        return texts.render("paused", hours=hours, dept=self.options.department)

    async def resume_expert(
        self, conn: aiosqlite.Connection, person: Expert, actor: str, now: datetime
    ) -> str:
        """The pause ends now: what it held goes (after quiet hours); the SMS that says so."""
        held_until = policy.paused_until(person, now)  # (a pause over by now held nothing)
        await experts_db.set_paused(conn, person.id, None)
        resumed = replace(person, paused_until=None)
        release = self.sender.send_time(resumed, now) or now  # quiet hours still hold
        if held_until is not None:  # only what the pause held: a cap's wait stays
            await outbox_db.release_questions(conn, person.phone, iso(release), iso(held_until))
            self.sender.wake_pump()
        await self.db.audit(conn, actor, "expert.resume", person.id)
        return texts.render("resumed", dept=self.options.department)

    async def handoff(self, from_id: str, to_id: str, actor: str) -> int:
        """Move every open thread of ``from_id`` to ``to_id`` in one step; ``from_id`` leaves.

        The threads get codes that are free for their new holder (and their patients); the
        new holder (the colleague, or the colleague's assistant) gets one SMS with the list,
        and the question again for each thread still waiting for an answer.
        """
        now = self.ctx.clock()
        async with self.db.transaction() as conn:
            leaving = await experts_db.expert(conn, from_id)
            colleague = await experts_db.expert(conn, to_id)
            if leaving is None or colleague is None:
                raise NotFound("expert")
            if not policy.takes_handoff(colleague, from_id):
                raise Conflict("handoff_target")
            handler = await self.first_holder(conn, colleague)
            since = iso(now - codes.REUSE_AFTER)
            moved: list[str] = []
            for thread in await threads_db.threads_owned_by(
                conn, from_id, [str(s) for s in lifecycle.OPEN]
            ):
                in_use = await threads_db.codes_in_use(
                    conn, {to_id, handler.id}, thread.phone_id, since
                )
                code = codes.allocate(in_use)
                await threads_db.move_thread(conn, thread.id, to_id, handler.id, code)
                await outbox_db.cancel_for_thread(conn, thread.id)  # queued SMS to the old phone
                gist = await self.forwarding.gist(conn, thread)
                moved.append(f"{codes.format_code(code)} {gist}")
                if Status(thread.status) is not Status.ANSWERED:
                    await self.forwarding.question_again(conn, thread, code, handler, now)
            if moved:
                sms = texts.render(
                    "handoff_to_expert", dept=self.options.department, name=leaving.name,
                    count=len(moved),
                    items="；".join(moved),
                )  # fmt: skip
                await self.sender.enqueue(
                    conn, "notice", handler.phone, sms, None, now,
                    not_before=self.sender.send_time(handler, now),
                )  # fmt: skip
            await experts_db.mark_left(conn, from_id, iso(now))
            await self.db.audit(
                conn, actor, "expert.handoff", from_id, {"to": to_id, "threads": len(moved)}
            )
        return len(moved)
