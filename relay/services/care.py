"""随访: enrolling patients in follow-up plans, the planner that sends their steps, and the
hospital's events that pause or end them.

A patient is enrolled by staff (the admin page, a CSV of the HIS's discharge list, or the API
for the hospital's systems) with their consent recorded (who, when, how); a number that sent
STOP is never enrolled, and one enrolled twice in a plan is one enrolment. The planner
(:meth:`CarePlans.tick`) asks :func:`smscat.relay.core.care.next_action` for each enrolment that
is due and does it: a step or its reminder through the one enqueue (kind ``care``, which the
recipient rule lets through only with that consent), a call listed, the end. Replies and red
flags are :mod:`.care_replies`'. It must never log a number or a text.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import aiosqlite
from pydantic import ValidationError

from smscat.relay.core import care, care_csv, policy, texts
from smscat.relay.core.care import Enrolment, Plan
from smscat.relay.core.errors import Invalid, NotFound, RelayError
from smscat.relay.core.numbers import find_numbers
from smscat.relay.services.care_record import PlanConfig, parse_plan
from smscat.relay.services.context import Context, mobile, token_hash
from smscat.relay.services.sending import Sender
from smscat.storage import care as care_db
from smscat.storage import experts as experts_db
from smscat.storage import outbox as outbox_db
from smscat.storage import phones as phones_db
from smscat.storage.db import iso

log = logging.getLogger(__name__)

MAX_STEPS_PER_LOOK = 4  # actions done for one enrolment in one look (a step, then its wait)
BATCH = 10  # enrolments planned in one transaction (a board read waits for it: keep it short)
RETRY_BROKEN = timedelta(hours=1)  # an enrolment that could not be planned is looked at again


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrolRequest:
    """One patient to enrol, as staff or a machine typed it (validated by :meth:`enrol_in`)."""

    phone: str = field(repr=False)
    nickname: str = field(repr=False)
    anchor: date
    plan: str
    consent: str  # verbal, written, electronic: how the patient agreed
    doctor_id: str | None = None
    department: str | None = None


@dataclass(frozen=True, slots=True)
class CsvLine:
    """One line of an uploaded list in the preview: its row (None: unreadable), the error keys
    (the reader's, or the relay's refusal), and what enrolling would do with it."""

    line: int
    row: care_csv.CareRow | None
    errors: tuple[str, ...]
    outcome: str = "refused"  # new, already (enrolled before: one enrolment), refused


@dataclass(frozen=True, slots=True)
class CsvPreview:
    lines: tuple[CsvLine, ...]
    file_error: str | None = None  # a key of care_csv.FILE_ERROR_KEYS: no line was read
    file_detail: str | None = None

    def count(self, outcome: str) -> int:
        return sum(1 for line in self.lines if line.outcome == outcome)


@dataclass(frozen=True, slots=True)
class CsvEnrolled:
    """An uploaded list enrolled: the reading, and for each of its rows what became of it."""

    reading: care_csv.CsvReading
    results: tuple[Enrolled | RelayError, ...]


def _csv_mobile(text: str) -> str:
    """The reader's number check: a patient's mobile as E.164, or ValueError."""
    try:
        return mobile(text)
    except Invalid:
        raise ValueError("not a mobile number") from None


def _request(row: care_csv.CareRow, plan: str) -> EnrolRequest:
    return EnrolRequest(
        phone=row.phone,
        nickname=row.nickname,
        anchor=row.anchor,
        plan=row.plan or plan,
        consent=row.consent,
        doctor_id=row.doctor,
    )


class _RolledBack(Exception):
    """Raised to undo a dry run's transaction."""


@dataclass(frozen=True, slots=True)
class Enrolled:
    enrolment: Enrolment
    created: bool  # False: the patient was enrolled in this plan already (one enrolment)


