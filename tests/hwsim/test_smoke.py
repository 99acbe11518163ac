from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from smscat.hwsim.service import SimOptions, running
from tests.support.atport import AtPort


async def test_at_answers_ok_with_echo(port: AtPort) -> None:
    assert await port.command(b"AT\r") == b"AT\r\r\nOK\r\n"


async def test_a_control_request_in_flight_is_answered_when_the_simulator_stops(
    tmp_path: Path,
) -> None:
    """The pump still answers while the control API stops (it used to be cancelled first,
    and the request then held the stop for aiohttp's 60 s shutdown timeout)."""
    async with asyncio.timeout(30):
        async with running(SimOptions(link=tmp_path / "modem", baud=9600)) as sim:
            http = aiohttp.ClientSession(base_url=sim.control_url)
            async with AtPort(sim.link) as port:
                await port.send(b"AT" + b"E" * 2000 + b"\r")  # about 2 s to "arrive" at 9600 baud
                await asyncio.sleep(0.2)  # the pump is busy with those bytes
                request = asyncio.ensure_future(
                    http.post("/sms", json={"from": "+8613800138001", "text": "hello"})
                )
                await asyncio.sleep(0.2)  # queued behind them when the block ends
        response = await request
        assert response.status == 202
        response.release()
        await http.close()
