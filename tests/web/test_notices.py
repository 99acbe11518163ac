"""Operators' and unknown numbers' SMS: listed for admins until one marks them handled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from smscat.relay.daemon.app import Daemon
from smscat.web.texts import render
from tests.support.admin import ADMINS, Browser
from tests.support.daemon import TIMEOUT, Client, daemon, settled

BALANCE = "尊敬的客户，您的话费余额不足5元，请及时充值。"
STRANGER = ("+8613655556666", "请问周几门诊？")


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[Daemon, Client]]:
    async with daemon(tmp_path, admins=ADMINS) as running:
        yield running


async def test_an_admin_marks_operator_and_unknown_sms_handled_and_they_leave_the_list(
    app: tuple[Daemon, Client],
) -> None:
    running, client = app
    await settled(running)
    await client.phone_sends("10086", BALANCE)
    await client.phone_sends(*STRANGER)
    async with asyncio.timeout(15):
        while len(await running.relay.db.fetchall("SELECT id FROM inbound")) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=jar) as http:
        admin = Browser(http, running.url)
        assert (await admin.login())[0] == 303
        body, csrf = await admin.dashboard()
        assert "余额不足" in body
        assert STRANGER[1] in body
        assert render("admin.notices_handled_button") in body
        status, headers, _, _ = await admin.post("/admin/notices/handled", {"csrf": "forged"})
        assert status == 403  # a form from elsewhere does nothing
        status, headers, _, _ = await admin.post("/admin/notices/handled", {"csrf": csrf})
        assert (status, headers["Location"]) == (303, "/admin")
        body, _ = await admin.dashboard()
    assert render("admin.notices_handled", count=2) in body
    assert "余额不足" not in body
    assert STRANGER[1] not in body
    rows = await running.relay.db.fetchall(
        "SELECT COUNT(*) FROM inbound WHERE resolved_at IS NOT NULL"
    )
    assert rows[0][0] == 2  # kept (retention removes them), no longer waiting for anyone
