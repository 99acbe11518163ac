"""Telling someone when smscat is in trouble: an SMS to the admins' phones and a webhook POST.

Incidents: a modem that cannot send for ``modem_silent`` (unplugged, no network, barred, SIM
locked or behind its PUK — its supervisor's ``blocked()``, in words that say what to do), a
queue that has not moved for ``queue_stalled`` while SMS are due and some modem could send
them, SMS that failed for good in the last day, a SIM near one of its caps, and a service short
code that sent something (balance low, suspension). Each incident is one row in
``alerts``: notified when it opens, reminded at most every ``repeat`` while it lasts, and given
one all-clear when it ends. The admins' numbers never appear in a log line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import aiohttp

from smscat.relay.core import routing, texts
from smscat.relay.core.records import Alert
from smscat.relay.services.outbox import OutboxPump
from smscat.relay.services.relay import Relay
from smscat.storage import alerts as store
from smscat.storage.db import iso

log = logging.getLogger(__name__)


# Incidents told once when they open, never reminded: they wait for an admin on the dashboard.
QUIET = frozenset({"short_code"})


class CanSend(Protocol):
    def blocked(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class AlertOptions:
    phones: tuple[str, ...] = ()
    webhook: str | None = None
    modem_silent: timedelta = timedelta(minutes=10)
    queue_stalled: timedelta = timedelta(minutes=15)
    cap_warn_ratio: float = 0.9
    repeat: timedelta = timedelta(hours=1)
    short_code_window: timedelta = timedelta(days=1)
    failed_window: timedelta = timedelta(days=1)  # SMS failed for good, not sent again since


class Alerter:
    def __init__(
        self,
        relay: Relay,
        modems: Mapping[str, CanSend],
        options: AlertOptions,
        *,
        pump: OutboxPump | None = None,
        http: aiohttp.ClientSession | None = None,
    ) -> None:
        self.relay = relay
        self.modems = modems
        self.options = options
        self.pump = pump
        self.http = http
        self._down_since: dict[str, datetime] = {}
        self._pending: list[dict[str, Any]] = []  # webhook payloads, posted after the commit
        self.sent: list[tuple[str, str, str]] = []  # (state, kind, subject) notified, in order

    async def run(self, every: float = 60.0) -> None:
        while True:
            try:
                await self.check()
            except Exception:
                log.exception("alerts: an error; checking again in %g s", every)
            await asyncio.sleep(every)

    async def check(self) -> None:
        """Open, remind and clear alerts for what is wrong now."""
        now = self.relay.clock()
        wanted = await self._incidents(now)
        current = await store.open_alerts(self.relay.db)
        async with self.relay.db.transaction() as conn:
            for key, detail in wanted.items():
                alert = current.get(key)
                if alert is None:
                    await store.open_alert(conn, key, detail, iso(now))
                    await self._notify(conn, "open", key, detail, now)
                elif key[0] not in QUIET and self._reminder_due(alert, now):
                    await store.renotified(conn, alert.id, iso(now))
                    await self._notify(conn, "open", key, detail, now)
            for key, alert in current.items():
                if key not in wanted:
                    await store.clear_alert(conn, alert.id, iso(now))
                    await self._notify(conn, "cleared", key, {}, now)
        await self._post_webhooks()

    def _reminder_due(self, alert: Alert, now: datetime) -> bool:
        """The admins were told of ``alert`` at least ``repeat`` ago (or, oddly, never)."""
        told = alert.notified_at or alert.opened_at
        return told + self.options.repeat <= now

    async def _incidents(self, now: datetime) -> dict[store.Key, dict[str, Any]]:
        wanted: dict[store.Key, dict[str, Any]] = {}
        some_can_send = False
        for modem_id, modem in self.modems.items():
            block = modem.blocked()
            if block is None:
                some_can_send = True
                self._down_since.pop(modem_id, None)
                continue
            since = self._down_since.setdefault(modem_id, now)
            if now - since >= self.options.modem_silent:
                wanted[("modem_down", modem_id)] = {"state": block}
        stalled_since = iso(now - self.options.queue_stalled)
        # with no modem able to send the queue cannot move: the modem alerts say why already
        if some_can_send and await store.queue_stalled(self.relay.db, iso(now), stalled_since):
            wanted[("queue_stalled", "outbox")] = {}
        failed = await store.failed_since(self.relay.db, iso(now - self.options.failed_window))
        if failed:
            wanted[("sms_failed", "outbox")] = {"count": failed}
        if self.pump is not None:
            for view in await self.pump.views():
                if view.healthy and routing.near_cap(view, self.options.cap_warn_ratio):
                    wanted[("cap_near", view.id)] = {}
        # one incident per kind of sender, never their text (it may carry a link or a number):
        # an admin reads it on the dashboard and marks it handled
        window = iso(now - self.options.short_code_window)
        for sender, count in (await store.unresolved_notices(self.relay.db, window)).items():
            wanted[("short_code", sender)] = {"count": count}
        return wanted

    async def _notify(
        self,
        conn: Any,
        state: str,
        key: store.Key,
        detail: dict[str, Any],
        now: datetime,
    ) -> None:
        kind, subject = key
        block = str(detail.get("state", ""))
        what = texts.render(
            f"alert.{kind}",
            subject=subject,
            who=texts.render_or(f"alert.sender.{subject}", subject),
            why=texts.render_or(f"block.{block}", block),
            count=detail.get("count", 0),
            minutes=int(self.options.queue_stalled.total_seconds() // 60),
        )
        sms = texts.render("alert_open" if state == "open" else "alert_cleared", what=what)
        for phone in self.options.phones:
            # reminders repeat the text on purpose: past the duplicate guard
            await self.relay.sending.enqueue(conn, "notice", phone, sms, None, now, guard=False)
        self.sent.append((state, kind, subject))
        self._pending.append({"state": state, "kind": kind, "subject": subject, "at": iso(now),
                              "detail": detail})  # fmt: skip
        log.warning("alert %s: %s %s", state, kind, subject)

    async def _post_webhooks(self) -> None:
        pending, self._pending = self._pending, []
        if not self.options.webhook or self.http is None:
            return
        for payload in pending:
            try:
                async with self.http.post(
                    self.options.webhook, json=payload, timeout=aiohttp.ClientTimeout(total=5)
                ) as resp:
                    if resp.status >= 300:
                        log.warning("alert webhook answered %d", resp.status)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("alert webhook failed: %s", type(exc).__name__)
