"""The admin's management pages over real HTTP, against a whole daemon with the simulated modem.

Experts (list, add, edit, pause, resume, leave with a hand-off), moderation (hide a public
thread from the board and the API), monthly statistics (the same figures and the same CSV as
``smscat report``), the audit log (filters, pages). Every form: refused without the session's
CSRF token, a wrong field answered with its Chinese error (422) and nothing changed, success a
303 with the change in the database or on the simulated phones. No page shows a full number.
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import yaml

from smscat.relay.core import texts as relay_texts
from smscat.relay.daemon.app import Daemon, expert_rows
from smscat.relay.daemon.cli import main
from smscat.web.texts import render
from tests.support.admin import ADMINS, CSRF, Browser
from tests.support.daemon import (
    DEPARTMENT,
    EXPERT_LI,
    EXPERT_ZHANG,
    PATIENT,
    TIMEOUT,
    Client,
    daemon,
    settings,
)

ZONE = ZoneInfo("Asia/Shanghai")
NEW_PHONE = "+8613700137003"
PAGES = (
    "/admin/experts",
    "/admin/experts/new",
    "/admin/experts/zhang/edit",
    "/admin/threads",
    "/admin/stats",
    "/admin/stats.csv",
    "/admin/audit",
)
NEW_EXPERT = {
    "id": "wang",
    "name": "王芳",
    "title": "主治医师",
    "department": "心血管内科",
    "specialty": "心律失常",
    "phone": "137 0013 7003",
    "role": "expert",
    "assistant": "",
    "quiet_hours": "",
    "daily_cap": "8",
    "confirm_replies": "1",
    "digest": "1",
}
ZHANG_FORM = {
    "name": "张明",
    "title": "主任医师",
    "department": "心血管内科",
    "specialty": "高血压",
    "phone": "",
    "role": "expert",
    "assistant": "",
    "quiet_hours": "",
    "daily_cap": "",
    "digest": "1",
}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[Daemon, Client]]:
    async with daemon(tmp_path, admins=ADMINS) as running:
        yield running


@pytest.fixture
async def browser(app: tuple[Daemon, Client]) -> AsyncIterator[Browser]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=jar) as http:
        yield Browser(http, app[0].url)


@pytest.fixture
async def admin(browser: Browser) -> Browser:
    status, _, body, _ = await browser.login()
    assert status == 303, body
    return browser


async def _open(admin: Browser, path: str) -> tuple[str, str]:
    """A management page's HTML and the session's CSRF token on it."""
    status, _, body, _ = await admin.get(path)
    assert status == 200, body
    found = CSRF.search(body)
    assert found, body
    return body, found.group(1)


async def _row(running: Daemon, expert_id: str) -> dict[str, Any]:
    rows = await running.relay.db.fetchall("SELECT * FROM experts WHERE id = ?", (expert_id,))
    assert rows, expert_id
    return dict(rows[0])


async def _everything(running: Daemon) -> list[list[Any]]:
    """What a refused form must not have changed: experts, threads, the outbox, the audit log."""
    db = running.relay.db
    out = []
    for sql in (
        "SELECT * FROM experts ORDER BY id",
        # (statuses move on as the modem sends: only what a form could change is compared)
        "SELECT id, expert_id, handler_id, code, public, hidden FROM threads ORDER BY id",
        "SELECT id, recipient, text FROM outbox ORDER BY id",
        "SELECT COUNT(*) FROM audit_log",
    ):
        out.append([tuple(r) for r in await db.fetchall(sql)])
    return out


async def _ask(
    client: Client, expert_id: str, text: str, *, nickname: str = "患者", public: bool = False
) -> dict[str, Any]:
    status, body = await client.call(
        "POST", "/api/questions", expert_id=expert_id, nickname=nickname, text=text, public=public
    )
    assert status == 201, body
    return dict(body)


def _no_full_number(body: str, *numbers: str) -> None:
    for number in numbers:
        digits = number.removeprefix("+")  # 8613800138001
        for form in (number, digits, digits[2:], digits[2:-4], digits[2:5] + " " + digits[5:9]):
            assert form not in body, f"{form} is on the page"


# -- the login comes first ------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
async def test_pages_without_a_session_show_the_login(browser: Browser, path: str) -> None:
    status, headers, body, _ = await browser.get(path)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert 'name="password"' in body
    assert render("admin.login_heading") in body
    for data in ("张明", "李华", "admin-nav", "8001", relay_texts.render("report.questions")):
        assert data not in body


POSTS: dict[str, dict[str, str]] = {
    "/admin/experts/new": NEW_EXPERT,
    "/admin/experts/zhang/edit": {**ZHANG_FORM, "name": "张明明"},
    "/admin/experts/zhang/pause": {"hours": "3"},
    "/admin/experts/zhang/resume": {},
    "/admin/experts/zhang/leave": {"to": "li"},
    "/admin/threads/1/hide": {"hidden": "1"},
}


@pytest.mark.parametrize("path", sorted(POSTS))
async def test_every_form_needs_the_sessions_csrf_token(
    admin: Browser, app: tuple[Daemon, Client], path: str
) -> None:
    running, client = app
    await _ask(client, "zhang", "我的血压高怎么办", public=True)
    before = await _everything(running)
    for data in (POSTS[path], {**POSTS[path], "csrf": "not-the-token"}):
        status, headers, body, _ = await admin.post(path, data)
        assert status == 403, body
        assert render("admin.forbidden") in body
        assert "Content-Security-Policy" in headers
    assert await _everything(running) == before
    await _open(admin, "/admin/experts")  # still signed in


@pytest.mark.parametrize("path", sorted(POSTS))
async def test_every_form_without_a_session_is_refused(
    browser: Browser, app: tuple[Daemon, Client], path: str
) -> None:
    before = await _everything(app[0])
    status, _, body, _ = await browser.post(path, {**POSTS[path], "csrf": "x" * 43})
    assert status == 403
    assert render("admin.forbidden") in body
    assert await _everything(app[0]) == before


async def test_the_nav_links_every_page_once_signed_in(admin: Browser) -> None:
    dashboard, _ = await admin.dashboard()
    assert 'class="admin-nav"' in dashboard
    assert '<a href="/admin" aria-current="page">' in dashboard
    for path in PAGES:
        if path.endswith(".csv"):
            continue
        body, _ = await _open(admin, path)
        for target in (
            "/admin",
            "/admin/experts",
            "/admin/threads",
            "/admin/stats",
            "/admin/audit",
        ):
            assert f'<a href="{target}"' in body, (path, target)
        assert 'action="/admin/logout"' in body
    english, _ = await _open(admin, "/admin/threads?lang=en")
    assert render("admin.nav.threads", "en") in english
    assert 'href="/admin/experts?lang=en"' in english


# -- experts --------------------------------------------------------------------------------------


async def test_experts_list_shows_the_controls_and_numbers_by_their_last_digits(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    _, client = app
    await _ask(client, "zhang", "头晕")
    body, _ = await _open(admin, "/admin/experts")
    zhang = re.search(r'<tr data-expert="zhang">(.*?)</tr>', body, re.S)
    assert zhang, body
    assert "张明" in zhang.group(1)
    assert "主任医师" in zhang.group(1)
    assert render("admin.expert.active") in zhang.group(1)
    assert '<td class="phone">•••• 8001</td>' in zhang.group(1)
    assert '<td class="open">1</td>' in zhang.group(1)
    assert '<td class="cap">' + render("admin.expert.no_cap") in zhang.group(1)
    assert 'href="/admin/experts/zhang/edit"' in zhang.group(1)
    assert "•••• 8002" in body
    _no_full_number(body, EXPERT_ZHANG, EXPERT_LI)


async def test_adding_an_expert_welcomes_them_and_no_config_owns_them(
    admin: Browser, app: tuple[Daemon, Client], tmp_path: Path
) -> None:
    running, client = app
    _, csrf = await _open(admin, "/admin/experts/new")
    # two windows that do not hold the welcome SMS back now, written with a Chinese comma
    now = datetime.now(ZONE)

    def at(hours: int, minute: str) -> str:
        return (now + timedelta(hours=hours)).strftime(f"%H:{minute}")

    windows = [f"{at(h, '00')}-{at(h + 1, '30')}" for h in (3, 6)]
    form = {**NEW_EXPERT, "quiet_hours": "，".join(windows), "csrf": csrf}
    status, headers, body, _ = await admin.post("/admin/experts/new", form)
    assert status == 303, body
    assert headers["Location"] == "/admin/experts"
    row = await _row(running, "wang")
    assert row["phone"] == NEW_PHONE  # normalised to E.164
    assert row["name"] == "王芳"
    assert row["specialty"] == "心律失常"
    assert json.loads(row["quiet_hours"]) == windows
    assert row["daily_cap"] == 8
    assert (row["confirm_replies"], row["digest"], row["role"]) == (1, 1, "expert")
    assert json.loads(row["config_fields"]) == []
    audit = await running.relay.db.fetchall(
        "SELECT actor, detail FROM audit_log WHERE action = 'expert.add' AND subject = 'wang'"
    )
    assert [r["actor"] for r in audit] == ["admin:root"]
    assert "0013" not in (audit[0]["detail"] or "")
    welcome = await client.wait_for_sms(NEW_PHONE, lambda t: "您已加入专家咨询" in t)
    assert DEPARTMENT in welcome
    body, _ = await _open(admin, "/admin/experts")
    assert render("admin.expert_added", name="王芳") in body
    assert "•••• 7003" in body
    _no_full_number(body, NEW_PHONE)
    # a restart (config is synchronised again) leaves the admin's expert alone
    await running.relay.db.sync_experts(expert_rows(settings(tmp_path)))
    assert await _row(running, "wang") == row
    status, experts = await client.call("GET", "/api/experts")
    assert status == 200
    assert "wang" in {e["id"] for e in experts}


async def test_an_expert_named_with_markup_is_shown_escaped(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    _, csrf = await _open(admin, "/admin/experts/new")
    hostile = {**NEW_EXPERT, "name": "<script>alert(1)</script>", "title": '"><img src=x>'}
    status, _, body, _ = await admin.post("/admin/experts/new", {**hostile, "csrf": csrf})
    assert status == 303, body
    for path in ("/admin/experts", "/admin/experts/wang/edit", "/admin/stats"):
        body, _ = await _open(admin, path)
        assert "<script>alert(1)" not in body
        assert "<img src=x>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


BAD_ADDS = [
    ({"id": "Wang Fang"}, "id", "admin.error.expert_id"),
    ({"id": "zhang"}, "id", "admin.error.id_taken"),
    ({"name": "   "}, "name", "admin.error.name"),
    ({"phone": "10086"}, "phone", "admin.error.phone"),
    ({"phone": "12345"}, "phone", "admin.error.phone"),
    ({"phone": "138-0013-8001"}, "phone", "admin.error.phone_taken"),
    ({"quiet_hours": "22:00-25:00"}, "quiet_hours", "admin.error.quiet_hours"),
    ({"quiet_hours": "晚上十点到早上"}, "quiet_hours", "admin.error.quiet_hours"),
    ({"daily_cap": "五"}, "daily_cap", "admin.error.daily_cap"),
    ({"daily_cap": "1001"}, "daily_cap", "admin.error.daily_cap"),
    ({"daily_cap": "-1"}, "daily_cap", "admin.error.daily_cap"),
    ({"role": "boss"}, "role", "admin.error.role"),
    ({"assistant": "li"}, "assistant", "admin.error.assistant"),
    ({"assistant": "nobody"}, "assistant", "admin.error.assistant"),
]


@pytest.mark.parametrize(("change", "field", "key"), BAD_ADDS)
async def test_a_wrong_field_in_the_add_form_is_named_in_chinese_and_nothing_is_added(
    admin: Browser, app: tuple[Daemon, Client], change: dict[str, str], field: str, key: str
) -> None:
    running, _ = app
    before = await _everything(running)
    _, csrf = await _open(admin, "/admin/experts/new")
    status, _, body, _ = await admin.post(
        "/admin/experts/new", {**NEW_EXPERT, **change, "csrf": csrf}
    )
    assert status == 422, body
    assert render("admin.error.form_invalid") in body
    assert f'<p class="field-error" id="{field}-error">{render(key)}</p>' in body
    assert f'aria-describedby="{field}-error"' in body
    assert render("admin.expert.phone_again") in body  # the number typed is not shown again
    assert "0013" not in body
    assert await _everything(running) == before
    if "name" not in change:
        assert 'value="王芳"' in body  # what was typed stays in the form


async def test_an_assistant_added_for_an_expert_gets_the_questions(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    _, csrf = await _open(admin, "/admin/experts/new")
    assistant = {**NEW_EXPERT, "id": "xiao", "name": "小刘", "role": "assistant", "csrf": csrf}
    status, _, body, _ = await admin.post("/admin/experts/new", assistant)
    assert status == 303, body
    # an assistant cannot have an assistant of its own
    bad = {**NEW_EXPERT, "id": "xiao2", "phone": "13700137004", "role": "assistant"}
    status, _, body, _ = await admin.post(
        "/admin/experts/new", {**bad, "assistant": "xiao", "csrf": csrf}
    )
    assert status == 422
    assert render("admin.error.assistant_of_assistant") in body
    body, csrf = await _open(admin, "/admin/experts/zhang/edit")
    assert '<option value="xiao">小刘</option>' in body
    form = {**ZHANG_FORM, "assistant": "xiao", "csrf": csrf}
    status, _, body, _ = await admin.post("/admin/experts/zhang/edit", form)
    assert status == 303, body
    assert (await _row(running, "zhang"))["assistant_id"] == "xiao"
    await _ask(client, "zhang", "助理先看的问题")
    await client.wait_for_sms(NEW_PHONE, lambda t: "助理先看的问题" in t)
    # xiao cannot become an expert while zhang names it, nor leave
    body, csrf = await _open(admin, "/admin/experts/xiao/edit")
    xiao = {**NEW_EXPERT, "name": "小刘", "phone": "", "role": "expert", "csrf": csrf}
    status, _, body, _ = await admin.post("/admin/experts/xiao/edit", xiao)
    assert status == 422
    assert render("admin.error.role_in_use") in body
    status, _, body, _ = await admin.post("/admin/experts/xiao/leave", {"to": "li", "csrf": csrf})
    assert status == 409
    assert render("admin.error.assistant_busy") in body
    assert (await _row(running, "xiao"))["left_at"] is None


async def test_an_edit_is_kept_after_a_restart(
    admin: Browser, app: tuple[Daemon, Client], tmp_path: Path
) -> None:
    running, _ = app
    body, csrf = await _open(admin, "/admin/experts/zhang/edit")
    assert 'value="张明"' in body
    assert render("admin.expert.phone_hint_edit", masked="•••• 8001") in body
    _no_full_number(body, EXPERT_ZHANG)
    form = {
        **ZHANG_FORM,
        "name": "张明明",
        "quiet_hours": "22:00-07:00",
        "daily_cap": "5",
        "csrf": csrf,
    }
    status, headers, body, _ = await admin.post("/admin/experts/zhang/edit", form)
    assert status == 303, body
    assert headers["Location"] == "/admin/experts/zhang/edit"
    row = await _row(running, "zhang")
    assert (row["name"], row["daily_cap"], row["phone"]) == ("张明明", 5, EXPERT_ZHANG)
    assert json.loads(row["quiet_hours"]) == ["22:00-07:00"]
    owned = set(json.loads(row["config_fields"]))
    assert not owned & {"name", "quiet_hours", "daily_cap"}
    assert {"title", "phone", "department", "specialty"} <= owned
    audit = await running.relay.db.fetchall(
        "SELECT actor, detail FROM audit_log WHERE action = 'expert.edit' AND subject = 'zhang'"
    )
    assert [r["actor"] for r in audit] == ["admin:root"]
    assert json.loads(audit[0]["detail"]) == {"fields": ["daily_cap", "name", "quiet_hours"]}
    body, _ = await _open(admin, "/admin/experts/zhang/edit")
    assert render("admin.expert_saved") in body
    await running.relay.db.sync_experts(expert_rows(settings(tmp_path)))  # a restart
    row = await _row(running, "zhang")
    assert (row["name"], row["daily_cap"]) == ("张明明", 5)
    # the same form again changes nothing
    status, _, _, _ = await admin.post("/admin/experts/zhang/edit", form)
    assert status == 303
    body, _ = await _open(admin, "/admin/experts/zhang/edit")
    assert render("admin.expert_unchanged") in body


async def test_a_new_phone_is_stored_in_e164_and_shown_by_its_last_digits(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    _, csrf = await _open(admin, "/admin/experts/li/edit")
    form = {**ZHANG_FORM, "name": "李华", "title": "副主任医师", "specialty": ""}
    status, _, body, _ = await admin.post(
        "/admin/experts/li/edit", {**form, "phone": "139 0013 9002", "csrf": csrf}
    )
    assert status == 303, body
    row = await _row(running, "li")
    assert row["phone"] == "+8613900139002"
    assert "phone" not in json.loads(row["config_fields"])
    body, _ = await _open(admin, "/admin/experts")
    assert "•••• 9002" in body
    _no_full_number(body, "+8613900139002", EXPERT_LI)
    await _ask(client, "li", "换了号码以后的问题")
    await client.wait_for_sms("+8613900139002", lambda t: "换了号码以后的问题" in t)
    # zhang's number cannot be taken
    status, _, body, _ = await admin.post(
        "/admin/experts/li/edit", {**form, "phone": EXPERT_ZHANG, "csrf": csrf}
    )
    assert status == 422
    assert render("admin.error.phone_taken") in body
    assert (await _row(running, "li"))["phone"] == "+8613900139002"


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"quiet_hours": "22:00"}, "admin.error.quiet_hours"),
        ({"title": "x" * 41}, "admin.error.title"),
        ({"daily_cap": "1e3"}, "admin.error.daily_cap"),
        ({"phone": "+1 555"}, "admin.error.phone"),
    ],
)
async def test_a_wrong_edit_changes_nothing(
    admin: Browser, app: tuple[Daemon, Client], change: dict[str, str], key: str
) -> None:
    running, _ = app
    before = await _everything(running)
    _, csrf = await _open(admin, "/admin/experts/zhang/edit")
    status, _, body, _ = await admin.post(
        "/admin/experts/zhang/edit", {**ZHANG_FORM, **change, "name": "改名", "csrf": csrf}
    )
    assert status == 422, body
    assert render(key) in body
    assert await _everything(running) == before


async def test_pause_holds_new_questions_and_resume_sends_them(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    body, csrf = await _open(admin, "/admin/experts/zhang/edit")
    assert render("admin.pause_heading") in body
    status, headers, body, _ = await admin.post(
        "/admin/experts/zhang/pause", {"hours": "", "csrf": csrf}
    )
    assert status == 303, body
    assert headers["Location"] == "/admin/experts/zhang/edit"
    row = await _row(running, "zhang")
    assert str(row["paused_until"]).startswith("9999")  # until resumed
    paused = relay_texts.render("paused_indefinitely", dept=DEPARTMENT)
    await client.wait_for_sms(EXPERT_ZHANG, lambda t: t == paused)
    _, experts = await client.call("GET", "/api/experts")
    zhang = next(e for e in experts if e["id"] == "zhang")
    assert (zhang["accepting"], zhang["accepting_reason"]) == (False, "paused")
    asked = await _ask(client, "zhang", "暂停期间的问题")
    assert asked["status"] == "held"
    await _ask(client, "li", "另一位医生的问题")  # queued after zhang's, and sent
    await client.wait_for_sms(EXPERT_LI, lambda t: "另一位医生的问题" in t)
    assert not [t for t in await client.received_by(EXPERT_ZHANG) if "暂停期间的问题" in t]
    body, csrf = await _open(admin, "/admin/experts/zhang/edit")
    assert render("admin.paused_done") in body
    assert render("admin.resume_heading") in body
    body, _ = await _open(admin, "/admin/experts")
    assert render("admin.expert.paused_forever") in body
    status, _, body, _ = await admin.post("/admin/experts/zhang/resume", {"csrf": csrf})
    assert status == 303, body
    await client.wait_for_sms(EXPERT_ZHANG, lambda t: "暂停期间的问题" in t)
    resumed = relay_texts.render("resumed", dept=DEPARTMENT)
    await client.wait_for_sms(EXPERT_ZHANG, lambda t: t == resumed)
    assert (await _row(running, "zhang"))["paused_until"] is None
    audit = await running.relay.db.fetchall(
        "SELECT action, actor, detail FROM audit_log WHERE subject = 'zhang'"
        " AND action IN ('expert.pause', 'expert.resume') ORDER BY id"
    )
    assert [(r["action"], r["actor"]) for r in audit] == [
        ("expert.pause", "admin:root"),
        ("expert.resume", "admin:root"),
    ]
    assert json.loads(audit[0]["detail"]) == {"until_resumed": True}
    # resuming again: not paused
    status, _, body, _ = await admin.post("/admin/experts/zhang/resume", {"csrf": csrf})
    assert status == 409
    assert render("admin.error.not_paused") in body


async def test_a_pause_for_hours_shows_when_it_ends(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    _, csrf = await _open(admin, "/admin/experts/li/edit")
    before = datetime.now(UTC)
    status, _, _, _ = await admin.post("/admin/experts/li/pause", {"hours": "3", "csrf": csrf})
    assert status == 303
    until = datetime.fromisoformat((await _row(running, "li"))["paused_until"])
    assert before + timedelta(hours=3) <= until <= datetime.now(UTC) + timedelta(hours=3)
    paused = relay_texts.render("paused", hours=3, dept=DEPARTMENT)
    await client.wait_for_sms(EXPERT_LI, lambda t: t == paused)
    body, _ = await _open(admin, "/admin/experts")
    local = until.astimezone(ZONE).strftime("%Y-%m-%d %H:%M")
    assert render("admin.expert.paused_until", until=local) in body


@pytest.mark.parametrize("hours", ["abc", "0", "721", "-3", "2.5"])
async def test_a_wrong_pause_is_refused_in_words(
    admin: Browser, app: tuple[Daemon, Client], hours: str
) -> None:
    running, _ = app
    before = await _everything(running)
    _, csrf = await _open(admin, "/admin/experts/zhang/edit")
    status, _, body, _ = await admin.post(
        "/admin/experts/zhang/pause", {"hours": hours, "csrf": csrf}
    )
    assert status == 422
    assert f'<p class="field-error" id="hours-error">{render("admin.error.pause_hours")}' in body
    assert await _everything(running) == before


async def test_leaving_hands_the_threads_to_the_colleague(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    ids = [int((await _ask(client, "zhang", f"问题{n}"))["id"]) for n in range(2)]
    body, csrf = await _open(admin, "/admin/experts/zhang/edit")
    assert '<option value="li">李华</option>' in body
    assert '<option value="zhang">' not in body  # not to oneself
    status, _, body, _ = await admin.post("/admin/experts/zhang/leave", {"to": "", "csrf": csrf})
    assert status == 422
    assert render("admin.error.colleague_required") in body
    status, _, body, _ = await admin.post(
        "/admin/experts/zhang/leave", {"to": "zhang", "csrf": csrf}
    )
    assert status == 409
    assert render("admin.error.handoff_target") in body
    assert (await _row(running, "zhang"))["left_at"] is None
    status, headers, body, _ = await admin.post(
        "/admin/experts/zhang/leave", {"to": "li", "csrf": csrf}
    )
    assert status == 303, body
    assert headers["Location"] == "/admin/experts"
    rows = await running.relay.db.fetchall(
        f"SELECT expert_id FROM threads WHERE id IN ({ids[0]}, {ids[1]})"
    )
    assert [r["expert_id"] for r in rows] == ["li", "li"]
    zhang = await _row(running, "zhang")
    assert zhang["left_at"] is not None
    assert zhang["active"] == 0
    await client.wait_for_sms(EXPERT_LI, lambda t: "张明医生的2个咨询已转给您" in t)
    _, experts = await client.call("GET", "/api/experts")
    assert "zhang" not in {e["id"] for e in experts}
    body, _ = await _open(admin, "/admin/experts")
    assert render("admin.left_done", name="张明", count=2) in body
    row = re.search(r'<tr data-expert="zhang" class="left">(.*?)</tr>', body, re.S)
    assert row, body
    audit = await running.relay.db.fetchall(
        "SELECT actor FROM audit_log WHERE action = 'expert.handoff' AND subject = 'zhang'"
    )
    assert [r["actor"] for r in audit] == ["admin:root"]
    # gone is gone: no pause, no second leave
    _, csrf = await _open(admin, "/admin/experts/zhang/edit")
    status, _, body, _ = await admin.post("/admin/experts/zhang/pause", {"csrf": csrf})
    assert status == 409
    assert render("admin.error.already_left") in body


async def test_an_unknown_expert_is_the_404_page(admin: Browser) -> None:
    status, _, body, _ = await admin.get("/admin/experts/nobody/edit")
    assert status == 404
    assert render("page.error_404_title") in body


# -- moderation -----------------------------------------------------------------------------------


async def _board_ids(client: Client, **query: str) -> set[int]:
    path = "/api/board" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    status, body = await client.call("GET", path)
    assert status == 200, body
    return {int(t["id"]) for t in body["threads"]}


async def _public_page(client: Client, path: str) -> str:
    async with client.http.get(client.api + path) as resp:
        assert resp.status == 200
        return await resp.text()


async def test_a_hidden_thread_leaves_the_public_pages_and_the_api(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    thread_id = int((await _ask(client, "zhang", "公开的问题：血压150", public=True))["id"])
    other = int((await _ask(client, "zhang", "另一个公开问题", public=True))["id"])
    for path in ("/", "/experts/zhang", "/experts/zhang?q=%E8%A1%80%E5%8E%8B150"):
        assert "公开的问题：血压150" in await _public_page(client, path)
    assert await _board_ids(client) == {thread_id, other}
    body, csrf = await _open(admin, "/admin/threads")
    assert f'action="/admin/threads/{thread_id}/hide"' in body
    status, headers, body, _ = await admin.post(
        f"/admin/threads/{thread_id}/hide",
        {"hidden": "1", "back": "/admin/threads?expert=zhang", "csrf": csrf},
    )
    assert status == 303, body
    assert headers["Location"] == "/admin/threads?expert=zhang"
    hidden = await running.relay.db.fetchall(
        "SELECT hidden FROM threads WHERE id = ?", (thread_id,)
    )
    assert hidden[0]["hidden"] == 1
    for path in ("/", "/experts/zhang", "/experts/zhang?q=%E8%A1%80%E5%8E%8B150"):
        page = await _public_page(client, path)
        assert "公开的问题" not in page
    assert "另一个公开问题" in await _public_page(client, "/experts/zhang")
    assert await _board_ids(client) == {other}
    assert await _board_ids(client, expert_id="zhang") == {other}
    assert await _board_ids(client, q="血压") == set()
    body, _ = await _open(admin, "/admin/threads?expert=zhang")
    assert render("admin.threads.hidden_done", id=thread_id) in body
    row = re.search(rf'<tr data-thread="{thread_id}" class="hidden-thread">(.*?)</tr>', body, re.S)
    assert row, body
    assert render("admin.threads.unhide_button") in row.group(1)
    status, _, _, _ = await admin.post(
        f"/admin/threads/{thread_id}/hide", {"hidden": "0", "csrf": csrf}
    )
    assert status == 303
    assert await _board_ids(client) == {thread_id, other}
    audit = await running.relay.db.fetchall(
        "SELECT action, actor FROM audit_log WHERE subject = ? AND action LIKE 'thread.%'"
        " ORDER BY id",
        (str(thread_id),),
    )
    assert [tuple(r) for r in audit] == [
        ("thread.hide", "admin:root"),
        ("thread.unhide", "admin:root"),
    ]


async def test_hiding_a_private_or_missing_thread_is_refused(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    private = int((await _ask(client, "zhang", "不公开的问题"))["id"])
    before = await _everything(running)
    _, csrf = await _open(admin, "/admin/threads")
    status, _, body, _ = await admin.post(
        f"/admin/threads/{private}/hide", {"hidden": "1", "csrf": csrf}
    )
    assert status == 409
    assert render("admin.error.thread_private") in body
    status, _, body, _ = await admin.post(
        "/admin/threads/99999/hide", {"hidden": "1", "csrf": csrf}
    )
    assert status == 404
    assert render("admin.error.not_found") in body
    status, _, body, _ = await admin.post(
        f"/admin/threads/{private}/hide", {"hidden": "yes", "csrf": csrf}
    )
    assert status == 422
    assert await _everything(running) == before


async def test_the_thread_list_filters_masks_and_escapes(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    _, client = app
    first = int(
        (await _ask(client, "zhang", "请回电 139 1234 5678", nickname="<b>小明</b>", public=True))[
            "id"
        ]
    )
    second = int((await _ask(client, "li", "李医生您好"))["id"])
    body, _ = await _open(admin, "/admin/threads")
    assert render("admin.threads.total", total=2) in body
    row = re.search(rf'<tr data-thread="{first}">(.*?)</tr>', body, re.S)
    assert row, body
    assert "&lt;b&gt;小明&lt;/b&gt;" in row.group(1)
    assert "<b>小明" not in body
    assert "请回电 *** **** ****" in row.group(1)  # the masked copy
    shown = re.search(r'<td class="status">([^<]*)</td>', row.group(1))
    assert shown
    assert shown.group(1) in {render(f"admin.status.{s}") for s in ("queued", "sent", "delivered")}
    assert render("admin.threads.public") in row.group(1)
    private = re.search(rf'<tr data-thread="{second}">(.*?)</tr>', body, re.S)
    assert private
    assert render("admin.threads.private") in private.group(1)
    assert "/hide" not in private.group(1)  # only public threads can be hidden
    _no_full_number(body, PATIENT)
    body, _ = await _open(admin, "/admin/threads?expert=li")
    assert f'data-thread="{second}"' in body
    assert f'data-thread="{first}"' not in body
    body, _ = await _open(admin, f"/admin/threads?q=%23{first}")
    assert f'data-thread="{first}"' in body
    assert f'data-thread="{second}"' not in body
    body, _ = await _open(admin, "/admin/threads?status=closed")
    assert render("admin.threads.none") in body
    status, _, body, _ = await admin.get("/admin/threads?q=abc")
    assert status == 422
    assert render("admin.error.thread_search") in body
    status, _, body, _ = await admin.get("/admin/threads?status=lost")
    assert status == 422
    assert render("admin.error.status") in body


async def test_the_thread_list_is_paged(admin: Browser, app: tuple[Daemon, Client]) -> None:
    _, client = app
    for n in range(32):
        await _ask(client, "li", f"第{n}个问题")
    body, _ = await _open(admin, "/admin/threads")
    assert body.count("<tr data-thread=") == 30
    assert render("admin.page_of", page=1, pages=2) in body
    assert 'href="/admin/threads?page=2"' in body
    body, _ = await _open(admin, "/admin/threads?page=2")
    assert body.count("<tr data-thread=") == 2
    assert "第0个问题" in body  # oldest last


# -- statistics -----------------------------------------------------------------------------------


def _table(body: str, css: str) -> list[list[str]]:
    found = re.search(rf'<table class="{css}">(.*?)</table>', body, re.S)
    assert found, body
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1), re.S)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)) for c in row] for row in cells]


async def _seed_answered(running: Daemon, client: Client) -> None:
    """zhang answers one question by SMS; li has one unanswered."""
    thread_id = int((await _ask(client, "zhang", "饭后血压高吗"))["id"])
    await client.wait_for_sms(EXPERT_ZHANG, lambda t: "饭后血压高吗" in t)
    await client.phone_sends(EXPERT_ZHANG, "饭后略高是正常的")
    async with asyncio.timeout(15):
        while True:
            rows = await running.relay.db.fetchall(
                "SELECT status FROM threads WHERE id = ?", (thread_id,)
            )
            if rows[0]["status"] == "answered":
                break
            await asyncio.sleep(0.1)
    await _ask(client, "li", "心慌怎么办")


async def test_the_stats_page_and_csv_are_the_cli_report(
    admin: Browser, app: tuple[Daemon, Client], tmp_path: Path
) -> None:
    running, client = app
    await _seed_answered(running, client)
    month = datetime.now(ZONE).strftime("%Y-%m")
    config = tmp_path / "report.yaml"
    config.write_text(
        yaml.safe_dump(
            {"department": {"name": DEPARTMENT}, "storage": {"path": str(tmp_path / "smscat.db")}},
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    out = tmp_path / "cli.csv"
    argv = ["report", "-c", str(config), "--month", month, "--out", str(out)]
    assert await asyncio.to_thread(main, argv) == 0
    written = out.read_bytes()
    cli_rows = list(csv.reader(io.StringIO(written.decode("utf-8-sig"))))

    body, _ = await _open(admin, "/admin/stats")  # the current month by default
    assert render("admin.stats_heading", month=month) in body
    assert _table(body, "stats") == cli_rows
    by_name = {row[0]: row for row in cli_rows}
    assert by_name["张明"][3:6] == ["1", "1", "100.0"]
    assert by_name["李华"][3:6] == ["1", "0", "0.0"]
    assert by_name[relay_texts.render("report.total")][3:5] == ["2", "1"]

    async with admin.http.get(f"{admin.base}/admin/stats.csv?month={month}") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert resp.headers["Content-Disposition"] == f'attachment; filename="report-{month}.csv"'
        downloaded = await resp.read()
    assert downloaded.startswith(b"\xef\xbb\xbf")
    assert downloaded == written


async def test_stats_link_the_months_around(admin: Browser) -> None:
    body, _ = await _open(admin, "/admin/stats?month=2026-01")
    assert 'href="/admin/stats?month=2025-12"' in body
    assert 'href="/admin/stats?month=2026-02"' in body
    assert 'href="/admin/stats.csv?month=2026-01"' in body
    rows = _table(body, "stats")
    assert rows[0][0] == relay_texts.render("report.expert")
    assert rows[-1][:4] == [relay_texts.render("report.total"), "", DEPARTMENT, "0"]
    body, _ = await _open(admin, "/admin/stats?month=2026-12&lang=en")
    assert 'href="/admin/stats?month=2027-01&amp;lang=en"' in body
    assert _table(body, "stats")[0][0] == relay_texts.render("report.expert", "en")


@pytest.mark.parametrize("path", ["/admin/stats?month=2026-13", "/admin/stats.csv?month=11-2026"])
async def test_a_bad_month_is_a_friendly_422(admin: Browser, path: str) -> None:
    status, headers, body, _ = await admin.get(path)
    assert status == 422
    assert headers["Content-Type"].startswith("text/html")
    assert render("admin.error.month") in body
    assert "Content-Disposition" not in headers


# -- the audit log --------------------------------------------------------------------------------


async def _seed_audit(running: Daemon, count: int) -> None:
    db = running.relay.db
    async with db.transaction() as conn:
        for n in range(count):
            await db.audit(conn, "test", "test.seed", f"s{n % 3}", {"n": n})
        await db.audit(
            conn, "test", "test.markup", "x", {"note": "<script>alert(1)</script>", "to": PATIENT}
        )


async def test_the_audit_log_is_newest_first_paged_and_filtered(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, _ = app
    await _seed_audit(running, 60)
    _, csrf = await _open(admin, "/admin/experts/zhang/edit")
    await admin.post("/admin/experts/zhang/pause", {"hours": "2", "csrf": csrf})
    body, _ = await _open(admin, "/admin/audit")
    rows = _table(body, "audit")[1:]
    assert len(rows) == 50
    assert rows[0][1:4] == [
        render("admin.audit.who.admin", name="root"),
        render("admin.audit.action.expert.pause"),
        "张明",  # the expert's name, not the id zhang
    ]
    assert rows[0][4] == '{"hours":2}'
    assert rows[1][2] == "test.markup"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert" not in body
    _no_full_number(body, PATIENT, EXPERT_ZHANG)
    assert f'<option value="expert.pause">{render("admin.audit.action.expert.pause")}<' in body
    assert render("admin.page_of", page=1, pages=2) in body

    body, _ = await _open(admin, "/admin/audit?action=test.seed")
    assert render("admin.audit.total", total=60) in body
    page2, _ = await _open(admin, "/admin/audit?action=test.seed&page=2")
    seeded = _table(page2, "audit")[1:]
    assert len(seeded) == 10
    assert seeded[-1][4] == '{"n":0}'  # the oldest last
    body, _ = await _open(admin, "/admin/audit?action=test.seed&subject=s1")
    assert render("admin.audit.total", total=20) in body
    assert {row[3] for row in _table(body, "audit")[1:]} == {"s1"}
    body, _ = await _open(admin, "/admin/audit?actor=admin:root")
    assert {row[1] for row in _table(body, "audit")[1:]} == {
        render("admin.audit.who.admin", name="root")
    }

    today = datetime.now(ZONE).date()
    body, _ = await _open(admin, f"/admin/audit?action=test.seed&from={today}&to={today}")
    assert render("admin.audit.total", total=60) in body
    tomorrow = today + timedelta(days=1)
    body, _ = await _open(admin, f"/admin/audit?from={tomorrow}")
    assert render("admin.audit.none") in body
    yesterday = today - timedelta(days=1)
    body, _ = await _open(admin, f"/admin/audit?to={yesterday}")
    assert render("admin.audit.none") in body


async def test_the_audit_log_says_in_words_what_happened_who_did_it_and_to_what(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    thread_id = int((await _ask(client, "zhang", "饭后血压高吗"))["id"])
    (row,) = await running.relay.db.fetchall("SELECT code FROM threads WHERE id = ?", (thread_id,))
    db = running.relay.db
    async with db.transaction() as conn:
        await db.audit(conn, "patient", "thread.thank", str(thread_id))
        await db.audit(conn, "digest", "digest.queued", "zhang", {"week": "2026-W47"})
    body, _ = await _open(admin, "/admin/audit")
    rows = {tuple(r[1:4]) for r in _table(body, "audit")[1:]}
    code = f"#{row['code']}"
    assert (
        render("admin.audit.who.patient"),
        render("admin.audit.action.thread.thank"),
        render("admin.audit.what.thread", code=code, name="张明"),
    ) in rows, rows
    assert (
        render("admin.audit.who.digest"),
        render("admin.audit.action.digest.queued"),
        "张明",
    ) in rows, rows
    assert (  # the experts the config file brought in at the start
        render("admin.audit.who.config"),
        render("admin.audit.action.expert.insert"),
        "张明",
    ) in rows, rows
    for raw in ("digest.queued", "expert.insert", "thread.thank"):
        assert f">{raw}<" not in body  # a key is no word
    _no_full_number(body, PATIENT, EXPERT_ZHANG)


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("from=2026-02-30", "admin.error.date"),
        ("to=yesterday", "admin.error.date"),
        ("from=0001-01-01", "admin.error.date"),  # before year 1 in UTC
        ("to=9999-12-31", "admin.error.date"),  # the day after it has no year
        ("from=2026-11-02&to=2026-11-01", "admin.error.date_order"),
    ],
)
async def test_a_bad_date_range_is_refused_in_words(admin: Browser, query: str, key: str) -> None:
    status, _, body, _ = await admin.get(f"/admin/audit?{query}")
    assert status == 422
    assert render(key) in body


# -- numbers ---------------------------------------------------------------------------------------


async def test_no_admin_page_shows_a_full_number(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    _, client = app
    verification_id, code = await client.verify(PATIENT)
    status, body = await client.call(
        "POST", "/api/questions", expert_id="zhang", nickname="13912345678",
        text="我的号码13912345678", public=True, phone=PATIENT,
        verification_id=verification_id, code=code,
    )  # fmt: skip
    assert status == 201, body
    for path in PAGES:
        if path.endswith(".csv"):
            continue
        body, _ = await _open(admin, path)
        _no_full_number(body, PATIENT, EXPERT_ZHANG, EXPERT_LI)
    body, _ = await _open(admin, "/admin/experts")
    assert "•••• 8001" in body
    assert "•••• 8002" in body
