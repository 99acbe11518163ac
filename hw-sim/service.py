"""The running simulator: engine + pty + control API, owned by one TaskGroup.

Everything that touches the engine runs in one pump task, so DTE bytes, network SMS and
control calls are applied in the order they arrived and a busy modem (a submit's latency)
delays what comes after it, as on a real device.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from smscat.hwsim.control import build_app
from smscat.hwsim.engine import Delay, Output, SimModem
from smscat.hwsim.link import PtyLink


@dataclass(frozen=True, slots=True)
class SimOptions:
    link: Path
    control_host: str = "127.0.0.1"
    control_port: int = 0
    profile: str = "generic"
    send_latency: float = 0.0
    slots: int = 30
    index_base: int = 1


_Call = tuple[Callable[[], tuple[Any, list[Output]]], "asyncio.Future[Any]"]


class Simulator:
    """A simulated modem on a pty, with its control API. Use :func:`running`."""

    def __init__(self, options: SimOptions) -> None:
        self.options = options
        self.profile = options.profile
        self.engine = SimModem(
            now=lambda: datetime.now(UTC),
            slots=options.slots,
            index_base=options.index_base,
            send_latency=options.send_latency,
        )
        self.pty = PtyLink(options.link)
        self.control_url = ""
        self._queue: asyncio.Queue[bytes | _Call] = asyncio.Queue()

    @property
    def link(self) -> Path:
        return self.options.link

    async def call(self, fn: Callable[[], tuple[Any, list[Output]]]) -> Any:
        """Run ``fn`` on the engine in line with the serial traffic; write its output."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((fn, future))
        return await future

    async def _pump(self) -> None:
        while True:
            item = await self._queue.get()
            if isinstance(item, bytes):
                await self._emit(self.engine.receive(item))
                continue
            fn, future = item
            try:
                result, out = fn()
            except Exception as exc:  # a bad control request: the caller reports it
                if not future.done():
                    future.set_exception(exc)
                continue
            await self._emit(out)
            if not future.done():  # the HTTP client may have gone away meanwhile
                future.set_result(result)

    async def _emit(self, out: list[Output]) -> None:
        for item in out:
            if isinstance(item, Delay):
                await asyncio.sleep(item.seconds)
            else:
                await self.pty.write(item)


@contextlib.asynccontextmanager
async def running(options: SimOptions) -> AsyncIterator[Simulator]:
    """Start the simulator; it stops (pty and link removed) when the block ends."""
    sim = Simulator(options)
    sim.pty.open()
    runner = web.AppRunner(build_app(sim), access_log=None)
    try:
        async with asyncio.TaskGroup() as tasks:
            pump = tasks.create_task(sim._pump(), name="hwsim-pump")
            sim.pty.start_reading(sim._queue.put_nowait)
            await runner.setup()
            site = web.TCPSite(runner, options.control_host, options.control_port)
            await site.start()
            port = runner.addresses[0][1]
            sim.control_url = f"http://{options.control_host}:{port}"
            try:
                yield sim
            finally:
                sim.pty.stop_reading()
                pump.cancel()
    finally:
        await runner.cleanup()
        sim.pty.close()
