"""An SMS from a number nobody knows: kept for admins, masked, never posted, never answered, and
gone with the retention purge. A whole daemon with its simulated modem and an admin's browser."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from smscat.relay.daemon.app import Daemon
from smscat.relay.services.retention import purge
from smscat.web.texts import render
from tests.support.admin import ADMINS, Browser
from tests.support.daemon import TIMEOUT, Client, daemon, settled

STRANGER = "+8613655556666"
TYPED = "13711112222"  # a number the stranger typed into the text
TEXT = f"请问张医生周几门诊？打我电话{TYPED}"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[Daemon, Client]]:
    async with daemon(tmp_path, admins=ADMINS) as running:
        yield running


@pytest.fixture
async def admin(app: tuple[Daemon, Client]) -> AsyncIterator[Browser]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=jar) as http:
        browser = Browser(http, app[0].url)
        status, _, body, _ = await browser.login()
        assert status == 303, body
        yield browser


def _section(body: str) -> str:
    found = re.search(r'<section id="unknown"(.*?)</section>', body, re.S)
    assert found, body
    return found.group(1)


async def test_an_unknown_number_is_listed_masked_never_answered_and_purged(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    db = running.relay.db
    await settled(running)  # the experts' welcome SMS have gone
    body, _ = await admin.dashboard()
    assert render("admin.unknown_none", days=30) in _section(body)

    await client.phone_sends(STRANGER, TEXT)
    async with asyncio.timeout(15):
        while not (rows := await db.fetchall("SELECT id, outcome FROM inbound")):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    [row] = rows
    assert row["outcome"] == "unknown_sender"

    body, _ = await admin.dashboard()
    section = _section(body)
    assert f'data-inbound="{row["id"]}"' in section
    assert "•••• 6666" in section
    assert "请问张医生周几门诊？打我电话" in section
    for digits in (STRANGER, STRANGER[1:], STRANGER[3:], TYPED):  # anywhere on the page
        assert digits not in body

    # never posted, never answered
    assert await db.fetchall("SELECT 1 FROM messages WHERE inbound_id = ?", (row["id"],)) == []
    assert await db.fetchall("SELECT 1 FROM outbox WHERE recipient = ?", (STRANGER,)) == []
    await settled(running)
    assert await client.received_by(STRANGER) == []

    # the purge that erases patients' numbers takes it, raw parts and all, on the same schedule
    now = running.relay.clock()
    report = await purge(db, phone_days=30, thread_days=None, now=now + timedelta(days=29))
    assert report.erased.unknown_sms == 0  # younger than the limit: kept
    report = await purge(db, phone_days=30, thread_days=None, now=now + timedelta(days=31))
    assert (report.erased.unknown_sms, report.erased.unknown_parts) == (1, 1)
    assert await db.fetchall("SELECT 1 FROM inbound WHERE id = ?", (row["id"],)) == []
    assert await db.fetchall("SELECT 1 FROM inbound_parts") == []
    body, _ = await admin.dashboard()
    assert "•••• 6666" not in body
