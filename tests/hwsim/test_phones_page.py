"""The virtual-phones page in a real browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from smscat.hwsim import pdu
from smscat.hwsim.service import Simulator
from tests.support.atport import AtPort
from tests.support.browser import ARTIFACTS, chromium

pytestmark = pytest.mark.browser

QUESTION = "张医生您好，我父亲术后第七天，血压偏高，需要调整药量吗？"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def test_send_from_the_page_reaches_the_modem_as_cmti(
    sim: Simulator, port: AtPort, browser: Browser
) -> None:
    assert await port.command(b"ATE0;+CNMI=2,1,0,0,0\r") == b"ATE0;+CNMI=2,1,0,0,0\r\r\nOK\r\n"
    # Something the modem sent to a phone, so the page shows both directions.
    tpdu = pdu.encode_submit("+8613800138002", "#12 请带上检查报告来门诊复查。", force_ucs2=True)
    assert await port.command(f"AT+CMGS={len(tpdu)}\r".encode()) == b"\r\n> "
    body = (pdu.encode_smsc(None) + tpdu).hex().upper().encode()
    assert await port.command(body + b"\x1a") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"

    page = await browser.new_page(viewport={"width": 1000, "height": 760}, locale="zh-CN")
    await page.goto(sim.control_url + "/")
    await expect(page.get_by_text("+8613800138002")).to_be_visible()
    await page.get_by_label("发送号码").fill("+8613800138001")
    await page.get_by_label("短信内容").fill(QUESTION)
    await page.get_by_role("button", name="发送").click()
    await expect(page.get_by_role("status")).to_have_text("已发送（1 段）")

    assert await port.quiet(0.5) == b'\r\n+CMTI: "SM",1\r\n'
    stored = await port.command(b"AT+CMGR=1\r")
    _smsc, tpdu_in = pdu.split_smsc(bytes.fromhex(stored.split(b"\r\n")[2].decode()))
    delivered = pdu.decode_deliver(tpdu_in)
    assert (delivered.oa, delivered.text) == ("+8613800138001", QUESTION)

    await expect(page.get_by_text(QUESTION)).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "virtual-phones.png"
    await page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    # Glyphs, not boxes: without a CJK font every Chinese character draws the same
    # missing-glyph box, so two different characters give identical pixels.
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


async def test_page_escapes_what_phones_send(
    sim: Simulator, port: AtPort, browser: Browser
) -> None:
    page = await browser.new_page()
    await page.goto(sim.control_url + "/")
    hostile = "<img src=x onerror=\"document.title='pwned'\">"
    await page.get_by_label("短信内容").fill(hostile)
    await page.get_by_role("button", name="发送").click()
    await expect(page.get_by_text(hostile)).to_be_visible()  # shown as text
    assert await page.title() != "pwned"
    assert await page.locator("#phones img").count() == 0


async def test_page_has_no_inline_script_or_style(control: aiohttp.ClientSession) -> None:
    """Its script and style are files of their own, so a site with a strict CSP can serve it
    (the daemon's web port does, at /sim/: tests/relay/daemon/test_sim_page.py)."""
    async with control.get("/") as resp:
        page = await resp.text()
    assert "<style>" not in page
    assert "<script>" not in page
    assert '<script src="phones.js"></script>' in page
    assert '<link rel="stylesheet" href="phones.css">' in page
    async with control.get("/phones.js") as resp:
        assert resp.content_type == "text/javascript"
        assert 'fetch("phones")' in await resp.text()  # relative: right under any prefix
    async with control.get("/phones.css") as resp:
        assert resp.content_type == "text/css"
        assert "font-family" in await resp.text()
