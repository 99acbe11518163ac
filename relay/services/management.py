"""What an admin manages on the web: experts, the public board, monthly statistics, the audit log.

Outer ring of the relay, beside :mod:`.service`: it runs the admin's decisions inside storage
transactions and audits each change (actor ``admin:<username>``).

* :class:`ExpertDirectory`: experts and assistants listed with their controls; added (owned by
  no config, welcomed by SMS), edited (through :meth:`Database.admin_edit_expert`, so config.yaml
  stops owning what was edited), paused and resumed as the SMS commands 暂停/恢复 do, and taken
  off the board with a hand-off (:meth:`Relay.handoff`). A form is checked with the very rules
  config.yaml's experts are checked with (``ExpertConfig``), plus what
  only the database knows (ids and numbers in use, who is an assistant).
* :class:`Moderation`: threads by expert, status and id; public ones hidden from the board.
* :class:`Statistics`: a month's figures as ``smscat report`` computes them, and its CSV bytes.
* :class:`AuditLog`: the log, newest first, filtered; dates are local to the department.

It must never: put a phone number into an audit entry, a log line, an exception or anything it
returns for display (an expert's number leaves only in :class:`ExpertEntry`, whose repr hides
it, for the web to show its last four digits).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final

import aiosqlite
from pydantic import ValidationError

from smscat.relay.core.errors import Conflict, Invalid, NotFound
from smscat.relay.core.lifecycle import OPEN, Status
from smscat.relay.core.masking import mask_numbers
from smscat.relay.core.stats import FIRST_YEAR, LAST_YEAR, month_period
from smscat.relay.services.expert_record import ExpertConfig
from smscat.relay.services.reporting import MonthReport, csv_bytes, month_report
from smscat.relay.services.service import FOREVER, Relay, iso
from smscat.storage import admin as store
from smscat.storage import experts as experts_db
from smscat.storage import threads as threads_db
from smscat.storage.db import ExpertRow

log = logging.getLogger(__name__)

THREADS_PER_PAGE: Final = 30
AUDIT_PER_PAGE: Final = 50
MAX_PAUSE_HOURS: Final = 720  # thirty days; longer is "until resumed"
MAX_PAGE: Final = 10_000
_OPEN = tuple(sorted(str(s) for s in OPEN))
_WINDOW_SEPARATORS = re.compile(r"[\s,，;；、]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# ExpertConfig's fields → the admin.error.<key> that says what is wrong with each
_FIELD_ERRORS: Final = {
    "id": "expert_id",
    "name": "name",
    "title": "title",
    "department": "department",
    "phone": "phone",
    "specialty": "specialty",
    "role": "role",
    "assistant": "assistant",
    "quiet_hours": "quiet_hours",
    "daily_cap": "daily_cap",
}


class FormInvalid(Invalid):
    """A form with wrong fields: ``problems`` maps each field to its ``admin.error.<key>``."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("form_invalid", field=next(iter(problems), None))
        self.problems = dict(problems)


def _local(at: str | None, relay: Relay, spec: str = "%Y-%m-%d %H:%M") -> str:
    if not at:
        return ""
    return datetime.fromisoformat(at).astimezone(relay.options.zone).strftime(spec)


def _page(page: int) -> int:
    return min(max(page, 1), MAX_PAGE)


# -- experts --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExpertForm:
    """An expert as typed into the admin's form (strings as typed, ticks as booleans).

    ``phone`` empty on an edit keeps the number; ``id`` is read on an add only.
    """

    name: str
    title: str
    department: str
    phone: str = field(repr=False)
    specialty: str = ""
    role: str = "expert"
    assistant: str = ""
    quiet_hours: str = ""  # "22:00-07:30, 12:00-13:30"
    daily_cap: str = ""  # empty: no cap
    confirm_replies: bool = False
    digest: bool = True
    id: str = ""


