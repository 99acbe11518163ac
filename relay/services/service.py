"""The relay at work: questions in, SMS out, replies matched, every step committed with its SMS.

A thin service around the pure core (:mod:`.lifecycle`, :mod:`.commands`, :mod:`.codes`,
:mod:`.texts`): each operation opens one transaction, reads what the decision needs, lets the
core decide, and writes the new state together with the SMS it causes (an ``outbox`` row).
The outbox pump (:mod:`.outbox`) sends them; the modems' receivers hand raw parts to
:meth:`Relay.store_part`, which commits each before the SIM copy is deleted; whole messages
are then routed by :meth:`Relay.process_inbound` in the same transaction that marks their parts
assembled, so a message is posted once even when it was read twice.

Masking: the patient's number and the expert's number never enter a text the other receives;
the SMS texts are rendered from :mod:`.texts` with a nickname, a code and what was typed.
Logs name thread ids and outcomes, never numbers or text.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite

from smscat.modem import pdu
from smscat.modem.address import AddressError, is_short_code, line_kind, normalise
from smscat.modem.errors import EncodeError, PduError
from smscat.modem.inbox import StoredPart
from smscat.modem.reassembly import Message, Reassembler
from smscat.relay.core import codes, commands, correlation, lifecycle, schedule, texts
from smscat.relay.core.errors import Conflict, Forbidden, Invalid, NotFound, TooMany
from smscat.relay.core.lifecycle import Status
from smscat.relay.core.masking import mask_numbers
from smscat.relay.core.retry import PRIORITY, OutboxKind
from smscat.storage import alerts as alert_store
from smscat.storage import experts as experts_db
from smscat.storage import inbound as inbound_db
from smscat.storage import monitoring
from smscat.storage import outbox as outbox_db
from smscat.storage import phones as phones_db
from smscat.storage import threads as threads_db
from smscat.storage.db import Database
from smscat.storage.db import iso as iso  # re-exported: the relay's modules stamp times with it

log = logging.getLogger(__name__)

FOREVER = datetime(9999, 12, 31, tzinfo=UTC)  # an indefinite pause
PATIENT_KINDS: frozenset[OutboxKind] = frozenset({"to_patient", "verification"})  # never staff's


@dataclass(frozen=True, slots=True)
class RelayOptions:
    department: str
    auto_close: timedelta = timedelta(days=7)
    code_ttl: timedelta = timedelta(minutes=10)
    code_attempts: int = 5  # wrong codes per verification
    codes_per_hour: int = 5  # verification SMS per phone
    codes_all_per_hour: int = 100  # verification SMS for all phones together
    links_per_day: int = 3  # SMS with thread links per phone
    links_all_per_hour: int = 60  # SMS with thread links for all phones together
    links_in_sms: int = 3  # threads in one SMS of links (open ones first, then the latest)
    max_text: int = 500  # characters in a question or follow-up
    max_nickname: int = 20
    report_window: timedelta = timedelta(days=3)
    reassembly_timeout: timedelta = timedelta(minutes=30)  # then a long SMS goes out as it is
    late_part_window: timedelta = timedelta(days=3)  # a part this late still completes its SMS
    zone: tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    quick_replies: Mapping[str, str] = field(default_factory=dict)  # "T3" → standard answer
    duplicate_guard: bool = True  # a system SMS once a day per number; typed text numbered
    code_countries: frozenset[str] = frozenset({"86"})  # calling codes of numbers we may text
    admin_phones: frozenset[str] = frozenset()  # alerts.phones: never a patient's number

    @property
    def zone_name(self) -> str:
        """The department's time zone by its IANA name (``Asia/Shanghai``)."""
        return str(getattr(self.zone, "key", "Asia/Shanghai"))


@dataclass(frozen=True, slots=True)
class Asked:
    id: int
    token: str
    status: str


def _parse(when: str) -> datetime:
    return datetime.fromisoformat(when)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


MEDIAN_WINDOW = timedelta(days=90)  # "usually answers within": the threads of this period
MEDIAN_FRESH = timedelta(minutes=5)  # how long a worked-out median is shown


