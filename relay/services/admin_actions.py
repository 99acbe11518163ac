"""What an admin does to the traffic from the dashboard: assign an unmatched SMS to a thread,
send a failed SMS again, mark the operators' and unknown numbers' SMS as read.

Each is one transaction with its audit entry (the admin as actor) and the SMS it causes, under
the same rules as the relay's own: a retried SMS goes only where
:func:`~smscat.relay.core.policy.takes_sms` and the thread's holder
(:func:`~smscat.relay.core.policy.holder`) still allow. It must never log a number or a text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import aiosqlite

from smscat.relay.core import codes, commands, excerpts, lifecycle, policy, retry
from smscat.relay.core.errors import Conflict, NotFound
from smscat.relay.core.lifecycle import Status
from smscat.relay.core.outbox_states import OutboxStatus
from smscat.relay.core.types import Expert, Thread
from smscat.relay.services.context import Context
from smscat.relay.services.forwarding import Forwarding
from smscat.relay.services.sending import Sender
from smscat.relay.services.thread_ops import ThreadOps
from smscat.storage import experts as experts_db
from smscat.storage import inbound as inbound_db
from smscat.storage import monitoring
from smscat.storage import outbox as outbox_db
from smscat.storage import phones as phones_db
from smscat.storage import threads as threads_db
from smscat.storage.db import iso

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AssignChoice:
    """An open thread an unmatched SMS may go to, as the admin picks it."""

    thread_id: int
    code: str  # "#3": what its expert and its patient know it by
    words: str = field(repr=False)  # the first words of its question (patient text)


@dataclass(frozen=True, slots=True)
class AssignOptions:
    """Whom an unmatched SMS is from and where it may go."""

    expert_name: str | None  # the sender, an expert or an assistant; None: a patient, unknown
    threads: list[AssignChoice]


@dataclass(frozen=True, slots=True)
class Assigned:
    """Where an assigned SMS went: the thread's ``#code``, and as its answer or a follow-up."""

    code: str
    answer: bool


async def _first_words(conn: aiosqlite.Connection, thread: Thread) -> str:
    """The first words of the thread's question (its first patient message)."""
    return excerpts.first_words(await threads_db.question(conn, thread.id))