@dataclass(frozen=True, slots=True)
class ExpertEntry:
    """An expert or assistant as the admin's pages show them."""

    id: str
    name: str
    title: str
    department: str
    specialty: str | None
    role: str
    assistant_id: str | None
    assistant_name: str | None
    quiet_hours: tuple[str, ...]
    daily_cap: int | None
    confirm_replies: bool
    digest: bool
    paused: bool
    paused_forever: bool
    paused_until: str  # local time, "" when not paused (or paused until resumed)
    left: bool
    left_at: str  # local time, "" while present
    open_threads: int
    config_owned: tuple[str, ...]
    phone: str = field(repr=False)  # E.164: the web shows the last four digits only

    def form(self) -> ExpertForm:
        """The entry as the edit form shows it (no number: it is never shown)."""
        return ExpertForm(
            name=self.name,
            title=self.title,
            department=self.department,
            phone="",
            specialty=self.specialty or "",
            role=self.role,
            assistant=self.assistant_id or "",
            quiet_hours=", ".join(self.quiet_hours),
            daily_cap="" if self.daily_cap is None else str(self.daily_cap),
            confirm_replies=self.confirm_replies,
            digest=self.digest,
            id=self.id,
        )


class ExpertDirectory:
    """Experts and assistants for the admin: one per daemon, around its :class:`Relay`."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.db = relay.db

    def _entry(self, row: aiosqlite.Row, now: datetime) -> ExpertEntry:
        until = row["paused_until"]
        paused = until is not None and datetime.fromisoformat(until) > now
        forever = paused and datetime.fromisoformat(until) >= FOREVER
        return ExpertEntry(
            id=row["id"],
            name=row["name"],
            title=row["title"],
            department=row["department"],
            specialty=row["specialty"],
            role=row["role"],
            assistant_id=row["assistant_id"],
            assistant_name=row["assistant_name"],
            quiet_hours=tuple(json.loads(row["quiet_hours"] or "[]")),
            daily_cap=row["daily_cap"],
            confirm_replies=bool(row["confirm_replies"]),
            digest=bool(row["digest"]),
            paused=paused,
            paused_forever=forever,
            paused_until=_local(until, self.relay) if paused and not forever else "",
            left=row["left_at"] is not None or not row["active"],
            left_at=_local(row["left_at"], self.relay),
            open_threads=int(row["open_threads"]),
            config_owned=tuple(json.loads(row["config_fields"])),
            phone=row["phone"],
        )

    async def entries(self) -> list[ExpertEntry]:
        """Everyone, present first (experts, then assistants), then those who left."""
        now = self.relay.clock()
        return [self._entry(r, now) for r in await store.experts_overview(self.db, _OPEN)]

    async def entry(self, expert_id: str) -> ExpertEntry:
        for entry in await self.entries():
            if entry.id == expert_id:
                return entry
        raise NotFound("expert")

    def _checked(self, form: ExpertForm, expert_id: str, phone: str) -> ExpertConfig:
        """The form through config.yaml's rules for an expert; FormInvalid naming each field."""
        data: dict[str, Any] = {
            "id": expert_id,
            "name": form.name.strip(),
            "title": form.title.strip(),
            "department": form.department.strip(),
            "phone": phone,
            "specialty": form.specialty.strip() or None,
            "role": form.role,
            "assistant": form.assistant.strip() or None,
            "quiet_hours": [w for w in _WINDOW_SEPARATORS.split(form.quiet_hours) if w],
            "daily_cap": form.daily_cap.strip() or None,
            "confirm_replies": form.confirm_replies,
            "digest": form.digest,
        }
        cap = data["daily_cap"]
        problems: dict[str, str] = {}
        if cap is not None and not (cap.isascii() and cap.isdigit() and len(cap) <= 4):
            problems["daily_cap"] = "daily_cap"  # only plain digits: not "1e3", not "5.0"
        try:
            config = ExpertConfig.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else ""
                problems.setdefault(name, _FIELD_ERRORS.get(name, "bad_form"))
            raise FormInvalid(problems) from None
        if problems:
            raise FormInvalid(problems)
        if config.role == "assistant" and config.assistant:
            raise FormInvalid({"assistant": "assistant_of_assistant"})
        if config.assistant == expert_id:
            raise FormInvalid({"assistant": "assistant"})
        return config

    async def _check_people(
        self,
        conn: aiosqlite.Connection,
        config: ExpertConfig,
        current: aiosqlite.Row | None,
    ) -> None:
        """What only the database knows: numbers in use, who is an assistant, who relies on it."""
        problems: dict[str, str] = {}
        owner = await experts_db.expert_by_phone(conn, config.phone)
        if owner is not None and (current is None or owner["id"] != current["id"]):
            problems["phone"] = "phone_taken"
        if config.assistant:
            assistant = await experts_db.expert(conn, config.assistant)
            if (
                assistant is None
                or assistant["role"] != "assistant"
                or assistant["left_at"] is not None
                or not assistant["active"]
            ):
                problems["assistant"] = "assistant"
        if current is not None and current["role"] != config.role:
            if current["role"] == "assistant" and await store.experts_naming_assistant(
                conn, current["id"]
            ):
                problems["role"] = "role_in_use"
            owned = await threads_db.threads_owned_by(conn, current["id"], _OPEN)
            if current["role"] == "expert" and owned:
                problems["role"] = "role_busy"
        if problems:
            raise FormInvalid(problems)

    async def add(self, form: ExpertForm, actor: str) -> str:
        """A new expert or assistant, owned by no config; welcomed by SMS. Returns the id."""
        expert_id = form.id.strip()
        config = self._checked(form, expert_id, form.phone)
        now = self.relay.clock()
        try:
            async with self.db.transaction() as conn:
                if await experts_db.expert(conn, expert_id) is not None:
                    raise FormInvalid({"id": "id_taken"})
                await self._check_people(conn, config, None)
                await store.insert_expert(conn, expert_row(config), iso(now))
                await self.db.audit(conn, actor, "expert.add", expert_id, {"role": config.role})
        except aiosqlite.IntegrityError:  # another admin, at the same moment
            raise FormInvalid({"id": "id_taken"}) from None
        log.info("expert %s added by an admin", expert_id)
        await self.relay.welcome_new()
        return expert_id

    async def edit(self, expert_id: str, form: ExpertForm, actor: str) -> list[str]:
        """Save what changed (config.yaml no longer owns it); return the changed fields.

        One transaction reads, checks, writes and readdresses what waits for a new number, so
        no question arrives (or SMS goes out) between the checks and the change.
        """
        try:
            async with self.db.transaction() as conn:
                current = await experts_db.expert(conn, expert_id)
                if current is None:
                    raise NotFound("expert")
                config = self._checked(form, expert_id, form.phone.strip() or current["phone"])
                await self._check_people(conn, config, current)
                changes = _changes(current, config)
                if not changes:
                    return []
                await self.db.edit_expert(conn, expert_id, actor, changes)
                if "phone" in changes:
                    # what waits for the old number goes to the new one (not patients' answers)
                    await store.redirect_queued(
                        conn, current["phone"], changes["phone"], ("to_expert", "notice")
                    )
                    self.relay.wake_pump()
        except aiosqlite.IntegrityError:  # the number was taken meanwhile
            raise FormInvalid({"phone": "phone_taken"}) from None
        log.info("expert %s edited by an admin: %s", expert_id, ", ".join(sorted(changes)))
        return sorted(changes)

    async def pause(self, expert_id: str, hours: int | None, actor: str) -> None:
        """No new question reaches the expert for ``hours`` (None: until resumed), like 暂停."""
        if hours is not None and not 1 <= hours <= MAX_PAUSE_HOURS:
            raise FormInvalid({"hours": "pause_hours"})
        now = self.relay.clock()
        async with self.db.transaction() as conn:
            person = await self._present(conn, expert_id)
            sms = await self.relay.pause_expert(conn, person, hours, actor, now)
            await self._tell(conn, person, sms, now)

    async def resume(self, expert_id: str, actor: str) -> None:
        """The pause ends now, like 恢复: what it held goes (after quiet hours)."""
        now = self.relay.clock()
        async with self.db.transaction() as conn:
            person = await self._present(conn, expert_id)
            paused_until = person["paused_until"]
            if paused_until is None or datetime.fromisoformat(paused_until) <= now:
                raise Conflict("not_paused")
            sms = await self.relay.resume_expert(conn, person, actor, now)
            await self._tell(conn, person, sms, now)

    async def leave(self, expert_id: str, colleague_id: str, actor: str) -> int:
        """The expert leaves: open threads go to ``colleague_id`` (:meth:`Relay.handoff`)."""
        if not colleague_id:
            raise FormInvalid({"to": "colleague_required"})
        async with self.db.reading() as conn:
            person = await self._present(conn, expert_id)
            if person["role"] == "assistant" and (
                await store.experts_naming_assistant(conn, expert_id)
                or await store.threads_held(conn, expert_id, _OPEN)
            ):
                raise Conflict("assistant_busy")
        return await self.relay.handoff(expert_id, colleague_id, actor)

    async def _present(self, conn: aiosqlite.Connection, expert_id: str) -> aiosqlite.Row:
        person = await experts_db.expert(conn, expert_id)
        if person is None:
            raise NotFound("expert")
        if person["left_at"] is not None or not person["active"]:
            raise Conflict("already_left")
        return person

    async def _tell(
        self, conn: aiosqlite.Connection, person: aiosqlite.Row, sms: str, now: datetime
    ) -> None:
        """An SMS to the expert about their controls (after their quiet hours; not held)."""
        await self.relay.enqueue(
            conn, "notice", person["phone"], sms, None, now,
            not_before=self.relay.quiet_until(person, now),
        )  # fmt: skip