class Relay:
    """Use one per daemon; every method is safe to call concurrently (writes are serialised)."""

    def __init__(
        self,
        db: Database,
        options: RelayOptions,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.options = options
        self.clock = clock
        self.outbox_changed = asyncio.Event()  # set after a commit that queued an SMS (wake_pump)
        self.inbound_changed = asyncio.Event()  # set after a raw part was stored
        self._medians: tuple[datetime, dict[str, float]] | None = None  # (computed at, values)
        # "find my links" requests, worked after the answer (send_links_to, serve_link_requests)
        self._link_requests: asyncio.Queue[tuple[str, str]] = asyncio.Queue(maxsize=1000)

    # -- patients on the web -----------------------------------------------------------------

    async def start_verification(self, phone_raw: str) -> str:
        """Send a code to a patient's mobile; return the verification's id.

        Only to a number :meth:`_refusal` lets us text: a mobile (:class:`Invalid`
        ``phone_not_mobile`` for a landline) of a country in ``code_countries`` (else
        ``phone_country``) that has not sent STOP since its last START (:class:`Conflict`
        ``phone_stopped``; the words say how to come back). An expert's, an assistant's or an
        admin's number gets the same answer as any other and no SMS: the answer must not tell
        anyone whose number it is (the code, never sent, is never known).
        """
        e164 = _mobile(phone_raw)
        _refuse(self._refusal(e164, None, code=True))  # the number itself: no row for a refusal
        now = self.clock()
        verification_id = secrets.token_urlsafe(16)
        code = f"{secrets.randbelow(10**6):06d}"
        async with self.db.transaction() as conn:
            phone_id = await phones_db.ensure_phone(conn, e164, iso(now))
            refused = self._refusal(e164, await phones_db.phone_by_id(conn, phone_id), code=True)
            _refuse(refused)
            recent = await phones_db.verifications_since(
                conn, phone_id, iso(now - timedelta(hours=1))
            )
            if recent >= self.options.codes_per_hour:
                raise TooMany("codes_per_hour", retry_after=3600, field="phone")
            # and for everyone together: codes for many numbers must not eat the SIMs' caps
            if await phones_db.verifications_total_since(conn, iso(now - timedelta(hours=1))) >= (
                self.options.codes_all_per_hour
            ):
                raise TooMany("codes_per_hour", retry_after=600, field="phone")
            await phones_db.insert_verification(
                conn,
                verification_id,
                phone_id,
                _hash(f"{verification_id}:{code}"),
                iso(now),
                iso(now + self.options.code_ttl),
            )
            if refused == "phone_staff":
                await self.db.audit(conn, "relay", "verification.withheld", verification_id)
                return verification_id
            minutes = int(self.options.code_ttl.total_seconds() // 60)
            text = texts.render(
                "verification_code", dept=self.options.department, code=code, minutes=minutes
            )
            await self.enqueue(conn, "verification", e164, text, None, now)
        return verification_id

    async def ask(
        self,
        *,
        expert_id: str,
        nickname: str,
        text: str,
        public: bool,
        phone: str | None = None,
        verification_id: str | None = None,
        code: str | None = None,
    ) -> Asked:
        nickname, text = nickname.strip(), text.strip()
        self._check_text(nickname, text)
        now = self.clock()
        token = secrets.token_urlsafe(24)
        wrong_code = False
        async with self.db.transaction() as conn:
            expert = await experts_db.expert(conn, expert_id)
            if expert is None or not expert["active"]:
                raise NotFound("expert", field="expert_id")
            phone_id = None
            if phone is not None:
                phone_id = await self._verified(conn, phone, verification_id, code, now)
                wrong_code = phone_id is None
            if not wrong_code:
                thread_id, status = await self._open_thread(
                    conn, expert, nickname, text, public, phone_id, token, now
                )
        if wrong_code:  # the attempt is counted (committed above); the question is not taken
            raise Forbidden("code_wrong", field="code")
        log.info("thread %d: asked (%s)", thread_id, status)
        return Asked(thread_id, token, status)

    def _check_text(self, nickname: str, text: str) -> None:
        if not 1 <= len(nickname) <= self.options.max_nickname:
            raise Invalid("nickname_length", field="nickname")
        if not 1 <= len(text) <= self.options.max_text:
            raise Invalid("text_length", field="text")

    async def _verified(
        self,
        conn: aiosqlite.Connection,
        phone: str,
        verification_id: str | None,
        code: str | None,
        now: datetime,
    ) -> int | None:
        """The phone's id when the code is right; None for a wrong code (attempt counted)."""
        e164 = _mobile(phone)
        if not verification_id or not code:
            raise Invalid("code_required", field="code")
        row = await phones_db.verification(conn, verification_id)
        if row is None or not hmac.compare_digest(row["e164"], e164):
            raise Forbidden("verification_unknown", field="verification_id")
        if row["used_at"] is not None:
            raise Conflict("verification_used", field="verification_id")
        if _parse(row["expires_at"]) <= now:
            raise Invalid("code_expired", field="code")
        if row["attempts"] >= self.options.code_attempts:
            raise TooMany("code_attempts", retry_after=3600, field="code")
        if not hmac.compare_digest(row["code_hash"], _hash(f"{verification_id}:{code.strip()}")):
            await phones_db.count_attempt(conn, verification_id)
            return None
        phone_id = int(row["phone_id"])
        # STOP since the code went (only START ends it), or a number that is no patient's now
        refused = self._refusal(e164, await phones_db.phone_by_id(conn, phone_id), code=True)
        if refused == "phone_staff":  # its code was never sent: a lucky guess is a wrong code
            await phones_db.count_attempt(conn, verification_id)
            return None
        _refuse(refused)
        await phones_db.use_verification(conn, verification_id, iso(now))
        await phones_db.mark_phone_verified(conn, phone_id, iso(now))
        return phone_id

    async def _open_thread(
        self,
        conn: aiosqlite.Connection,
        expert: aiosqlite.Row,
        nickname: str,
        text: str,
        public: bool,
        phone_id: int | None,
        token: str,
        now: datetime,
    ) -> tuple[int, str]:
        # The SMS go to the expert's assistant first, when there is one.
        handler = await self._assistant_of(conn, expert) or expert
        # Unique for the expert and the assistant, and for the patient too: a patient who
        # asked two experts replies to "#1" and "#2", never to two different "#1".
        since = iso(now - codes.REUSE_AFTER)
        people = {expert["id"], handler["id"]}
        code = codes.allocate(await threads_db.codes_in_use(conn, people, phone_id, since))
        not_before = await self._question_time(conn, handler, now)
        status = Status.HELD if not_before else Status.QUEUED
        thread_id = await threads_db.insert_thread(
            conn,
            threads_db.NewThread(
                expert["id"], code, _hash(token), nickname, public, phone_id, status, iso(now),
                handler_id=handler["id"],
            ),
        )  # fmt: skip
        await self._post(conn, thread_id, "patient", text, now)
        sms = texts.render(
            "question_to_expert",
            dept=self.options.department,
            code=codes.format_code(code),
            nickname=nickname,
            text=text,
        )
        await self.enqueue(
            conn, "to_expert", handler["phone"], sms, thread_id, now, not_before=not_before,
            typed=True,
        )  # fmt: skip
        return thread_id, str(status)

    async def _assistant_of(
        self, conn: aiosqlite.Connection, expert: aiosqlite.Row
    ) -> aiosqlite.Row | None:
        if not expert["assistant_id"]:
            return None
        assistant = await experts_db.expert(conn, expert["assistant_id"])
        if assistant is None or not assistant["active"] or assistant["left_at"]:
            return None
        return assistant

    def _windows(self, person: aiosqlite.Row) -> list[str]:
        return list(json.loads(person["quiet_hours"] or "[]"))

    async def _question_time(
        self, conn: aiosqlite.Connection, person: aiosqlite.Row, now: datetime
    ) -> datetime | None:
        """When a new question may reach ``person`` (None: now): quiet hours, cap, pause."""
        scheduled = []
        if person["daily_cap"] is not None:  # (without a cap, what is scheduled does not matter)
            since = iso(now - timedelta(days=2))
            times = await threads_db.question_times(conn, person["phone"], since)
            scheduled = [_parse(t) for t in times]
        return schedule.question_time(
            now,
            self._windows(person),
            self.options.zone,
            cap=person["daily_cap"],
            scheduled=scheduled,
            paused_until=_paused_until(person, now),
        )

    def quiet_until(self, person: aiosqlite.Row, now: datetime) -> datetime | None:
        """When ``person``'s quiet hours let an SMS through (None: now); a pause aside."""
        return schedule.send_time(now, self._windows(person), self.options.zone)

    def send_time(self, person: aiosqlite.Row, now: datetime) -> datetime | None:
        """When anything else may reach ``person`` (None: now): quiet hours and a pause."""
        return schedule.send_time(
            now, self._windows(person), self.options.zone, _paused_until(person, now)
        )

    async def thread_view(
        self, thread_id: int, token: str, lang: str = texts.DEFAULT_LANG
    ) -> dict[str, Any]:
        """The thread for its patient: status, messages, ``waiting`` (follow-ups kept until the
        expert answers) and a ``notice`` in ``lang`` when something is held up."""
        row = await self._thread_for(thread_id, token)
        posts = await threads_db.messages(self.db, thread_id)
        waiting = len(lifecycle.waiting_follow_ups([str(p["sender"]) for p in posts]))
        view: dict[str, Any] = {
            "id": thread_id,
            "status": row["status"],
            "messages": [{"from": p["sender"], "text": p["text"], "at": p["at"]} for p in posts],
            "waiting": waiting,
        }
        notice = lifecycle.page_notice(
            Status(row["status"]), await threads_db.latest_to_patient_failed(self.db, thread_id)
        )
        if notice is not None:
            view["notice"] = texts.render(notice, lang)
        elif waiting and Status(row["status"]) in lifecycle.OPEN:
            view["notice"] = texts.render("page.followups_waiting", lang, count=waiting)
        return view

    async def follow_up(self, thread_id: int, token: str, text: str) -> None:
        """A follow-up written on the thread's page."""
        text = text.strip()
        if not 1 <= len(text) <= self.options.max_text:
            raise Invalid("text_length", field="text")
        await self._thread_for(thread_id, token)
        now = self.clock()
        async with self.db.transaction() as conn:
            row = await threads_db.thread(conn, thread_id)
            assert row is not None
            if Status(row["status"]) not in lifecycle.OPEN:
                raise Conflict("thread_closed")
            await self._post_follow_up(conn, row, text, now, inbound_id=None)

    async def withdraw(self, thread_id: int, token: str) -> None:
        await self._thread_for(thread_id, token)
        now = self.clock()
        async with self.db.transaction() as conn:
            row = await threads_db.thread(conn, thread_id)
            assert row is not None
            if Status(row["status"]) not in lifecycle.OPEN:
                raise Conflict("thread_closed")
            await self._step(conn, row, lifecycle.Withdrawn(), now)

    # -- the patient's thread: thanks, helpful, the link again by SMS -------------------------

    async def thread_extras(self, thread_id: int, token: str) -> dict[str, Any]:
        """What the thread's page offers besides the conversation: ``answered`` (it can be
        rated and thanked), ``thanked``, ``helpful`` (None: not said) and ``link_by_sms`` (the
        thread has a phone that takes SMS, so a new link can go to it)."""
        row = await self._thread_for(thread_id, token)
        async with self.db.reading() as conn:
            answered = await threads_db.has_answer(conn, thread_id)
            phone = await self._link_phone(conn, row)
        helpful = row["helpful"]
        return {
            "answered": answered,
            "thanked": row["thanked_at"] is not None,
            "helpful": None if helpful is None else bool(helpful),
            "link_by_sms": phone is not None,
        }

    async def thank(self, thread_id: int, token: str) -> None:
        """The patient thanks the expert for the answer: once; thanking again changes nothing.

        No SMS: an expert is never interrupted for thanks; the weekly digest and the monthly
        statistics count them (``threads.thanked_at``).
        """
        await self._thread_for(thread_id, token)
        now = self.clock()
        async with self.db.transaction() as conn:
            if not await threads_db.has_answer(conn, thread_id):
                raise Conflict("not_answered")
            thanked = await threads_db.thank(conn, thread_id, iso(now))
            if thanked:
                await self.db.audit(conn, "patient", "thread.thank", str(thread_id))
        if thanked:
            log.info("thread %d: thanked", thread_id)

    async def rate(self, thread_id: int, token: str, helpful: bool) -> None:
        """The patient says whether the answer helped (and may change their mind). No SMS."""
        await self._thread_for(thread_id, token)
        async with self.db.transaction() as conn:
            if not await threads_db.has_answer(conn, thread_id):
                raise Conflict("not_answered")
            if await threads_db.set_helpful(conn, thread_id, helpful):
                detail = {"helpful": helpful}
                await self.db.audit(conn, "patient", "thread.helpful", str(thread_id), detail)

    async def send_link(self, thread_id: int, token: str, base_url: str) -> None:
        """A new link to the thread, by SMS to the thread's verified phone; ``token`` keeps
        working. ``base_url`` (``https://host``) is where the board is reached from outside."""
        await self._thread_for(thread_id, token)
        now = self.clock()
        async with self.db.transaction() as conn:
            row = await threads_db.thread(conn, thread_id)
            assert row is not None
            phone = await self._link_phone(conn, row)
            if phone is None:
                raise Conflict("no_phone")
            await self._check_link_limits(conn, int(phone["id"]), now)
            await self._send_links(conn, phone, [row], base_url, now)
        log.info("thread %d: a new link goes by SMS", thread_id)

    async def send_links_to(self, phone_raw: str, base_url: str) -> None:
        """New links to a phone's threads (open ones first), in one SMS, when the number is a
        verified patient's that takes SMS and has threads, and is within its limits.

        Whether anything went is not said, so that the caller answers the same words for every
        number: nobody learns from the board whether a number asked here. Only a number that
        is not a mobile number at all is refused (:class:`Invalid`). Nor does the time tell:
        the request is only queued here, the same work for every number, and looked at by
        :meth:`serve_link_requests` after the answer has gone.
        """
        e164 = _mobile(phone_raw)
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an absolute http(s) URL")
        try:
            self._link_requests.put_nowait((e164, base_url))
        except asyncio.QueueFull:
            log.warning("links by SMS: too many requests waiting, one is dropped")

    async def serve_link_requests(self) -> None:
        """For the daemon's life: work the queued :meth:`send_links_to` requests, in turn."""
        while True:
            e164, base_url = await self._link_requests.get()
            try:
                await self._send_links_now(e164, base_url)
            except Exception:
                log.exception("links by SMS: an error; this request is dropped")
            finally:
                self._link_requests.task_done()

    async def link_requests_done(self) -> None:
        """Until every queued link request has been worked (for tests)."""
        await self._link_requests.join()

    async def _send_links_now(self, e164: str, base_url: str) -> None:
        now = self.clock()
        sent = 0
        async with self.db.transaction() as conn:
            phone = await phones_db.phone(conn, e164)
            if phone is not None and self._takes_sms(phone):
                threads = await threads_db.threads_for_links(
                    conn,
                    int(phone["id"]),
                    [str(s) for s in lifecycle.OPEN],
                    self.options.links_in_sms,
                )
                if threads:
                    try:
                        await self._check_link_limits(conn, int(phone["id"]), now)
                    except TooMany:
                        log.info("links by SMS: over the limit, nothing sent")
                    else:
                        await self._send_links(conn, phone, threads, base_url, now)
                        sent = len(threads)
        if sent:
            log.info("links by SMS: %d thread link(s) sent to a patient", sent)

    def _takes_sms(self, phone: aiosqlite.Row) -> bool:
        """A patient's phone (a phones row) that may get an SMS from us now (:meth:`_refusal`)."""
        return self._refusal(str(phone["e164"]), phone) is None

    async def may_still_text(self, kind: str, recipient: str) -> bool:
        """At submit time: may this queued SMS still go? A patient may have sent STOP or been
        erased since it was queued (:meth:`_refusal` decides; experts' and admins' SMS go)."""
        if kind not in PATIENT_KINDS:
            return True  # (a notice's flags are gone by now: enqueue decided for it)
        async with self.db.reading() as conn:
            refused = await self._recipient_refusal(conn, kind, recipient, True, False)
        return refused is None

    def _refusal(self, e164: str, phone: aiosqlite.Row | None, *, code: bool = False) -> str | None:
        """Why the relay may not text ``e164`` as a patient; None: it may. The one answer to
        "may this phone get an SMS" for codes, links, answers, replies to a patient's SMS and
        what an admin sends again (the outbox looks once more before a submit:
        :meth:`may_still_text`).

        ``phone`` is the number's phones row (with ``staff``), None when it has none yet;
        ``code``: for a verification code, which goes before the number is verified. The
        reason is an ``error.<key>`` of :mod:`.texts`:

        * ``phone_country``: not a number of a country in ``code_countries`` (SMS pumping
          sends codes to foreign premium ranges; +86 only by default);
        * ``phone_not_mobile``: a landline, or anything else that is not a mobile;
        * ``phone_staff``: an expert's, an assistant's or an admin's (``alerts.phones``);
        * ``phone_erased``, ``phone_stopped`` (STOP, and no START since), and, for anything but
          a code, ``phone_unverified``.
        """
        if phone is not None and phone["erased_at"]:
            return "phone_erased"
        kind = line_kind(e164)
        if kind is None:
            return "phone_invalid"
        country, mobile = kind
        if country not in self.options.code_countries:
            return "phone_country"
        if not mobile:
            return "phone_not_mobile"
        if e164 in self.options.admin_phones or (phone is not None and phone["staff"]):
            return "phone_staff"
        if phone is not None and phone["stopped_at"]:
            return "phone_stopped"
        if not code and (phone is None or not phone["verified_at"]):
            return "phone_unverified"
        return None

    async def _link_phone(
        self, conn: aiosqlite.Connection, thread: aiosqlite.Row
    ) -> aiosqlite.Row | None:
        """The thread's phone when a link may go to it: verified, not stopped, not erased."""
        if thread["phone_id"] is None:
            return None
        phone = await phones_db.phone_by_id(conn, int(thread["phone_id"]))
        return phone if phone is not None and self._takes_sms(phone) else None

    async def _check_link_limits(
        self, conn: aiosqlite.Connection, phone_id: int, now: datetime
    ) -> None:
        day = iso(now - timedelta(days=1))
        if await phones_db.link_sms_since(conn, phone_id, day) >= self.options.links_per_day:
            raise TooMany("links_per_day", retry_after=3600)
        # and for everyone together: links for many numbers must not eat the SIMs' caps
        hour = iso(now - timedelta(hours=1))
        if await phones_db.link_sms_since(conn, None, hour) >= self.options.links_all_per_hour:
            log.warning("links by SMS: the hourly cap for all phones is reached")
            raise TooMany("links_per_day", retry_after=600)

    async def _send_links(
        self,
        conn: aiosqlite.Connection,
        phone: aiosqlite.Row,
        threads: list[aiosqlite.Row],
        base_url: str,
        now: datetime,
    ) -> None:
        """One SMS with a new link to each of ``threads``, all of them ``phone``'s."""
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an absolute http(s) URL")
        base = base_url.rstrip("/")
        urls = []
        for thread in threads:
            assert thread["phone_id"] == phone["id"]  # never another patient's thread
            token = secrets.token_urlsafe(24)
            await threads_db.insert_link(conn, int(thread["id"]), _hash(token), iso(now))
            urls.append((codes.format_code(thread["code"]), f"{base}/t/{thread['id']}/{token}"))
        dept = self.options.department
        if len(urls) == 1:
            sms = texts.render("link_to_patient", dept=dept, url=urls[0][1])
        else:
            links = "；".join(f"{code} {url}" for code, url in urls)
            sms = texts.render("links_to_patient", dept=dept, links=links)
        await phones_db.insert_link_sms(conn, int(phone["id"]), len(urls), iso(now))
        await self.enqueue(conn, "notice", phone["e164"], sms, None, now, guard=False, patient=True)
        await self.db.audit(
            conn, "patient", "thread.link_sms", str(phone["id"]),
            {"threads": [int(t["id"]) for t in threads]},
        )  # fmt: skip

    async def _thread_for(self, thread_id: int, token: str) -> aiosqlite.Row:
        """The thread whose link this is: its first link's token, or one sent again by SMS."""
        rows = await self.db.fetchall("SELECT * FROM threads WHERE id = ?", (thread_id,))
        if not rows:
            raise NotFound("thread")
        given = _hash(token)
        hashes = [rows[0]["token_hash"], *await threads_db.link_hashes(self.db, thread_id)]
        if not any(hmac.compare_digest(h, given) for h in hashes):
            raise NotFound("thread")  # the same answer for a wrong token: ids are not secrets
        return rows[0]

    # -- experts, board ----------------------------------------------------------------------

    async def experts_view(self) -> list[dict[str, Any]]:
        now = self.clock()
        medians = await self._median_first_answers(now)
        out = []
        async with self.db.reading() as conn:
            for e in await experts_db.experts(self.db):
                reason = await self._not_accepting(conn, e, now)
                out.append(
                    {
                        "id": e["id"],
                        "name": e["name"],
                        "title": e["title"],
                        "department": e["department"],
                        "specialty": e["specialty"],
                        "accepting": reason is None,
                        "accepting_reason": reason,
                        "median_first_answer_s": medians.get(e["id"]),
                    }
                )
        return out

    async def _median_first_answers(self, now: datetime) -> dict[str, float]:
        """Each expert's median time to a first answer lately, worked out every few minutes."""
        if self._medians is None or not now - MEDIAN_FRESH < self._medians[0] <= now:
            since = iso(now - MEDIAN_WINDOW)
            self._medians = (now, await threads_db.median_first_answer(self.db, since))
        return self._medians[1]

    async def _not_accepting(
        self, conn: aiosqlite.Connection, expert: aiosqlite.Row, now: datetime
    ) -> str | None:
        """Why a question asked now would wait: "paused", "cap" or "quiet" (None: it goes)."""
        if _paused_until(expert, now):
            return "paused"
        if await self._question_time(conn, expert, now) is None:
            return None
        if schedule.send_time(now, self._windows(expert), self.options.zone) is None:
            return "cap"
        return "quiet"

    async def board(
        self, expert_id: str | None, q: str | None, page: int, per_page: int
    ) -> dict[str, Any]:
        """Public threads (the caller masks numbers in what it shows)."""
        found = await threads_db.board(self.db, expert_id, q, page, per_page)
        threads = [
            {
                **t,
                "messages": [
                    {"from": m["sender"], "text": m["text"], "at": m["at"]} for m in t["messages"]
                ],
            }
            for t in found.threads
        ]
        return {"threads": threads, "total": found.total}

    # -- the outbox's callbacks --------------------------------------------------------------

    async def enqueue(
        self,
        conn: aiosqlite.Connection,
        kind: OutboxKind,
        recipient: str,
        text: str,
        thread_id: int | None,
        now: datetime,
        *,
        not_before: datetime | None = None,
        guard: bool = True,
        typed: bool = False,
        patient: bool = False,
        confirms_command: bool = False,
    ) -> bool:
        """Queue one SMS, in the caller's transaction: every SMS goes through here; whether it
        was queued. The pump is woken once the transaction commits (:meth:`wake_pump`).

        Who may get it, one rule for every kind: a patient's SMS (``to_patient``,
        ``verification``, or ``patient``: a notice for a patient, as a link) goes where
        :meth:`_refusal` lets it (never to staff; a code to a number not yet verified;
        ``confirms_command``: the confirmation of the number's own STOP or START, which a
        stopped or never-verified number gets). Anything else is staff's: an expert's, an
        assistant's or an admin's number gets it; a question (``to_expert``) goes to nobody
        else, and a notice to any other number is a patient's. A refused SMS is not queued
        (audited as ``sms.refused`` with its kind and the reason, never the number).

        The duplicate guard (``duplicate_guard``): carriers flag (and people hate) the same
        text twice a day, so a text the system writes (a notice, a list, a confirmation) goes
        to one number once a day; ``guard=False`` lets a deliberate repeat through (an alert's
        reminder). ``typed``: the SMS carries what a person typed (a question, a follow-up, an
        answer), which is never dropped — said twice, it arrives twice, the repeat numbered
        (``sms_repeat``: "（第2次）") so that it differs visibly from the first.
        """
        patient = patient or confirms_command or kind in PATIENT_KINDS
        refused = await self._recipient_refusal(conn, kind, recipient, patient, confirms_command)
        if refused is not None:
            await self.db.audit(conn, "relay", "sms.refused", kind, {"reason": refused})
            return False
        if self.options.duplicate_guard and (guard or typed):
            since = iso(now - timedelta(days=1))
            if typed:
                text = await self._numbered(conn, recipient, text, since)
            elif await outbox_db.same_sms_since(conn, recipient, text, since):
                await self.db.audit(conn, "relay", "sms.duplicate_skipped", kind)
                return False
        try:
            pdu.plan_submit(recipient, text, ref=0)
        except EncodeError:
            raise Invalid("text_length", field="text") from None
        sms = outbox_db.NewSms(kind, PRIORITY[kind], recipient, text, thread_id)
        await outbox_db.enqueue(conn, sms, iso(max(now, not_before or now)))
        self.wake_pump()
        return True

    def wake_pump(self) -> None:
        """The caller's transaction changed what the outbox has due: wake the pump after the
        commit (nothing happens on a rollback). :meth:`enqueue` does it for every SMS."""
        self.db.after_commit(self.outbox_changed.set)

    async def _recipient_refusal(
        self,
        conn: aiosqlite.Connection,
        kind: OutboxKind,
        recipient: str,
        patient: bool,
        confirms: bool,
    ) -> str | None:
        """Why :meth:`enqueue` may not text ``recipient`` (None: it may)."""
        expert = await experts_db.expert_by_phone(conn, recipient) is not None  # or assistant
        if patient and expert:
            return "phone_staff"  # (a number without a phones row has no ``staff`` in it)
        if not patient:
            if expert:
                return None
            if kind == "to_expert":
                return "not_staff"  # a question goes to an expert (or an assistant) only
            if recipient in self.options.admin_phones:
                return None
        phone = await phones_db.phone(conn, recipient)
        refused = self._refusal(recipient, phone, code=kind == "verification" or confirms)
        if confirms and refused == "phone_stopped":
            return None  # the confirmation of its own STOP
        return refused

    @staticmethod
    async def _numbered(conn: aiosqlite.Connection, recipient: str, text: str, since: str) -> str:
        """``text``, or ``text`` with the first repeat number not yet sent to ``recipient``."""
        numbered, n = text, 1
        while await outbox_db.same_sms_since(conn, recipient, numbered, since):
            n += 1
            numbered = text + texts.render("sms_repeat", n=n)
        return numbered

    async def sent(self, outbox_id: int, modem_id: str) -> None:
        """Every part of an outbox SMS was accepted by a modem (the pump calls this)."""
        now = self.clock()
        async with self.db.transaction() as conn:
            row = await outbox_db.outbox_row(conn, outbox_id)
            assert row is not None
            await outbox_db.mark_sent(conn, outbox_id, modem_id, iso(now))
            if row["kind"] == "notice" and _LINK_TOKEN.search(row["text"]):
                # the links work for whoever holds them: once on the phone, none in the database
                await outbox_db.set_outbox_text(
                    conn, outbox_id, _LINK_TOKEN.sub(r"\1…", row["text"])
                )
            if row["kind"] == "to_expert" and row["thread_id"] is not None:
                thread = await threads_db.thread(conn, int(row["thread_id"]))
                assert thread is not None
                # held (a pause ended) or failed (a later follow-up went through): going again
                if Status(thread["status"]) in (Status.HELD, Status.FAILED):
                    thread = await self._step(conn, thread, lifecycle.Released(), now)
                if Status(thread["status"]) in lifecycle.OPEN:  # not withdrawn meanwhile
                    await self._step(conn, thread, lifecycle.Sent(), now)

    async def failed(self, outbox_id: int, attempts: int, reason: str) -> None:
        """An outbox SMS will not go (a permanent error, or too many attempts)."""
        now = self.clock()
        async with self.db.transaction() as conn:
            row = await outbox_db.outbox_row(conn, outbox_id)
            assert row is not None
            await outbox_db.mark_failed(conn, outbox_id, attempts, reason)
            await self.db.audit(conn, "relay", "sms.failed", str(outbox_id), {"error": reason})
            event: lifecycle.Event | None = None
            if row["kind"] == "to_expert":
                event = lifecycle.SendFailed(reason)
            elif row["kind"] == "to_patient":
                event = lifecycle.AnswerFailed(reason)
            if event is not None and row["thread_id"] is not None:
                thread = await threads_db.thread(conn, int(row["thread_id"]))
                assert thread is not None
                await self._step(conn, thread, event, now)  # the table decides, in any status
        log.warning("outbox %d failed after %d attempt(s): %s", outbox_id, attempts, reason)

    async def on_report(self, modem_id: str, report: pdu.StatusReport) -> None:
        now = self.clock()
        try:
            recipient = normalise(report.recipient)
        except AddressError:
            return
        async with self.db.transaction() as conn:
            part = await outbox_db.match_report(
                conn, modem_id, report.mr, recipient, iso(now - self.options.report_window)
            )
            if part is None:
                return
            if not report.delivered:
                return  # a failure report; the SMS stays "sent" (admins see it in issue 7)
            whole = await outbox_db.mark_part_delivered(
                conn, int(part["outbox_id"]), int(part["seq"]), report.status, iso(now)
            )
            if whole and part["kind"] == "to_expert" and part["thread_id"] is not None:
                thread = await threads_db.thread(conn, int(part["thread_id"]))
                assert thread is not None
                if Status(thread["status"]) is Status.SENT:
                    await self._step(conn, thread, lifecycle.Delivered(), now)

    # -- inbound -----------------------------------------------------------------------------

    async def store_part(self, modem_id: str, part: StoredPart) -> None:
        """The receiver's consumer: commit the raw part (once); then the SIM copy may go."""
        async with self.db.transaction() as conn:
            await inbound_db.store_part(
                conn, f"{modem_id}:{part.pdu_hex}", modem_id, part.pdu_hex, iso(self.clock())
            )
        self.inbound_changed.set()

    async def process_inbound(self) -> int:
        """Route every whole message among the stored parts; return how many were routed.

        A long SMS still missing parts ``reassembly_timeout`` after its first part is routed as
        it is, with the ``missing_part`` text where each missing part would be. A part that
        such a message went out without joins it when it comes (:meth:`_join_late`) instead
        of starting a message of its own; that counts as routed too.
        """
        now = self.clock()
        by_modem: dict[str, list[tuple[int, pdu.Deliver, datetime]]] = defaultdict(list)
        for row in await inbound_db.pending_parts(self.db):
            try:
                deliver = pdu.decode_deliver(row["pdu"])
            except PduError:
                log.warning("inbound part %d cannot be decoded; kept for admins", row["id"])
                continue
            by_modem[row["modem_id"]].append((int(row["id"]), deliver, _parse(row["received_at"])))
        routed = 0
        for modem_id, parts in by_modem.items():
            late: dict[int, list[int]] = defaultdict(list)
            fresh = []
            for part in parts:
                awaited_by = await self._awaited_by(modem_id, part[1], now)
                if awaited_by is None:
                    fresh.append(part)
                else:
                    late[awaited_by].append(part[0])
            for inbound_id, part_ids in late.items():
                if await self._join_late(inbound_id, part_ids):
                    routed += 1
            mark = texts.render("missing_part")
            for message, ids in _assemble(fresh, now, self.options.reassembly_timeout, mark):
                if await self._route(modem_id, message, ids):
                    routed += 1
        return routed

    async def _route(self, modem_id: str, message: Message, part_ids: list[int]) -> bool:
        now = self.clock()
        received = iso(message.first_received)
        try:
            async with self.db.transaction() as conn:
                inbound = inbound_db.NewInbound(
                    modem_id,
                    message.sender,
                    message.text,
                    message.total,
                    message.complete,
                    received,
                    "ignored",
                    None,
                    concat_ref=message.ref,
                    missing=message.missing,
                )
                inbound_id = await inbound_db.insert_inbound(conn, inbound, part_ids)
                before = await outbox_db.last_outbox_id(conn) if not message.complete else 0
                outcome, thread_id = await self._dispatch(conn, message, inbound_id, now)
                await inbound_db.set_inbound_outcome(conn, inbound_id, outcome, thread_id)
                if not message.complete and thread_id is not None:
                    # the SMS that carries the marked text on: a late part may replace it
                    await inbound_db.note_forwarded(conn, inbound_id, thread_id, before)
        except inbound_db.AlreadyAssembled:
            return False
        if message.complete:
            log.info("inbound %d: %s (thread %s)", inbound_id, outcome, thread_id)
        else:
            log.warning(
                "inbound %d: %s (thread %s) without part(s) %s of %d, which never arrived",
                inbound_id, outcome, thread_id, ",".join(map(str, message.missing)),
                message.total,
            )  # fmt: skip
        return True

    async def _awaited_by(self, modem_id: str, deliver: pdu.Deliver, now: datetime) -> int | None:
        """The message routed without this part (after the timeout) that still lacks it."""
        concat = deliver.concat
        if concat is None or not 1 <= concat.seq <= concat.total:
            return None
        since = iso(now - self.options.late_part_window)
        return await inbound_db.incomplete_awaiting(
            self.db, modem_id, deliver.sender, concat.ref, concat.total, concat.seq, since
        )

    async def _join_late(self, inbound_id: int, part_ids: list[int]) -> bool:
        """Late parts of a message routed without them complete that message, in place.

        Its ``inbound`` row and the thread message it was posted as take the longer text (the
        thread keeps one message; the page shows the whole once the last part is in). Once
        complete, the other party gets it too (:meth:`_repost`); an unmatched
        message is routed again, now that its code may be there. Audited as
        ``inbound.completed`` (or ``inbound.late_part`` while parts are still missing).
        False when another task joined these parts first.
        """
        now = self.clock()
        try:
            async with self.db.transaction() as conn:
                row = await inbound_db.inbound_row(conn, inbound_id)
                if row is None or row["complete"]:
                    return False  # completed meanwhile: the parts wait for the next pass
                await inbound_db.attach_parts(conn, inbound_id, part_ids)
                message = await self._reassembled(conn, inbound_id)
                if message is None:
                    return True  # its parts cannot be read any more (erased): nothing to show
                await inbound_db.set_inbound_text(
                    conn, inbound_id, message.text, message.missing, iso(now)
                )
                outcome, thread_id = str(row["outcome"]), row["thread_id"]
                forwarded = "none"
                if outcome in ("reply", "followup"):
                    forwarded = await self._repost(conn, row, message, now)
                elif outcome == "unmatched" and row["resolved_at"] is None and message.complete:
                    outcome, thread_id = await self._dispatch(conn, message, inbound_id, now)
                    await inbound_db.set_inbound_outcome(conn, inbound_id, outcome, thread_id)
                    forwarded = "routed"
                action = "inbound.completed" if message.complete else "inbound.late_part"
                detail = {
                    "thread": thread_id,
                    "parts": len(part_ids),
                    "missing": list(message.missing),
                    "forwarded": forwarded,
                }
                await self.db.audit(conn, "relay", action, str(inbound_id), detail)
        except inbound_db.AlreadyAssembled:
            return False
        log.info(
            "inbound %d: %d late part(s) joined it (%s, thread %s, SMS on: %s)",
            inbound_id, len(part_ids), "complete" if message.complete else "still incomplete",
            thread_id, forwarded,
        )  # fmt: skip
        return True

    async def _reassembled(self, conn: aiosqlite.Connection, inbound_id: int) -> Message | None:
        """The message as its stored parts make it now (complete, or marked where parts lack)."""
        parts = []
        for row in await inbound_db.inbound_parts_of(conn, inbound_id):
            try:
                deliver = pdu.decode_deliver(row["pdu"])
            except PduError:
                continue  # blanked by an erasure
            parts.append((int(row["id"]), deliver, _parse(row["received_at"])))
        mark = texts.render("missing_part")
        found = _assemble(parts, FOREVER, self.options.reassembly_timeout, mark)
        return max((m for m, _ in found), key=lambda m: m.parts, default=None)

    async def _repost(
        self, conn: aiosqlite.Connection, inbound: aiosqlite.Row, message: Message, now: datetime
    ) -> str:
        """The thread message ``inbound`` was posted as takes ``message``'s text; once the
        message is complete, so does the other party. What happened to the SMS that carried
        the marked text on (``inbound.forwarded_outbox_id``), for the audit:

        * ``replaced``: it had not gone. Still queued, it is cancelled and the whole text is
          queued in its place (a new row, so that a part in flight cannot mix two texts);
          failed, its text becomes the whole one (an admin's "send again" sends that).
        * ``sent_again``: it had gone (a part of it at least): the whole text follows, marked
          as the complete version (``complete_version``), to whoever holds the thread now.
        * ``none``: nothing went on (no phone, STOP, erased, cancelled) or parts still lack.
        """
        posted = await threads_db.posted_message(conn, int(inbound["id"]))
        if posted is None:
            return "none"
        role = str(posted["sender"])
        text = self._posted_text(role, message.text)
        await threads_db.set_message_text(conn, int(posted["id"]), text, mask_numbers(text))
        if not message.complete:
            return "none"
        thread = await threads_db.thread(conn, int(posted["thread_id"]))
        assert thread is not None
        sms_id = inbound["forwarded_outbox_id"]
        sms = await outbox_db.outbox_row(conn, int(sms_id)) if sms_id is not None else None
        carrier = "to_expert" if role == "patient" else "to_patient"
        if sms is None or sms["status"] == "cancelled" or sms["kind"] != carrier:
            return "none"  # (to_expert after an answer: what waited for it, not the answer)
        gone = sms["status"] in ("sent", "delivered")
        gone = gone or await outbox_db.parts_sent_of(conn, int(sms["id"])) > 0  # (half-sent)
        if not gone and sms["status"] == "failed":
            whole = await self._forward_text(conn, thread, role, text)
            await outbox_db.set_outbox_text(conn, int(sms["id"]), whole)
            return "replaced"
        if not gone:
            await outbox_db.cancel_outbox(conn, int(sms["id"]))
        else:
            text = texts.render("complete_version", text=text)
        if role == "patient":
            await self._follow_up_to_expert(conn, thread, text, now)
        else:
            await self._forward_answer(conn, thread, role, text, now)
        return "sent_again" if gone else "replaced"

    def _posted_text(self, role: str, text: str) -> str:
        """What a thread shows of an SMS from ``role``: its code (and command words) taken off,
        a quick reply's standard text put in, as when it was first posted."""
        if role == "patient":
            said_by_patient = commands.parse_patient(text)
            if isinstance(said_by_patient, commands.Command):
                return text
            return said_by_patient.text
        said = commands.parse_expert(text)
        if isinstance(said, commands.Command):
            return text  # (as an admin's assignment posts it)
        standard = self.options.quick_replies.get(said.quick) if said.quick else None
        if standard is None:
            return said.text
        return f"{standard}\n{said.text}" if said.text else standard

    async def _dispatch(
        self, conn: aiosqlite.Connection, message: Message, inbound_id: int, now: datetime
    ) -> tuple[str, int | None]:
        try:
            sender = normalise(message.sender)
        except AddressError:
            return "short_code", None  # an alphanumeric sender: an operator or a service
        if is_short_code(sender):
            return "short_code", None  # 10086 balance, suspension warnings: for admins
        expert = await experts_db.expert_by_phone(conn, sender)
        if expert is not None:
            return await self._from_expert(conn, expert, message.text, inbound_id, now)
        phone = await phones_db.phone(conn, sender)
        if phone is not None and phone["verified_at"] is not None:
            return await self._from_patient(conn, phone, message.text, inbound_id, now)
        said = commands.parse_patient(message.text)
        if phone is not None and isinstance(said, commands.Command):
            # a number that was sent a code (by its owner or by anyone) may stop them, or start
            await self._patient_command(conn, phone, said, now)
            return "command", None
        # kept for admins (masked on the dashboard), never posted or answered; the retention
        # job deletes it on the phone numbers' schedule
        return "unknown_sender", None

    async def _from_expert(
        self,
        conn: aiosqlite.Connection,
        person: aiosqlite.Row,
        text: str,
        inbound_id: int,
        now: datetime,
    ) -> tuple[str, int | None]:
        """An SMS from an expert or an assistant: a command, or an answer to a thread."""
        said = commands.parse_expert(text)
        to = person["phone"]
        if isinstance(said, commands.Command):
            await self._expert_command(conn, person, said, now)
            return "command", None
        open_threads = await threads_db.open_threads_of_expert(
            conn, person["id"], [str(s) for s in lifecycle.OPEN]
        )
        chosen = _correlate(open_threads, said.code, waiting=lifecycle.AWAITING_ANSWER)
        answer = said.text
        if said.quick is not None:
            standard = self.options.quick_replies.get(said.quick)
            if standard is None:
                sms = texts.render("quick_unknown", name=said.quick)
                await self.enqueue(conn, "notice", to, sms, None, now)
                return "unmatched", None
            answer = f"{standard}\n{said.text}" if said.text else standard
        if chosen is None or not answer:
            await self._list_codes(conn, person, open_threads, now)
            return "unmatched", None
        thread = chosen
        role = "assistant" if person["role"] == "assistant" else "expert"
        waited = await self._waiting(conn, int(thread["id"]))  # (before the answer is on it)
        await self._post(conn, thread["id"], role, answer, now, inbound_id)
        thread = await self._step(conn, thread, lifecycle.ExpertReplied(), now)
        await self._send_waited(conn, thread, waited, now)
        await self._forward_answer(conn, thread, role, answer, now)
        if person["confirm_replies"]:
            sms = texts.render("reply_confirmed", code=codes.format_code(thread["code"]))
            await self.enqueue(conn, "notice", to, sms, None, now)
        return "reply", int(thread["id"])

    async def _list_codes(
        self,
        conn: aiosqlite.Connection,
        person: aiosqlite.Row,
        open_threads: list[aiosqlite.Row],
        now: datetime,
    ) -> None:
        if open_threads:
            listing = "、".join(codes.format_code(t["code"]) for t in open_threads)
            sms = texts.render("unmatched_list_to_expert", codes=listing)
        else:
            sms = texts.render("list_empty")
        await self.enqueue(conn, "notice", person["phone"], sms, None, now)

    async def _forward_answer(
        self, conn: aiosqlite.Connection, thread: aiosqlite.Row, role: str, answer: str,
        now: datetime,
    ) -> None:  # fmt: skip
        phone_id = thread["phone_id"]
        if phone_id is None:
            return
        patient = await phones_db.phone_by_id(conn, int(phone_id))
        if patient is None or not self._takes_sms(patient):
            return
        sms = await self._forward_text(conn, thread, role, answer)
        await self.enqueue(conn, "to_patient", patient["e164"], sms, thread["id"], now, typed=True)

    async def _forward_text(
        self, conn: aiosqlite.Connection, thread: aiosqlite.Row, role: str, text: str
    ) -> str:
        """The SMS that carries ``role``'s message on ``thread`` to the other party."""
        if role == "patient":
            return texts.render(
                "followup_to_expert",
                dept=self.options.department,
                code=codes.format_code(thread["code"]),
                nickname=thread["nickname"],
                text=text,
            )
        expert = await experts_db.expert(conn, thread["expert_id"])
        assert expert is not None
        return texts.render(
            "answer_to_patient" if role == "expert" else "answer_to_patient_assistant",
            dept=self.options.department,
            code=codes.format_code(thread["code"]),
            expert=expert["name"],
            text=text,
        )

    async def _expert_command(
        self,
        conn: aiosqlite.Connection,
        person: aiosqlite.Row,
        command: commands.Command,
        now: datetime,
    ) -> None:
        to = person["phone"]
        if command.name == "list":  # what still waits for this person's answer
            open_threads = await threads_db.open_threads_of_expert(
                conn, person["id"], [str(s) for s in lifecycle.AWAITING_ANSWER]
            )
            if open_threads:
                items = [
                    f"{codes.format_code(t['code'])} {await self._gist(conn, t)}"
                    for t in open_threads
                ]
                sms = texts.render("list_to_expert", items="；".join(items))
            else:
                sms = texts.render("list_empty")
        elif command.name == "pause":
            sms = await self.pause_expert(conn, person, command.hours or None, person["id"], now)
        elif command.name == "resume":
            sms = await self.resume_expert(conn, person, person["id"], now)
        elif command.name in ("transfer", "escalate") and command.code is not None:
            sms = await self._pass_on(conn, person, command.name, command.code, now)
        else:  # help, or 转/升 without a readable code
            sms = texts.render("help_to_expert")
        await self.enqueue(conn, "notice", to, sms, None, now)

    async def pause_expert(
        self,
        conn: aiosqlite.Connection,
        person: aiosqlite.Row,
        hours: int | None,
        actor: str,
        now: datetime,
    ) -> str:
        """No new question reaches ``person`` for ``hours`` (None: until resumed); the SMS."""
        until = FOREVER if hours is None else now + timedelta(hours=hours)
        await experts_db.set_paused(conn, person["id"], iso(until))
        # what is already waiting is held too ("questions wait until the pause ends")
        await outbox_db.hold_questions(conn, person["phone"], iso(until))
        detail = {"until_resumed": True} if hours is None else {"hours": hours}
        await self.db.audit(conn, actor, "expert.pause", person["id"], detail)
        if hours is None:
            return texts.render("paused_indefinitely")
        return texts.render("paused", hours=hours)

    async def resume_expert(
        self, conn: aiosqlite.Connection, person: aiosqlite.Row, actor: str, now: datetime
    ) -> str:
        """The pause ends now: what it held goes (after quiet hours); the SMS that says so."""
        paused_until = person["paused_until"]
        await experts_db.set_paused(conn, person["id"], None)
        resumed = await experts_db.expert(conn, person["id"])
        assert resumed is not None
        release = self.send_time(resumed, now) or now  # quiet hours still hold
        if paused_until is not None:  # only what the pause held: a cap's wait stays
            await outbox_db.release_questions(conn, person["phone"], iso(release), paused_until)
            self.wake_pump()
        await self.db.audit(conn, actor, "expert.resume", person["id"])
        return texts.render("resumed")

    async def _latest_question(self, conn: aiosqlite.Connection, thread: aiosqlite.Row) -> str:
        """What the patient wrote since the last answer (the question and any follow-ups)."""
        rows = await conn.execute_fetchall(
            "SELECT text FROM messages WHERE thread_id = ? AND sender = 'patient' AND id > ("
            "SELECT COALESCE(MAX(id), 0) FROM messages WHERE thread_id = ? AND sender != 'patient')"
            " ORDER BY id",
            (thread["id"], thread["id"]),
        )
        return "\n".join(str(r[0]) for r in rows)

    async def _gist(self, conn: aiosqlite.Connection, thread: aiosqlite.Row) -> str:
        """A few words of the thread's latest patient message (for LIST)."""
        latest = await self._latest_question(conn, thread)
        return latest[:12] + ("…" if len(latest) > 12 else "")

    async def _question_again(
        self,
        conn: aiosqlite.Connection,
        thread: aiosqlite.Row,
        code: int,
        target: aiosqlite.Row,
        now: datetime,
        *,
        key: str = "question_to_expert",
    ) -> None:
        """The thread's latest question, to the person who holds the thread now."""
        sms = texts.render(
            key,
            dept=self.options.department,
            code=codes.format_code(code),
            nickname=thread["nickname"],
            text=await self._latest_question(conn, thread),
        )
        await self.enqueue(
            conn, "to_expert", target["phone"], sms, thread["id"], now,
            not_before=self.send_time(target, now), typed=True,
        )  # fmt: skip

    async def _pass_on(
        self,
        conn: aiosqlite.Connection,
        person: aiosqlite.Row,
        how: str,
        code: int,
        now: datetime,
    ) -> str:
        """转 #n: an expert gives a thread to their assistant; 升 #n: the assistant escalates
        it to the expert. The receiver gets the thread's latest question; returns the SMS text
        for the sender."""
        held = await threads_db.open_threads_of_expert(
            conn, person["id"], [str(s) for s in lifecycle.OPEN]
        )
        thread = next((t for t in held if t["code"] == code), None)
        if thread is None:
            listing = "、".join(codes.format_code(t["code"]) for t in held) or "—"
            return texts.render("unmatched_list_to_expert", codes=listing)
        expert = await experts_db.expert(conn, thread["expert_id"])
        assert expert is not None
        if how == "transfer":
            target = await self._assistant_of(conn, expert)
            if target is None or person["id"] != expert["id"]:
                return texts.render("no_assistant")
        else:
            if person["role"] != "assistant":
                return texts.render("help_to_expert")
            target = expert
        await threads_db.set_handler(conn, thread["id"], target["id"])
        key = "question_to_expert" if how == "transfer" else "escalated_to_expert"
        await self._question_again(conn, thread, code, target, now, key=key)
        await self.db.audit(conn, person["id"], f"thread.{how}", str(thread["id"]))
        key = "transferred" if how == "transfer" else "escalated"
        return texts.render(key, code=codes.format_code(code))

    async def _from_patient(
        self,
        conn: aiosqlite.Connection,
        phone: aiosqlite.Row,
        text: str,
        inbound_id: int,
        now: datetime,
    ) -> tuple[str, int | None]:
        said = commands.parse_patient(text)
        e164 = phone["e164"]
        if isinstance(said, commands.Command):  # STOP / TD / 退订, START / 开通
            await self._patient_command(conn, phone, said, now)
            return "command", None
        open_threads = await threads_db.open_threads_of_phone(
            conn, int(phone["id"]), [str(s) for s in lifecycle.OPEN]
        )
        chosen = _correlate(open_threads, said.code, waiting=frozenset())  # a patient owes none
        if chosen is None or not said.text:
            if len(open_threads) > 1 and self._takes_sms(phone):
                listing = "、".join(codes.format_code(t["code"]) for t in open_threads)
                sms = texts.render("unmatched_list_to_patient", codes=listing)
                await self.enqueue(conn, "notice", e164, sms, None, now, patient=True)
            return "unmatched", None
        await self._post_follow_up(conn, chosen, said.text, now, inbound_id=inbound_id)
        return "followup", int(chosen["id"])

    async def _patient_command(
        self,
        conn: aiosqlite.Connection,
        phone: aiosqlite.Row,
        command: commands.Command,
        now: datetime,
    ) -> None:
        """STOP: nothing more to this number (a code neither) until START; each confirmed once."""
        e164, phone_id = str(phone["e164"]), int(phone["id"])
        if command.name == "start":
            if await phones_db.start_phone(conn, phone_id):
                await self.db.audit(conn, "patient", "phone.start", str(phone_id))
                sms = texts.render("start_confirmed")
                await self.enqueue(conn, "notice", e164, sms, None, now, confirms_command=True)
            return
        if await phones_db.stop_phone(conn, phone_id, iso(now)):
            await outbox_db.cancel_for_recipient(
                conn, e164, ["to_patient", "notice", "verification"]
            )
            await self.db.audit(conn, "patient", "phone.stop", str(phone_id))
            sms = texts.render("stop_confirmed")
            await self.enqueue(conn, "notice", e164, sms, None, now, confirms_command=True)

    async def _post_follow_up(
        self,
        conn: aiosqlite.Connection,
        thread: aiosqlite.Row,
        text: str,
        now: datetime,
        *,
        inbound_id: int | None,
    ) -> None:
        """A patient's message on an open thread (from the page or by SMS): to the expert's
        phone now, or kept until the answer when enough went already
        (:func:`.lifecycle.waiting_follow_ups`, released by :meth:`_send_waited`)."""
        await self._post(conn, thread["id"], "patient", text, now, inbound_id)
        posts = await threads_db.thread_messages(conn, int(thread["id"]))
        if len(posts) - 1 in lifecycle.waiting_follow_ups([str(p["sender"]) for p in posts]):
            log.info("thread %d: a follow-up waits for the answer", thread["id"])
            return
        thread = await self._step(conn, thread, lifecycle.PatientFollowUp(), now)
        await self._follow_up_to_expert(conn, thread, text, now)

    async def _waiting(self, conn: aiosqlite.Connection, thread_id: int) -> list[str]:
        """The patient's messages on the thread that wait for the expert's answer."""
        posts = await threads_db.thread_messages(conn, thread_id)
        waiting = lifecycle.waiting_follow_ups([str(p["sender"]) for p in posts])
        return [str(posts[i]["text"]) for i in waiting]

    async def _send_waited(
        self, conn: aiosqlite.Connection, thread: aiosqlite.Row, waited: list[str], now: datetime
    ) -> None:
        """What waited for the answer, in one SMS to whoever holds the thread (after quiet
        hours), no longer than a question: each message shortened to its share.

        Queued before the answer's own SMS to the patient: the inbound path remembers the last
        SMS queued for a thread as the one that carried the answer on (``note_forwarded``).
        """
        if not waited:
            return
        handler = await experts_db.expert(conn, thread["handler_id"] or thread["expert_id"])
        assert handler is not None
        sms = texts.render(
            "followups_waited_to_expert",
            dept=self.options.department,
            code=codes.format_code(thread["code"]),
            nickname=thread["nickname"],
            count=len(waited),
            text=_digest(waited, self.options.max_text),
        )
        await self.enqueue(
            conn, "to_expert", handler["phone"], sms, thread["id"], now,
            not_before=self.send_time(handler, now), typed=True,
        )  # fmt: skip
        log.info("thread %d: %d follow-up(s) that waited go in one SMS", thread["id"], len(waited))

    async def _follow_up_to_expert(
        self, conn: aiosqlite.Connection, thread: aiosqlite.Row, text: str, now: datetime
    ) -> None:
        """The patient's follow-up by SMS to whoever holds the thread (after quiet hours)."""
        handler = await experts_db.expert(conn, thread["handler_id"] or thread["expert_id"])
        assert handler is not None
        sms = await self._forward_text(conn, thread, "patient", text)
        await self.enqueue(
            conn, "to_expert", handler["phone"], sms, thread["id"], now,
            not_before=self.send_time(handler, now), typed=True,
        )  # fmt: skip

    async def _post(
        self,
        conn: aiosqlite.Connection,
        thread_id: int,
        sender: str,
        text: str,
        now: datetime,
        inbound_id: int | None = None,
    ) -> None:
        """A message on a thread, with the masked form public pages show and search."""
        message = threads_db.NewMessage(
            thread_id, sender, text, mask_numbers(text), iso(now), inbound_id
        )
        await threads_db.insert_message(conn, message)
        if sender == "expert":
            self._medians = None  # perhaps a first answer: work the medians out again

    # -- people ------------------------------------------------------------------------------

    async def welcome_new(self) -> int:
        """A short SMS to each expert or assistant not yet welcomed: how to reply, commands."""
        now = self.clock()
        async with self.db.transaction() as conn:
            people = await experts_db.unwelcomed(conn)
            for person in people:
                sms = texts.render("welcome_expert", dept=self.options.department)
                await self.enqueue(
                    conn, "notice", person["phone"], sms, None, now,
                    not_before=self.send_time(person, now),
                )  # fmt: skip
                await experts_db.mark_welcomed(conn, person["id"], iso(now))
        return len(people)

    async def handoff(self, from_id: str, to_id: str, actor: str) -> int:
        """Move every open thread of ``from_id`` to ``to_id`` in one step; ``from_id`` leaves.

        The threads get codes that are free for their new holder (and their patients); the
        new holder (the colleague, or the colleague's assistant) gets one SMS with the list,
        and the question again for each thread still waiting for an answer.
        """
        now = self.clock()
        async with self.db.transaction() as conn:
            leaving = await experts_db.expert(conn, from_id)
            colleague = await experts_db.expert(conn, to_id)
            if leaving is None or colleague is None:
                raise NotFound("expert")
            if from_id == to_id or colleague["role"] != "expert" or colleague["left_at"]:
                raise Conflict("handoff_target")
            handler = await self._assistant_of(conn, colleague) or colleague
            since = iso(now - codes.REUSE_AFTER)
            moved: list[str] = []
            for thread in await threads_db.threads_owned_by(
                conn, from_id, [str(s) for s in lifecycle.OPEN]
            ):
                in_use = await threads_db.codes_in_use(
                    conn, {to_id, handler["id"]}, thread["phone_id"], since
                )
                code = codes.allocate(in_use)
                await threads_db.move_thread(conn, thread["id"], to_id, handler["id"], code)
                await outbox_db.cancel_for_thread(conn, thread["id"])  # queued SMS to the old phone
                moved.append(f"{codes.format_code(code)} {await self._gist(conn, thread)}")
                if Status(thread["status"]) is not Status.ANSWERED:
                    await self._question_again(conn, thread, code, handler, now)
            if moved:
                sms = texts.render(
                    "handoff_to_expert", name=leaving["name"], count=len(moved),
                    items="；".join(moved),
                )  # fmt: skip
                await self.enqueue(
                    conn, "notice", handler["phone"], sms, None, now,
                    not_before=self.send_time(handler, now),
                )  # fmt: skip
            await experts_db.mark_left(conn, from_id, iso(now))
            await self.db.audit(
                conn, actor, "expert.handoff", from_id, {"to": to_id, "threads": len(moved)}
            )
        return len(moved)

    # -- time --------------------------------------------------------------------------------

    async def close_due(self) -> int:
        """Close or expire threads quiet for ``auto_close``; return how many changed."""
        now = self.clock()
        changed = 0
        async with self.db.transaction() as conn:
            due = await threads_db.threads_due_for_close(
                conn, iso(now - self.options.auto_close), [str(s) for s in lifecycle.OPEN]
            )
            for thread_id in due:
                row = await threads_db.thread(conn, thread_id)
                assert row is not None
                after = await self._step(conn, row, lifecycle.AutoClose(), now)
                changed += after["status"] != row["status"]
        return changed

    async def _step(
        self,
        conn: aiosqlite.Connection,
        thread: aiosqlite.Row,
        event: lifecycle.Event,
        now: datetime,
    ) -> aiosqlite.Row:
        """Run the state machine for ``thread`` and apply its effects, in the caller's commit."""
        status, effects = lifecycle.step(
            Status(thread["status"]),
            event,
            now,
            last_message_at=_parse(thread["last_message_at"]),
            auto_close=self.options.auto_close,
        )
        if status != thread["status"]:
            await threads_db.set_status(conn, int(thread["id"]), str(status), iso(now))
        for effect in effects:
            if isinstance(effect, lifecycle.CancelPending):
                await outbox_db.cancel_for_thread(conn, int(thread["id"]))
            elif isinstance(effect, lifecycle.AlertAdmins):
                await self.db.audit(
                    conn, "relay", "alert", str(thread["id"]), {"reason": effect.reason}
                )
            elif isinstance(effect, lifecycle.NotifyPatient):
                # the page shows it while its cause stands (lifecycle.page_notice reads the
                # status and the outbox written above): nothing more to store, no SMS
                log.info("thread %d: the page says %s", thread["id"], effect.key)
        row = await threads_db.thread(conn, int(thread["id"]))
        assert row is not None
        return row

    # -- admins ------------------------------------------------------------------------------

    async def assign_inbound(self, inbound_id: int, thread_id: int, actor: str) -> None:
        """Post an unmatched SMS from a thread's expert (or assistant) as the thread's answer.

        Forwarded to the patient like a reply by SMS; the inbound row is resolved as a reply.
        Only an SMS from the thread's own expert or its handler can be assigned to it.
        """
        now = self.clock()
        async with self.db.transaction() as conn:
            inbound = await inbound_db.unresolved_unmatched(conn, inbound_id)
            thread = await threads_db.thread(conn, thread_id)
            if inbound is None or thread is None:
                raise NotFound("inbound" if inbound is None else "thread")
            if Status(thread["status"]) not in lifecycle.OPEN:
                raise Conflict("assign_closed")
            person = await experts_db.expert_by_phone(conn, str(inbound["sender"]))
            holders = {thread["expert_id"], thread["handler_id"]}
            if person is None or person["id"] not in holders:
                raise Conflict("assign_sender")
            said = commands.parse_expert(str(inbound["text"]))
            answer = str(inbound["text"]) if isinstance(said, commands.Command) else said.text
            if not answer.strip():
                raise Conflict("assign_empty")
            role = "assistant" if person["role"] == "assistant" else "expert"
            waited = await self._waiting(conn, thread_id)
            await self._post(conn, thread_id, role, answer, now, inbound_id)
            thread = await self._step(conn, thread, lifecycle.ExpertReplied(), now)
            await self._send_waited(conn, thread, waited, now)
            before = await outbox_db.last_outbox_id(conn)
            await self._forward_answer(conn, thread, role, answer, now)
            await inbound_db.note_forwarded(conn, inbound_id, thread_id, before)  # (a late part)
            await inbound_db.resolve_inbound(conn, inbound_id, "reply", thread_id, iso(now))
            await self.db.audit(
                conn, actor, "inbound.assign", str(inbound_id), {"thread": thread_id}
            )
        log.info("inbound %d: assigned to thread %d by an admin", inbound_id, thread_id)

    async def monitoring_counts(self) -> dict[str, dict[str, int]]:
        """Parts sent per modem and SMS received per outcome (for /metrics)."""
        return await monitoring.counts(self.db)

    async def outbox_counts(self) -> dict[str, int]:
        """SMS in the outbox by status."""
        return await outbox_db.outbox_counts(self.db)

    async def unmatched_inbound(self, limit: int = 100) -> list[dict[str, Any]]:
        """Unresolved unmatched SMS, oldest first: id, modem, sender (E.164), text, time."""
        return [dict(r) for r in await inbound_db.unmatched(self.db, limit)]

    async def open_alerts(self) -> list[dict[str, Any]]:
        """Alerts not yet cleared, oldest first: kind, subject, opened_at."""
        found = await alert_store.open_alerts(self.db)
        rows = sorted(found.values(), key=lambda r: str(r["opened_at"]))
        return [{k: r[k] for k in ("kind", "subject", "opened_at")} for r in rows]

    async def parts_sent_since(self, modem_id: str, since: datetime) -> int:
        """SMS parts ``modem_id`` has sent since ``since``."""
        return (await outbox_db.parts_sent_since(self.db, modem_id, [iso(since)]))[0]

    async def failed_outbox(self, limit: int) -> list[dict[str, Any]]:
        """SMS that failed for good, newest first (recipients in E.164: mask before showing)."""
        return [dict(r) for r in await monitoring.failed_outbox(self.db, limit)]

    async def traffic_since(self, since: datetime) -> dict[str, int]:
        """Parts sent, SMS fully sent, SMS failed and SMS received since ``since``."""
        return await monitoring.traffic_since(self.db, iso(since))

    async def waiting_since(self, before: datetime, limit: int) -> list[dict[str, Any]]:
        """Threads waiting for an answer since before ``before``, oldest first."""
        waiting = [str(s) for s in lifecycle.OPEN if s is not Status.ANSWERED]
        rows = await monitoring.waiting_since(self.db, waiting, iso(before), limit)
        return [dict(r) for r in rows]

    async def short_code_sms(self, since: datetime, limit: int) -> list[dict[str, Any]]:
        """SMS from operators' short codes since ``since``, newest first."""
        return [dict(r) for r in await monitoring.short_code_sms(self.db, iso(since), limit)]

    async def mark_notices_handled(self, actor: str) -> int:
        """An admin has read the operators' and unknown numbers' SMS: their alert clears."""
        async with self.db.transaction() as conn:
            handled = await monitoring.resolve_notices(conn, iso(self.clock()))
            await self.db.audit(conn, actor, "notices.handled", None, {"count": handled})
        return handled

    async def unknown_sender_sms(self, since: datetime, limit: int) -> list[dict[str, Any]]:
        """SMS from unknown numbers since ``since``, newest first (senders in E.164 as
        received: mask before showing). Never posted, never answered."""
        rows = await monitoring.unknown_sender_sms(self.db, iso(since), limit)
        return [dict(r) for r in rows]

    async def incomplete_sms(self, since: datetime, limit: int) -> list[dict[str, Any]]:
        """SMS routed since ``since`` without a part that has not come yet, newest first:
        ``missing`` (part numbers), ``parts`` (the total), ``thread_id``, ``sender`` (mask it)."""
        out = []
        for row in await monitoring.incomplete_sms(self.db, iso(since), limit):
            missing = json.loads(row["missing"]) if row["missing"] else []
            out.append({**dict(row), "missing": [int(n) for n in missing]})
        return out

    async def retry_outbox(self, outbox_id: int, actor: str) -> None:
        """An admin sends a failed SMS again: back in the queue with fresh attempts.

        Refused for a verification code (expired by now), a closed thread, a patient who has
        sent STOP or been erased, and an expert's SMS whose number is no longer the one that
        holds it (the expert left, handed the thread on, or changed numbers). A question waits
        for the expert's quiet hours and pause like any other, and its thread goes with it.
        """
        now = self.clock()
        async with self.db.transaction() as conn:
            row = await outbox_db.outbox_row(conn, outbox_id)
            if row is None or row["status"] != "failed":
                raise NotFound("outbox")
            kind, recipient = row["kind"], str(row["recipient"])
            if kind == "verification":
                raise Conflict("retry_code")  # a code that comes late has expired
            thread = None
            if row["thread_id"] is not None:
                thread = await threads_db.thread(conn, int(row["thread_id"]))
                if thread is not None and Status(thread["status"]) not in lifecycle.OPEN:
                    raise Conflict("retry_closed")
            not_before = None
            person = await experts_db.expert_by_phone(conn, recipient)
            if person is None:  # a patient (or a number erased since)
                patient = await phones_db.phone(conn, recipient)
                if patient is None or not self._takes_sms(patient):
                    raise Conflict("retry_stopped")
            else:
                holder = thread["handler_id"] or thread["expert_id"] if thread else person["id"]
                if person["left_at"] or person["id"] != holder:
                    raise Conflict("retry_moved")
                not_before = self.send_time(person, now)
            await monitoring.requeue(conn, outbox_id, iso(not_before or now))
            if thread is not None and kind == "to_expert":
                if Status(thread["status"]) is Status.FAILED:
                    thread = await self._step(conn, thread, lifecycle.Released(), now)
                if not_before is not None and Status(thread["status"]) is Status.QUEUED:
                    await self._step(conn, thread, lifecycle.Held("schedule"), now)
            await self.db.audit(conn, actor, "sms.retry", str(outbox_id), {"kind": kind})
            self.wake_pump()
        log.info("outbox %d: queued again by an admin", outbox_id)


_LINK_TOKEN = re.compile(r"(/t/[0-9]+/)[A-Za-z0-9_-]{16,}")


def _correlate(
    open_threads: list[aiosqlite.Row], code: int | None, *, waiting: frozenset[Status]
) -> aiosqlite.Row | None:
    """The thread a reply answers, by :func:`.correlation.correlate`; ``waiting``: the statuses
    in which a thread waits for the sender's reply."""
    by_id = {int(t["id"]): t for t in open_threads}
    chosen = correlation.correlate(
        [
            correlation.OpenThread(int(t["id"]), int(t["code"]), Status(t["status"]) in waiting)
            for t in open_threads
        ],
        code,
    )
    return None if chosen is None else by_id[chosen.id]


def _mobile(raw: str) -> str:
    try:
        e164 = normalise(raw)
    except AddressError:
        raise Invalid("phone_invalid", field="phone") from None
    if is_short_code(e164):
        raise Invalid("phone_invalid", field="phone")
    return e164


def _refuse(reason: str | None) -> None:
    """Raise what a patient is told about a number we do not text (:meth:`Relay._refusal`).
    Nothing for None, nor for a staff number: whose number it is is never said."""
    if reason is None or reason == "phone_staff":
        return
    if reason == "phone_stopped":
        raise Conflict(reason, field="phone")
    raise Invalid(reason, field="phone")


DIGEST_SHARE_MIN = 20  # characters of each waiting message at least, when many waited


def _digest(messages: list[str], budget: int) -> str:
    """``messages`` numbered in one text of about ``budget`` characters at most: each shortened
    to its share (with …), and those that no longer fit left out with an ellipsis."""
    overhead = len(str(len(messages))) + 3  # "7." before it, "…" and a space after
    share = max(DIGEST_SHARE_MIN, budget // len(messages) - overhead)
    items: list[str] = []
    used = 0
    for n, message in enumerate(messages, 1):
        text = " ".join(message.split())
        item = f"{n}.{text[:share]}{'…' if len(text) > share else ''}"
        if items and used + len(item) > budget:
            items.append("…")
            break
        items.append(item)
        used += len(item) + 1
    return " ".join(items)


def _paused_until(expert: aiosqlite.Row, now: datetime) -> datetime | None:
    value = expert["paused_until"]
    if value is None:
        return None
    until = _parse(value)
    return until if until > now else None


def _assemble(
    parts: list[tuple[int, pdu.Deliver, datetime]],
    now: datetime,
    timeout: timedelta,
    missing_mark: str,
) -> list[tuple[Message, list[int]]]:
    """Whole messages among stored parts (in storage order), each with its parts' ids.

    The stored parts are the reassembly state: a fresh :class:`Reassembler` is fed every part
    not yet assembled, so a restart loses nothing. Groups older than ``timeout`` come out
    incomplete, with ``missing_mark`` where each missing part would be.
    """
    reassembler = Reassembler(timeout=timeout, missing_mark=missing_mark)
    ids: dict[tuple[str, int | None, int], list[int]] = defaultdict(list)
    out: list[tuple[Message, list[int]]] = []
    for part_id, deliver, received in parts:
        message = reassembler.add(deliver, received)
        if message is not None and message.ref is None:
            out.append((message, [part_id]))  # a single SMS
            continue
        assert deliver.concat is not None
        key = (deliver.sender, deliver.concat.ref, deliver.concat.total)
        ids[key].append(part_id)
        if message is not None:
            out.append((message, ids.pop(key)))
    for message in reassembler.expire(now):
        out.append((message, ids.pop((message.sender, message.ref, message.total), [])))
    return out
