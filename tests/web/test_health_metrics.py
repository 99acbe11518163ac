"""``/healthz`` follows the network (503 while the simulator's network is down), ``/metrics``."""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path

from smscat.web.metrics import _allowed
from tests.support.daemon import EXPERT_ZHANG, Client, daemon


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
        assert body["status"] == "unavailable"
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
    assert _allowed("127.0.0.1", [])
    assert _allowed("::1", [])
    assert _allowed("10.8.3.4", office)
    assert not _allowed("10.9.3.4", office)
    assert not _allowed("203.0.113.7", [])
    assert not _allowed(None, office)
