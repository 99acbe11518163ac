"""``/healthz`` follows the network (503 while the simulator's network is down), ``/metrics``.

Who sees what: the details of ``/healthz`` and ``/metrics`` go to loopback and the allowed
networks only, judged by the real client behind a trusted proxy (never the proxy's address);
the public gets ``ok``/``degraded`` with the same status code; a logged-in admin reads the
details at ``/admin/healthz``.
"""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path
from typing import Any

import aiohttp

from smscat.web.clients import allowed
from tests.support.admin import ADMINS, Browser
from tests.support.daemon import EXPERT_ZHANG, TIMEOUT, Client, daemon

OUTSIDER = {"X-Forwarded-For": "203.0.113.9"}  # through the trusted proxy on loopback
OFFICE = {"X-Forwarded-For": "10.8.3.4"}


async def status_of(client: Client, path: str) -> int:
    async with client.http.get(client.api + path) as resp:
        return resp.status


async def test_healthz_is_503_while_the_network_is_down_and_200_after(tmp_path: Path) -> None:
    async with daemon(tmp_path) as (_, client):
        async with asyncio.timeout(10):
            while await status_of(client, "/healthz") != 200:  # noqa: ASYNC110
                await asyncio.sleep(0.05)  # until the modem has registered
        async with client.http.post(
            client.sim + "/faults", json={"profile": "network-down", "seconds": 1.5}
        ) as resp:
            assert resp.status == 200
        async with asyncio.timeout(5):
            while await status_of(client, "/healthz") != 503:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        async with client.http.get(client.api + "/healthz") as resp:
            body = await resp.json()
        assert body["status"] == "degraded"
        assert body["database"] is True
        async with asyncio.timeout(10):
            while await status_of(client, "/healthz") != 200:  # noqa: ASYNC110
                await asyncio.sleep(0.05)


async def test_metrics_expose_the_named_series(tmp_path: Path) -> None:
    async with daemon(tmp_path) as (_, client):
        status, _ = await client.call(
            "POST", "/api/questions", expert_id="zhang", nickname="小王", text="头晕", public=True
        )
        assert status == 201
        await client.wait_for_sms(EXPERT_ZHANG, lambda t: "头晕" in t)
        async with client.http.get(client.api + "/metrics") as resp:
            assert resp.status == 200
            text = await resp.text()
    for series in (
        "smscat_queue_depth",
        "smscat_sms_parts_sent_total",
        "smscat_sms_failed_total",
        "smscat_sms_received_total",
        'smscat_modem_up{modem="sim1"} 1.0',
        'smscat_modem_signal_dbm{modem="sim1"}',
        'smscat_modem_parts_last_day{modem="sim1"}',
    ):
        assert series in text, series
    # the welcome SMS to both experts and the question: parts counted per SIM
    [usage] = [line for line in text.splitlines() if line.startswith("smscat_modem_parts_last")]
    assert float(usage.split()[-1]) >= 3
    assert "13800138001" not in text


def test_metrics_answer_loopback_and_the_allow_list_only() -> None:
    office = [ipaddress.ip_network("10.8.0.0/16")]
    assert allowed("127.0.0.1", [])
    assert allowed("::1", [])
    assert allowed("10.8.3.4", office)
    assert not allowed("10.9.3.4", office)
    assert not allowed("203.0.113.7", [])
    assert not allowed(None, office)


async def fetch(client: Client, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    async with client.http.get(client.api + path, headers=headers) as resp:
        body = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, body


async def test_behind_a_trusted_proxy_the_real_client_decides_who_reads_metrics(
    tmp_path: Path,
) -> None:
    web = {"trusted_proxies": ["127.0.0.1/32"], "metrics_allow": ["10.8.0.0/16"]}
    async with daemon(tmp_path, web=web) as (_, client):
        assert (await fetch(client, "/metrics", OUTSIDER))[0] == 403  # not the proxy's loopback
        assert (await fetch(client, "/metrics", OFFICE))[0] == 200
        assert (await fetch(client, "/metrics", {}))[0] == 200  # loopback itself, no proxy


async def test_the_public_learns_ok_or_degraded_and_the_status_code_only(tmp_path: Path) -> None:
    web = {"trusted_proxies": ["127.0.0.1/32"], "metrics_allow": ["10.8.0.0/16"]}
    async with (
        daemon(tmp_path, admins=ADMINS, web=web) as (running, client),
        aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=aiohttp.CookieJar(unsafe=True)) as h,
    ):
        async with asyncio.timeout(10):
            while (await fetch(client, "/healthz", OUTSIDER))[0] != 200:  # noqa: ASYNC110
                await asyncio.sleep(0.05)  # until the modem has registered
        assert await fetch(client, "/healthz", OUTSIDER) == (200, {"status": "ok"})
        assert await fetch(client, "/admin/healthz", OUTSIDER) == (200, {"status": "ok"})
        for headers in ({}, OFFICE):  # loopback and the allowed network: the details
            status, body = await fetch(client, "/healthz", headers)
            assert status == 200
            assert body["database"] is True
            [modem] = body["modems"]
            assert modem["can_send"] is True
            assert modem["simulator"] == running.simulators["sim1"]
        # a logged-in admin, from outside, at /admin/healthz (where the cookie goes)
        admin = Browser(h, running.url)
        assert (await admin.login(**OUTSIDER))[0] == 303
        async with h.get(running.url + "/admin/healthz", headers=OUTSIDER) as resp:
            assert resp.status == 200
            details = await resp.json()
        assert details["modems"][0]["port"]

        await client.simulator("/faults", {"profile": "network-down", "seconds": 1.5})
        async with asyncio.timeout(5):
            while (await fetch(client, "/healthz", OUTSIDER))[0] != 503:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert await fetch(client, "/healthz", OUTSIDER) == (503, {"status": "degraded"})
