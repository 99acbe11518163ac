"""随访 replies: a patient's answer to a plan's step, the red flags it raises, and the staff who
must acknowledge them.

A patient's SMS reaches :mod:`.patient_sms`, which correlates it over the phone's open threads
and its running enrolments together (:meth:`CareReplies.items`): the same rule as for threads,
so one running item needs no code, and an enrolment whose step waits for an answer takes a
code-less reply. A menu answer is recorded as data, free text as it came. A warning answer or a
plan's red-flag word escalates: the first present person on the plan's rota gets an SMS with a
code from their own code space (masked both ways: a nickname, never a number), and must answer
it with that code within working hours (:func:`smscat.relay.core.care.add_working`), or it
moves to the next person (:meth:`CareReplies.move_overdue`) and stays on the dashboard until
someone acknowledges it. It must never log a number or a text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from smscat.relay.core import care, codes, policy, texts
from smscat.relay.core.care import Enrolment, Escalation, Plan
from smscat.relay.core.excerpts import first_words
from smscat.relay.core.masking import mask_numbers
from smscat.relay.core.types import Expert, Phone
from smscat.relay.services.care import CarePlans
from smscat.relay.services.context import Context
from smscat.relay.services.sending import Sender
from smscat.storage import care as care_db
from smscat.storage import experts as experts_db
from smscat.storage import threads as threads_db
from smscat.storage.db import iso

log = logging.getLogger(__name__)

ESCALATION_WORDS = 40  # characters of the patient's reply in the escalation SMS


@dataclass(frozen=True, slots=True)
class _Assignee:
    """Who holds an escalation from now: their place on the rota, code and deadline."""

    index: int
    person: Expert | None
    code: int | None
    deadline: datetime

    @property
    def person_id(self) -> str | None:
        return self.person.id if self.person is not None else None


@dataclass(frozen=True, slots=True)
class OpenItem:
    """A running enrolment as a reply may answer it."""

    enrolment: Enrolment
    plan: Plan
    step: care.Step | None  # the latest step sent (None: none yet)
    waiting: bool  # that step asks and was not answered yet


class CareReplies:
    def __init__(self, ctx: Context, sender: Sender, plans: CarePlans) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.options = ctx.options
        self.sender = sender
        self.care = plans

    async def items(self, conn: aiosqlite.Connection, phone: Phone) -> list[OpenItem]:
        """The phone's running enrolments a reply may answer (those that sent a step)."""
        plans = await self.care.plans(conn)
        found = []
        for enrolment in await care_db.running_of_phone(conn, phone.id):
            plan = plans.get(enrolment.plan)
            if plan is None:
                continue
            progress = await care_db.progress(conn, enrolment)
            step = care.current_step(plan, progress)
            if step is None:
                continue
            waiting = step.asks and step.key not in progress.answered
            found.append(OpenItem(enrolment, plan, step, waiting))
        return found

    async def reply(
        self, conn: aiosqlite.Connection, item: OpenItem, text: str, inbound_id: int, now: datetime
    ) -> None:
        """Record the patient's reply to ``item`` and escalate a red flag."""
        reading = care.read_reply(item.plan, item.step, text)
        step = item.step.key if item.step is not None else ""
        enrolment = item.enrolment
        reply_id = await care_db.add_reply(
            conn, enrolment.id, step, inbound_id, text, reading.choice, reading.red_flag,
            reading.keywords, iso(now),
        )  # fmt: skip
        if not reading.red_flag:
            return
        await self.escalate(conn, enrolment, item.plan, reply_id, text, now)
        phone = await care_db.phone_of(conn, enrolment.id)
        sms = texts.render("care_red_flag_to_patient", dept=self.options.department)
        await self.sender.enqueue(conn, "care", phone, sms, None, now, guard=False)

    async def escalate(
        self,
        conn: aiosqlite.Connection,
        enrolment: Enrolment,
        plan: Plan,
        reply_id: int,
        text: str,
        now: datetime,
    ) -> None:
        """A red flag to the first present person on the rota (the dashboard when none is)."""
        to = await self._assignee(conn, care.rota_of(plan, enrolment.doctor_id), -1, now)
        escalation_id = await care_db.add_escalation(
            conn, enrolment.id, reply_id, to.person_id, to.code, to.index, iso(now),
            iso(to.deadline),
        )  # fmt: skip
        detail = {"to": to.person_id}
        await self.db.audit(conn, "relay", "care.escalation", str(escalation_id), detail)
        await self._tell(conn, to, enrolment, plan, text, now)

    async def move_overdue(self) -> int:
        """Escalations nobody acknowledged by their deadline go to the next present person on
        the rota (or to nobody: the dashboard lists them); how many moved."""
        now = self.ctx.clock()
        moved = 0
        async with self.db.reading() as conn:
            if not await care_db.overdue_escalations(conn, iso(now)):
                return 0  # (the usual case: no write transaction for nothing)
        async with self.db.transaction() as conn:
            plans = await self.care.plans(conn)
            for escalation in await care_db.overdue_escalations(conn, iso(now)):
                enrolment = await care_db.enrolment(conn, escalation.enrolment_id)
                assert enrolment is not None
                plan = plans.get(enrolment.plan)
                rota = care.rota_of(plan, enrolment.doctor_id) if plan else ()
                to = await self._assignee(conn, rota, escalation.rota_index, now)
                await care_db.reassign_escalation(
                    conn, escalation.id, to.person_id, to.code, to.index, iso(now),
                    iso(to.deadline),
                )  # fmt: skip
                detail = {"from": escalation.person_id, "to": to.person_id}
                await self.db.audit(
                    conn, "relay", "care.escalation_moved", str(escalation.id), detail
                )
                if plan is not None:
                    text = await care_db.reply_text(conn, escalation.reply_id)
                    await self._tell(conn, to, enrolment, plan, text, now)
                moved += 1
        return moved

    async def acknowledge(
        self,
        conn: aiosqlite.Connection,
        person: Expert,
        escalation: Escalation,
        now: datetime,
    ) -> None:
        """``person`` answered the escalation's SMS with its code: acknowledged."""
        if not await care_db.ack_escalation(conn, escalation.id, person.id, iso(now)):
            return
        await self.db.audit(conn, person.id, "care.escalation_ack", str(escalation.id))
        assert escalation.code is not None
        sms = texts.render(
            "care_ack_confirmed",
            dept=self.options.department,
            code=codes.format_code(escalation.code),
        )
        await self.sender.enqueue(conn, "notice", person.phone, sms, None, now)

    async def acknowledge_on_page(self, escalation_id: int, actor: str) -> bool:
        """An admin or a nurse acknowledged it on the dashboard."""
        async with self.db.transaction() as conn:
            done = await care_db.ack_escalation(conn, escalation_id, actor, iso(self.ctx.clock()))
            if done:
                await self.db.audit(conn, actor, "care.escalation_ack", str(escalation_id))
        return done

    async def call_done(self, call_id: int, actor: str) -> bool:
        """A nurse called a patient who answered no SMS, and says so."""
        async with self.db.transaction() as conn:
            done = await care_db.call_done(conn, call_id, actor, iso(self.ctx.clock()))
            if done:
                await self.db.audit(conn, actor, "care.call_done", str(call_id))
        return done

    # -- helpers -------------------------------------------------------------------------------

    async def _assignee(
        self, conn: aiosqlite.Connection, rota: tuple[str, ...], after: int, now: datetime
    ) -> _Assignee:
        """Who on ``rota`` after position ``after`` gets an escalation now (the next present
        person; nobody, at ``after``, when none is left), with their code and deadline."""
        present: dict[str, Expert] = {}
        for person_id in rota[after + 1 :]:
            person = await experts_db.expert(conn, person_id)
            if person is not None and policy.is_present(person):
                present[person_id] = person
        deadline = care.add_working(now, self.options.care.ack_within, self.options.care.hours)
        index = care.rota_next(rota, after, present)
        if index is None:
            return _Assignee(after, None, None, deadline)
        person = present[rota[index]]
        since = iso(now - codes.REUSE_AFTER)
        code = codes.allocate(await threads_db.codes_in_use(conn, {person.id}, None, since))
        return _Assignee(index, person, code, deadline)

    async def _tell(
        self,
        conn: aiosqlite.Connection,
        to: _Assignee,
        enrolment: Enrolment,
        plan: Plan,
        text: str,
        now: datetime,
    ) -> None:
        """The escalation's SMS to whoever holds it now (nobody: the dashboard only)."""
        person, code, deadline = to.person, to.code, to.deadline
        if person is None or code is None:
            return
        local = deadline.astimezone(self.options.zone)
        sms = texts.render(
            "care_escalation_to_staff",
            dept=self.options.department,
            code=codes.format_code(code),
            nickname=enrolment.nickname,
            plan=plan.title,
            text=first_words(mask_numbers(text), ESCALATION_WORDS),
            deadline=f"{local.month}月{local.day}日 {local:%H:%M}",
        )
        not_before = self.sender.send_time(person, now)
        await self.sender.enqueue(
            conn, "to_expert", person.phone, sms, None, now, not_before=not_before
        )
