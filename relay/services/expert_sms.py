"""An SMS from an expert or an assistant: an answer to a thread, a quick reply, or a command
(LIST, pause, resume, 转 #n to the assistant, 升 #n back to the expert, help).

Called by :mod:`.inbound` in the transaction that stores the SMS. The answer is posted, the
thread steps, what waited for the answer goes to the holder and the answer to the patient
(:mod:`.forwarding`), all in that one transaction. An SMS that matches no thread gets the list
of the sender's open codes. It must never log a number or the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from smscat.relay.core import codes, commands, correlation, lifecycle, texts
from smscat.relay.core.care import Escalation
from smscat.relay.core.lifecycle import Status
from smscat.relay.core.types import Expert, Thread
from smscat.relay.services.care_replies import CareReplies
from smscat.relay.services.context import Context
from smscat.relay.services.experts import Experts
from smscat.relay.services.forwarding import Forwarding
from smscat.relay.services.sending import Sender
from smscat.relay.services.thread_ops import ThreadOps
from smscat.storage import care as care_db
from smscat.storage import experts as experts_db
from smscat.storage import threads as threads_db


class ExpertSms:
    """What an expert's or an assistant's SMS does; the inbound path decides whose it is."""

    def __init__(
        self,
        ctx: Context,
        sender: Sender,
        threads: ThreadOps,
        forwarding: Forwarding,
        experts: Experts,
        care: CareReplies,
    ) -> None:
        self.care = care
        self.db = ctx.db
        self.options = ctx.options
        self.sender = sender
        self.threads = threads
        self.forwarding = forwarding
        self.experts = experts

    async def received(
        self,
        conn: aiosqlite.Connection,
        person: Expert,
        text: str,
        inbound_id: int,
        now: datetime,
    ) -> tuple[str, int | None]:
        """An SMS from an expert or an assistant: a command, or an answer to a thread."""
        said = commands.parse_expert(text)
        to = person.phone
        if isinstance(said, commands.Command):
            await self._command(conn, person, said, now)
            return "command", None
        open_threads = await threads_db.open_threads_of_expert(
            conn, person.id, [str(s) for s in lifecycle.OPEN]
        )
        alerts = await care_db.open_escalations_of(conn, person.id)
        # one correlation over both: a thread waits for this person's answer while the
        # patient spoke last; a 随访 escalation waits until acknowledged (its id goes negative)
        found = correlation.correlate(
            [
                *(
                    correlation.OpenThread(
                        t.id, t.code, Status(t.status) in lifecycle.AWAITING_ANSWER
                    )
                    for t in open_threads
                ),
                *(correlation.OpenThread(-e.id, e.code or 0, True) for e in alerts),
            ],
            said.code,
        )
        if found is not None and found.id < 0 and said.quick is None:
            alert = next(e for e in alerts if e.id == -found.id)
            await self.care.acknowledge(conn, person, alert, now)
            return "care_ack", None
        chosen = next((t for t in open_threads if found and t.id == found.id), None)
        answer = said.text
        if said.quick is not None:
            standard = self.options.quick_replies.get(said.quick)
            if standard is None:
                sms = self._say("quick_unknown", name=said.quick)
                await self.sender.enqueue(conn, "notice", to, sms, None, now)
                return "unmatched", None
            answer = f"{standard}\n{said.text}" if said.text else standard
        if chosen is None or not answer:
            await self._list_codes(conn, person, open_threads, now, alerts)
            return "unmatched", None
        thread = chosen
        role = person.role
        waited = await self.forwarding.waiting(conn, thread.id)  # (before the answer)
        await self.threads.post(conn, thread.id, role, answer, now, inbound_id)
        thread = await self.threads.step(conn, thread, lifecycle.ExpertReplied(), now)
        await self.forwarding.send_waited(conn, thread, waited, now)
        await self.forwarding.forward_answer(conn, thread, role, answer, now)
        if person.confirm_replies:
            sms = self._say("reply_confirmed", code=codes.format_code(thread.code))
            await self.sender.enqueue(conn, "notice", to, sms, None, now)
        return "reply", thread.id

    def _say(self, key: str, **params: object) -> str:
        """The SMS ``key`` signed with the department (【dept】), as every system SMS is."""
        return texts.render(key, texts.DEFAULT_LANG, dept=self.options.department, **params)

    async def _items(self, conn: aiosqlite.Connection, threads: list[Thread]) -> str:
        """Each thread as its code and the first words of what waits in it ("#2 胸闷气短…"), so
        that an expert can tell which is which (a code alone says nothing)."""
        items = []
        for thread in threads:
            gist = await self.forwarding.gist(conn, thread)
            items.append(f"{codes.format_code(thread.code)} {gist}")
        return "；".join(items)

    async def _list_codes(
        self,
        conn: aiosqlite.Connection,
        person: Expert,
        open_threads: list[Thread],
        now: datetime,
        alerts: Sequence[Escalation] = (),
    ) -> None:
        """The person's open codes: threads with their first words, then 随访 escalations."""
        items = [await self._items(conn, open_threads)] if open_threads else []
        alert = texts.render("block.care_alert")
        items += [f"{codes.format_code(e.code)} {alert}" for e in alerts if e.code is not None]
        if items:
            sms = self._say("unmatched_list_to_expert", items="；".join(items))
        else:
            sms = self._say("list_empty")
        await self.sender.enqueue(conn, "notice", person.phone, sms, None, now)

    async def _command(
        self,
        conn: aiosqlite.Connection,
        person: Expert,
        command: commands.Command,
        now: datetime,
    ) -> None:
        to = person.phone
        if command.name == "list":  # what still waits for this person's answer
            open_threads = await threads_db.open_threads_of_expert(
                conn, person.id, [str(s) for s in lifecycle.AWAITING_ANSWER]
            )
            if open_threads:
                sms = self._say("list_to_expert", items=await self._items(conn, open_threads))
            else:
                sms = self._say("list_empty")
        elif command.name == "pause":
            hours = command.hours or None
            sms = await self.experts.pause_expert(conn, person, hours, person.id, now)
        elif command.name == "resume":
            sms = await self.experts.resume_expert(conn, person, person.id, now)
        elif command.name in ("transfer", "escalate") and command.code is not None:
            sms = await self._pass_on(conn, person, command.name, command.code, now)
        else:  # help, or 转/升 without a readable code
            sms = self._say("help_to_expert")
        await self.sender.enqueue(conn, "notice", to, sms, None, now)

    async def _pass_on(
        self,
        conn: aiosqlite.Connection,
        person: Expert,
        how: str,
        code: int,
        now: datetime,
    ) -> str:
        """转 #n: an expert gives a thread to their assistant; 升 #n: the assistant escalates
        it to the expert. The receiver gets the thread's latest question; returns the SMS text
        for the sender."""
        held = await threads_db.open_threads_of_expert(
            conn, person.id, [str(s) for s in lifecycle.OPEN]
        )
        thread = next((t for t in held if t.code == code), None)
        if thread is None:
            listing = await self._items(conn, held) or "—"
            return self._say("unmatched_list_to_expert", items=listing)
        expert = await experts_db.expert(conn, thread.expert_id)
        assert expert is not None
        if how == "transfer":
            target = await self.experts.first_holder(conn, expert)
            if target.id == expert.id or person.id != expert.id:
                return self._say("no_assistant")  # (no assistant present to take it)
        else:
            if person.role != "assistant":
                return self._say("help_to_expert")
            target = expert
        await threads_db.set_handler(conn, thread.id, target.id)
        key = "question_to_expert" if how == "transfer" else "escalated_to_expert"
        await self.forwarding.question_again(conn, thread, code, target, now, key=key)
        await self.db.audit(conn, person.id, f"thread.{how}", str(thread.id))
        key = "transferred" if how == "transfer" else "escalated"
        return self._say(key, code=codes.format_code(code))
