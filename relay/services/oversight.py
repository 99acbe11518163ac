"""What an admin oversees on the web: the threads (and hiding one from the board), a month's
statistics, the audit log.

Outer ring of the relay, beside :mod:`.management` (the experts directory, whose form errors
and page numbers it shares): it reads through storage, and the one change it makes (hiding a
thread) is audited with the admin as actor (``admin:<username>``).

* :class:`Moderation`: threads by expert, status and id; public ones hidden from the board.
* :class:`Statistics`: a month's figures as ``smscat report`` computes them, and its CSV bytes.
* :class:`AuditLog`: the log, newest first, filtered; dates are local to the department.

It must never: put a phone number or a patient's words into anything it returns for display
unmasked (nicknames, questions, audit subjects and details go through
:func:`~smscat.relay.core.masking.mask_numbers`), a log line or an exception.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final

import aiosqlite

from smscat.relay.core.codes import format_code
from smscat.relay.core.errors import Conflict, NotFound
from smscat.relay.core.lifecycle import Status
from smscat.relay.core.masking import mask_numbers
from smscat.relay.core.stats import FIRST_YEAR, LAST_YEAR, month_period
from smscat.relay.services.management import FormInvalid, local_time, page_number
from smscat.relay.services.relay import Relay
from smscat.relay.services.reporting import MonthReport, csv_bytes, month_report
from smscat.storage import admin as store
from smscat.storage import experts as experts_db
from smscat.storage import threads as threads_db
from smscat.storage.db import iso
from smscat.storage.sql import moment

log = logging.getLogger(__name__)

THREADS_PER_PAGE: Final = 30
AUDIT_PER_PAGE: Final = 50
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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
        page = page_number(page)
        zone = self.relay.options.zone
        found = await store.threads_page(
            self.db,
            store.ThreadFilter(expert_id or None, status or None, wanted_id),
            THREADS_PER_PAGE,
            (page - 1) * THREADS_PER_PAGE,
        )
        threads = [
            ThreadEntry(
                id=r.thread.id,
                expert_id=r.thread.expert_id,
                expert_name=r.expert_name,
                nickname=mask_numbers(r.thread.nickname),
                status=r.thread.status,
                public=r.thread.public,
                hidden=r.thread.hidden,
                question=r.question or "",
                created_at=local_time(r.thread.created_at, zone),
                last_message_at=local_time(r.thread.last_message_at, zone),
            )
            for r in found.threads
        ]
        pages = max(1, math.ceil(found.total / THREADS_PER_PAGE))
        return ThreadsPage(threads, found.total, page, pages)

    async def set_hidden(self, thread_id: int, hidden: bool, actor: str) -> bool:
        """Hide a public thread from the board (or show it again); False when it already was."""
        async with self.db.transaction() as conn:
            thread = await threads_db.thread(conn, thread_id)
            if thread is None:
                raise NotFound("thread")
            if not thread.public:
                raise Conflict("thread_private")
            if thread.hidden == hidden:
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


# What an action's subject is, so the page can say so (a thread by its #code and its expert,
# an expert by name) instead of showing a bare id; an action not listed is "other".
SUBJECTS: Final[dict[str, str]] = {
    **dict.fromkeys(
        ("alert", "thread.hide", "thread.unhide", "thread.transfer", "thread.escalate",
         "thread.thank", "thread.helpful"), "thread"),
    **dict.fromkeys(("thread.link_sms", "phone.start", "phone.stop", "retention.erase"), "phone"),
    **dict.fromkeys(
        ("expert.add", "expert.edit", "expert.handoff", "expert.insert", "expert.pause",
         "expert.resume", "expert.update", "digest.queued"), "expert"),
    **dict.fromkeys(("inbound.assign", "inbound.completed", "inbound.late_part"), "inbound"),
    **dict.fromkeys(("sms.retry", "sms.failed"), "outbox"),
    **dict.fromkeys(("sms.refused", "sms.duplicate_skipped"), "kind"),
    "verification.withheld": "verification",
}  # fmt: skip
# actors that are a part of the system, not a person (``admin:<name>`` and expert ids aside)
SYSTEM_ACTORS: Final = frozenset(
    {"patient", "relay", "digest", "config", "retention", "web", "cli"}
)


@dataclass(frozen=True, slots=True)
class Party:
    """Who acted, or what was acted on, as the page says it: a kind (``admin``, ``expert``,
    ``thread``, ``phone``…, ``none``, ``other``) and what names it (a name, a #code, an id)."""

    kind: str
    name: str = ""  # an admin's or an expert's name (a thread's: its expert's)
    code: str = ""  # a thread's #code
    id: str = ""  # the stored subject, numbers masked


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: str  # local, to the second
    actor: str  # as stored, numbers masked (what the filter takes)
    action: str
    subject: str  # as stored, numbers masked (what the filter takes)
    detail: str  # compact JSON, numbers masked
    who: Party
    what: Party


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
        page = page_number(page)
        zone = self.relay.options.zone
        wanted = store.AuditFilter(
            action.strip() or None, actor.strip() or None, subject.strip() or None, since, until
        )
        found = await store.audit_page(
            self.relay.db, wanted, AUDIT_PER_PAGE, (page - 1) * AUDIT_PER_PAGE
        )
        async with self.relay.db.reading() as conn:
            names = _Names(conn)
            entries = [
                AuditEntry(
                    id=int(r["id"]),
                    at=local_time(moment(r["at"]), zone, "%Y-%m-%d %H:%M:%S"),
                    actor=mask_numbers(str(r["actor"])),
                    action=str(r["action"]),
                    subject=mask_numbers(str(r["subject"] or "")),
                    detail=mask_numbers(compact_detail(r["detail"])),
                    who=await names.actor(str(r["actor"])),
                    what=await names.subject(str(r["action"]), str(r["subject"] or "")),
                )
                for r in found.rows
            ]
        pages = max(1, math.ceil(found.total / AUDIT_PER_PAGE))
        actions = await store.audit_actions(self.relay.db)
        return AuditPage(entries, found.total, page, pages, actions)


class _Names:
    """Names the audit log's actors and subjects, each looked up once per page."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self.experts: dict[str, str | None] = {}

    async def expert_name(self, expert_id: str) -> str | None:
        if expert_id not in self.experts:
            expert = await experts_db.expert(self.conn, expert_id)
            self.experts[expert_id] = expert.name if expert is not None else None
        return self.experts[expert_id]

    async def actor(self, actor: str) -> Party:
        if actor in SYSTEM_ACTORS:
            return Party(actor)
        if actor.startswith("admin:"):
            return Party("admin", name=mask_numbers(actor.removeprefix("admin:")))
        name = await self.expert_name(actor)  # an expert's or an assistant's own SMS
        if name is not None:
            return Party("expert", name=name)
        return Party("other", name=mask_numbers(actor))

    async def subject(self, action: str, subject: str) -> Party:
        if not subject:
            return Party("none")
        shown = mask_numbers(subject)
        kind = "admin" if action.startswith("admin.") else SUBJECTS.get(action, "other")
        if kind == "thread" and subject.isdigit():
            thread = await threads_db.thread(self.conn, int(subject))
            if thread is None:  # erased since
                return Party("thread_gone", id=shown)
            name = await self.expert_name(thread.expert_id) or ""
            return Party("thread", name=name, code=format_code(thread.code), id=shown)
        if kind == "expert":
            expert = await self.expert_name(subject)
            return Party("expert", name=expert or shown, id=shown)
        if kind == "admin":
            return Party("admin", name=shown, id=shown)
        return Party(kind, name=shown, id=shown)


def compact_detail(detail: str | None) -> str:
    """An entry's JSON detail on one line, keys sorted ("" when there is none)."""
    if not detail:
        return ""
    try:
        value = json.loads(detail)
    except ValueError:
        return detail
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
