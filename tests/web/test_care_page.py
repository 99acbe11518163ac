"""A 随访 plan's page over real HTTP (``/f/<token>``, the link a step's SMS carries), on a running
daemon whose relay clock the test holds: the plan's page filled in for the patient, escaped, in
the site's layout and both languages; no-store, no Referer, not indexed; never the patient's
number; a 404 page in words for an unknown token and after the number's erasure."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import aiohttp
import pytest
from markupsafe import escape
from multidict import CIMultiDictProxy

from smscat.relay.daemon.app import Daemon, running_daemon
from smscat.relay.services import retention
from smscat.relay.services.care import EnrolRequest
from smscat.relay.services.care_record import CareConfig, PlanConfig
from smscat.web.texts import render
from tests.support.daemon import TIMEOUT, settings
from tests.support.relay import Clock

# Monday 2026-11-23, 10:00 in Shanghai; discharged the day before: the day-1 step is due
MONDAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
PUBLIC = "https://ask.example.org"
PATIENT = "+8613700001111"  # fictional
OTHER = "+8613700002222"
NICKNAME = "王<i>女士"  # hostile: it must be shown as text
CONDITION = "心力衰竭"
PLAN = PlanConfig.model_validate(
    {
        "name": "discharge",
        "title": "心衰出院随访",
        "page": "{nickname}您好：您因" + CONDITION + "出院。\n<script>每天称体重</script>",
        "steps": [{"key": "d1", "day": 1, "text": "{nickname}您好，出院须知：{link}"}],
    }
)
LINK = re.compile(re.escape(PUBLIC) + r"/f/([A-Za-z0-9_-]+)")
Page = tuple[int, CIMultiDictProxy[str], str]


@dataclass
class Site:
    running: Daemon
    http: aiohttp.ClientSession

    async def get(self, path: str) -> Page:
        async with self.http.get(self.running.url + path) as resp:
            return resp.status, resp.headers, await resp.text()

    async def token_of(self, phone: str, nickname: str) -> str:
        """``phone`` enrolled and sent the day-1 step: the token of the link it carries."""
        request = EnrolRequest(
            phone=phone, nickname=nickname, anchor=date(2026, 11, 22), plan="discharge",
            consent="verbal", doctor_id="zhang",
        )  # fmt: skip
        await self.running.relay.care.enrol(request, "admin:root", "admin")
        await self.running.relay.care.tick()  # (the daemon's planner may have looked already)
        rows = await self.running.relay.db.fetchall(
            "SELECT text FROM outbox WHERE kind = 'care' AND recipient = ?", (phone,)
        )
        (found,) = [m.group(1) for r in rows for m in LINK.finditer(r[0])]
        return found


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    config = settings(tmp_path, web={"public_url": PUBLIC}).model_copy(
        update={"care": CareConfig(plans=[PLAN])}
    )
    async with (
        running_daemon(config, clock=Clock(MONDAY)) as running,
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
    ):
        yield Site(running, http)


def private(headers: CIMultiDictProxy[str]) -> None:
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Robots-Tag"] == "noindex"
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["Content-Type"].split(";")[0] == "text/html"


async def test_the_link_opens_the_plans_page_for_its_patient(site: Site) -> None:
    token = await site.token_of(PATIENT, NICKNAME)
    status, headers, body = await site.get(f"/f/{token}")
    assert status == 200, body
    private(headers)
    assert body.startswith("<!doctype html>")
    assert '<meta name="robots" content="noindex, nofollow">' in body
    assert "<h1>心衰出院随访</h1>" in body
    assert f"<p>{escape(NICKNAME)}您好：您因{CONDITION}出院。</p>" in body
    assert f"<p>{escape('<script>每天称体重</script>')}</p>" in body
    assert "<i>" not in body
    assert "<script>每" not in body
    assert render("page.care.reply_by_sms", "zh-CN") in body
    for shown in (PATIENT, PATIENT[3:], PATIENT[-4:]):
        assert shown not in body
    status, headers, body = await site.get(f"/f/{token}?lang=en")
    assert status == 200
    private(headers)
    assert render("page.care.reply_by_sms", "en") in body
    assert CONDITION in body  # (the page is the hospital's own words, in its language)


async def test_each_token_opens_its_own_patients_page(site: Site) -> None:
    mine = await site.token_of(PATIENT, "张先生")
    theirs = await site.token_of(OTHER, "李女士")
    _, _, body = await site.get(f"/f/{mine}")
    assert "张先生" in body
    assert "李女士" not in body
    _, _, body = await site.get(f"/f/{theirs}")
    assert "李女士" in body
    assert "张先生" not in body


async def test_an_unknown_token_and_an_erased_patients_are_404_in_words(site: Site) -> None:
    token = await site.token_of(PATIENT, "张先生")
    for path in ("/f/" + "A" * 16, f"/f/{token[:-1]}"):
        status, headers, body = await site.get(path)
        assert status == 404
        private(headers)
        assert render("page.care.gone", "zh-CN") in body
        assert CONDITION not in body
    assert (await site.get(f"/f/{token}"))[0] == 200
    await retention.erase_phone(site.running.relay.db, PATIENT, "admin", MONDAY)
    status, headers, body = await site.get(f"/f/{token}?lang=en")
    assert status == 404
    private(headers)
    assert render("page.care.gone_title", "en") in body
    assert "张先生" not in body
    assert CONDITION not in body