def _changes(current: aiosqlite.Row, config: ExpertConfig) -> dict[str, Any]:
    """The stored fields an edit changes, as they are to be stored."""
    wanted = expert_row(config)
    changes: dict[str, Any] = {}
    for name in ("name", "title", "department", "phone", "specialty", "role"):
        if current[name] != getattr(wanted, name):
            changes[name] = getattr(wanted, name)
    if current["assistant_id"] != wanted.assistant_id:
        changes["assistant_id"] = wanted.assistant_id
    if json.loads(current["quiet_hours"] or "[]") != list(config.quiet_hours):
        changes["quiet_hours"] = wanted.quiet_hours
    for name in ("daily_cap", "confirm_replies", "digest"):
        if current[name] != getattr(wanted, name):
            changes[name] = getattr(wanted, name)
    return changes


def expert_row(config: ExpertConfig) -> ExpertRow:
    """An expert as stored: from config.yaml at start, or from the admin's form."""
    return ExpertRow(
        config.id,
        config.name,
        config.title,
        config.department,
        config.phone,
        config.specialty,
        role=config.role,
        assistant_id=config.assistant,
        quiet_hours=json.dumps(config.quiet_hours),
        daily_cap=config.daily_cap,
        confirm_replies=int(config.confirm_replies),
        digest=int(config.digest),
    )


