"""Every admin route, from one table: without a session a page is the login page (the live
stream 401) and a POST is refused; with a session, a POST without its CSRF token, with another
session's token, or from another site is refused too, and nothing changes.

The table is checked against the routes :func:`smscat.web.admin.add_routes` registers, so a new
admin route without a row here fails the test instead of going unguarded.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from smscat.relay.daemon.app import Daemon, admin_options
from smscat.web.admin import add_routes as add_admin
from smscat.web.pages import add_routes as add_pages
from smscat.web.texts import render
from tests.support.admin import ADMINS, Browser, two_questions
from tests.support.daemon import TIMEOUT, Client, daemon, settings
from tests.web.test_admin_care import care_items

UPLOADED = base64.urlsafe_b64encode(
    "手机号,称呼,出院日期,知情同意\n13700004444,周女士,2026-11-22,是\n".encode()
).decode()
GETS = [  # a page behind the login, as asked for
    "/admin",
    "/admin/experts",
    "/admin/experts/new",
    "/admin/experts/zhang/edit",
    "/admin/threads",
    "/admin/stats",
    "/admin/stats.csv",
    "/admin/stats-care.csv",
    "/admin/audit",
    "/admin/tokens",
    "/admin/care",
    "/admin/care/plans/discharge",
    "/admin/care/upload",
    "/admin/care/upload/template.csv",
]
STREAMS = ["/admin/live"]
POSTS = {  # an admin form, and a form it would act on with the right token
    "/admin/logout": {},
    "/admin/inbound/1/assign": {"thread_id": "1"},
    "/admin/outbox/1/retry": {},
    "/admin/handoff": {"from": "zhang", "to": "li"},
    "/admin/notices/handled": {},
    "/admin/experts/new": {
        "id": "wang",
        "name": "王五",
        "title": "医师",
        "department": "心内科",
        "phone": "13900001234",
        "role": "expert",
    },
    "/admin/experts/zhang/edit": {"name": "张三丰"},
    "/admin/experts/zhang/pause": {"hours": "2"},
    "/admin/experts/zhang/resume": {},
    "/admin/experts/zhang/leave": {"to": "li"},
    "/admin/threads/1/hide": {"hidden": "1"},
    "/admin/tokens": {"name": "lab", "scope": "followups"},
    "/admin/tokens/revoke": {"name": "his"},
    "/admin/care/enrol": {
        "phone": "13700001111",
        "nickname": "王女士",
        "anchor": "2026-11-22",
        "plan": "discharge",
        "consent": "verbal",
    },
    "/admin/care/escalations/1/ack": {},
    "/admin/care/escalations/1/number": {},
    "/admin/care/calls/1/done": {},
    "/admin/care/calls/1/number": {},
    "/admin/care/enrolments/1/cancel": {},
    "/admin/care/plans/discharge": {"body": '{"name": "discharge", "title": "出院", "steps": []}'},
    "/admin/care/upload": {"plan": "discharge"},  # (a preview keeps nothing anyway)
    "/admin/care/upload/confirm": {"plan": "discharge", "data": UPLOADED, "new": "2"},
}
PUBLIC = {("POST", "/admin/login")}  # its own token (double-submit), no session to have yet


def registered(tmp_path: Path) -> set[tuple[str, str]]:
    """The admin routes as registered, with their patterns filled in like the table's paths.
    (Registering uses no relay: a stand-in does.)"""
    app = web.Application()
    relay: Any = SimpleNamespace(db=None)
    add_pages(app, relay, "心内科")
    add_admin(app, relay, admin_options(settings(tmp_path, admins=ADMINS)), {})
    found = set()
    for route in app.router.routes():
        resource = route.resource
        if route.method == "HEAD" or resource is None:
            continue
        path = resource.canonical
        if not path.startswith("/admin"):
            continue
        path = re.sub(r"\{id\}", "zhang" if path.startswith("/admin/experts/") else "1", path)
        path = path.replace("{name}", "discharge")  # a 随访 plan
        found.add((route.method, path))
    return found


def test_the_table_is_every_admin_route(tmp_path: Path) -> None:
    table = {("GET", p) for p in GETS + STREAMS} | {("POST", p) for p in POSTS} | PUBLIC
    assert registered(tmp_path) == table


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[Daemon, Client]]:
    async with daemon(tmp_path, admins=ADMINS) as started:
        await two_questions(started[1])  # threads 1 and 2 to act on
        await started[0].relay.api_tokens.create("his", ["followups"], "test")  # one to revoke
        await care_items(started[0])  # an enrolment, an escalation and a call to act on
        async with asyncio.timeout(15):  # the questions' SMS delivered: no state moves on its own
            while await started[0].relay.db.fetchall(  # noqa: ASYNC110
                "SELECT id FROM threads WHERE status != 'delivered'"
            ):
                await asyncio.sleep(0.1)
        yield started


@pytest.fixture
async def browser(running: tuple[Daemon, Client]) -> AsyncIterator[Browser]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=jar) as http:
        yield Browser(http, running[0].url)


async def state(running: Daemon) -> list[object]:
    """What an admin form could change: experts, threads, API tokens, 随访, the audit log's
    admin actions."""
    db = running.relay.db
    return [
        [tuple(r) for r in await db.fetchall("SELECT * FROM experts ORDER BY id")],
        [tuple(r) for r in await db.fetchall("SELECT id, status, expert_id FROM threads")],
        [tuple(r) for r in await db.fetchall("SELECT action FROM audit_log ORDER BY id")],
        [tuple(r) for r in await db.fetchall("SELECT * FROM api_tokens ORDER BY id")],
        *[
            [tuple(r) for r in await db.fetchall(f"SELECT * FROM {table} ORDER BY 1")]
            for table in ("care_enrolments", "care_escalations", "care_calls", "care_plans")
        ],
    ]


@pytest.mark.parametrize("path", GETS)
async def test_a_page_without_a_session_is_the_login_page(browser: Browser, path: str) -> None:
    status, headers, body, _ = await browser.get(path)
    assert status == 200, body
    assert 'name="password"' in body
    assert 'action="/admin/logout"' not in body
    assert headers["Cache-Control"] == "no-store"
    assert "text/csv" not in headers["Content-Type"]


@pytest.mark.parametrize("path", STREAMS)
async def test_a_stream_without_a_session_is_refused(browser: Browser, path: str) -> None:
    status, headers, _, _ = await browser.get(path)
    assert status == 401
    assert "text/event-stream" not in headers["Content-Type"]


@pytest.mark.parametrize("path", sorted(POSTS))
async def test_a_post_without_a_session_is_refused(
    browser: Browser, running: tuple[Daemon, Client], path: str
) -> None:
    before = await state(running[0])
    status, _, body, _ = await browser.post(path, POSTS[path])
    assert status == 403, body
    assert render("admin.forbidden") in body
    assert await state(running[0]) == before


@pytest.mark.parametrize("path", sorted(POSTS))
async def test_a_post_needs_its_sessions_csrf_token_and_this_site(
    browser: Browser, running: tuple[Daemon, Client], path: str
) -> None:
    assert (await browser.login())[0] == 303
    _, csrf = await browser.dashboard()
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=jar) as http:
        other = Browser(http, running[0].url)
        assert (await other.login())[0] == 303
        _, others_csrf = await other.dashboard()
    assert others_csrf != csrf
    before = await state(running[0])
    form = POSTS[path]
    for data, headers in [
        (form, {}),  # no token
        ({**form, "csrf": ""}, {}),
        ({**form, "csrf": "not-the-token"}, {}),
        ({**form, "csrf": others_csrf}, {}),  # another session's
        ({**form, "csrf": csrf}, {"Origin": "https://elsewhere.example"}),  # another site
    ]:
        status, _, body, _ = await browser.post(path, data, headers)
        assert status == 403, (data.get("csrf"), headers, body)
    assert await state(running[0]) == before
    await browser.dashboard()  # still logged in
