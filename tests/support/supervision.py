"""A supervisor running against an in-process simulator, and the small waits its tests need."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace

import aiohttp

from smscat.hwsim.service import Simulator
from smscat.modem.atparser import Unsolicited
from smscat.modem.receiver import Receiver
from smscat.modem.session import SessionSettings
from smscat.modem.supervisor import ModemSupervisor, PinMemory, SupervisorSettings

FAST = SupervisorSettings(
    backoff=(0.1, 0.2),
    reset_after=2,
    timeouts_in_a_row=2,
    health_every=30.0,
    session=SessionSettings(command_timeout=0.5, prompt_timeout=0.5, submit_timeout=1.0),
)
# For faults switched on mid-flow: quick to notice, patient enough to ride them out.
FAULT_TOLERANT = replace(
    FAST,
    sweep_every=0.5,  # (a full SIM announces nothing: the sweep finds the room)
    ready_wait=15.0,
    part_attempts=12,
    retry_backoff=(0.1, 0.2, 0.4),
    resweep_after=0.2,
    session=SessionSettings(
        command_timeout=0.5, prompt_timeout=0.5, submit_timeout=2.0, busy_backoff=0.05
    ),
)


@asynccontextmanager
async def supervised(
    sim: Simulator,
    *,
    pin: str | None = None,
    receiver: Receiver | None = None,
    on_urc: Callable[[Unsolicited], Awaitable[None]] | None = None,
    settings: SupervisorSettings = FAST,
    pins: PinMemory | None = None,
) -> AsyncIterator[ModemSupervisor]:
    supervisor = ModemSupervisor(
        str(sim.link), pin=pin, receiver=receiver, on_urc=on_urc, settings=settings, pins=pins
    )
    task = asyncio.create_task(supervisor.run())
    try:
        yield supervisor
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 - polling public state of the parts under test
            await asyncio.sleep(0.05)


async def fault(sim: Simulator, **body: object) -> None:
    """Switch a fault profile on (or ``profile="none"`` off) through the control API."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{sim.control_url}/faults", json=body) as r,
    ):
        assert r.status == 200, await r.text()
