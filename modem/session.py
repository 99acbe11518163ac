"""One modem's AT command channel: one command in flight, every wait bounded, URCs on a queue.

The session owns the transport and the sans-I/O parser. A reader task (owned by the session's
TaskGroup) feeds every byte to the parser and routes its events: lines and the final result of
the command in flight to that command's waiter — registered *before* the command is written —
and unsolicited lines to :attr:`AtSession.urcs`. A command that times out is abandoned in the
parser, so its late answer is never taken for the next command's; a stuck ``> `` prompt is
cancelled with ESC. ``+CME ERROR: 14/515`` (SIM or device busy) is retried a bounded number of
times with backoff. When the port fails, the waiter gets :class:`TransportError` and so does
every later command: reopening is the supervisor's job, not this module's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Self

from smscat.modem.atparser import (
    AtParser,
    Echo,
    Event,
    Final,
    Garbage,
    Info,
    Prompt,
    Stale,
    Unsolicited,
)
from smscat.modem.errors import CmeError, ModemTimeout, TransportError, Unconfirmed
from smscat.modem.transport import SerialTransport

log = logging.getLogger(__name__)

CTRL_Z = b"\x1a"
ESC = b"\x1b"
# ESC closes an open ``> `` prompt (27.005 §3.5.1); the CR then ends a line without the "AT"
# prefix, which a modem that had no prompt open ignores. Safe to send in either state.
CANCEL = ESC + b"\r"
BUSY_CODES = frozenset({14, 515})  # SIM busy, device busy: "try again shortly"


@dataclass(frozen=True, slots=True)
class SessionSettings:
    command_timeout: float = 10.0
    prompt_timeout: float = 10.0
    submit_timeout: float = 120.0  # the module manuals allow AT+CMGS up to 120 s
    busy_retries: int = 3
    busy_backoff: float = 0.5  # seconds, doubled per retry


@dataclass(slots=True)
class SessionStats:
    commands: int = 0
    timeouts: int = 0
    timeouts_in_a_row: int = 0
    busy_retries: int = 0
    stale_lines: int = 0
    garbage_lines: int = 0
    urcs: int = 0


@dataclass(slots=True)
class _Waiter:
    """What the command in flight is waiting for; created before the command is written."""

    lines: list[str] = field(default_factory=list)
    events: asyncio.Queue[Prompt | Final | TransportError] = field(default_factory=asyncio.Queue)


class AtSession:
    """Use ``async with AtSession.open(port) as session``."""

    def __init__(self, transport: SerialTransport, settings: SessionSettings) -> None:
        self._transport = transport
        self.settings = settings
        self._parser = AtParser(echo=True)
        self._lock = asyncio.Lock()
        self._waiter: _Waiter | None = None
        self._failure: TransportError | None = None
        self.urcs: asyncio.Queue[Unsolicited] = asyncio.Queue()
        self.stats = SessionStats()

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls, port: str, settings: SessionSettings | None = None, *, baudrate: int = 115200
    ) -> AsyncIterator[Self]:
        transport = await SerialTransport.open(port, baudrate)
        session = cls(transport, settings or SessionSettings())
        # The session owns its reader task for exactly the life of this block. (Not a TaskGroup:
        # an error in the caller's block would come out wrapped in an ExceptionGroup.)
        reader = asyncio.create_task(session._read_loop(), name="modem-reader")
        try:
            yield session
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            session._fail(TransportError("the session was closed"))  # wake a command in flight
            await transport.close()

    @property
    def failed(self) -> bool:
        return self._failure is not None

    async def _read_loop(self) -> None:
        while True:
            try:
                data = await self._transport.read()
            except TransportError as exc:
                self._fail(exc)
                return
            self._parser.receive_data(data)
            while (event := self._parser.next_event()) is not None:
                self._route(event)

    def _fail(self, exc: TransportError) -> None:
        if self._failure is None:
            self._failure = exc
            if self._waiter is not None:
                self._waiter.events.put_nowait(exc)

    def _route(self, event: Event) -> None:
        waiter = self._waiter
        match event:
            case Unsolicited():
                self.stats.urcs += 1
                self.urcs.put_nowait(event)
            case Info(line) if waiter is not None:
                waiter.lines.append(line)
            case Prompt() | Final() if waiter is not None:
                waiter.events.put_nowait(event)
            case Stale():
                self.stats.stale_lines += 1
            case Garbage():
                self.stats.garbage_lines += 1
            case Echo():
                pass
            case _:
                self.stats.stale_lines += 1  # an answer nobody waits for

    async def command(self, command: str, *, timeout: float | None = None) -> list[str]:
        """Run ``command`` (without the trailing CR); return its information lines.

        Raises CommandError (CmsError/CmeError/NotSupported) for an error result, ModemTimeout
        when no final result comes in time, TransportError when the port is gone.
        """
        return await self._with_retries(command, None, timeout)

    async def submit(self, command: str, body: str, *, timeout: float | None = None) -> list[str]:
        """A command that prompts (``AT+CMGS=<n>``): write ``body`` at the ``> `` and Ctrl-Z.

        Raises :class:`Unconfirmed` when the body was written and then no answer came: only
        the caller can decide whether sending the part again is right.
        """
        return await self._with_retries(command, body, timeout)

    async def _with_retries(
        self, command: str, body: str | None, timeout: float | None
    ) -> list[str]:
        async with self._lock:
            for attempt in range(self.settings.busy_retries + 1):
                try:
                    return await self._once(command, body, timeout)
                except CmeError as exc:
                    if exc.code not in BUSY_CODES or attempt == self.settings.busy_retries:
                        raise
                    self.stats.busy_retries += 1
                    await asyncio.sleep(self.settings.busy_backoff * 2**attempt)
            raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, command: str, body: str | None, timeout: float | None) -> list[str]:
        if self._failure is not None:
            raise TransportError("the modem port failed earlier") from self._failure
        waiter = _Waiter()
        self._waiter = waiter  # registered before the write: no answer can slip past
        self._parser.start(command.encode("ascii"))
        self.stats.commands += 1
        try:
            await self._transport.write(command.encode("ascii") + b"\r")
            if body is not None:
                final = await self._prompted(command, body, waiter)
            else:
                final = await self._wait_final(command, waiter, timeout)
        except TransportError as exc:
            self._failure = self._failure or exc
            raise
        finally:
            self._waiter = None
            if self._parser.busy:  # cancelled, timed out or failed: the answer is stale now
                self._parser.abandon()
        self.stats.timeouts_in_a_row = 0  # the modem answered
        error = final.error(command)
        if error is not None:
            raise error
        return waiter.lines

    async def _prompted(self, command: str, body: str, waiter: _Waiter) -> Final:
        seconds = self.settings.prompt_timeout
        try:
            async with asyncio.timeout(seconds):
                first = await waiter.events.get()
        except TimeoutError:
            await self._transport.write(CANCEL)  # a prompt we did not see may still be open
            self._abandon()
            raise ModemTimeout(command, seconds) from None
        if isinstance(first, TransportError):
            raise first
        if isinstance(first, Final):
            return first  # refused before the prompt (+CMS ERROR, ERROR)
        self._parser.sent_body(body.encode("ascii"))
        await self._transport.write(body.encode("ascii") + CTRL_Z)
        try:
            return await self._wait_final(command, waiter, self.settings.submit_timeout)
        except ModemTimeout as exc:
            with contextlib.suppress(TransportError):
                await self._transport.write(CANCEL)  # if the Ctrl-Z was lost, close the prompt
            raise Unconfirmed(command, "no answer") from exc
        except TransportError as exc:
            self._failure = self._failure or exc
            raise Unconfirmed(command, "the port failed") from exc

    async def _wait_final(self, command: str, waiter: _Waiter, timeout: float | None) -> Final:
        seconds = timeout if timeout is not None else self.settings.command_timeout
        try:
            async with asyncio.timeout(seconds):
                while True:
                    event = await waiter.events.get()
                    if isinstance(event, TransportError):
                        raise event
                    if isinstance(event, Final):
                        return event
        except TimeoutError:
            self._abandon()
            raise ModemTimeout(command, seconds) from None

    def _abandon(self) -> None:
        self.stats.timeouts += 1
        self.stats.timeouts_in_a_row += 1
        self._parser.abandon()