class AdminActions:
    """The admin's corrections to inbound and outbound SMS."""

    def __init__(
        self, ctx: Context, sender: Sender, threads: ThreadOps, forwarding: Forwarding
    ) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.sender = sender
        self.threads = threads
        self.forwarding = forwarding

    async def assign_options(self, inbound_ids: list[int]) -> dict[int, AssignOptions]:
        """For each unmatched SMS, whom it is from (an expert's name; never the number) and
        the open threads it may be assigned to, by ``#code`` and first words: an expert's or
        an assistant's, the threads they may answer; a patient's, their own open threads."""
        found: dict[int, AssignOptions] = {}
        async with self.db.reading() as conn:
            for inbound_id in inbound_ids:
                inbound = await inbound_db.unresolved_unmatched(conn, inbound_id)
                if inbound is None:
                    continue
                person = await experts_db.expert_by_phone(conn, inbound.sender)
                threads = await self._assignable(conn, inbound.sender, person)
                choices = [
                    AssignChoice(t.id, codes.format_code(t.code), await _first_words(conn, t))
                    for t in threads
                ]
                found[inbound_id] = AssignOptions(person.name if person else None, choices)
        return found

    async def _assignable(
        self, conn: aiosqlite.Connection, sender: str, person: Expert | None
    ) -> list[Thread]:
        """The open threads an SMS from ``sender`` may go to (:meth:`assign_inbound`'s rule)."""
        statuses = [str(s) for s in lifecycle.OPEN]
        if person is not None:
            held = await threads_db.open_threads_of_expert(conn, person.id, statuses)
            owned = await threads_db.threads_owned_by(conn, person.id, statuses)
            unique = {t.id: t for t in [*held, *owned] if policy.may_answer(t, person.id)}
            return sorted(unique.values(), key=lambda t: (t.code, t.id))
        phone = await phones_db.phone(conn, sender)
        if phone is None:
            return []
        return await threads_db.open_threads_of_phone(conn, phone.id, statuses)

    async def assign_inbound(self, inbound_id: int, thread_id: int, actor: str) -> Assigned:
        """Post an unmatched SMS on a thread: from the thread's expert (or assistant) as its
        answer, from the thread's patient as a follow-up.

        An answer is forwarded to the patient like a reply by SMS, a follow-up to the expert
        like one by SMS; the inbound row is resolved as a reply (a follow-up). Only an SMS
        from the thread's own expert, its handler or its patient can be assigned to it.
        """
        now = self.ctx.clock()
        async with self.db.transaction() as conn:
            inbound = await inbound_db.unresolved_unmatched(conn, inbound_id)
            thread = await threads_db.thread(conn, thread_id)
            if inbound is None or thread is None:
                raise NotFound("inbound" if inbound is None else "thread")
            if Status(thread.status) not in lifecycle.OPEN:
                raise Conflict("assign_closed")
            person = await experts_db.expert_by_phone(conn, inbound.sender)
            if person is None:
                phone = await phones_db.phone(conn, inbound.sender)
                if phone is None or thread.phone_id != phone.id:
                    raise Conflict("assign_sender")
                said = commands.parse_patient(inbound.text)
                text = said.text if isinstance(said, commands.Reply) else inbound.text
                if not text.strip():
                    raise Conflict("assign_empty")
                await self.forwarding.post_follow_up(conn, thread, text, now, inbound_id=inbound_id)
                await inbound_db.resolve_inbound(conn, inbound_id, "followup", thread_id, iso(now))
                await self.db.audit(
                    conn, actor, "inbound.assign", str(inbound_id), {"thread": thread_id}
                )
                log.info("inbound %d: assigned to thread %d by an admin", inbound_id, thread_id)
                return Assigned(codes.format_code(thread.code), answer=False)
            if not policy.may_answer(thread, person.id):
                raise Conflict("assign_sender")
            said = commands.parse_expert(inbound.text)
            answer = inbound.text if isinstance(said, commands.Command) else said.text
            if not answer.strip():
                raise Conflict("assign_empty")
            role = person.role
            waited = await self.forwarding.waiting(conn, thread_id)
            await self.threads.post(conn, thread_id, role, answer, now, inbound_id)
            thread = await self.threads.step(conn, thread, lifecycle.ExpertReplied(), now)
            await self.forwarding.send_waited(conn, thread, waited, now)
            before = await outbox_db.last_outbox_id(conn)
            await self.forwarding.forward_answer(conn, thread, role, answer, now)
            await inbound_db.note_forwarded(conn, inbound_id, thread_id, before)  # (a late part)
            await inbound_db.resolve_inbound(conn, inbound_id, "reply", thread_id, iso(now))
            await self.db.audit(
                conn, actor, "inbound.assign", str(inbound_id), {"thread": thread_id}
            )
        log.info("inbound %d: assigned to thread %d by an admin", inbound_id, thread_id)
        return Assigned(codes.format_code(thread.code), answer=True)

    async def mark_notices_handled(self, actor: str) -> int:
        """An admin has read the operators' and unknown numbers' SMS: their alert clears."""
        async with self.db.transaction() as conn:
            handled = await monitoring.resolve_notices(conn, iso(self.ctx.clock()))
            await self.db.audit(conn, actor, "notices.handled", None, {"count": handled})
        return handled

    async def retry_outbox(self, outbox_id: int, actor: str) -> None:
        """An admin sends a failed SMS again: back in the queue with fresh attempts.

        Refused for a verification code (expired by now), a closed thread, a patient who has
        sent STOP or been erased, and an expert's SMS whose number is no longer the one that
        holds it (the expert left, handed the thread on, or changed numbers). A question waits
        for the expert's quiet hours and pause like any other, and its thread goes with it.
        """
        now = self.ctx.clock()
        async with self.db.transaction() as conn:
            sms = await outbox_db.outbox_row(conn, outbox_id)
            if sms is None or sms.status is not OutboxStatus.FAILED:
                raise NotFound("outbox")
            kind, recipient = sms.kind, sms.recipient
            if not retry.resendable(kind):
                raise Conflict("retry_code")  # a code that comes late has expired
            thread = None
            if sms.thread_id is not None:
                thread = await threads_db.thread(conn, sms.thread_id)
                if thread is not None and Status(thread.status) not in lifecycle.OPEN:
                    raise Conflict("retry_closed")
            not_before = None
            person = await experts_db.expert_by_phone(conn, recipient)
            if person is None:  # a patient or an admin (or a number erased since)
                if await self.sender.refusal(conn, kind, recipient) is not None:
                    raise Conflict("retry_stopped")  # the one recipient rule, as enqueue asks
            else:
                holder = person.id if thread is None else policy.holder(thread)
                if not policy.is_present(person) or person.id != holder:
                    raise Conflict("retry_moved")
                not_before = self.sender.send_time(person, now)
            await outbox_db.requeue(conn, outbox_id, iso(not_before or now))
            if thread is not None and kind == "to_expert":
                if Status(thread.status) is Status.FAILED:
                    thread = await self.threads.step(conn, thread, lifecycle.Released(), now)
                if not_before is not None and Status(thread.status) is Status.QUEUED:
                    await self.threads.step(conn, thread, lifecycle.Held("schedule"), now)
            await self.db.audit(conn, actor, "sms.retry", str(outbox_id), {"kind": kind})
            self.sender.wake_pump()
        log.info("outbox %d: queued again by an admin", outbox_id)
