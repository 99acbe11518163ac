"""The supervisor keeps a modem usable through unplug, reboot, a wedged modem and a locked SIM."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import aiohttp

from smscat.hwsim.service import SimOptions, Simulator, running
from smscat.modem.atparser import Unsolicited
from smscat.modem.errors import ModemTimeout
from smscat.modem.session import SessionSettings
from smscat.modem.supervisor import ModemSupervisor, ModemUnavailable, SupervisorSettings

FAST = SupervisorSettings(
    backoff=(0.1, 0.2),
    reset_after=2,
    timeouts_in_a_row=2,
    health_every=30.0,
    session=SessionSettings(command_timeout=0.5, prompt_timeout=0.5, submit_timeout=1.0),
)


@asynccontextmanager
async def supervised(
    sim: Simulator,
    *,
    pin: str | None = None,
    on_urc: Callable[[Unsolicited], Awaitable[None]] | None = None,
) -> AsyncIterator[ModemSupervisor]:
    supervisor = ModemSupervisor(str(sim.link), pin=pin, on_urc=on_urc, settings=FAST)
    task = asyncio.create_task(supervisor.run())
    try:
        yield supervisor
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 - polling the supervisor's public state
            await asyncio.sleep(0.05)


async def fault(sim: Simulator, **body: object) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{sim.control_url}/faults", json=body) as r,
    ):
        assert r.status == 200


async def test_comes_up_with_health(tmp_path: Path) -> None:
    async with running(SimOptions(link=tmp_path / "m")) as sim, supervised(sim) as sup:
        await asyncio.wait_for(sup.wait_ready(), 5)
        assert sup.state == "ready"
        assert sup.health is not None
        assert sup.health.registration == "home"


async def test_unplug_reconnects_at_the_same_link_and_sends_again(tmp_path: Path) -> None:
    async with running(SimOptions(link=tmp_path / "m")) as sim, supervised(sim) as sup:
        await asyncio.wait_for(sup.wait_ready(), 5)
        await fault(sim, profile="unplug", seconds=0.5)
        await until(lambda: sup.state != "ready")
        await until(lambda: sup.state == "ready")
        assert sup.reconnects >= 1
        sent = await sup.send("+8613800138000", "回来了", ref=1)
        assert len(sent) == 1
        assert sim.engine.sent[-1].text == "回来了"


async def test_reboot_is_noticed_and_settings_are_restored(tmp_path: Path) -> None:
    urcs: list[str] = []

    async def on_urc(urc: Unsolicited) -> None:
        urcs.append(urc.name)

    async with (
        running(SimOptions(link=tmp_path / "m")) as sim,
        supervised(sim, on_urc=on_urc) as sup,
    ):
        await asyncio.wait_for(sup.wait_ready(), 5)
        await fault(sim, profile="reboot", seconds=0.2)
        await until(lambda: sup.reconnects >= 1 and sup.state == "ready")
        assert sim.engine.settings.cnmi[:2] == (2, 1)  # re-initialised after the reboot
        async with aiohttp.ClientSession() as http:
            await http.post(f"{sim.control_url}/sms", json={"from": "+8613800138001", "text": "hi"})
        await until(lambda: "+CMTI" in urcs)


async def test_a_wedged_modem_is_reopened(tmp_path: Path) -> None:
    async with running(SimOptions(link=tmp_path / "m")) as sim, supervised(sim) as sup:
        await asyncio.wait_for(sup.wait_ready(), 5)
        await fault(sim, profile="silent", seconds=1.5)
        for _ in range(2):
            with suppress(ModemTimeout, ModemUnavailable):  # timeouts are the point here
                await sup.send("+8613800138000", "x", ref=1)
        await until(lambda: sup.reconnects >= 1 and sup.state == "ready", 15)


async def test_a_wrong_pin_is_tried_exactly_once(tmp_path: Path) -> None:
    options = SimOptions(link=tmp_path / "m", pin="1234")
    async with running(options) as sim, supervised(sim, pin="0000") as sup:
        await until(lambda: sup.state == "sim-locked")
        await asyncio.sleep(1.0)  # it keeps checking, never tries again
        assert sup.pin_attempts == 1
        assert sim.engine.counters["pin_attempts"] == 1
        assert sim.engine.sim_state == "SIM PIN"  # two tries left for a person


async def test_the_right_pin_unlocks_once(tmp_path: Path) -> None:
    options = SimOptions(link=tmp_path / "m", pin="1234")
    async with running(options) as sim, supervised(sim, pin="1234") as sup:
        await asyncio.wait_for(sup.wait_ready(), 5)
        assert sim.engine.sim_state == "READY"
        assert sim.engine.counters["pin_attempts"] == 1