# -- moderation -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    id: int
    expert_id: str
    expert_name: str
    nickname: str  # numbers masked
    status: str
    public: bool
    hidden: bool
    question: str  # the first message as public pages show it (numbers masked)
    created_at: str  # local
    last_message_at: str  # local


@dataclass(frozen=True, slots=True)
class ThreadsPage:
    threads: list[ThreadEntry]
    total: int
    page: int
    pages: int


class Moderation:
    """Threads for the admin, and hiding public ones from the board."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.db = relay.db

    async def threads(
        self, *, expert_id: str = "", status: str = "", search: str = "", page: int = 1
    ) -> ThreadsPage:
        """Newest first; ``search`` is a thread's id (``#`` allowed before it)."""
        if status and status not in {str(s) for s in Status}:
            raise FormInvalid({"status": "status"})
        wanted_id = None
        search = search.strip().removeprefix("#").strip()
        if search:
            if not (search.isascii() and search.isdigit() and len(search) <= 18):
                raise FormInvalid({"q": "thread_search"})
            wanted_id = int(search)
        page = _page(page)
        found = await store.threads_page(
            self.db,
            store.ThreadFilter(expert_id or None, status or None, wanted_id),
            THREADS_PER_PAGE,
            (page - 1) * THREADS_PER_PAGE,
        )
        threads = [
            ThreadEntry(
                id=int(r["id"]),
                expert_id=r["expert_id"],
                expert_name=r["expert_name"],
                nickname=mask_numbers(str(r["nickname"])),
                status=r["status"],
                public=bool(r["public"]),
                hidden=bool(r["hidden"]),
                question=str(r["question"] or ""),
                created_at=_local(r["created_at"], self.relay),
                last_message_at=_local(r["last_message_at"], self.relay),
            )
            for r in found.rows
        ]
        pages = max(1, math.ceil(found.total / THREADS_PER_PAGE))
        return ThreadsPage(threads, found.total, page, pages)

    async def set_hidden(self, thread_id: int, hidden: bool, actor: str) -> bool:
        """Hide a public thread from the board (or show it again); False when it already was."""
        async with self.db.transaction() as conn:
            thread = await threads_db.thread(conn, thread_id)
            if thread is None:
                raise NotFound("thread")
            if not thread["public"]:
                raise Conflict("thread_private")
            if bool(thread["hidden"]) == hidden:
                return False
            await store.set_hidden(conn, thread_id, hidden)
            action = "thread.hide" if hidden else "thread.unhide"
            await self.db.audit(conn, actor, action, str(thread_id))
        log.info("thread %d: %s by an admin", thread_id, "hidden" if hidden else "shown")
        return True


