"""Keeps one modem usable for as long as the daemon runs: open, unlock, initialise, watch, reopen.

On EIO/unplug, too many timeouts in a row, or a reboot URC (the modem lost its settings), the
session is closed and the port reopened with backoff, then re-initialised. After
``reset_after`` failed attempts in a row a reset (``AT+CFUN=1,1``) is tried once per outage.
A SIM PIN from config is entered at most once in the supervisor's life: a wrong PIN is never
retried (three wrong PINs lock the SIM behind a PUK). Nothing here ever ends the daemon:
:meth:`ModemSupervisor.run` only returns when it is cancelled.

Unsolicited lines go to the ``on_urc`` callback (the receive path and report matching live
with the caller); health is refreshed every ``health_every`` seconds and kept as data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from smscat.modem.atparser import Unsolicited
from smscat.modem.device import Health, Modem, SentPart
from smscat.modem.errors import CommandError, ModemError, ModemTimeout, TransportError
from smscat.modem.session import AtSession, SessionSettings

log = logging.getLogger(__name__)

POLL = 0.5  # seconds
State = Literal["connecting", "ready", "down", "sim-locked"]
REBOOT_URCS = frozenset({"RDY", "SMS Ready", "+CFUN", "*ATREADY"})  # start-up lines


class ModemUnavailable(ModemError):
    """The modem is not ready (reconnecting, or its SIM is locked)."""


@dataclass(frozen=True, slots=True)
class SupervisorSettings:
    backoff: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0)
    reset_after: int = 3  # failed attempts in a row before AT+CFUN=1,1
    timeouts_in_a_row: int = 3  # this many command timeouts mean the modem is wedged
    health_every: float = 60.0
    reports: bool = True
    session: SessionSettings = field(default_factory=SessionSettings)


UrcHandler = Callable[[Unsolicited], Awaitable[None]]


class ModemSupervisor:
    def __init__(
        self,
        port: str,
        *,
        pin: str | None = None,
        on_urc: UrcHandler | None = None,
        settings: SupervisorSettings | None = None,
        baudrate: int = 115200,
    ) -> None:
        self.port = port
        self.settings = settings or SupervisorSettings()
        self.state: State = "connecting"
        self.health: Health | None = None
        self.reconnects = 0
        self.pin_attempts = 0
        self._pin = pin
        self._pin_used = False
        self._on_urc = on_urc
        self._baudrate = baudrate
        self._modem: Modem | None = None
        self._ready = asyncio.Event()

    async def wait_ready(self) -> None:
        await self._ready.wait()

    async def send(self, to: str, text: str, *, ref: int, report: bool = False) -> list[SentPart]:
        modem = self._modem
        if modem is None or self.state != "ready":
            raise ModemUnavailable(f"modem is {self.state}")
        return await modem.send(to, text, ref=ref, report=report)

    async def run(self) -> None:
        """Supervise forever (until cancelled)."""
        failures = 0
        while True:
            self.state = "connecting"
            locked = False
            try:
                async with AtSession.open(
                    self.port, self.settings.session, baudrate=self._baudrate
                ) as session:
                    modem = Modem(session)
                    if failures >= self.settings.reset_after:
                        await self._reset(modem)
                    await self._bring_up(modem)
                    failures = 0
                    await self._watch(modem)
            except (TransportError, ModemTimeout, CommandError, _Restart) as exc:
                locked = isinstance(exc, _Restart) and exc.sim_locked
                log.warning("modem %s: %s; reconnecting", self.port, exc)
            finally:
                self._modem = None
                self._ready.clear()
            if locked:
                await asyncio.sleep(self.settings.backoff[-1])  # wait for a person, quietly
                continue
            self.state = "down"
            failures += 1
            self.reconnects += 1
            pause = self.settings.backoff[min(failures, len(self.settings.backoff)) - 1]
            await asyncio.sleep(pause)

    async def _reset(self, modem: Modem) -> None:
        try:
            await modem.session.command("AT+CFUN=1,1", timeout=15)
        except ModemError as exc:
            log.warning("modem %s: reset refused: %s", self.port, exc)

    async def _bring_up(self, modem: Modem) -> None:
        await modem.session.command("AT")
        await self._unlock(modem)
        await modem.initialise(reports=self.settings.reports)
        self.health = await modem.probe()
        self._modem = modem
        self.state = "ready"
        self._ready.set()
        log.info("modem %s ready", self.port)

    async def _unlock(self, modem: Modem) -> None:
        lines = await modem.session.command("AT+CPIN?")
        status = " ".join(lines).removeprefix("+CPIN:").strip()
        if status == "READY":
            return
        if status == "SIM PIN" and self._pin is not None and not self._pin_used:
            self._pin_used = True  # once, ever: a second wrong try brings the SIM nearer a PUK
            self.pin_attempts += 1
            try:
                await modem.session.command(f'AT+CPIN="{self._pin}"')
                return
            except CommandError:
                log.error(
                    "modem %s: the configured SIM PIN was refused; not trying again", self.port
                )
            except ModemError:
                # no answer: the exception's text holds the command, and so the PIN
                raise _Restart("no answer to the SIM PIN") from None
        self.state = "sim-locked"
        raise _Restart("SIM is locked", sim_locked=True)

    async def _watch(self, modem: Modem) -> None:
        session = modem.session
        loop = asyncio.get_running_loop()
        next_health = loop.time() + self.settings.health_every
        while True:
            if session.failed:
                raise TransportError("the modem port failed")
            if session.stats.timeouts_in_a_row >= self.settings.timeouts_in_a_row:
                raise _Restart("too many timeouts in a row")
            try:
                # short slices: a failed port or a wedged session is noticed within POLL seconds
                async with asyncio.timeout(min(max(next_health - loop.time(), 0.01), POLL)):
                    urc = await session.urcs.get()
            except TimeoutError:
                if loop.time() >= next_health:
                    self.health = await modem.probe()
                    next_health = loop.time() + self.settings.health_every
                continue
            if urc.name in REBOOT_URCS:
                raise _Restart(f"the modem restarted ({urc.name})")
            if self._on_urc is not None:
                await self._on_urc(urc)


class _Restart(ModemError):
    """Reopen and re-initialise (a reboot, a locked SIM, a wedged modem)."""

    def __init__(self, reason: str, *, sim_locked: bool = False) -> None:
        super().__init__(reason)
        self.sim_locked = sim_locked
