"""A patient asks in a real browser (Debian's Chromium through Playwright) at phone size, and
sees the expert's SMS answer appear on the thread page without reloading it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Page,
    Response,
    expect,
)

from smscat.relay.daemon.app import Daemon
from tests.support.browser import ARTIFACTS, chromium
from tests.support.daemon import EXPERT_ZHANG, PATIENT, Client, daemon

pytestmark = pytest.mark.browser

QUESTION = "张医生您好，我父亲术后第七天，血压偏高，需要调整药量吗？"
ANSWER = "先不用调药，每天早晚各量一次血压，一周后门诊复查。"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[Daemon, Client]]:
    async with daemon(tmp_path) as running:
        yield running


async def phone_page(browser: Browser) -> tuple[Page, list[str], list[str]]:
    """A phone-sized page; the script errors and CSP refusals it logs; its refused requests."""
    page = await browser.new_page(
        viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=2
    )
    problems: list[str] = []
    refused: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # A refused request is logged too: those are checked one by one, in ``refused``.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    def on_response(response: Response) -> None:
        if response.status >= 400:
            refused.append(f"{response.status} {urlsplit(response.url).path}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", on_response)
    return page, problems, refused


async def test_a_patient_asks_and_sees_the_answer_arrive_without_reloading(
    app: tuple[Daemon, Client], browser: Browser
) -> None:
    running, client = app
    status, _ = await client.call(
        "POST",
        "/api/questions",
        expert_id="li",  # another expert: 张明's reply below must match our thread alone
        nickname="老陈",
        text="起搏器术后可以坐飞机吗？方便请打 139 1234 5678",
        public=True,
    )
    assert status == 201
    page, problems, refused = await phone_page(browser)

    await page.goto(running.url + "/")
    await expect(page.get_by_text("急症请立即拨打120或到急诊就诊")).to_be_visible()
    await expect(page.get_by_text("起搏器术后可以坐飞机吗？")).to_be_visible()
    await expect(page.locator("main")).not_to_contain_text("5678")  # masked on the board
    await expect(page.get_by_role("heading", name="张明")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "board.png"), full_page=True)
    await page.get_by_role("link", name="张明").click()
    await expect(page).to_have_url(re.compile(r"/experts/zhang$"))

    await page.get_by_role("button", name="提交问题").click()  # nothing filled in yet
    await expect(page.locator('[data-error-for="nickname"]')).to_have_text("昵称需为1到20个字。")
    await page.get_by_label("昵称").fill("小王")
    counter = page.locator("#counter")
    await expect(counter).to_have_text("已输入0/500字")
    await page.get_by_label("您的问题").fill(QUESTION)
    await expect(counter).to_have_text(f"已输入{len(QUESTION)}/500字")
    await page.get_by_label("手机号（选填）").fill("139 1234 5678")
    await page.get_by_role("button", name="发送验证码").click()
    await expect(page.get_by_text("验证码已发送，请查看手机短信")).to_be_visible()
    await expect(page.locator("#send-code")).to_be_disabled()
    sms = await client.wait_for_sms(PATIENT, lambda t: "验证码" in t)
    code = re.search(r"[0-9]{6}", sms)
    assert code

    # a wrong code first: the API's Chinese refusal, inline, and nothing is asked
    await page.get_by_label("短信验证码").fill("000000" if code.group(0) != "000000" else "111111")
    await page.get_by_label("公开：匿名显示在问答区").check()
    await page.get_by_role("button", name="提交问题").click()
    await expect(page.locator('[data-error-for="code"]')).to_have_text("验证码不正确。")
    await expect(page.get_by_role("alert")).to_contain_text("验证码不正确。")
    await expect(page).to_have_url(re.compile(r"/experts/zhang$"))

    await page.get_by_label("短信验证码").fill(code.group(0))
    await page.get_by_role("button", name="提交问题").click()
    await expect(page).to_have_url(re.compile(r"/t/[0-9]+/[A-Za-z0-9_-]{24,}$"))  # ?new=1 gone
    await expect(page.get_by_text("请保存这个链接")).to_be_visible()
    await expect(page.locator("#thread-link")).to_have_value(re.compile(r"^http://.+/t/"))
    await expect(page.get_by_role("button", name="复制链接")).to_be_visible()
    await expect(page.locator("#messages")).to_contain_text(QUESTION)

    await client.wait_for_sms(EXPERT_ZHANG, lambda t: QUESTION in t)
    loads: list[str] = []
    page.on("load", lambda _: loads.append(page.url))
    await client.phone_sends(EXPERT_ZHANG, ANSWER)

    await expect(page.locator("#messages")).to_contain_text(ANSWER, timeout=15_000)
    await expect(page.locator("#messages .msg-expert .who")).to_have_text("医生")
    await expect(page.locator("[data-role=status]")).to_contain_text("医生已回复")
    assert loads == []  # shown without a reload
    await client.wait_for_sms(PATIENT, lambda t: ANSWER in t)  # and by SMS to the patient
    await page.screenshot(path=str(ARTIFACTS / "thread.png"), full_page=True)
    assert (ARTIFACTS / "board.png").stat().st_size > 10_000
    assert (ARTIFACTS / "thread.png").stat().st_size > 10_000

    # Glyphs, not boxes: two different characters must not draw the same pixels.
    same = await page.evaluate(
        """() => {
            const draw = (ch) => {
                const c = document.createElement('canvas');
                c.width = c.height = 40;
                const g = c.getContext('2d');
                g.font = '32px sans-serif';
                g.fillText(ch, 2, 34);
                return Array.from(g.getImageData(0, 0, 40, 40).data).join();
            };
            return draw('血') === draw('压');
        }"""
    )
    assert not same, "Chinese renders as missing-glyph boxes: install fonts-noto-cjk"
    assert problems == []  # no script error, no CSP violation
    assert refused == ["403 /api/questions"]  # the wrong code, and nothing else


async def test_a_follow_up_from_the_page_goes_through_the_api(
    app: tuple[Daemon, Client], browser: Browser
) -> None:
    running, client = app
    status, asked = await client.call(
        "POST", "/api/questions", expert_id="li", nickname="访客", text="头晕", public=False
    )
    assert status == 201
    page, problems, refused = await phone_page(browser)
    await page.goto(f"{running.url}/t/{asked['id']}/{asked['token']}?lang=en")
    await expect(page.get_by_text("In an emergency, call 120")).to_be_visible()

    await page.get_by_label("Your follow-up").fill("<b>still dizzy</b>")
    await page.get_by_role("button", name="Send", exact=True).click()

    await expect(page.locator("#messages")).to_contain_text("<b>still dizzy</b>")
    await expect(page.locator("#followup")).to_have_value("")
    assert await page.locator("#messages b").count() == 0
    view = await client.thread(asked["id"], asked["token"])
    assert [m["text"] for m in view["messages"]] == ["头晕", "<b>still dizzy</b>"]
    assert problems == []
    assert refused == []


async def test_rating_thanking_and_the_link_by_sms_happen_in_place(
    app: tuple[Daemon, Client], browser: Browser
) -> None:
    running, client = app
    verification_id, code = await client.verify(PATIENT)
    status, asked = await client.call(
        "POST", "/api/questions", expert_id="zhang", nickname="小王", text="心慌怎么办",
        public=False, phone=PATIENT, verification_id=verification_id, code=code,
    )  # fmt: skip
    assert status == 201
    page, problems, refused = await phone_page(browser)
    await page.goto(f"{running.url}/t/{asked['id']}/{asked['token']}")
    feedback = page.locator("[data-role=feedback]")
    await expect(feedback).to_be_hidden()  # nothing to rate before an answer
    loads: list[str] = []
    page.on("load", lambda _: loads.append(page.url))

    await client.wait_for_sms(EXPERT_ZHANG, lambda t: "心慌怎么办" in t)
    await client.phone_sends(EXPERT_ZHANG, "先做个心电图")
    await expect(feedback).to_be_visible(timeout=15_000)
    await expect(page.get_by_role("heading", name="这个回答有帮助吗？")).to_be_visible()

    await page.get_by_role("button", name="有帮助", exact=True).click()
    await expect(page.get_by_text("感谢您的反馈。")).to_be_visible()
    await expect(page.get_by_role("button", name="有帮助", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    await page.get_by_role("button", name="没有帮助").click()
    await expect(page.get_by_role("button", name="没有帮助")).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(page.get_by_role("button", name="有帮助", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )
    await page.get_by_role("button", name="感谢医生").click()
    await expect(page.get_by_role("button", name="已感谢医生")).to_be_disabled()
    await page.get_by_role("button", name="把链接发到我的手机").click()
    await expect(page.get_by_text("链接短信将很快发到您的手机。")).to_be_visible()
    sms = await client.wait_for_sms(PATIENT, lambda t: "/t/" in t)
    assert f"/t/{asked['id']}/" in sms
    assert loads == []  # all in place

    (row,) = await running.relay.db.fetchall(
        "SELECT thanked_at, helpful FROM threads WHERE id = ?", (asked["id"],)
    )
    assert row["thanked_at"] is not None
    assert row["helpful"] == 0

    await page.goto(running.url + "/")
    await page.get_by_label("提问时验证的手机号").fill("137 0000 1111")  # never asked here
    await page.get_by_role("button", name="发送链接短信").click()
    await expect(page.get_by_text("如果该号码在本站有咨询，链接短信将很快发出。")).to_be_visible()
    assert problems == []
    assert refused == []
