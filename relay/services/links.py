"""A thread's links: which one opens a thread, and new ones by SMS to the thread's phone.

The first link is made with the thread (its token's hash in ``threads``); more go by SMS on
request, from the thread's page or from "find my links" on the board, within per-phone and
all-phones limits. Only hashes are stored, and a link in an outbox row is cut off once the SMS
is on the phone (:mod:`.delivery`). "Find my links" answers the same for every number: it only
queues the request, worked after the answer by :meth:`Links.serve_link_requests`. It must
never log a number or a token.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from datetime import datetime, timedelta

import aiosqlite

from smscat.relay.core import codes, lifecycle, policy, texts
from smscat.relay.core.errors import Conflict, NotFound, TooMany
from smscat.relay.core.types import Phone, Thread
from smscat.relay.services.context import Context, mobile, token_hash
from smscat.relay.services.sending import Sender
from smscat.storage import phones as phones_db
from smscat.storage import threads as threads_db
from smscat.storage.db import iso

log = logging.getLogger(__name__)


class Links:
    """Thread links: checked for the page, sent again by SMS; one per daemon (its queue)."""

    def __init__(self, ctx: Context, sender: Sender) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.options = ctx.options
        self.sender = sender
        # "find my links" requests, worked after the answer (send_links_to, serve_link_requests)
        self._link_requests: asyncio.Queue[tuple[str, str]] = asyncio.Queue(maxsize=1000)

    async def thread_for(self, thread_id: int, token: str) -> Thread:
        """The thread whose link this is: its first link's token, or one sent again by SMS."""
        async with self.db.reading() as conn:
            thread = await threads_db.thread(conn, thread_id)
        if thread is None:
            raise NotFound("thread")
        given = token_hash(token)
        hashes = [thread.token_hash, *await threads_db.link_hashes(self.db, thread_id)]
        if not any(hmac.compare_digest(h, given) for h in hashes):
            raise NotFound("thread")  # the same answer for a wrong token: ids are not secrets
        return thread

    async def link_phone(self, conn: aiosqlite.Connection, thread: Thread) -> Phone | None:
        """The thread's phone when a link may go to it: verified, not stopped, not erased
        (:func:`.policy.takes_sms`)."""
        if thread.phone_id is None:
            return None
        phone = await phones_db.phone_by_id(conn, thread.phone_id)
        return phone if phone is not None and self._takes_sms(phone) else None

    def _takes_sms(self, phone: Phone) -> bool:
        return policy.takes_sms(phone, self.options.text_rules)

    async def send_link(self, thread_id: int, token: str, base_url: str) -> None:
        """A new link to the thread, by SMS to the thread's verified phone; ``token`` keeps
        working. ``base_url`` (``https://host``) is where the board is reached from outside."""
        await self.thread_for(thread_id, token)
        now = self.ctx.clock()
        async with self.db.transaction() as conn:
            thread = await threads_db.thread(conn, thread_id)
            assert thread is not None
            phone = await self.link_phone(conn, thread)
            if phone is None:
                raise Conflict("no_phone")
            await self._check_link_limits(conn, phone.id, now)
            await self._send_links(conn, phone, [thread], base_url, now)
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
        e164 = mobile(phone_raw)
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
        now = self.ctx.clock()
        sent = 0
        async with self.db.transaction() as conn:
            phone = await phones_db.phone(conn, e164)
            if phone is not None and self._takes_sms(phone):
                threads = await threads_db.threads_for_links(
                    conn,
                    phone.id,
                    [str(s) for s in lifecycle.OPEN],
                    self.options.links_in_sms,
                )
                if threads:
                    try:
                        await self._check_link_limits(conn, phone.id, now)
                    except TooMany:
                        log.info("links by SMS: over the limit, nothing sent")
                    else:
                        await self._send_links(conn, phone, threads, base_url, now)
                        sent = len(threads)
        if sent:
            log.info("links by SMS: %d thread link(s) sent to a patient", sent)

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
        phone: Phone,
        threads: list[Thread],
        base_url: str,
        now: datetime,
    ) -> None:
        """One SMS with a new link to each of ``threads``, all of them ``phone``'s."""
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an absolute http(s) URL")
        base = base_url.rstrip("/")
        urls = []
        for thread in threads:
            assert thread.phone_id == phone.id  # never another patient's thread
            token = secrets.token_urlsafe(24)
            await threads_db.insert_link(conn, thread.id, token_hash(token), iso(now))
            urls.append((codes.format_code(thread.code), f"{base}/t/{thread.id}/{token}"))
        dept = self.options.department
        if len(urls) == 1:
            sms = texts.render("link_to_patient", dept=dept, url=urls[0][1])
        else:
            links = "；".join(f"{code} {url}" for code, url in urls)
            sms = texts.render("links_to_patient", dept=dept, links=links)
        await phones_db.insert_link_sms(conn, phone.id, len(urls), iso(now))
        await self.sender.enqueue(
            conn, "notice", phone.e164, sms, None, now, guard=False, patient=True
        )
        await self.db.audit(
            conn, "patient", "thread.link_sms", str(phone.id),
            {"threads": [t.id for t in threads]},
        )  # fmt: skip
