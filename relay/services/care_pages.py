"""随访 as the admin pages show it: the open escalations, the calls to make, the enrolments, the
plans in force; and the few things the page does besides enrolling (:mod:`.care`) and
acknowledging (:mod:`.care_replies`): a patient's number shown on request, audited with who read
it (the issue wants the log to say who read an escalation); an enrolment cancelled by an admin;
a plan's edit checked and saved.

Outer ring of the relay, beside :mod:`.oversight`. What it returns for display carries a
patient's number only as its last four digits, and their words with any number in them masked;
the whole number leaves only through :meth:`CarePages.escalation_number` and
:meth:`CarePages.call_number`, each audited.

It must never: log a number, a nickname or a reply, or put one into an exception.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

import aiosqlite
from pydantic import ValidationError

from smscat.relay.core import care
from smscat.relay.core.care import Enrolment, Plan
from smscat.relay.core.errors import Invalid, NotFound
from smscat.relay.core.masking import mask_numbers, number_tail
from smscat.relay.services.care_record import CareConfig, PlanConfig, StepConfig, link_problem
from smscat.relay.services.management import local_time, page_number
from smscat.relay.services.relay import Relay
from smscat.storage import care as care_db
from smscat.storage import care_reads
from smscat.storage import experts as experts_db

ENROLMENTS_PER_PAGE: Final = 50
OPEN_SHOWN: Final = 200  # escalations and calls listed at most (the count says how many more)
_ERASED = "erased:"


def phone_tail(e164: str) -> str:
    """The last four digits of a number, as the pages show it ("" for an erased one)."""
    return number_tail(e164)


@dataclass(frozen=True, slots=True)
class EscalationEntry:
    id: int
    enrolment_id: int
    nickname: str = field(repr=False)  # numbers masked
    plan: str  # the plan's title
    reply: str = field(repr=False)  # the patient's words, numbers masked
    answer: str  # the menu answer's label ("加重"), "" for free text
    keywords: tuple[str, ...]  # red-flag words found
    person: str | None  # who holds it; None: nobody left on the rota
    raised: str  # local
    deadline: str  # local
    overdue: bool
    phone_tail: str


@dataclass(frozen=True, slots=True)
class CallEntry:
    id: int
    enrolment_id: int
    nickname: str = field(repr=False)
    plan: str
    step: str
    day: int | None  # the step's day after the anchor (None: the step left the plan)
    listed: str  # local
    phone_tail: str


@dataclass(frozen=True, slots=True)
class EnrolmentEntry:
    id: int
    nickname: str = field(repr=False)
    phone_tail: str
    plan: str  # title
    anchor: str  # YYYY-MM-DD
    status: str  # active, paused, completed, cancelled
    ended_reason: str | None
    next_step: int | None  # the day of the next step to go (None: none left, or ended)
    next_on: str  # that step's date, local ("" for none)
    doctor: str | None
    created: str  # local
    running: bool


@dataclass(frozen=True, slots=True)
class Open:
    """Open escalations or calls: those shown, and how many there are."""

    escalations: list[EscalationEntry]
    escalations_total: int
    calls: list[CallEntry]
    calls_total: int


@dataclass(frozen=True, slots=True)
class EnrolmentsPage:
    enrolments: list[EnrolmentEntry]
    total: int
    page: int
    pages: int


class PlanInvalid(Invalid):
    """A plan's edit that does not validate: where (``steps.1.text``) and pydantic's words."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__("plan_invalid", field="body")
        self.where = where
        self.problem = problem


def plan_config(plan: Plan) -> PlanConfig:
    """The core's plan as the form edits it (config.yaml's shape)."""
    day = 86400.0
    return PlanConfig(
        name=plan.name,
        title=plan.title,
        steps=[
            StepConfig(
                key=s.key,
                day=s.day,
                text=s.text,
                menu=dict(s.menu),
                warn=[k for k, _ in s.menu if k in s.warn],
            )
            for s in plan.steps
        ],
        keywords=list(plan.keywords),
        rota=list(plan.rota),
        remind_after_days=plan.remind_after.total_seconds() / day,
        call_after_days=plan.call_after.total_seconds() / day,
    )


def _first_problem(exc: ValidationError) -> PlanInvalid:
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return PlanInvalid(where, mask_numbers(str(first["msg"])))


