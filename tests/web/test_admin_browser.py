"""An admin in a real browser (Debian's Chromium through Playwright): logs in, reads the modem's
signal and the queue, watches the dashboard change without a reload, and assigns an unmatched
reply to its thread while the page keeps updating around the form being filled in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, expect

from smscat.relay.daemon.app import Daemon
from smscat.web.dashboard import signal_bars
from smscat.web.texts import render
from tests.support.admin import ADMINS, PASSWORD, two_questions, unmatched
from tests.support.browser import ARTIFACTS, chromium
from tests.support.daemon import EXPERT_ZHANG, PATIENT, Client, daemon

pytestmark = pytest.mark.browser

REPLY = "多喝水，少吃盐，一周后复查血压。"
LIVE = 20_000  # ms to wait for a live update


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[Daemon, Client]]:
    async with daemon(tmp_path, admins=ADMINS) as running:
        yield running


async def test_an_admin_watches_the_dashboard_and_assigns_an_unmatched_reply(
    app: tuple[Daemon, Client], browser: Browser
) -> None:
    running, client = app
    first, _ = await two_questions(client, phone=True)  # the first thread has a patient phone
    await unmatched(running, client, REPLY)  # two open questions, no code: unmatched

    page = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    loads: list[str] = []
    page.on("load", lambda _: loads.append(page.url))

    await page.goto(running.url + "/admin")
    await expect(page.get_by_role("heading", name=render("admin.login_heading"))).to_be_visible()
    await page.get_by_label(render("admin.username")).fill("root")
    await page.get_by_label(render("admin.password")).fill(PASSWORD)
    await page.get_by_role("button", name=render("admin.login_button")).click()
    await expect(page.get_by_text(render("admin.signed_in_as", username="root"))).to_be_visible()

    # the modem: its signal in dBm and as bars, its network, the SIM
    health = running.supervisors["sim1"].health
    assert health is not None
    assert health.signal_dbm is not None
    card = page.locator('article[data-modem="sim1"]')
    await expect(card.locator(".dbm")).to_have_text(f"{health.signal_dbm} dBm")
    await expect(card.locator(".bars")).to_have_attribute(
        "aria-label", render("admin.bars", n=signal_bars(health.signal_dbm))
    )
    await expect(card.locator(".state")).to_have_text(render("admin.state.ready"))
    await expect(card.locator(".registration")).to_have_text(render("admin.reg.home"))
    # the queue: every SMS so far has gone (welcome SMS, questions, a verification code)
    counts = await running.relay.read.outbox_counts()
    sent = page.locator('#queue [data-status="sent"] dd')
    delivered = page.locator('#queue [data-status="delivered"] dd')
    await expect(page.locator('#queue [data-status="queued"] dd')).to_have_text("0")
    total = int(await sent.inner_text()) + int(await delivered.inner_text())
    assert total == counts.get("sent", 0) + counts.get("delivered", 0)
    assert total >= 4
    await expect(page.locator('[data-tile="unmatched"]')).to_have_text("1")

    # the admin starts filling in the form; meanwhile more arrives, and the page follows it
    inbound = page.locator("#unmatched article.inbound")
    await expect(inbound).to_have_count(1)
    loaded = len(loads)
    # the sender in words (the expert's name, never the number), and the expert's open
    # questions by #code and first words to pick from, not a global thread id to know
    await expect(inbound.first.locator(".sender")).to_contain_text(
        render("admin.from_expert", name="张明")
    )
    code = (await running.relay.db.fetchall("SELECT code FROM threads WHERE id = ?", (first,)))[0]
    label = f"#{code['code']} 问题0"
    picker = inbound.first.get_by_label(render("admin.assign_to"))
    await expect(picker.locator("option")).to_have_count(3)  # "pick one", and both questions
    await picker.select_option(label=label)
    await client.phone_sends("10086", "尊敬的客户，您的话费余额为35.20元。")
    await expect(page.locator("#notices")).to_contain_text("话费余额为35.20元", timeout=LIVE)
    await unmatched(running, client, "下午门诊结束后再回复")
    await expect(page.locator('[data-tile="unmatched"]')).to_have_text("2", timeout=LIVE)
    # the section being typed in waits: the admin's input is still there
    await expect(picker).to_have_value(str(first))
    assert len(loads) == loaded  # all of that without a reload

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 20_000

    await inbound.first.get_by_role("button", name=render("admin.assign_button")).click()
    done = render("admin.assigned", thread=f"#{code['code']}")  # the code the expert knows
    await expect(page.get_by_role("status")).to_have_text(done)
    await expect(page.locator("#unmatched")).not_to_contain_text(REPLY)
    await expect(page.locator("#unmatched")).to_contain_text("下午门诊结束后再回复")
    await client.wait_for_sms(PATIENT, lambda t: REPLY in t)  # forwarded to the patient
    messages = await running.relay.db.fetchall(
        "SELECT sender, text FROM messages WHERE thread_id = ? ORDER BY id", (first,)
    )
    assert (messages[-1]["sender"], messages[-1]["text"]) == ("expert", REPLY)

    body = await page.content()
    digits = re.sub(r"\D", "", EXPERT_ZHANG)
    for number in (EXPERT_ZHANG, digits, digits[2:], PATIENT, PATIENT[3:]):
        assert number not in body
    assert problems == []
