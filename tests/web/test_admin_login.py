"""The admin's login under attack, and a session that outlives a restart.

Over real HTTP against a whole daemon (behind a trusted proxy on loopback, so that the test can
speak from any client network with X-Forwarded-For): forty wrong passwords at once cost five
argon2 checks, never more than two at a time, and lock only the attacker's network while the
admin logs in from theirs; a browser that has logged in before is not locked by its network's
neighbours; every login, failure, lock and setup is in the audit log with the client's network
and never its address. The guard's rules (the global slow-down, its bounded memory) on their own
with a hand-driven clock; sessions signed with ``web.secret_key`` across restarts, their idle
time and their end by logout included.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from argon2 import PasswordHasher
from yarl import URL

from smscat.relay.daemon.app import Daemon, admin_options, relay_options
from smscat.relay.services.relay import Relay
from smscat.storage.db import Database
from smscat.web.admin import add_routes as add_admin
from smscat.web.admin_auth import (
    GATE_EVERY,
    GLOBAL_FREE,
    USER_FAILURES,
    Locked,
    LoginGuard,
    Refused,
    Ticket,
    network_of,
)
from smscat.web.admin_login import DEVICE_COOKIE
from smscat.web.admin_session import CHECKS_AT_ONCE, SESSION_COOKIE
from smscat.web.pages import add_routes as add_pages
from tests.support.admin import ADMINS, CSRF, Browser
from tests.support.daemon import TIMEOUT, daemon, settings

TRUSTED = {"trusted_proxies": ["127.0.0.0/8"]}
KEY = "a-test-key-of-more-than-32-bytes!"
ATTACKER = {"X-Forwarded-For": "203.0.113.7"}
ATTACKER_2 = {"X-Forwarded-For": "203.0.113.99"}  # the attacker's network still
ADMIN_HOME = {"X-Forwarded-For": "198.51.100.20"}
NEIGHBOUR = {"X-Forwarded-For": "198.51.100.66"}  # the admin's /24, another machine


@dataclass
class Checks:
    """Every argon2 verify the daemon runs: how many, and the most at the same time."""

    calls: int = 0
    running: int = 0
    most: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Checks:
    counted = Checks()
    verify = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        with counted.lock:
            counted.calls += 1
            counted.running += 1
            counted.most = max(counted.most, counted.running)
        try:
            return verify(self, hash, password)
        finally:
            with counted.lock:
                counted.running -= 1

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return counted


@asynccontextmanager
async def browser(url: str) -> AsyncIterator[Browser]:
    jar = aiohttp.CookieJar(unsafe=True)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=jar, connector=connector) as h:
        yield Browser(h, url)


async def admin_audit(running: Daemon) -> list[dict[str, Any]]:
    rows = await running.relay.db.fetchall(
        "SELECT actor, action, subject, detail FROM audit_log"
        " WHERE action LIKE 'admin.%' ORDER BY id"
    )
    return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]


# -- must-show 4: forty at once ----------------------------------------------------------------


async def test_forty_wrong_logins_at_once_cost_five_checks_and_lock_only_the_attacker(
    tmp_path: Path, checks: Checks
) -> None:
    async with (
        daemon(tmp_path, admins=ADMINS, web=TRUSTED) as (running, _),
        browser(running.url) as attacker,
        browser(running.url) as admin,
    ):
        token = await attacker.login_form()
        form = {"csrf": token, "username": "root", "password": "wrong guess"}
        answers = await asyncio.gather(
            *(attacker.post("/admin/login", form, ATTACKER) for _ in range(40))
        )
        statuses = [status for status, *_ in answers]
        assert (statuses.count(401), statuses.count(429)) == (USER_FAILURES, 40 - USER_FAILURES)
        assert checks.calls == USER_FAILURES  # the other 35 never reached argon2
        assert checks.most <= CHECKS_AT_ONCE
        refused = next(a for a in answers if a[0] == 429)
        assert int(refused[1]["Retry-After"]) > 0

        # the attacker's network is locked, even with the right password
        status, _, _, cookies = await attacker.login(**ATTACKER_2)
        assert status == 429
        assert not any(c.startswith(SESSION_COOKIE + "=") for c in cookies)
        # the real admin, from another network, meanwhile
        status, _, body, _ = await admin.login(**ADMIN_HOME)
        assert status == 303, body
        await admin.dashboard()
        assert checks.calls == USER_FAILURES + 1

        audit = await admin_audit(running)
        assert [(a["action"], a["subject"]) for a in audit] == [
            *[("admin.login_failed", "root")] * 5,
            ("admin.locked", "root"),
            ("admin.login", "root"),
        ]
        assert {a["detail"]["network"] for a in audit[:6]} == {"203.0.113.0/24"}
        assert audit[5]["detail"] == {
            "network": "203.0.113.0/24",
            "scope": "user+network",
            "minutes": 15,
        }
        assert audit[6]["detail"] == {"network": "198.51.100.0/24"}
        assert audit[6]["actor"] == "admin:root"
        for entry in audit:
            assert "203.0.113.7" not in json.dumps(entry)
            assert "198.51.100.20" not in json.dumps(entry)


async def test_a_browser_that_logged_in_before_is_not_locked_by_its_neighbours(
    tmp_path: Path, checks: Checks
) -> None:
    async with (
        daemon(tmp_path, admins=ADMINS, web=TRUSTED) as (running, _),
        browser(running.url) as admin,
        browser(running.url) as neighbour,
        browser(running.url) as newcomer,
    ):
        status, _, _, cookies = await admin.login(**ADMIN_HOME)
        assert status == 303
        assert any(c.startswith(DEVICE_COOKIE + "=") and "HttpOnly" in c for c in cookies)
        _, csrf = await admin.dashboard()
        assert (await admin.post("/admin/logout", {"csrf": csrf}))[0] == 303

        # someone on the admin's own network tries twenty names: the network is locked
        token = await neighbour.login_form()
        forms = [{"csrf": token, "username": f"user{n}", "password": "x"} for n in range(20)]
        answers = await asyncio.gather(
            *(neighbour.post("/admin/login", form, NEIGHBOUR) for form in forms)
        )
        assert [status for status, *_ in answers] == [401] * 20
        assert checks.most <= CHECKS_AT_ONCE
        assert (await neighbour.login("user99", "x", **NEIGHBOUR))[0] == 429
        assert (await newcomer.login(**ADMIN_HOME))[0] == 429  # a browser never seen: locked too
        # the admin's browser comes back in
        status, _, body, _ = await admin.login(**ADMIN_HOME)
        assert status == 303, body
        await admin.dashboard()
        audit = await admin_audit(running)
        failed = [a for a in audit if a["action"] == "admin.login_failed"]
        assert len(failed) == 20
        # names that are nobody's are not kept (one may be a password typed in the wrong box)
        assert {(a["actor"], a["subject"]) for a in failed} == {("web", None)}
        assert "user1" not in json.dumps(audit)
        locked = [a["detail"] for a in audit if a["action"] == "admin.locked"]
        assert locked == [{"network": "198.51.100.0/24", "scope": "network", "minutes": 15}]


async def test_the_setup_link_is_audited_with_the_network(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with daemon(tmp_path, web=TRUSTED) as (running, _), browser(running.url) as b:
        found = re.search(r"/admin/setup/[A-Za-z0-9_-]{32,}", caplog.text)
        assert found
        status, _, body, _ = await b.get(found.group(0))
        token = CSRF.search(body)
        assert status == 200
        assert token
        form = {"csrf": token.group(1), "username": "chief", "password": "long enough pw"}
        status, _, body, _ = await b.post(
            found.group(0), {**form, "password_again": "long enough pw"}, ADMIN_HOME
        )
        assert status == 200, body
        assert await admin_audit(running) == [
            {
                "actor": "admin:chief",
                "action": "admin.setup",
                "subject": "chief",
                "detail": {"network": "198.51.100.0/24"},
            }
        ]


# -- the guard's rules, with a hand-driven clock --------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def fail(guard: LoginGuard, username: str, network: str, device: str | None = None) -> list[Locked]:
    ticket = guard.admit(username, network, device)
    assert isinstance(ticket, Ticket), ticket
    return guard.finish(ticket, ok=False)


def test_an_attempt_is_reserved_before_its_check() -> None:
    guard = LoginGuard(Clock())
    tickets = [guard.admit("root", "203.0.113.0/24") for _ in range(USER_FAILURES)]
    assert all(isinstance(t, Ticket) for t in tickets)
    assert isinstance(guard.admit("ROOT", "203.0.113.0/24"), Refused)  # none checked yet
    assert isinstance(guard.admit("root", "198.51.100.0/24"), Ticket)  # another network
    locks = [guard.finish(t, ok=False) for t in tickets if isinstance(t, Ticket)]
    assert locks[-1] == [Locked("user+network", 15 * 60.0)]
    assert locks[:-1] == [[]] * (USER_FAILURES - 1)


def test_a_success_releases_its_reservation_and_clears_the_failures() -> None:
    clock = Clock()
    guard = LoginGuard(clock)
    for _ in range(USER_FAILURES - 1):
        fail(guard, "root", "203.0.113.0/24")
    ticket = guard.admit("root", "203.0.113.0/24")
    assert isinstance(ticket, Ticket)
    assert guard.finish(ticket, ok=True) == []
    for _ in range(USER_FAILURES - 1):
        assert fail(guard, "root", "203.0.113.0/24") == []


def test_the_global_slow_down_lets_one_through_every_few_seconds_but_never_stops_a_device() -> None:
    clock = Clock()
    guard = LoginGuard(clock)
    for n in range(GLOBAL_FREE):  # many networks, each below its own limit
        fail(guard, "root", f"10.{n}.0.0/24")
    assert isinstance(guard.admit("root", "172.16.1.0/24"), Ticket)  # the gate lets one in
    refused = guard.admit("root", "172.16.2.0/24")
    assert isinstance(refused, Refused)
    assert refused.seconds == pytest.approx(GATE_EVERY)
    assert isinstance(guard.admit("root", "172.16.2.0/24", device="d1"), Ticket)
    clock.now += GATE_EVERY
    assert isinstance(guard.admit("root", "172.16.3.0/24"), Ticket)
    clock.now += 15 * 60.0 + 1  # the failures age out: no more slow-down
    admitted = [guard.admit("root", f"172.17.{n}.0/24") for n in range(5)]
    assert all(isinstance(t, Ticket) for t in admitted)


def test_the_guard_holds_a_bounded_number_of_entries_under_a_long_spray() -> None:
    clock = Clock()
    guard = LoginGuard(clock)
    admitted = 0
    for n in range(20_000):  # a new network and name every 0.1 s for over half an hour
        clock.now += 0.1
        ticket = guard.admit(f"name{n}", f"10.{n // 256 % 256}.{n % 256}.0/24")
        if isinstance(ticket, Ticket):
            admitted += 1
            guard.finish(ticket, ok=False)
        assert len(guard) < 2048
    assert admitted < GLOBAL_FREE + 2000 / GATE_EVERY + 1


def test_client_networks() -> None:
    assert network_of("203.0.113.7") == "203.0.113.0/24"
    assert network_of("::ffff:203.0.113.7") == "203.0.113.0/24"
    assert network_of("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert network_of("fe80::1%eth0") == "fe80::/64"
    assert network_of("") == "unknown"


# -- sessions that outlive a restart ---------------------------------------------------------


def cookie_of(b: Browser, name: str = SESSION_COOKIE) -> str:
    return b.http.cookie_jar.filter_cookies(URL(b.base + "/admin"))[name].value


async def shows_dashboard(url: str, session: str) -> bool:
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
        http.get(url + "/admin", headers={"Cookie": f"{SESSION_COOKIE}={session}"}) as resp,
    ):
        body = await resp.text()
    assert resp.status == 200
    return 'action="/admin/logout"' in body


async def test_a_session_outlives_a_restart_but_not_a_logout_or_another_key(
    tmp_path: Path,
) -> None:
    web = {"secret_key": KEY}
    async with daemon(tmp_path, admins=ADMINS, web=web) as (running, _), browser(running.url) as b:
        assert (await b.login())[0] == 303
        kept = cookie_of(b)
        async with browser(running.url) as other:
            assert (await other.login())[0] == 303
            _, csrf = await other.dashboard()
            ended = cookie_of(other)
            assert (await other.post("/admin/logout", {"csrf": csrf}))[0] == 303
    async with daemon(tmp_path, admins=ADMINS, web=web) as (running, _):
        assert await shows_dashboard(running.url, kept)
        assert not await shows_dashboard(running.url, ended)  # logged out before the restart
        assert not await shows_dashboard(running.url, kept[:-3] + "AAA")  # forged
    other_key = {"secret_key": "another-key-of-more-than-32-bytes"}
    async with daemon(tmp_path, admins=ADMINS, web=other_key) as (running, _):
        assert not await shows_dashboard(running.url, kept)
    changed = [{"username": "root", "password_hash": PasswordHasher().hash("a new password")}]
    async with daemon(tmp_path, admins=changed, web=web) as (running, _):
        assert not await shows_dashboard(running.url, kept)  # the password changed since


class Server:
    """The pages and the admin pages on a database, with the admin's clock in the test's hand."""

    def __init__(self, tmp_path: Path, clock: Clock) -> None:
        self.config = settings(tmp_path, admins=ADMINS, web={"secret_key": KEY})
        self.clock = clock
        self.url = ""

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Server]:
        async with Database.open(self.config.storage.path) as db:
            relay = Relay(db, relay_options(self.config))
            app = web.Application()
            add_pages(app, relay, self.config.department.name)
            add_admin(app, relay, admin_options(self.config), {}, clock=self.clock)
            runner = web.AppRunner(app)
            await runner.setup()
            try:
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                host, port = runner.addresses[0][:2]
                self.url = f"http://{host}:{port}"
                yield self
            finally:
                await runner.cleanup()


def cookies_set(set_cookies: list[str]) -> Iterator[str]:
    for header in set_cookies:
        if header.startswith(SESSION_COOKIE + "="):
            yield header.split(";", 1)[0].split("=", 1)[1]


async def get_admin(url: str, session: str) -> tuple[bool, list[str]]:
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
        http.get(url + "/admin", headers={"Cookie": f"{SESSION_COOKIE}={session}"}) as resp,
    ):
        body = await resp.text()
        return 'action="/admin/logout"' in body, resp.headers.getall("Set-Cookie", [])


async def test_the_idle_time_and_the_age_of_a_session_hold_across_a_restart(
    tmp_path: Path,
) -> None:
    clock = Clock()
    server = Server(tmp_path, clock)
    async with server.running(), browser(server.url) as b:
        assert (await b.login())[0] == 303
        first = cookie_of(b)
        clock.now += 20 * 60
        shown, set_cookies = await get_admin(server.url, first)
        assert shown
        (used,) = cookies_set(set_cookies)  # signed again: it was used 20 minutes later
        shown, set_cookies = await get_admin(server.url, used)
        assert shown
        assert list(cookies_set(set_cookies)) == []  # not again within the minute
    clock.now += 25 * 60
    async with server.running():  # a restart: only the cookies know the times
        assert not (await get_admin(server.url, first))[0]  # idle for 45 minutes
        shown, set_cookies = await get_admin(server.url, used)  # idle for 25
        assert shown
        (latest,) = cookies_set(set_cookies)
        for _ in range(40):  # in use all day, it still ends 12 hours after the login
            clock.now += 25 * 60
            shown, set_cookies = await get_admin(server.url, latest)
            if not shown:
                break
            latest = next(cookies_set(set_cookies), latest)
        assert not shown
        assert 12 * 3600 - 25 * 60 < clock.now - 1_000_000.0 <= 12 * 3600 + 25 * 60