class CarePages:
    """The 随访 page's reads and its own few actions."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.db = relay.db

    def _local(self, at: datetime | None) -> str:
        return local_time(at, self.relay.options.zone)

    async def plans(self) -> dict[str, Plan]:
        async with self.db.reading() as conn:
            return await self.relay.care.plans(conn)

    async def doctors(self) -> list[tuple[str, str]]:
        """Who may be named an enrolment's doctor: the experts present, by name (id, name)."""
        return [(p.id, p.name) for p in await experts_db.experts(self.db)]

    async def open_items(self, limit: int = OPEN_SHOWN) -> Open:
        """The escalations still to acknowledge and the calls still to make, oldest first."""
        now = self.relay.clock()
        async with self.db.reading() as conn:
            plans = await self.relay.care.plans(conn)
            escalations, escalations_total = await care_reads.open_escalations(conn, limit)
            calls, calls_total = await care_reads.open_calls(conn, limit)
        return Open(
            [self._escalation(r, plans, now) for r in escalations],
            escalations_total,
            [self._call(r, plans) for r in calls],
            calls_total,
        )

    def _escalation(
        self, row: care_reads.EscalationRow, plans: dict[str, Plan], now: datetime
    ) -> EscalationEntry:
        plan = plans.get(row.plan)
        step = plan.step(row.step) if plan is not None else None
        answer = dict(step.menu).get(row.choice, "") if step and row.choice else ""
        found = json.loads(row.keywords)
        x = row.escalation
        return EscalationEntry(
            id=x.id,
            enrolment_id=x.enrolment_id,
            nickname=mask_numbers(row.nickname),
            plan=plan.title if plan is not None else row.plan,
            reply=mask_numbers(row.reply),
            answer=answer,
            keywords=tuple(str(w) for w in found) if isinstance(found, list) else (),
            person=row.person_name if x.person_id is not None else None,
            raised=self._local(x.raised_at),
            deadline=self._local(x.deadline_at),
            overdue=x.deadline_at <= now,
            phone_tail=phone_tail(row.phone),
        )

    def _call(self, row: care_reads.CallRow, plans: dict[str, Plan]) -> CallEntry:
        plan = plans.get(row.plan)
        step = plan.step(row.step) if plan is not None else None
        return CallEntry(
            id=row.id,
            enrolment_id=row.enrolment_id,
            nickname=mask_numbers(row.nickname),
            plan=plan.title if plan is not None else row.plan,
            step=row.step,
            day=step.day if step is not None else None,
            listed=self._local(row.listed_at),
            phone_tail=phone_tail(row.phone),
        )

    async def enrolments(self, page: int = 1) -> EnrolmentsPage:
        """Enrolments, newest first, :data:`ENROLMENTS_PER_PAGE` a page."""
        page = page_number(page)
        async with self.db.reading() as conn:
            plans = await self.relay.care.plans(conn)
            rows, total = await care_reads.enrolments_page(
                conn, ENROLMENTS_PER_PAGE, (page - 1) * ENROLMENTS_PER_PAGE
            )
            sent = await care_reads.steps_sent(conn, [r.enrolment.id for r in rows])
        entries = []
        for row in rows:
            e = row.enrolment
            plan = plans.get(e.plan)
            step = self._next_step(e, plan, sent[e.id])
            entries.append(
                EnrolmentEntry(
                    id=e.id,
                    nickname=mask_numbers(e.nickname),
                    phone_tail=phone_tail(row.phone),
                    plan=plan.title if plan is not None else e.plan,
                    anchor=e.anchor.isoformat(),
                    status=e.status,
                    ended_reason=e.ended_reason,
                    next_step=step.day if step is not None else None,
                    next_on=(e.anchor + timedelta(days=step.day)).isoformat() if step else "",
                    doctor=row.doctor_name,
                    created=self._local(e.created_at),
                    running=e.status in care.RUNNING,
                )
            )
        pages = max(1, math.ceil(total / ENROLMENTS_PER_PAGE))
        return EnrolmentsPage(entries, total, page, pages)

    def _next_step(self, e: Enrolment, plan: Plan | None, sent: set[str]) -> care.Step | None:
        """The plan's next step still to go for a running enrolment (the planner's rule: none
        due before the day the patient was enrolled)."""
        if plan is None or e.status not in care.RUNNING:
            return None
        first = e.created_at.astimezone(self.relay.options.care.window.zone).date()
        return care.next_step(plan, e.anchor, first, sent)

    # -- a number, on request and audited ---------------------------------------------------------

    async def escalation_number(self, escalation_id: int, actor: str) -> str:
        """The patient's whole number for an escalation; the audit log records who read it."""
        async with self.db.transaction() as conn:
            e164 = await self._number(conn, "escalation", escalation_id)
            await self.db.audit(conn, actor, "care.escalation_read", str(escalation_id))
        return e164

    async def call_number(self, call_id: int, actor: str) -> str:
        """The patient's whole number for a call listed; audited as the escalation's is."""
        async with self.db.transaction() as conn:
            e164 = await self._number(conn, "call", call_id)
            await self.db.audit(conn, actor, "care.call_read", str(call_id))
        return e164

    @staticmethod
    async def _number(conn: aiosqlite.Connection, what: care_reads.Listed, row_id: int) -> str:
        e164 = await care_reads.listed_phone(conn, what, row_id)
        if e164 is None or e164.startswith(_ERASED):
            raise NotFound(what)
        return e164

    # -- changes the page makes -------------------------------------------------------------------

    async def cancel(self, enrolment_id: int, actor: str) -> bool:
        """An admin ends an enrolment (the patient opted out): what it had queued is cancelled.
        False when it had ended already."""
        async with self.db.transaction() as conn:
            enrolment = await care_db.enrolment(conn, enrolment_id)
            if enrolment is None:
                raise NotFound("enrolment")
            changed = await self.relay.care.apply_event(
                conn, [enrolment], "opted_out", actor, self.relay.clock()
            )
        return bool(changed)

    async def plan_json(self, name: str) -> str:
        """The plan in force as the edit form shows it (JSON, two-space indent)."""
        plan = (await self.plans()).get(name)
        if plan is None:
            raise NotFound("plan")
        return plan_config(plan).model_dump_json(indent=2)

    async def save_plan(self, name: str, body: str, actor: str) -> None:
        """An admin's edit of plan ``name``: checked as config.yaml's plans are
        (:class:`PlanInvalid` with the first problem), its name kept, then saved."""
        if name not in await self.plans():
            raise NotFound("plan")
        try:
            plan = PlanConfig.model_validate_json(body)
        except ValidationError as exc:
            raise _first_problem(exc) from None
        if plan.name != name:
            raise Invalid("plan_renamed", field="body")
        problem = link_problem(CareConfig(plans=[plan]), self.relay.options.public_url)
        if problem is not None:  # ({link} needs web.public_url: the planner could not send it)
            raise PlanInvalid("page", problem)
        await self.relay.care.save_plan(plan, actor)
