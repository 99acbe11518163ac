"""The admin pages on a phone (375 px, an iPhone SE's width): nothing is wider than the screen,
so nothing is cut off and the page never scrolls sideways; a wide table scrolls inside its own
box (issue 16). The setup page's config line, a long argon2 hash, wraps too."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from smscat.web.texts import render
from tests.support.admin import ADMINS, PASSWORD, two_questions, unmatched
from tests.support.browser import ARTIFACTS, chromium
from tests.support.daemon import EXPERT_ZHANG, PATIENT, daemon

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
AUDITED = "SELECT id FROM audit_log WHERE action IN ('expert.pause', 'phone.stop')"
PAGES = [
    "/admin",
    "/admin/experts",
    "/admin/experts/new",
    "/admin/experts/zhang/edit",
    "/admin/threads",
    "/admin/stats",
    "/admin/audit",
]
WIDER = """() => {
  const width = window.innerWidth;
  const page = document.scrollingElement.scrollWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => !e.closest('.table-scroll') || e.classList.contains('table-scroll'))
    .filter(e => e.getBoundingClientRect().right > width + 0.5)
    .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''));
  return {width, page, wide};
}"""


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def fits(page: Page, path: str) -> None:
    found = await page.evaluate(WIDER)
    assert found["page"] <= found["width"], (path, found)
    assert not found["wide"], (path, found)


async def test_every_admin_page_fits_a_phone(tmp_path: Path, browser: Browser) -> None:
    async with daemon(tmp_path, admins=ADMINS) as (running, client):
        await two_questions(client, phone=True)
        await unmatched(running, client, "多喝水，少吃盐，一周后复查血压。")  # the assign form
        page = await browser.new_page(viewport=PHONE, locale="zh-CN")
        await page.goto(running.url + "/admin")
        await page.get_by_label(render("admin.username")).fill("root")
        await page.get_by_label(render("admin.password")).fill(PASSWORD)
        await page.get_by_role("button", name=render("admin.login_button")).click()
        await expect(
            page.get_by_text(render("admin.signed_in_as", username="root"))
        ).to_be_visible()
        for path in PAGES:
            for lang in ("zh-CN", "en"):  # English words are longer
                await page.goto(f"{running.url}{path}?lang={lang}")
                await fits(page, f"{path} {lang}")
        # the README's pictures: the dashboard on a phone, the audit log on a desk (with an
        # expert's pause and a patient's STOP in it, by SMS)
        await client.phone_sends(EXPERT_ZHANG, "暂停 2")
        await client.phone_sends(PATIENT, "TD")
        async with asyncio.timeout(15):
            while len(await running.relay.db.fetchall(AUDITED)) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        ARTIFACTS.mkdir(exist_ok=True)
        await page.goto(running.url + "/admin?lang=zh-CN")
        await page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
        await page.set_viewport_size({"width": 1280, "height": 900})
        await page.goto(running.url + "/admin/audit")
        await expect(page.locator("table.audit")).to_be_visible()
        await page.screenshot(path=str(ARTIFACTS / "audit.png"), full_page=True)
        assert (ARTIFACTS / "audit.png").stat().st_size > 20_000


async def test_the_setup_pages_fit_a_phone(
    tmp_path: Path, browser: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with daemon(tmp_path) as (running, _):
        found = re.search(r"/admin/setup/[A-Za-z0-9_-]{32,}", caplog.text)
        assert found
        page = await browser.new_page(viewport=PHONE, locale="zh-CN")
        await page.goto(running.url + found.group(0))
        await fits(page, "setup")
        await page.get_by_label(render("admin.username")).fill("chief")
        await page.get_by_label(render("admin.password"), exact=True).fill("long enough pw")
        await page.get_by_label(render("admin.password_again")).fill("long enough pw")
        await page.get_by_role("button", name=render("admin.setup_button")).click()
        await expect(page.locator("pre.config-snippet")).to_be_visible()
        await fits(page, "setup done")  # the hash line wraps