class CarePlans:
    """Enrolment, events and the planner; one per daemon."""

    def __init__(self, ctx: Context, sender: Sender) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.options = ctx.options
        self.sender = sender
        self._parsed: dict[str, tuple[str, Plan]] = {}  # a stored body, parsed once
        self.changed = asyncio.Event()  # set after a commit that may have made something due

    # -- plans -------------------------------------------------------------------------------

    async def plans(self, conn: aiosqlite.Connection) -> dict[str, Plan]:
        """The plans in force: config.yaml's, each replaced by an admin's saved edit."""
        plans = dict(self.options.care.plans)
        for name, body in (await care_db.plan_bodies(conn)).items():
            cached = self._parsed.get(name)
            if cached is None or cached[0] != body:
                try:
                    cached = (body, parse_plan(body))
                except ValidationError:
                    log.error(
                        "care plan %s: the stored edit no longer validates; config's used", name
                    )
                    continue
                self._parsed[name] = cached
            plans[name] = cached[1]
        return plans

    async def save_plan(self, plan: PlanConfig, actor: str) -> None:
        """An admin's edit of a plan: from now on, for every step not sent yet (a sent step
        stays as it went; a removed step is not sent)."""
        async with self.db.transaction() as conn:
            now = iso(self.ctx.clock())
            await care_db.save_plan(conn, plan.name, plan.model_dump_json(), now, actor)
            await self.db.audit(conn, actor, "care.plan_saved", plan.name)

    # -- enrolment ---------------------------------------------------------------------------

    async def enrol(self, request: EnrolRequest, actor: str, source: str) -> Enrolled:
        async with self.db.transaction() as conn:
            return await self.enrol_in(conn, request, actor, source, self.ctx.clock())

    async def enrol_many(
        self, requests: Sequence[EnrolRequest], actor: str, source: str
    ) -> list[Enrolled | RelayError]:
        """Each request enrolled, or the reason it was not, in one transaction."""
        async with self.db.transaction() as conn:
            return await self._each(conn, requests, actor, source)

    async def _each(
        self,
        conn: aiosqlite.Connection,
        requests: Sequence[EnrolRequest],
        actor: str,
        source: str,
    ) -> list[Enrolled | RelayError]:
        results: list[Enrolled | RelayError] = []
        now = self.ctx.clock()
        for request in requests:
            try:
                results.append(await self.enrol_in(conn, request, actor, source, now))
            except RelayError as exc:
                results.append(exc)
        return results

    async def dry_run(
        self, requests: Sequence[EnrolRequest], actor: str, source: str
    ) -> list[Enrolled | RelayError]:
        """What :meth:`enrol_many` would do with ``requests``, done and rolled back: a CSV's
        preview shows every row the relay would refuse (a STOPped number, an unknown doctor),
        and which patients are enrolled already, before anything is kept or sent."""
        results: list[Enrolled | RelayError] = []
        try:
            async with self.db.transaction() as conn:
                results = await self._each(conn, requests, actor, source)
                raise _RolledBack
        except _RolledBack:
            return results

    async def enrol_in(
        self,
        conn: aiosqlite.Connection,
        request: EnrolRequest,
        actor: str,
        source: str,
        now: datetime,
    ) -> Enrolled:
        """Enrol one patient in the caller's transaction; :class:`Invalid` with the field at
        fault otherwise. The patient's number must be one a plan's SMS may go to once consent
        is recorded (:func:`.policy.recipient_refusal`: no code needed, staff vouch for it;
        never staff's), so a number that sent STOP is refused (``phone_stopped``)."""
        plans = await self.plans(conn)
        if request.plan not in plans:
            raise Invalid("plan_unknown", field="plan")
        if request.consent not in care.CONSENT_WAYS:
            raise Invalid("consent_missing", field="consent")
        nickname = request.nickname.strip()
        if not 1 <= len(nickname) <= self.options.max_nickname:
            raise Invalid("nickname_length", field="nickname")
        if find_numbers(nickname):  # it reaches every SMS of the plan
            raise Invalid("nickname_number", field="nickname")
        if request.doctor_id is not None:
            doctor = await experts_db.expert(conn, request.doctor_id)
            if doctor is None:
                raise Invalid("doctor_unknown", field="doctor")
        e164 = mobile(request.phone)
        staff, phone = await phones_db.recipient(conn, e164)
        refused = policy.recipient_refusal(
            "care", e164, phone, is_staff_number=staff, patient=True, confirms=False,
            rules=self.options.text_rules, consented=True,  # (recorded with this enrolment)
        )  # fmt: skip
        if refused is not None:
            raise Invalid(refused, field="phone")
        at = iso(now)
        phone = await phones_db.ensure_phone(conn, e164, at)
        new = care_db.NewEnrolment(
            plan=request.plan,
            phone_id=phone.id,
            nickname=nickname,
            anchor=request.anchor,
            doctor_id=request.doctor_id,
            department=request.department or self.options.department,
            consent_by=actor,
            consent_at=at,
            consent_how=request.consent,
            source=source,
            now=at,
            created_by=actor,
        )
        enrolment, made = await care_db.enrol(conn, new)
        if made:
            subject = str(enrolment.id)
            await self.db.audit(
                conn, actor, "care.enrol", subject, {"plan": request.plan, "source": source}
            )
            await self.db.audit(conn, actor, "care.consent", subject, {"how": request.consent})
            self.wake()
        return Enrolled(enrolment, made)

    # -- a discharge list (CSV) ----------------------------------------------------------------

    def read_csv(self, data: bytes) -> care_csv.CsvReading:
        """The HIS's discharge list read (:func:`.care_csv.read_discharge_list`), numbers as
        the relay reads a patient's (:func:`.context.mobile`)."""
        return care_csv.read_discharge_list(
            data, phone=_csv_mobile, max_nickname=self.options.max_nickname
        )

    async def preview_csv(self, data: bytes, actor: str, plan: str) -> CsvPreview:
        """What enrolling the list would do, row by row, before anything is kept or sent: the
        reader's errors, then the relay's (:meth:`dry_run`) for the rows it read."""
        reading = self.read_csv(data)
        lines: dict[int, CsvLine] = {}
        for error in reading.errors:
            line = lines.get(error.line) or CsvLine(error.line, None, ())
            lines[error.line] = dataclasses.replace(line, errors=(*line.errors, error.key))
        results = await self.dry_run([_request(r, plan) for r in reading.rows], actor, "csv")
        for row, result in zip(reading.rows, results, strict=True):
            if isinstance(result, Enrolled):
                lines[row.line] = CsvLine(row.line, row, (), "new" if result.created else "already")
            else:
                lines[row.line] = CsvLine(row.line, row, (result.key,))
        ordered = tuple(lines[n] for n in sorted(lines))
        return CsvPreview(ordered, reading.file_error, reading.file_detail)

    async def enrol_csv(self, data: bytes, actor: str, plan: str) -> CsvEnrolled:
        """Enrol the rows of the list that read well (the preview showed the rest), and audit
        the upload with its counts (``care.upload``; each enrolment audits itself), in one
        transaction."""
        reading = self.read_csv(data)
        if reading.file_error is not None:
            return CsvEnrolled(reading, ())
        async with self.db.transaction() as conn:
            requests = [_request(r, plan) for r in reading.rows]
            results = await self._each(conn, requests, actor, "csv")
            counts = {"enrolled": 0, "already": 0, "refused": 0}
            for result in results:
                if isinstance(result, Enrolled):
                    counts["enrolled" if result.created else "already"] += 1
                else:
                    counts["refused"] += 1
            unread = len({e.line for e in reading.errors})
            await self.db.audit(conn, actor, "care.upload", plan, {**counts, "unreadable": unread})
        return CsvEnrolled(reading, tuple(results))

    # -- events from the hospital's systems -----------------------------------------------------

    async def event(
        self, phone_raw: str, event: care.Event, actor: str, plan: str | None = None
    ) -> list[int]:
        """``returned`` pauses the patient's running enrolments (of ``plan``, or all),
        ``resumed`` resumes them, ``readmitted``/``deceased``/``opted_out`` end them at once:
        what they had queued is cancelled. The enrolments changed."""
        e164 = mobile(phone_raw)
        async with self.db.transaction() as conn:
            phone = await phones_db.phone(conn, e164)
            if phone is None:
                raise NotFound("enrolment")
            running = await care_db.running_of_phone(conn, phone.id, plan)
            if not running:
                raise NotFound("enrolment")
            return await self.apply_event(conn, running, event, actor, self.ctx.clock())

    async def apply_event(
        self,
        conn: aiosqlite.Connection,
        running: Sequence[Enrolment],
        event: care.Event | str,
        actor: str,
        now: datetime,
    ) -> list[int]:
        """``event`` (or a STOP: ``stop``) done to these enrolments in the caller's transaction."""
        status = care.ended_status(event) if event in care.EVENTS else "cancelled"
        changed = []
        for enrolment in running:
            if not await care_db.set_status(conn, enrolment.id, status, event, iso(now)):
                continue
            changed.append(enrolment.id)
            if status == "paused":
                action = "care.pause"
            elif status == "active":
                action = "care.resume"
            else:
                action = "care.cancel"
            await self.db.audit(conn, actor, action, str(enrolment.id), {"event": event})
        if status != "active":
            for outbox_id in await care_db.queued_sms(conn, changed):
                await outbox_db.cancel_outbox(conn, outbox_id)
        else:
            self.wake()
        return changed

    # -- the planner ---------------------------------------------------------------------------

    def wake(self) -> None:
        """Something may be due now: the planner looks after the commit."""
        self.db.after_commit(self.changed.set)

    async def tick(self, limit: int = 200) -> int:
        """Do what is due for up to ``limit`` enrolments; how many were looked at.

        They are done :data:`BATCH` to a transaction (one commit, not one per patient). An
        enrolment that cannot be planned (a bug, a row gone bad) must not hold up the others,
        which come after it in due order: its batch is done again one by one, and it alone is
        looked at again in :data:`RETRY_BROKEN`, logged by id.
        """
        now = self.ctx.clock()
        async with self.db.reading() as conn:
            due = await care_db.due(conn, iso(now), limit)
            plans = await self.plans(conn)
        for start in range(0, len(due), BATCH):
            batch = due[start : start + BATCH]
            try:
                async with self.db.transaction() as conn:
                    for enrolment in batch:
                        await self._advance(conn, enrolment, plans, now)
            except Exception:  # (re-raised below for anything but one broken enrolment)
                await self._one_by_one(batch, plans, now)
        return len(due)

    async def _one_by_one(
        self, batch: Sequence[Enrolment], plans: dict[str, Plan], now: datetime
    ) -> None:
        for enrolment in batch:
            try:
                async with self.db.transaction() as conn:
                    await self._advance(conn, enrolment, plans, now)
            except Exception:
                log.exception(
                    "care enrolment %d cannot be planned; looked at again later", enrolment.id
                )
                async with self.db.transaction() as conn:
                    await care_db.set_next(conn, enrolment.id, iso(now + RETRY_BROKEN))

    async def next_look(self) -> datetime | None:
        """When an enrolment is due next (None: none is)."""
        async with self.db.reading() as conn:
            at = await care_db.next_due(conn)
        return None if at is None else datetime.fromisoformat(at)

    async def _advance(
        self,
        conn: aiosqlite.Connection,
        enrolment: Enrolment,
        plans: dict[str, Plan],
        now: datetime,
    ) -> None:
        plan = plans.get(enrolment.plan)
        if plan is None:  # the plan left config.yaml: nothing more can go
            await self.apply_event(conn, [enrolment], "plan_gone", "relay", now)
            return
        phone = await phones_db.phone_by_id(conn, enrolment.phone_id)
        assert phone is not None
        window = self.options.care.window
        first_day = enrolment.created_at.astimezone(window.zone).date()
        progress = dataclasses.replace(await care_db.progress(conn, enrolment), first_day=first_day)
        for _ in range(MAX_STEPS_PER_LOOK):
            action = care.next_action(plan, progress, now, window)
            if isinstance(action, care.Wait):
                await care_db.set_next(conn, enrolment.id, iso(action.until))
                return
            if isinstance(action, care.Complete):
                await care_db.set_status(conn, enrolment.id, "completed", None, iso(now))
                await care_db.set_next(conn, enrolment.id, None)
                return
            if isinstance(action, care.ListForCall):
                await care_db.add_call(conn, enrolment.id, action.step.key, iso(now))
                await self.db.audit(conn, "relay", "care.call_listed", str(enrolment.id))
                progress = dataclasses.replace(progress, listed=progress.listed | {action.step.key})
                continue
            kind = "step" if isinstance(action, care.SendStep) else "reminder"
            text = await self._text(conn, enrolment, action.step, kind)
            outbox_id = await self.sender.enqueue(
                conn, "care", phone.e164, text, None, now, guard=False
            )
            if outbox_id is None:
                # the recipient rule refused (STOP since, erased): nothing more can go
                await self.apply_event(conn, [enrolment], "refused", "relay", now)
                return
            await care_db.add_send(conn, enrolment.id, action.step.key, kind, outbox_id, iso(now))
            sent = {**progress.sent, (action.step.key, kind): now}
            progress = dataclasses.replace(progress, sent=sent, last_sent=now)
        await care_db.set_next(conn, enrolment.id, iso(now))  # more is due: the next look

    async def _text(
        self, conn: aiosqlite.Connection, enrolment: Enrolment, step: care.Step, kind: str
    ) -> str:
        values = await self.variables(conn, enrolment)
        if kind == "reminder":  # (the menu only: no second link)
            return texts.render(
                "care_reminder",
                dept=values["dept"],
                nickname=values["nickname"],
                menu=care.menu_line(step),
            )
        if care.uses_link(step):
            values["link"] = await self._link(conn, enrolment, step)
        return care.render(step, values)

    async def variables(self, conn: aiosqlite.Connection, enrolment: Enrolment) -> dict[str, str]:
        """The enrolment's template values (but ``link``): its steps' SMS and its plan's page."""
        doctor = ""
        if enrolment.doctor_id is not None:
            person = await experts_db.expert(conn, enrolment.doctor_id)
            doctor = person.name if person is not None else ""
        return {
            "nickname": enrolment.nickname,
            "dept": self.options.department,
            "doctor": doctor,
            "date": texts.render(
                "block.care_date", month=enrolment.anchor.month, day=enrolment.anchor.day
            ),
        }

    async def _link(self, conn: aiosqlite.Connection, enrolment: Enrolment, step: care.Step) -> str:
        """A fresh link to the plan's page for this send (only the token's hash is kept): the
        page may name the condition, the SMS does not."""
        base = self.options.public_url
        if not base:  # (config.yaml's plans are checked for it; an admin's edit is not)
            raise RuntimeError(f"care plan {enrolment.plan}: {{link}} needs web.public_url")
        token = secrets.token_urlsafe(12)
        at = iso(self.ctx.clock())
        await care_db.add_link(conn, token_hash(token), enrolment.id, step.key, at)
        return f"{base}/f/{token}"