# -- statistics -----------------------------------------------------------------------------------


class Statistics:
    """A month's figures as ``smscat report --month`` computes them (:mod:`.reporting`)."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    @property
    def timezone(self) -> str:
        return self.relay.options.zone_name

    def current_month(self) -> str:
        return self.relay.clock().astimezone(self.relay.options.zone).strftime("%Y-%m")

    async def month(self, month: str) -> MonthReport:
        try:
            month_period(month, self.timezone)
        except ValueError:
            raise FormInvalid({"month": "month"}) from None
        return await month_report(
            self.relay.db,
            month,
            timezone=self.timezone,
            department=self.relay.options.department,
        )


def neighbour_months(month: str) -> tuple[str, str]:
    """The months before and after ``YYYY-MM`` (a valid one)."""
    year, number = int(month[:4]), int(month[5:7])
    before = f"{year - 1:04d}-12" if number == 1 else f"{year:04d}-{number - 1:02d}"
    after = f"{year + 1:04d}-01" if number == 12 else f"{year:04d}-{number + 1:02d}"
    return before, after


def month_csv(report: MonthReport) -> bytes:
    """The bytes :func:`smscat.relay.services.reporting.write_csv` writes (one helper for both)."""
    return csv_bytes(report)


# -- the audit log --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: str  # local, to the second
    actor: str
    action: str
    subject: str
    detail: str  # compact JSON, numbers masked


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int
    actions: list[str]


class AuditLog:
    """The audit log for the admin: newest first, filtered, 50 to a page."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    def _bound(self, value: str, name: str, *, end: bool) -> str | None:
        """A local date (``YYYY-MM-DD``) as the stored UTC bound: its start, or the next day's."""
        value = value.strip()
        if not value:
            return None
        try:
            if not _DATE.fullmatch(value):
                raise ValueError(value)
            day = date.fromisoformat(value) + (timedelta(days=1) if end else timedelta())
            if not FIRST_YEAR <= day.year <= LAST_YEAR:  # (year 1 in UTC is before year 1)
                raise ValueError(value)
        except (ValueError, OverflowError):
            raise FormInvalid({name: "date"}) from None
        local = datetime.combine(day, time(0), self.relay.options.zone)
        return iso(local)

    async def page(
        self,
        *,
        action: str = "",
        actor: str = "",
        subject: str = "",
        date_from: str = "",
        date_to: str = "",
        page: int = 1,
    ) -> AuditPage:
        since = self._bound(date_from, "from", end=False)
        until = self._bound(date_to, "to", end=True)
        if since and until and since >= until:
            raise FormInvalid({"to": "date_order"})
        page = _page(page)
        wanted = store.AuditFilter(
            action.strip() or None, actor.strip() or None, subject.strip() or None, since, until
        )
        found = await store.audit_page(
            self.relay.db, wanted, AUDIT_PER_PAGE, (page - 1) * AUDIT_PER_PAGE
        )
        entries = [
            AuditEntry(
                id=int(r["id"]),
                at=_local(r["at"], self.relay, "%Y-%m-%d %H:%M:%S"),
                actor=mask_numbers(str(r["actor"])),
                action=str(r["action"]),
                subject=mask_numbers(str(r["subject"] or "")),
                detail=mask_numbers(compact_detail(r["detail"])),
            )
            for r in found.rows
        ]
        pages = max(1, math.ceil(found.total / AUDIT_PER_PAGE))
        actions = await store.audit_actions(self.relay.db)
        return AuditPage(entries, found.total, page, pages, actions)


def compact_detail(detail: str | None) -> str:
    """An entry's JSON detail on one line, keys sorted ("" when there is none)."""
    if not detail:
        return ""
    try:
        value = json.loads(detail)
    except ValueError:
        return detail
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
