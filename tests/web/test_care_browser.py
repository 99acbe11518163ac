"""随访 in a real browser (Debian's Chromium through Playwright), in Chinese: a nurse logs in,
enrols a patient through the form and finds her in the list; patients answer their day-1 SMS
with a warning and a red-flag word, and the red flags are on the dashboard and on the 随访 page
(the overdue one marked); a number is shown on request (audited) and a red flag acknowledged.
The page fits a phone (375 px) in both languages. The README's two pictures come from here.

The relay's clock is the test's: the planner runs when the test says and deadlines pass when it
moves the clock. The patients and their numbers are made up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, FloatRect, Page, ViewportSize, expect

from smscat.relay.daemon.app import Daemon, running_daemon
from smscat.relay.services.care import EnrolRequest
from smscat.web.texts import render
from tests.support.admin import ADMINS, PASSWORD
from tests.support.browser import ARTIFACTS, chromium
from tests.support.daemon import settings
from tests.support.relay import Clock, received
from tests.web.test_admin_phone import fits

pytestmark = pytest.mark.browser

MONDAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
FRIDAY = MONDAY + timedelta(days=4)
WANG = "+8613700001111"  # enrolled through the form
LI = "+8613700002222"
ZHAO = "+8613700003333"  # never answers: listed for a call
PHONE = ViewportSize(width=375, height=740)  # as tests/web/test_admin_phone.py's
DESK = ViewportSize(width=1280, height=900)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


class Hospital:
    """The daemon with the test's clock, and the patients' SMS as the modem hands them over."""

    def __init__(self, running: Daemon, clock: Clock) -> None:
        self.running = running
        self.relay = running.relay
        self.clock = clock
        self.refs = 0

    async def enrol(self, phone: str, nickname: str, anchor: date) -> None:
        request = EnrolRequest(
            phone=phone, nickname=nickname, anchor=anchor, plan="discharge", consent="verbal",
            doctor_id="zhang",
        )  # fmt: skip
        await self.relay.care.enrol(request, "admin:root", "admin")

    async def at(self, when: datetime) -> None:
        """The clock moves to ``when``; the planner looks."""
        self.clock.now = when
        await self.relay.care.tick()

    async def sms(self, sender: str, text: str) -> None:
        self.refs += 1
        for part in received(sender, text, self.clock.now, 100 + self.refs):
            await self.relay.inbound.store_part("sim1", part)
        await self.relay.inbound.process_inbound()


async def log_in(page: Page, url: str) -> None:
    await page.goto(url + "/admin/care")
    await page.get_by_label(render("admin.username")).fill("root")
    await page.get_by_label(render("admin.password")).fill(PASSWORD)
    await page.get_by_role("button", name=render("admin.login_button")).click()
    await expect(page.get_by_text(render("admin.signed_in_as", username="root"))).to_be_visible()
    await page.goto(url + "/admin/care")


async def test_a_nurse_enrols_a_patient_and_handles_red_flags(
    tmp_path: Path, browser: Browser
) -> None:
    clock = Clock(MONDAY)
    async with running_daemon(settings(tmp_path, admins=ADMINS), clock=clock) as running:
        hospital = Hospital(running, clock)
        # 赵大爷 went home on Sunday and answers nothing: by Friday he is to be called
        await hospital.enrol(ZHAO, "赵大爷", date(2026, 11, 22))
        for day in (MONDAY, MONDAY + timedelta(days=2), FRIDAY):
            await hospital.at(day)
        problems: list[str] = []
        page = await browser.new_page(viewport=PHONE, locale="zh-CN")
        page.on("pageerror", lambda error: problems.append(str(error)))
        await log_in(page, running.url)

        # on a phone: the form, consent chosen by hand (no default)
        await expect(page.locator('[data-call="1"]')).to_contain_text("赵大爷")
        form = page.locator("#enrol")
        await form.get_by_label(render("admin.care.phone")).fill("137 0000 1111")
        await form.get_by_label(render("admin.care.nickname")).fill("王女士")
        await form.get_by_label(render("admin.care.anchor")).fill("2026-11-26")
        await form.get_by_label(render("admin.care.doctor")).select_option(label="张明")
        consent = form.get_by_label(render("admin.care.consent"))
        await expect(consent).to_have_value("")
        await consent.select_option(label=render("admin.care.consent.written"))
        await page.evaluate("document.activeElement.blur()")  # no caret in the picture
        ARTIFACTS.mkdir(exist_ok=True)
        box = await form.bounding_box()  # (in the viewport: the page's scroll added below)
        assert box is not None
        top = box["y"] + await page.evaluate("window.scrollY")
        margin = 12  # (main's padding is 16 px)
        around = FloatRect(
            x=box["x"] - margin, y=top - margin,
            width=box["width"] + 2 * margin, height=box["height"] + 2 * margin,
        )  # fmt: skip
        shot = ARTIFACTS / "care-enrol.png"
        await page.screenshot(path=str(shot), clip=around, full_page=True)
        await form.get_by_role("button", name=render("admin.care.enrol_button")).click()
        await expect(page.get_by_role("status")).to_have_text(
            render("admin.care.enrolled", nickname="王女士")
        )
        row = page.locator("table.enrolments tbody tr").first
        await expect(row).to_contain_text("王女士")
        await expect(row).to_contain_text("•••• 1111")
        await expect(row).to_contain_text(render("admin.care.status.active"))
        (enrolment,) = await running.relay.db.fetchall(
            "SELECT consent_how, consent_by FROM care_enrolments WHERE nickname = '王女士'"
        )
        assert tuple(enrolment) == ("written", "admin:root")

        # their day-1 SMS go; 李先生 answers 3 (加重) and nobody acknowledges it by its deadline
        # (12:00; the plan has no rota: the doctor alone), so it is nobody's now; 王女士 writes
        # of chest pain
        await hospital.enrol(LI, "李先生", date(2026, 11, 26))
        await hospital.at(FRIDAY)
        await hospital.sms(LI, "3")
        clock.now = FRIDAY + timedelta(hours=2, minutes=30)
        await running.relay.care_replies.move_overdue()
        clock.now = FRIDAY + timedelta(hours=2, minutes=40)
        await hospital.sms(WANG, "昨晚有点胸痛，今天好些了，需要回医院吗？")
        assert len(await running.relay.db.fetchall("SELECT id FROM care_escalations")) == 2

        await page.set_viewport_size(DESK)
        await page.goto(running.url + "/admin")
        block = page.locator("#care-alerts")
        await expect(block.locator(".badge")).to_have_text("2")
        await expect(block.locator("li").first).to_contain_text("李先生")  # the oldest first
        await expect(block.locator("li").first).to_contain_text(render("admin.care.nobody"))
        await expect(block.locator("li").nth(1)).to_contain_text("胸痛")
        await block.get_by_role("link", name=render("admin.care.dashboard_link")).click()

        alerts = page.locator("#escalations li.care-alert")
        await expect(alerts).to_have_count(2)
        await expect(alerts.first).to_contain_text("李先生")
        await expect(alerts.first).to_have_class("care-alert unheld")
        await expect(alerts.first.locator(".flag")).to_have_text(render("admin.care.unheld"))
        await expect(alerts.first).to_contain_text(render("admin.care.answered", answer="加重"))
        await expect(alerts.nth(1)).to_contain_text("胸痛")
        await expect(alerts.nth(1)).to_contain_text(render("admin.care.keywords", words="胸痛"))
        await expect(alerts.nth(1).locator(".holder")).to_have_text("张明")
        await expect(alerts.nth(1).locator(".deadline")).to_have_text("2026-11-27 14:40")
        body = await page.content()
        assert WANG not in body
        assert LI not in body
        await page.screenshot(path=str(ARTIFACTS / "care-escalations.png"), full_page=True)
        assert (ARTIFACTS / "care-escalations.png").stat().st_size > 20_000
        assert (ARTIFACTS / "care-enrol.png").stat().st_size > 5_000

        # a phone, both languages: nothing wider than the screen
        await page.set_viewport_size(PHONE)
        for path in ("/admin/care", "/admin/care/plans/discharge"):
            for lang in ("zh-CN", "en"):
                await page.goto(f"{running.url}{path}?lang={lang}")
                await fits(page, f"{path} {lang}")
        await page.goto(running.url + "/admin/care")

        # 王女士's number, on request: shown in that answer, and the log says who read it
        card = page.locator("#escalations li.care-alert").nth(1)
        await card.get_by_role("button", name=render("admin.care.show_number")).click()
        await expect(page.locator(".number-shown")).to_have_text(WANG)
        read = await running.relay.db.fetchall(
            "SELECT actor FROM audit_log WHERE action = 'care.escalation_read'"
        )
        assert [r[0] for r in read] == ["admin:root"]

        # 李先生 called back: handled
        first = page.locator("#escalations li.care-alert").first
        await first.get_by_role("button", name=render("admin.care.ack_button")).click()
        await expect(page.get_by_role("status")).to_have_text(render("admin.care.acked"))
        await expect(page.locator("#escalations li.care-alert")).to_have_count(1)
        await expect(page.locator(".number-shown")).to_have_count(0)  # not carried over
        assert problems == []
