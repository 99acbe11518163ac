"""What an admin manages on the web: the experts and assistants (the board, the threads, the
statistics and the audit log are :mod:`.oversight`'s).

Outer ring of the relay, beside :mod:`.service`: it runs the admin's decisions inside storage
transactions and audits each change (actor ``admin:<username>``); who is present, paused or
quiet, and who may assist, is :mod:`smscat.relay.core.policy`'s to say.

* :class:`ExpertDirectory`: experts and assistants listed with their controls; added (owned by
  no config, welcomed by SMS), edited (through :meth:`Database.admin_edit_expert`, so config.yaml
  stops owning what was edited), paused and resumed as the SMS commands 暂停/恢复 do, and taken
  off the board with a hand-off (:meth:`Experts.handoff`). A form is checked with the very rules
  config.yaml's experts are checked with (``ExpertConfig``), plus what
  only the database knows (ids and numbers in use, who is an assistant).
* :class:`FormInvalid`, :func:`local_time`, :func:`page_number`: shared with :mod:`.oversight`.

It must never: put a phone number into an audit entry, a log line, an exception or anything it
returns for display (an expert's number leaves only in :class:`ExpertEntry`, whose repr hides
it, for the web to show its last four digits).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Final

import aiosqlite
from pydantic import ValidationError

from smscat.relay.core import policy
from smscat.relay.core.errors import Conflict, Invalid, NotFound
from smscat.relay.core.lifecycle import OPEN
from smscat.relay.core.types import Expert
from smscat.relay.services.expert_record import ExpertConfig
from smscat.relay.services.relay import Relay
from smscat.storage import admin as store
from smscat.storage import experts as experts_db
from smscat.storage import threads as threads_db
from smscat.storage.db import ExpertRow, iso

log = logging.getLogger(__name__)

MAX_PAUSE_HOURS: Final = 720  # thirty days; longer is "until resumed"
MAX_PAGE: Final = 10_000
_OPEN = tuple(sorted(str(s) for s in OPEN))
_WINDOW_SEPARATORS = re.compile(r"[\s,，;；、]+")
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


def local_time(at: datetime | None, zone: tzinfo, spec: str = "%Y-%m-%d %H:%M") -> str:
    """``at`` as the department's clock showed it ("" for None): admins read local times."""
    if at is None:
        return ""
    return at.astimezone(zone).strftime(spec)


def page_number(page: int) -> int:
    """A page asked for, within 1 … :data:`MAX_PAGE` (a huge one would cost a huge OFFSET)."""
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

    def _entry(self, row: store.ExpertOverview, now: datetime) -> ExpertEntry:
        """``row`` of :func:`.admin.experts_overview` (an expert with ``assistant_name`` and
        ``open_threads``) as the pages show it."""
        expert = row.expert
        zone = self.relay.options.zone
        until = policy.paused_until(expert, now)
        forever = until is not None and until >= policy.FOREVER
        return ExpertEntry(
            id=expert.id,
            name=expert.name,
            title=expert.title,
            department=expert.department,
            specialty=expert.specialty,
            role=expert.role,
            assistant_id=expert.assistant_id,
            assistant_name=row.assistant_name,
            quiet_hours=expert.quiet_hours,
            daily_cap=expert.daily_cap,
            confirm_replies=expert.confirm_replies,
            digest=expert.digest,
            paused=until is not None,
            paused_forever=forever,
            paused_until="" if forever else local_time(until, zone),
            left=not policy.is_present(expert),
            left_at=local_time(expert.left_at, zone),
            open_threads=row.open_threads,
            config_owned=expert.config_fields,
            phone=expert.phone,
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
        current: Expert | None,
    ) -> None:
        """What only the database knows: numbers in use, who is an assistant, who relies on it."""
        problems: dict[str, str] = {}
        owner = await experts_db.expert_by_phone(conn, config.phone)
        if owner is not None and (current is None or owner.id != current.id):
            problems["phone"] = "phone_taken"
        if config.assistant:
            assistant = await experts_db.expert(conn, config.assistant)
            if not policy.can_assist(assistant):
                problems["assistant"] = "assistant"
        if current is not None and current.role != config.role:
            if current.role == "assistant" and await store.experts_naming_assistant(
                conn, current.id
            ):
                problems["role"] = "role_in_use"
            owned = await threads_db.threads_owned_by(conn, current.id, _OPEN)
            if current.role == "expert" and owned:
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
        await self.relay.experts.welcome_new()
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
                config = self._checked(form, expert_id, form.phone.strip() or current.phone)
                await self._check_people(conn, config, current)
                changes = _changes(current, config)
                if not changes:
                    return []
                await self.db.edit_expert(conn, expert_id, actor, changes)
                if "phone" in changes:
                    # what waits for the old number goes to the new one (not patients' answers)
                    await store.redirect_queued(
                        conn, current.phone, changes["phone"], ("to_expert", "notice")
                    )
                    self.relay.sending.wake_pump()
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
            sms = await self.relay.experts.pause_expert(conn, person, hours, actor, now)
            await self._tell(conn, person, sms, now)

    async def resume(self, expert_id: str, actor: str) -> None:
        """The pause ends now, like 恢复: what it held goes (after quiet hours)."""
        now = self.relay.clock()
        async with self.db.transaction() as conn:
            person = await self._present(conn, expert_id)
            if policy.paused_until(person, now) is None:
                raise Conflict("not_paused")
            sms = await self.relay.experts.resume_expert(conn, person, actor, now)
            await self._tell(conn, person, sms, now)

    async def leave(self, expert_id: str, colleague_id: str, actor: str) -> int:
        """The expert leaves: open threads go to ``colleague_id`` (:meth:`Experts.handoff`)."""
        if not colleague_id:
            raise FormInvalid({"to": "colleague_required"})
        async with self.db.reading() as conn:
            person = await self._present(conn, expert_id)
            if person.role == "assistant" and (
                await store.experts_naming_assistant(conn, expert_id)
                or await store.threads_held(conn, expert_id, _OPEN)
            ):
                raise Conflict("assistant_busy")
        return await self.relay.experts.handoff(expert_id, colleague_id, actor)

    async def _present(self, conn: aiosqlite.Connection, expert_id: str) -> Expert:
        """The expert, when they are present (:func:`.policy.is_present`)."""
        person = await experts_db.expert(conn, expert_id)
        if person is None:
            raise NotFound("expert")
        if not policy.is_present(person):
            raise Conflict("already_left")
        return person

    async def _tell(
        self, conn: aiosqlite.Connection, person: Expert, sms: str, now: datetime
    ) -> None:
        """An SMS to the expert about their controls (after their quiet hours; not held)."""
        quiet = policy.quiet_until(person, self.relay.options.zone, now)
        await self.relay.sending.enqueue(
            conn, "notice", person.phone, sms, None, now, not_before=quiet
        )


def _changes(current: Expert, config: ExpertConfig) -> dict[str, Any]:
    """The stored fields an edit changes, as they are to be stored."""
    wanted = expert_row(config)
    changes: dict[str, Any] = {}
    for name in ("name", "title", "department", "phone", "specialty", "role", "assistant_id"):
        if getattr(current, name) != getattr(wanted, name):
            changes[name] = getattr(wanted, name)
    if list(current.quiet_hours) != list(config.quiet_hours):
        changes["quiet_hours"] = wanted.quiet_hours
    for name in ("daily_cap", "confirm_replies", "digest"):  # (a stored flag is 0 or 1)
        if getattr(current, name) != getattr(wanted, name):
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
