"""One modem's AT command channel: one command in flight, every wait bounded, URCs on a queue.

The session owns the transport and the sans-I/O parser. Every byte read goes to the parser in
the transport's read callback, and its events are routed at once: lines and the final result of
the command in flight to that command's waiter — registered *before* the command is written —
and unsolicited lines to :attr:`AtSession.urcs`.

Echo is off while all goes well (it costs host time on every command and every PDU), and turned
on only to resynchronise: on a new port, and after a command was abandoned (it timed out or was
cancelled, so its late answer may still come). Then the session sends ``ATE1`` and a plain
``AT``, and the echo of that ``AT`` is the boundary: everything before it is stale, so a late
answer is never taken for the next command's (modems answer in order). ``ATE0`` follows. A
stuck ``> `` prompt is cancelled with ESC. ``+CME ERROR: 14/515`` (SIM or device busy) is
retried a bounded number of times with backoff. When the port fails, the waiter gets
:class:`TransportError` and so does every later command: reopening is the supervisor's job.

The session also remembers the last few lines it heard, numbered, so that a caller can wait for
a start-up line ("SMS DONE") that may come before, inside or after a command's answer
(:meth:`AtSession.heard_mark`, :meth:`AtSession.wait_for_line`). They stay in memory: never
logged, never in a repr.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
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
from smscat.modem.errors import (
    CmeError,
    ModemRestarted,
    ModemTimeout,
    TransportError,
    Unconfirmed,
)
from smscat.modem.transport import SerialTransport

log = logging.getLogger(__name__)

CTRL_Z = b"\x1a"
ESC = b"\x1b"
# ESC closes an open ``> `` prompt (27.005 §3.5.1); the CR then ends a line without the "AT"
# prefix, which a modem that had no prompt open ignores. Safe to send in either state.
CANCEL = ESC + b"\r"
BUSY_CODES = frozenset({14, 515})  # SIM busy, device busy: "try again shortly"
HEARD_LINES = 16  # how many recent lines wait_for_line can look back on
# Lines a module prints when it starts: after one, no command sent before will be answered.
RESTART_LINES = frozenset({"RDY", "SMS Ready", "+CFUN", "*ATREADY"})


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
    resyncs: int = 0
    stale_lines: int = 0
    garbage_lines: int = 0
    urcs: int = 0


@dataclass(slots=True)
class _Waiter:
    """What the command in flight is waiting for; created before the command is written."""

    lines: list[str] = field(default_factory=list)
    events: deque[Prompt | Final | TransportError] = field(default_factory=deque)
    wake: asyncio.Future[None] | None = None  # set while the command's task waits for events

    def put(self, event: Prompt | Final | TransportError) -> None:
        self.events.append(event)
        if self.wake is not None and not self.wake.done():
            self.wake.set_result(None)

    async def next(self) -> Prompt | Final | TransportError:
        while not self.events:
            self.wake = asyncio.get_running_loop().create_future()
            await self.wake
        return self.events.popleft()


class AtSession:
    """Use ``async with AtSession.open(port) as session``."""

    def __init__(self, settings: SessionSettings) -> None:
        self.settings = settings
        self._transport: SerialTransport | None = None
        self._parser = AtParser(echo=True)
        self._resync = True  # before the first command: what the port held before is unknown
        self._lock = asyncio.Lock()
        self._waiter: _Waiter | None = None
        self._failure: TransportError | None = None
        self.urcs: asyncio.Queue[Unsolicited] = asyncio.Queue()
        self.stats = SessionStats()
        self.last_data_at: float | None = None  # wall clock: the modem last said anything
        # (number, line) of recent lines from the modem: URCs, answers, stale and stray lines
        self._heard: deque[tuple[int, str]] = deque(maxlen=HEARD_LINES)
        self._heard_count = 0
        self._heard_wake: asyncio.Future[None] | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls, port: str, settings: SessionSettings | None = None, *, baudrate: int = 115200
    ) -> AsyncIterator[Self]:
        session = cls(settings or SessionSettings())
        # Bytes reach the parser from the event loop's read callback: no reader task between
        # the port and the waiter, so an answer wakes the command's task directly.
        transport = await SerialTransport.open(
            port, session._received, session._fail, baudrate=baudrate
        )
        session._transport = transport
        try:
            yield session
        finally:
            session._fail(TransportError("the session was closed"))  # wake a command in flight
            await transport.close()

    @property
    def failed(self) -> bool:
        return self._failure is not None

    def _received(self, data: bytes) -> None:
        if self._failure is not None:
            return  # the session is over; bytes after that answer nobody
        self.last_data_at = time.time()
        self._parser.receive_data(data)
        while (event := self._parser.next_event()) is not None:
            self._route(event)

    def _fail(self, exc: TransportError) -> None:
        if self._failure is None:
            self._failure = exc
            if self._waiter is not None:
                self._waiter.put(exc)

    def _write(self, data: bytes) -> None:
        assert self._transport is not None, "use AtSession.open()"
        self._transport.write(data)

    def _route(self, event: Event) -> None:
        waiter = self._waiter
        self._hear(event)
        match event:
            case Unsolicited():
                self.stats.urcs += 1
                self.urcs.put_nowait(event)
                if waiter is not None and event.name in RESTART_LINES:
                    # the command in flight died with the reboot: fail it now, not at its timeout
                    waiter.put(ModemRestarted(event.name))
            case Info(line) if waiter is not None:
                waiter.lines.append(line)
            case Prompt() | Final() if waiter is not None:
                waiter.put(event)
            case Stale():
                self.stats.stale_lines += 1
            case Garbage():
                self.stats.garbage_lines += 1
            case Echo():
                pass
            case _:
                self.stats.stale_lines += 1  # an answer nobody waits for

    def _hear(self, event: Event) -> None:
        match event:
            case Unsolicited(line=line) | Info(line) | Stale(line):
                text = line
            case Garbage(data):
                text = data.decode("utf-8", "replace").strip()
            case _:
                return
        self._heard_count += 1
        self._heard.append((self._heard_count, text))
        if self._heard_wake is not None and not self._heard_wake.done():
            self._heard_wake.set_result(None)

    def heard_mark(self) -> int:
        """A mark for :meth:`wait_for_line`: lines heard from now on count."""
        return self._heard_count

    async def wait_for_line(self, prefixes: tuple[str, ...], *, after: int, timeout: float) -> bool:
        """Wait until a line starting with one of ``prefixes`` is heard after mark ``after``.

        True when one was (perhaps already); False when ``timeout`` seconds pass first. The
        line may be a URC, a stray line, or one the modem put inside a command's answer.
        """
        try:
            async with asyncio.timeout(timeout):
                while True:
                    for number, line in self._heard:
                        if number > after and line.startswith(prefixes):
                            return True
                    self._heard_wake = asyncio.get_running_loop().create_future()
                    await self._heard_wake
        except TimeoutError:
            return False

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
            if self._resync:
                await self._resynchronise()
            for attempt in range(self.settings.busy_retries + 1):
                try:
                    return await self._once(command, body, timeout)
                except CmeError as exc:
                    if exc.code not in BUSY_CODES or attempt == self.settings.busy_retries:
                        raise
                    self.stats.busy_retries += 1
                    await asyncio.sleep(self.settings.busy_backoff * 2**attempt)
            raise AssertionError("unreachable")  # pragma: no cover

    async def _resynchronise(self) -> None:
        """Find where stale answers end: echo on, the echo of ``AT`` as the boundary, echo off."""
        self._parser.abandon()  # whatever comes before the boundary is stale
        self._parser.echo = True
        # CANCEL first: a prompt left open (a previous owner killed mid-submit, a lost Ctrl-Z)
        # would swallow every command. ATE1's own OK arrives before the boundary: stale.
        self._write(CANCEL + b"ATE1\r")
        await self._once("AT", None, None)
        await self._once("ATE0", None, None)  # echoed (echo was on), so it is checked too
        self._parser.echo = False
        self._resync = False
        self.stats.resyncs += 1

    async def _once(self, command: str, body: str | None, timeout: float | None) -> list[str]:
        if self._failure is not None:
            raise TransportError("the modem port failed earlier") from self._failure
        waiter = _Waiter()
        self._waiter = waiter  # registered before the write: no answer can slip past
        self._parser.start(command.encode("ascii"))
        self.stats.commands += 1
        try:
            self._write(command.encode("ascii") + b"\r")
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
                self._resync = True
        self.stats.timeouts_in_a_row = 0  # the modem answered
        error = final.error(command)
        if error is not None:
            raise error
        return waiter.lines

    async def _prompted(self, command: str, body: str, waiter: _Waiter) -> Final:
        """Prompt, body, final result under one deadline: prompt_timeout, then submit_timeout."""
        written = False
        try:
            async with asyncio.timeout(self.settings.prompt_timeout) as deadline:
                first = await waiter.next()
                if isinstance(first, TransportError):
                    raise first
                if isinstance(first, Final):
                    return first  # refused before the prompt (+CMS ERROR, ERROR)
                self._parser.sent_body(body.encode("ascii"))
                self._write(body.encode("ascii") + CTRL_Z)
                written = True
                loop = asyncio.get_running_loop()
                deadline.reschedule(loop.time() + self.settings.submit_timeout)
                return await self._final(waiter)
        except TimeoutError:
            # Either a prompt we did not see may still be open, or the Ctrl-Z was lost.
            with contextlib.suppress(TransportError):
                self._write(CANCEL)
            self._abandon()
            if not written:
                raise ModemTimeout(command, self.settings.prompt_timeout) from None
            lost = ModemTimeout(command, self.settings.submit_timeout)
            raise Unconfirmed(command, "no answer") from lost
        except TransportError as exc:
            if not written:
                raise
            self._failure = self._failure or exc
            raise Unconfirmed(command, "the port failed") from exc

    async def _wait_final(self, command: str, waiter: _Waiter, timeout: float | None) -> Final:
        seconds = timeout if timeout is not None else self.settings.command_timeout
        try:
            async with asyncio.timeout(seconds):
                return await self._final(waiter)
        except TimeoutError:
            self._abandon()
            raise ModemTimeout(command, seconds) from None

    @staticmethod
    async def _final(waiter: _Waiter) -> Final:
        while True:
            event = await waiter.next()
            if isinstance(event, TransportError):
                raise event
            if isinstance(event, Final):
                return event

    def _abandon(self) -> None:
        self.stats.timeouts += 1
        self.stats.timeouts_in_a_row += 1
        self._parser.abandon()
        self._resync = True
