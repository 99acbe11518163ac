"""Carrying a message on a thread to the other party: a patient's follow-up to whoever holds the
thread, an answer to the patient, what waited for the answer, a question again after a hand-on.

Each method runs in the caller's transaction and queues its SMS through
:meth:`.sending.Sender.enqueue`, after the holder's quiet hours and pause. The texts come from
:mod:`smscat.relay.core.texts` with a nickname, a code and what was typed: the patient's
number never reaches the expert, nor the expert's the patient.
"""

from __future__ import annotations

import logging
from datetime import datetime

import aiosqlite

from smscat.relay.core import codes, excerpts, lifecycle, policy, texts
from smscat.relay.core.excerpts import digest
from smscat.relay.core.types import Expert, Thread
from smscat.relay.services.context import Context
from smscat.relay.services.sending import Sender
from smscat.relay.services.thread_ops import ThreadOps
from smscat.storage import experts as experts_db
from smscat.storage import phones as phones_db
from smscat.storage import threads as threads_db

log = logging.getLogger(__name__)


class Forwarding:
    """Messages on to the other party, for the page, the inbound SMS, hand-offs and admins."""

    def __init__(self, ctx: Context, sender: Sender, threads: ThreadOps) -> None:
        self.options = ctx.options
        self.sender = sender
        self.threads = threads

    async def post_follow_up(
        self,
        conn: aiosqlite.Connection,
        thread: Thread,
        text: str,
        now: datetime,
        *,
        inbound_id: int | None,
    ) -> None:
        """A patient's message on an open thread (from the page or by SMS): to the expert's
        phone now, or kept until the answer when enough went already
        (:func:`.lifecycle.waiting_follow_ups`, released by :meth:`send_waited`)."""
        await self.threads.post(conn, thread.id, "patient", text, now, inbound_id)
        posts = await threads_db.thread_messages(conn, thread.id)
        if len(posts) - 1 in lifecycle.waiting_follow_ups([p.sender for p in posts]):
            log.info("thread %d: a follow-up waits for the answer", thread.id)
            return
        thread = await self.threads.step(conn, thread, lifecycle.PatientFollowUp(), now)
        await self.follow_up_to_expert(conn, thread, text, now)

    async def holder(self, conn: aiosqlite.Connection, thread: Thread) -> Expert:
        """Who holds ``thread`` now (:func:`.policy.holder`), loaded."""
        handler = await experts_db.expert(conn, policy.holder(thread))
        assert handler is not None  # (threads reference experts, who are never deleted)
        return handler

    async def follow_up_to_expert(
        self, conn: aiosqlite.Connection, thread: Thread, text: str, now: datetime
    ) -> None:
        """The patient's follow-up by SMS to whoever holds the thread (after quiet hours)."""
        handler = await self.holder(conn, thread)
        sms = await self.forward_text(conn, thread, "patient", text)
        await self.sender.enqueue(
            conn, "to_expert", handler.phone, sms, thread.id, now,
            not_before=self.sender.send_time(handler, now), typed=True,
        )  # fmt: skip

    async def forward_answer(
        self, conn: aiosqlite.Connection, thread: Thread, role: str, answer: str,
        now: datetime,
    ) -> None:  # fmt: skip
        """An answer by ``role`` (expert or assistant) on to the thread's patient, when the
        thread has a phone that takes SMS."""
        if thread.phone_id is None:
            return
        patient = await phones_db.phone_by_id(conn, thread.phone_id)
        if patient is None or not policy.takes_sms(patient, self.options.text_rules):
            return
        sms = await self.forward_text(conn, thread, role, answer)
        await self.sender.enqueue(conn, "to_patient", patient.e164, sms, thread.id, now, typed=True)

    async def forward_text(
        self, conn: aiosqlite.Connection, thread: Thread, role: str, text: str
    ) -> str:
        """The SMS that carries ``role``'s message on ``thread`` to the other party."""
        if role == "patient":
            return texts.render(
                "followup_to_expert",
                dept=self.options.department,
                code=codes.format_code(thread.code),
                nickname=thread.nickname,
                text=text,
            )
        expert = await experts_db.expert(conn, thread.expert_id)
        assert expert is not None
        return texts.render(
            "answer_to_patient" if role == "expert" else "answer_to_patient_assistant",
            dept=self.options.department,
            code=codes.format_code(thread.code),
            expert=expert.name,
            text=text,
        )

    async def waiting(self, conn: aiosqlite.Connection, thread_id: int) -> list[str]:
        """The patient's messages on the thread that wait for the expert's answer."""
        posts = await threads_db.thread_messages(conn, thread_id)
        waiting = lifecycle.waiting_follow_ups([p.sender for p in posts])
        return [posts[i].text for i in waiting]

    async def send_waited(
        self, conn: aiosqlite.Connection, thread: Thread, waited: list[str], now: datetime
    ) -> None:
        """What waited for the answer, in one SMS to whoever holds the thread (after quiet
        hours), no longer than a question: each message shortened to its share.

        Queued before the answer's own SMS to the patient: the inbound path remembers the last
        SMS queued for a thread as the one that carried the answer on (``note_forwarded``).
        """
        if not waited:
            return
        handler = await self.holder(conn, thread)
        sms = texts.render(
            "followups_waited_to_expert",
            dept=self.options.department,
            code=codes.format_code(thread.code),
            nickname=thread.nickname,
            count=len(waited),
            text=digest(waited, self.options.max_text),
        )
        await self.sender.enqueue(
            conn, "to_expert", handler.phone, sms, thread.id, now,
            not_before=self.sender.send_time(handler, now), typed=True,
        )  # fmt: skip
        log.info("thread %d: %d follow-up(s) that waited go in one SMS", thread.id, len(waited))

    async def latest_question(self, conn: aiosqlite.Connection, thread: Thread) -> str:
        """What the patient wrote since the last answer (the question and any follow-ups); on
        an answered thread with nothing since, the question itself (a hand-off or an
        escalation must still say what it is about)."""
        waiting = await threads_db.since_last_answer(conn, thread.id)
        return "\n".join(waiting) if waiting else await threads_db.question(conn, thread.id)

    async def gist(self, conn: aiosqlite.Connection, thread: Thread) -> str:
        """A few words of the thread's latest patient message (for LIST and hand-offs)."""
        return excerpts.first_words(await self.latest_question(conn, thread))

    async def question_again(
        self,
        conn: aiosqlite.Connection,
        thread: Thread,
        code: int,
        target: Expert,
        now: datetime,
        *,
        key: str = "question_to_expert",
    ) -> None:
        """The thread's latest question, to the person who holds the thread now."""
        sms = texts.render(
            key,
            dept=self.options.department,
            code=codes.format_code(code),
            nickname=thread.nickname,
            text=await self.latest_question(conn, thread),
        )
        await self.sender.enqueue(
            conn, "to_expert", target.phone, sms, thread.id, now,
            not_before=self.sender.send_time(target, now), typed=True,
        )  # fmt: skip
