"""The virtual phones on the daemon's own web port: ``/sim/``, the same address after a restart.

A person trying the demo opens one address the log names; before, it was the simulator's own
control port, a new one at every start. The page's SMS go through ``/sim/<modem>/`` to the
simulated modem and on to the relay; a real modem's daemon has no ``/sim/`` at all.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import expect

from smscat.hwsim.service import SimOptions, running
from smscat.relay.daemon.app import SIM_PAGES, Daemon, running_daemon
from tests.support.browser import chromium
from tests.support.daemon import EXPERT_ZHANG, PATIENT, TIMEOUT, Client, daemon, settings

QUESTION = "孩子发烧三天，退烧药吃了又烧起来，需要去医院吗？"
ANSWER = "#1 三天反复高热建议今天到儿科门诊查血常规。"


async def _unknown(running: Daemon) -> list[dict[str, Any]]:
    return await running.relay.read.unknown_sender_sms(datetime(2000, 1, 1, tzinfo=UTC), 10)


async def _page(http: aiohttp.ClientSession, url: str) -> tuple[str, str]:
    """The virtual-phones page ``url`` leads to: (its final URL, its HTML)."""
    async with http.get(url) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.content_type == "text/html"
        return str(resp.url), await resp.text()


async def test_the_log_names_sim_on_the_web_port_and_it_stays_after_a_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="smscat")
    async with daemon(tmp_path) as (first, _), aiohttp.ClientSession(timeout=TIMEOUT) as http:
        phones = first.url + SIM_PAGES
        landed, page = await _page(http, phones)
        assert landed == phones + "sim1/"  # the only simulated modem's page
        assert "虚拟手机" in page
        control = first.simulators["sim1"]
    logged = [r.getMessage() for r in caplog.records if r.name == "smscat"]
    assert f"virtual phones: {phones}" in logged
    assert not any("control" in line for line in logged)

    port = int(first.url.rpartition(":")[2])
    again = settings(tmp_path, web={"port": port})
    async with running_daemon(again) as second, aiohttp.ClientSession(timeout=TIMEOUT) as http:
        assert second.url + SIM_PAGES == phones
        assert second.simulators["sim1"] != control  # the simulator's own port moved…
        landed, page = await _page(http, phones)  # … the address a person keeps did not
        assert landed == phones + "sim1/"
        assert "虚拟手机" in page


async def test_the_phones_api_through_sim_reaches_the_relay(tmp_path: Path) -> None:
    """The whole question → SMS → answer round, every phone's SMS through ``/sim/sim1/``."""
    async with daemon(tmp_path) as (running, direct):
        client = Client(direct.http, running.url, running.url + SIM_PAGES + "sim1")
        verification_id, code = await client.verify(PATIENT)
        status, asked = await client.call(
            "POST",
            "/api/questions",
            expert_id="zhang",
            nickname="小李",
            text=QUESTION,
            public=False,
            phone=PATIENT,
            verification_id=verification_id,
            code=code,
        )
        assert status == 201, asked
        await client.wait_for_sms(EXPERT_ZHANG, lambda t: QUESTION in t)

        await client.phone_sends(EXPERT_ZHANG, ANSWER)
        view = await client.wait_thread(
            asked["id"], asked["token"], lambda v: v["status"] == "answered"
        )
        assert [m["text"] for m in view["messages"]] == [QUESTION, ANSWER.removeprefix("#1 ")]
        # the same modem, whichever way one looks at it
        assert await client.simulator("/sent") == await direct.simulator("/sent")


async def test_sim_paths_without_their_slash_lead_to_it(tmp_path: Path) -> None:
    async with daemon(tmp_path) as (running, direct):
        for path, to in (("/sim", "/sim/sim1/"), ("/sim/sim1", "/sim/sim1/")):
            async with direct.http.get(running.url + path) as resp:
                assert (resp.status, resp.url.path) == (200, to)
        async with direct.http.get(running.url + "/sim/sim9/") as resp:
            assert resp.status == 404


async def test_several_simulated_modems_are_listed_at_sim(tmp_path: Path) -> None:
    config = settings(tmp_path)
    two = config.model_copy(
        update={"modems": [config.modems[0], config.modems[0].model_copy(update={"id": "sim2"})]}
    )
    async with running_daemon(two) as running, aiohttp.ClientSession(timeout=TIMEOUT) as http:
        landed, index = await _page(http, running.url + SIM_PAGES)
        assert landed == running.url + SIM_PAGES
        assert '<a href="sim1/">sim1</a>' in index
        assert '<a href="sim2/">sim2</a>' in index
        for modem in ("sim1", "sim2"):
            async with http.get(f"{running.url}{SIM_PAGES}{modem}/state") as resp:
                state = await resp.json()
            assert state["link"] == str(tmp_path / f"{modem}.tty")


async def test_a_real_modem_daemon_has_no_sim_pages(tmp_path: Path) -> None:
    """A modem on a device path (here a simulator the daemon does not own) is a real one."""
    config = settings(tmp_path)
    link = tmp_path / "usb-modem"
    real = config.modems[0].model_copy(update={"port": str(link)})
    async with (
        running(SimOptions(link=link)),
        running_daemon(config.model_copy(update={"modems": [real]})) as running_,
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
    ):
        assert running_.simulators == {}
        for path in ("/sim/", "/sim/sim1/", "/sim/sim1/phones"):
            async with http.get(running_.url + path) as resp:
                assert resp.status == 404, path


@pytest.mark.browser
async def test_the_page_at_sim_works_in_a_browser_under_the_sites_csp(tmp_path: Path) -> None:
    """The site forbids inline script and style: the page must still send, and show, an SMS."""
    async with daemon(tmp_path) as (running, _), chromium() as browser:
        page = await browser.new_page(locale="zh-CN")
        refused: list[str] = []  # Chromium's words for what a CSP stopped
        page.on(
            "console", lambda m: refused.append(m.text) if "Security Policy" in m.text else None
        )
        response = await page.goto(running.url + SIM_PAGES)
        assert response is not None
        assert "script-src 'self'" in (await response.all_headers())["content-security-policy"]
        await expect(page.get_by_text(EXPERT_ZHANG)).to_be_visible()  # the welcome SMS
        await page.get_by_label("发送号码").fill(PATIENT)
        await page.get_by_label("短信内容").fill(QUESTION)
        await page.get_by_role("button", name="发送").click()
        await expect(page.get_by_role("status")).to_have_text("已发送（1 段）")
        await expect(page.get_by_text(QUESTION)).to_be_visible()
        # the page's POST went through /sim/sim1/sms; the relay read the SMS over the serial
        # link and stored it (from a number it does not know: never posted, never answered)
        async with asyncio.timeout(15):
            while not any(m["text"] == QUESTION for m in await _unknown(running)):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        assert refused == []
