"""The running simulator: engine + pty + control API, owned by one TaskGroup.

Everything that touches the engine runs in one pump task, so DTE bytes, network SMS, timers
and control calls are applied in the order they arrived, and a busy modem (a submit's latency)
delays what comes after it, as on a real device. Timers the engine asks for (status reports,
the end of a fault) are tasks of the same TaskGroup.
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
from smscat.hwsim.engine import Delay, LinkDown, LinkUp, Output, SimModem, Timer
from smscat.hwsim.link import PtyLink
from smscat.hwsim.modules import module


@dataclass(frozen=True, slots=True)
class SimOptions:
    link: Path
    control_host: str = "127.0.0.1"
    control_port: int = 0
    profile: str = "generic"
    send_latency: float = 0.0
    report_delay: float = 1.0
    slots: int = 30
    index_base: int = 1
    pin: str | None = None  # the SIM asks for this PIN at power-up
    baud: int | None = None  # serial line rate: the DTE's bytes take 10 bits each to arrive
    # +CPMS (mem1, mem2, mem3) as another program left it; kept across power cycles
    storages: tuple[str, str, str] = ("SM", "SM", "SM")
    # A real module to behave like (``profiles.MODULES``): its identity, storage index base,
    # start-up lines and deviations. "generic" is the plain 27.005 modem.
    module: str = "generic"
    # Seconds from start until SMS commands work, for a module that has such a window (A7670);
    # None: the module's own figure.
    sms_ready_after: float | None = None


_Call = tuple[Callable[[], tuple[Any, list[Output]]], "asyncio.Future[Any]"]


class Simulator:
    """A simulated modem on a pty, with its control API. Use :func:`running`."""

    def __init__(self, options: SimOptions) -> None:
        self.options = options
        behaviour = module(options.module)  # raises ValueError for an unknown name
        self.engine = SimModem(
            now=lambda: datetime.now(UTC),
            slots=options.slots,
            index_base=options.index_base if behaviour is None else behaviour.index_base,
            send_latency=options.send_latency,
            report_delay=options.report_delay,
            pin=options.pin,
            storages=options.storages,
            module=behaviour,
            sms_ready_after=options.sms_ready_after,
        )
        self.pty = PtyLink(options.link)
        self.control_url = ""
        self.plugged = True
        self._queue: asyncio.Queue[bytes | _Call] = asyncio.Queue()
        self._tasks: asyncio.TaskGroup | None = None
        self._timers: set[asyncio.Task[None]] = set()

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
                if self.options.baud:  # a real UART: a PDU body takes its time to arrive
                    await asyncio.sleep(len(item) * 10 / self.options.baud)
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
            elif isinstance(item, Timer):
                assert self._tasks is not None
                task = self._tasks.create_task(self._fire(item), name=f"hwsim-{item.key}")
                self._timers.add(task)
                task.add_done_callback(self._timers.discard)
            elif isinstance(item, LinkDown):
                self.plugged = False
                self.pty.stop_reading()
                self.pty.close()
            elif isinstance(item, LinkUp):
                self.pty.open()
                self.pty.start_reading(self._queue.put_nowait)
                self.plugged = True
            elif self.plugged:
                await self.pty.write(item)

    async def _fire(self, timer: Timer) -> None:
        await asyncio.sleep(timer.seconds)
        await self.call(lambda: (None, self.engine.on_timer(timer.key)))


@contextlib.asynccontextmanager
async def running(options: SimOptions) -> AsyncIterator[Simulator]:
    """Start the simulator; it stops (pty and link removed) when the block ends."""
    sim = Simulator(options)
    start = sim.engine.set_fault(options.profile)  # raises ValueError for an unknown profile
    start = [*sim.engine.start(), *start]
    sim.pty.open()
    runner = web.AppRunner(build_app(sim), access_log=None)
    try:
        async with asyncio.TaskGroup() as tasks:
            sim._tasks = tasks
            pump = tasks.create_task(sim._pump(), name="hwsim-pump")
            sim.pty.start_reading(sim._queue.put_nowait)
            await runner.setup()
            site = web.TCPSite(runner, options.control_host, options.control_port)
            await site.start()
            port = runner.addresses[0][1]
            sim.control_url = f"http://{options.control_host}:{port}"
            await sim.call(lambda: (None, start))
            try:
                yield sim
            finally:
                if sim.plugged:
                    sim.pty.stop_reading()
                # the control API first: a request in flight waits for the pump to answer it
                await runner.cleanup()
                for task in (pump, *sim._timers):
                    task.cancel()
    finally:
        if runner.server is not None:  # (start-up failed before the block)
            await runner.cleanup()
        sim.pty.close()
