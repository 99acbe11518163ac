"""The statistics page's 随访 table and its CSV download, on a running daemon, are the service's
figures (:mod:`smscat.relay.services.care_report`), the bytes ``smscat report`` writes."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from smscat.relay.core import texts as relay_texts
from smscat.relay.daemon.app import Daemon
from smscat.relay.services import care_report
from smscat.relay.services.care import EnrolRequest
from smscat.web.texts import render
from tests.support.admin import ADMINS, Browser
from tests.support.daemon import TIMEOUT, Client, daemon

PATIENT = "+8613712340001"
NICKNAME = "王女士"


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


def care_table(body: str) -> list[list[str]]:
    found = re.search(r'<table class="stats care-stats">(.*?)</table>', body, re.S)
    assert found, body
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1), re.S)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]
    return [[html.unescape(c) for c in row] for row in cells]


async def test_the_page_shows_the_care_figures_and_offers_their_file(
    app: tuple[Daemon, Client], admin: Browser
) -> None:
    running = app[0]
    relay = running.relay
    today = relay.clock().astimezone(relay.options.zone).date()
    request = EnrolRequest(
        phone=PATIENT, nickname=NICKNAME, anchor=today, plan="discharge", consent="written",
        doctor_id="zhang",
    )  # fmt: skip
    enrolled = (await relay.care.enrol(request, "root", "admin")).enrolment
    month = enrolled.created_at.astimezone(relay.options.zone).strftime("%Y-%m")

    status, _, body, _ = await admin.get(f"/admin/stats?month={month}")
    assert status == 200, body
    assert render("admin.stats.care_heading") in body
    assert f'href="/admin/stats-care.csv?month={month}"' in body
    rows = care_table(body)
    expected = care_report.csv_rows(await care_report.relay_month_report(relay, month))
    assert rows == expected
    assert rows[1][0] == "出院随访"  # config.yaml's default plan, by its title
    assert rows[1][2:4] == ["张明", "1"]  # the doctor by name; one enrolled
    assert rows[-1][0] == relay_texts.render("report.total")
    assert NICKNAME not in body
    assert PATIENT[3:] not in body

    async with admin.http.get(f"{admin.base}/admin/stats-care.csv?month={month}") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
        disposition = f'attachment; filename="report-{month}-care.csv"'
        assert resp.headers["Content-Disposition"] == disposition
        downloaded = await resp.read()
    assert downloaded.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(io.StringIO(downloaded.decode("utf-8-sig"), newline=""))) == rows

    status, _, english, _ = await admin.get(f"/admin/stats?month={month}&lang=en")
    assert status == 200
    assert care_table(english)[0][:3] == ["Follow-up plan", "Department", "Doctor"]


async def test_a_bad_month_downloads_no_care_file(admin: Browser) -> None:
    status, headers, body, _ = await admin.get("/admin/stats-care.csv?month=2026-13")
    assert status == 422
    assert "Content-Disposition" not in headers
    assert render("admin.error.month") in body
