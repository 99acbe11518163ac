"""Keeps one modem usable for as long as the daemon runs: open, unlock, initialise, watch, reopen.

On EIO/unplug, too many timeouts in a row, a reboot URC (the modem lost its settings) or a SIM
that asks for attention (a PIN again after a power cycle), the session is closed and the port
reopened with backoff, then re-initialised. After ``reset_after`` failed attempts in a row a
reset (``AT+CFUN=1,1``) is tried once per outage. A SIM PIN from config is entered whenever the
SIM asks for it, but never again once the SIM refused it: three wrong PINs lock the SIM behind
a PUK, so a refusal is remembered in a :class:`PinMemory` (the relay keeps it in the database,
across restarts, for that PIN only). Nothing here ever ends the daemon: :meth:`ModemSupervisor.run`
only returns when it is cancelled.

**May it send now?** :meth:`ModemSupervisor.blocked` is the one answer (None: yes; else why
not): the session ready, the SIM ready, registered on a network (home or roaming, as +CREG /
+CEREG / +C5GREG URCs say, and a probe every ``network_probe_every`` seconds while it is not),
and no mark left by a failed submit. A submit that fails because of the modem (see
:func:`smscat.modem.failures.modem_cause`) marks it: no network service until registration
is seen again; barred, SMSC unknown or refused for ``fault_cooldown`` seconds (then one more
try); a SIM failure reopens the session (and so asks the SIM for its PIN state again). Every
change of the answer calls the listeners given to :meth:`ModemSupervisor.on_change`, so a
sender waiting for this modem wakes at once.

A :class:`~smscat.modem.receiver.Receiver`, if given, gets +CMTI/+CMT and sweeps the SIM after
every (re)connect and every ``sweep_every`` seconds; other unsolicited lines (+CDS reports) go to
the ``on_urc`` callback. Health is refreshed every ``health_every`` seconds and kept as data.

Sending goes one part at a time through :meth:`ModemSupervisor.submit`, which waits (bounded)
for the modem to be ready. :meth:`ModemSupervisor.send` adds the retry rule for callers without
their own outbox: a part that failed transiently (see :mod:`smscat.modem.failures`) is sent
again once the modem is back, and only that part. A part whose answer was lost after it was
written (:class:`Unconfirmed`) is sent again too — at least once, never lost; a handset shows a
repeated part of a long message once — and counted in ``stats.unconfirmed``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, Literal, Protocol

from smscat.modem import pdu
from smscat.modem.atparser import Unsolicited
from smscat.modem.device import Health, Modem, SentPart, registration_of
from smscat.modem.errors import (
    CommandError,
    ModemError,
    ModemTimeout,
    ModemUnavailable,
    TransportError,
    Unconfirmed,
)
from smscat.modem.failures import ModemCause, classify, modem_cause, summary
from smscat.modem.receiver import Receiver
from smscat.modem.session import RESTART_LINES, AtSession, SessionSettings

log = logging.getLogger(__name__)

POLL = 0.5  # seconds
RECENT_ERRORS = 8  # kept for the admin's dashboard
State = Literal["connecting", "ready", "down", "sim-locked"]
# Why a modem may not send now (None: it may). The words for people are the relay's.
Block = Literal[
    "connecting",  # opening the port, initialising
    "down",  # the port is gone or the modem does not answer; reconnecting
    "sim-pin",  # the SIM wants a PIN that is not configured or that it refused
    "sim-puk",  # the SIM is blocked behind its PUK: a person must unblock it
    "sim",  # the SIM is missing or failing
    "no-network",  # not registered (lost coverage, searching, a submit said no service)
    "denied",  # registration denied by the network
    "barred",  # the operator refuses this SIM's SMS (unpaid, barred)
    "no-smsc",  # no SMS centre number on the SIM (AT+CSCA)
    "refused",  # the modem refuses to send (operation not allowed or not supported)
]
REBOOT_URCS = RESTART_LINES  # start-up lines (the session fails a command in flight on one)
REGISTRATION_URCS = frozenset({"+CREG", "+CEREG", "+C5GREG"})
_COOLING: Final[frozenset[ModemCause]] = frozenset({"barred", "no-smsc", "refused"})


@dataclass(frozen=True, slots=True)
class SupervisorSettings:
    backoff: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0)
    reset_after: int = 3  # failed attempts in a row before AT+CFUN=1,1
    timeouts_in_a_row: int = 3  # this many command timeouts mean the modem is wedged
    health_every: float = 60.0
    network_probe_every: float = 15.0  # while not registered: probe (URCs may be off)
    fault_cooldown: float = 600.0  # a barred / no-SMSC / refused mark lasts this long
    sweep_every: float = 300.0  # +CMTI gets lost; a periodic +CMGL finds what it missed
    ready_wait: float = 60.0  # how long a part waits for a reconnect before it fails
    part_attempts: int = 6  # per part in send(), transient failures included
    retry_backoff: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0)
    resweep_after: float = 5.0  # a read or delete the modem refused: sweep again this soon
    reports: bool = True
    session: SessionSettings = field(default_factory=SessionSettings)


@dataclass(slots=True)
class SupervisorStats:
    reconnects: int = 0
    pin_attempts: int = 0
    resubmits: int = 0  # parts sent again after a transient failure
    unconfirmed: int = 0  # of those, parts whose first answer was lost after writing


UrcHandler = Callable[[Unsolicited], Awaitable[None]]


class PinMemory(Protocol):
    """Whether the SIM refused the configured PIN before (kept across restarts by the caller).

    Keyed by the caller on the modem and the PIN itself, so a new PIN in config is tried.
    """

    async def refused(self) -> bool: ...

    async def remember(self, *, refused: bool) -> None: ...


class _PinsInMemory:
    """For callers without a database: the refusal is remembered for the process's life."""

    def __init__(self) -> None:
        self._refused = False

    async def refused(self) -> bool:
        return self._refused

    async def remember(self, *, refused: bool) -> None:
        self._refused = refused


class ModemSupervisor:
    def __init__(
        self,
        port: str,
        *,
        pin: str | None = None,
        receiver: Receiver | None = None,
        on_urc: UrcHandler | None = None,
        settings: SupervisorSettings | None = None,
        baudrate: int = 115200,
        quirks: dict[str, object] | None = None,
        pins: PinMemory | None = None,
        smsc: str | None = None,
    ) -> None:
        self.port = port
        self.settings = settings or SupervisorSettings()
        self.state: State = "connecting"
        self.health: Health | None = None
        self.stats = SupervisorStats()
        self._pin = pin
        self._receiver = receiver
        self._pins: PinMemory = pins or _PinsInMemory()
        self.sim_status: str | None = None  # +CPIN? as last read ("READY", "SIM PIN", …)
        # registration by domain (+CREG, +CEREG, +C5GREG, or what a probe or a submit said)
        self._registration: dict[str, str] = {}
        self._marks: dict[ModemCause, float] = {}  # cooling marks → monotonic expiry
        self._restart_for: str | None = None  # a SIM failure seen by a submit: reopen
        self._listeners: list[Callable[[], None]] = []
        self._block: Block | None = "connecting"
        self._blocked_at: float | None = time.monotonic()
        self._on_urc = on_urc
        self._baudrate = baudrate
        self._quirks = dict(quirks or {})  # overrides of the model's flags, from config
        self._smsc = smsc  # the SMS centre to set at start (None: the SIM's own)
        self._modem: Modem | None = None
        self._ready = asyncio.Event()
        self._last_contact: float | None = None
        self.last_send_seconds: float | None = None  # how long the network took the last part
        # (wall-clock time, a few words): reconnect causes and failed parts, newest last
        self.recent_errors: deque[tuple[float, str]] = deque(maxlen=RECENT_ERRORS)

    @property
    def registered(self) -> bool:
        """Ready and registered on a network (home or roaming)."""
        health = self.health
        return (
            self.state == "ready"
            and health is not None
            and (health.registration in ("home", "roaming"))
        )

    def blocked(self) -> Block | None:
        """Why this modem may not send now; None when it may (see the module docstring)."""
        if self.state == "sim-locked":
            status = self.sim_status or ""
            return "sim-puk" if "PUK" in status else "sim-pin" if "PIN" in status else "sim"
        if self.state != "ready" or self.health is None:
            return "connecting" if self.state in ("connecting", "ready") else "down"
        if not self.registered:
            return "denied" if self.health.registration == "denied" else "no-network"
        now = time.monotonic()
        for cause in ("barred", "no-smsc", "refused"):
            if self._marks.get(cause, 0.0) > now:
                return cause
        return None

    def blocked_for(self) -> float:
        """Seconds since this modem last could send (0 while it can)."""
        since = self._blocked_at
        return 0.0 if since is None else time.monotonic() - since

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever :meth:`blocked` changes (a modem back, a mark gone)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        """Tell the listeners when the answer of :meth:`blocked` moved."""
        for cause, until in list(self._marks.items()):
            if until <= time.monotonic():
                del self._marks[cause]
        block = self.blocked()
        if block == self._block:
            return
        if block is None:
            self._blocked_at = None
        elif self._blocked_at is None:
            self._blocked_at = time.monotonic()
        self._block = block
        log.info("modem %s: %s", self.port, f"cannot send ({block})" if block else "can send")
        for listener in self._listeners:
            listener()

    def _set_registration(self, domain: str, registration: str) -> None:
        """One domain's registration (a URC, a probe, a submit's no-service) into health."""
        if domain in ("probe", "submit"):
            self._registration = {domain: registration}
        else:
            self._registration.pop("probe", None)
            self._registration.pop("submit", None)
            self._registration[domain] = registration
        values = self._registration.values()
        best = next((r for r in ("home", "roaming", "denied") if r in values), registration)
        if self.health is not None and self.health.registration != best:
            self.health = dataclasses.replace(
                self.health, registration=best, roaming=best == "roaming"
            )
        self._changed()

    def _mark(self, cause: ModemCause) -> None:
        """A submit failed because of this modem: it takes no message until the mark is gone."""
        if cause == "no-network":
            self._set_registration("submit", "not-registered")
        elif cause in _COOLING:
            self._marks[cause] = time.monotonic() + self.settings.fault_cooldown
        elif cause == "sim":
            self._restart_for = "the SIM failed or asks for its PIN"
        self._changed()

    @property
    def last_contact(self) -> float | None:
        """Wall-clock time the modem last sent a byte (this session or the one before)."""
        modem = self._modem
        if modem is not None and modem.session.last_data_at is not None:
            return modem.session.last_data_at
        return self._last_contact

    def status(self) -> dict[str, object]:
        """What a monitor may read (``/healthz``): state, network, errors, counters. No numbers."""
        health = self.health
        modem = self._modem
        session = modem.session.stats if modem is not None else None
        contact = self.last_contact
        return {
            "state": self.state,
            "registered": self.registered,
            "can_send": self.blocked() is None,
            "blocked": self.blocked(),
            "sim": self.sim_status,
            "registration": health.registration if health else None,
            "signal_dbm": health.signal_dbm if health else None,
            "operator": health.operator if health else None,
            "last_contact": _utc(contact) if contact is not None else None,
            "last_send_seconds": self.last_send_seconds,
            "errors": [{"at": _utc(at), "what": what} for at, what in self.recent_errors],
            "counters": {
                "reconnects": self.stats.reconnects,
                "resubmits": self.stats.resubmits,
                "unconfirmed": self.stats.unconfirmed,
                "received_parts": self._receiver.stats.offered if self._receiver else 0,
                # of the session now open (a reconnect starts them again)
                "timeouts": session.timeouts if session else 0,
                "busy_retries": session.busy_retries if session else 0,
                "garbage_lines": session.garbage_lines if session else 0,
                "urcs": session.urcs if session else 0,
            },
        }

    def _note(self, exc: BaseException) -> None:
        words = str(exc) if isinstance(exc, _Restart) else summary(exc)  # our own words
        self.recent_errors.append((time.time(), words))

    async def wait_ready(self) -> None:
        await self._ready.wait()

    async def _ready_modem(self) -> Modem:
        """The modem once ready, waiting up to ``ready_wait``; a locked SIM does not wait."""
        if self.state != "sim-locked":
            try:
                async with asyncio.timeout(self.settings.ready_wait):
                    await self._ready.wait()
            except TimeoutError:
                pass
        modem = self._modem
        if modem is None or self.state != "ready":
            raise ModemUnavailable(self.state)
        return modem

    async def submit(self, part: pdu.SubmitPart) -> SentPart:
        """One attempt at one part, once the modem is ready (see :meth:`Modem.submit`)."""
        modem = await self._ready_modem()
        started = time.monotonic()
        try:
            sent = await modem.submit(part)
        except ModemError as exc:
            self._note(exc)
            cause = modem_cause(exc)
            if cause is not None:
                self._mark(cause)
            raise
        self.last_send_seconds = time.monotonic() - started
        return sent

    async def send(self, to: str, text: str, *, ref: int, report: bool = False) -> list[SentPart]:
        """Send a whole message, each part retried on its own (see the module docstring).

        Raises the last failure of a part that cannot go: a permanent or modem-level error at
        once, a transient one after ``part_attempts``.
        """
        parts = pdu.plan_submit(to, text, ref=ref, report=report)
        sent = []
        linked = False
        for part in parts:
            attempt = 1
            while True:
                try:
                    if not linked:  # once per message, and again after a reconnect
                        await (await self._ready_modem()).keep_link(len(parts))
                        linked = True
                    sent.append(await self.submit(part))
                    break
                except ModemError as exc:
                    # (a port or a network that comes back is worth waiting for here)
                    cause = modem_cause(exc)
                    again = classify(exc) == "transient" or cause in ("port", "no-network")
                    if not again or attempt >= self.settings.part_attempts:
                        raise
                    log.info(
                        "modem %s: part %d/%d again: %s",
                        self.port,
                        part.seq,
                        part.total,
                        type(exc).__name__,
                    )
                    self.stats.resubmits += 1
                    self.stats.unconfirmed += isinstance(exc, Unconfirmed)
                    linked = False
                    backoff = self.settings.retry_backoff
                    await asyncio.sleep(backoff[min(attempt, len(backoff)) - 1])
                    attempt += 1
        return sent

    async def run(self) -> None:
        """Supervise forever (until cancelled)."""
        failures = 0
        while True:
            self.state = "connecting"
            self._changed()
            locked = False
            try:
                async with AtSession.open(
                    self.port, self.settings.session, baudrate=self._baudrate
                ) as session:
                    modem = Modem(session, self._quirks, smsc=self._smsc)
                    if failures >= self.settings.reset_after:
                        await self._reset(modem)
                    await self._bring_up(modem)
                    failures = 0
                    await self._watch(modem)
            except (TransportError, ModemTimeout, CommandError, _Restart) as exc:
                locked = isinstance(exc, _Restart) and exc.sim_locked
                log.warning("modem %s: %s; reconnecting", self.port, exc)
                self._note(exc)
            finally:
                if self._modem is not None:
                    self._last_contact = self._modem.session.last_data_at
                self._modem = None
                self._ready.clear()
                self._restart_for = None
            if locked:
                self._changed()
                await asyncio.sleep(self.settings.backoff[-1])  # wait for a person, quietly
                continue
            self.state = "down"
            self._changed()
            failures += 1
            self.stats.reconnects += 1
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
        self._set_registration("probe", self.health.registration)
        log.info("modem %s ready", self.port)

    async def _unlock(self, modem: Modem) -> None:
        lines = await modem.session.command("AT+CPIN?")
        status = self.sim_status = " ".join(lines).removeprefix("+CPIN:").strip()
        if status == "READY":
            return
        if status == "SIM PIN" and self._pin is not None and not await self._pin_refused():
            self.stats.pin_attempts += 1
            try:
                await modem.session.command(f'AT+CPIN="{self._pin}"')
            except CommandError:
                # never again, not after a restart either: each wrong try nears the PUK
                await self._remember_pin(refused=True)
                log.error(
                    "modem %s: the configured SIM PIN was refused; not trying it again", self.port
                )
            except ModemError:
                # no answer: the exception's text holds the command, and so the PIN
                raise _Restart("no answer to the SIM PIN") from None
            else:
                self.sim_status = "READY"
                await self._remember_pin(refused=False)
                return
        if "PUK" in status:
            log.error("modem %s: the SIM is blocked and needs its PUK", self.port)
        self.state = "sim-locked"
        raise _Restart("SIM is locked", sim_locked=True)

    async def _pin_refused(self) -> bool:
        try:
            return await self._pins.refused()
        except Exception as exc:  # unknown is as good as refused: a wrong try costs a PUK
            log.error("modem %s: PIN memory unreadable (%s)", self.port, type(exc).__name__)
            return True

    async def _remember_pin(self, *, refused: bool) -> None:
        try:
            await self._pins.remember(refused=refused)
        except Exception as exc:
            log.error("modem %s: PIN memory not written (%s)", self.port, type(exc).__name__)

    async def _watch(self, modem: Modem) -> None:
        session = modem.session
        receiver = self._receiver
        loop = asyncio.get_running_loop()
        next_health = loop.time() + self.settings.health_every
        next_sweep = loop.time()  # now: whatever arrived while we were away
        while True:
            self._changed()  # (a cooling mark may have run out)
            if self._restart_for is not None:
                raise _Restart(self._restart_for)
            if not self.registered:  # URCs may be off or lost: look again soon
                next_health = min(next_health, loop.time() + self.settings.network_probe_every)
            if receiver is not None and loop.time() >= next_sweep:
                next_sweep = loop.time() + self.settings.sweep_every
                try:
                    await receiver.sweep(session, modem.quirks)
                except CommandError as exc:  # (a busy SIM) the messages wait where they are
                    log.warning("modem %s: sweep refused: %s", self.port, exc)
                    next_sweep = loop.time() + self.settings.resweep_after
            if session.failed:
                raise TransportError("the modem port failed")
            if session.stats.timeouts_in_a_row >= self.settings.timeouts_in_a_row:
                raise _Restart("too many timeouts in a row")
            try:
                # short slices: a failed port or a wedged session is noticed within POLL seconds
                due = min(next_health, next_sweep if receiver is not None else next_health)
                async with asyncio.timeout(min(max(due - loop.time(), 0.01), POLL)):
                    urc = await session.urcs.get()
            except TimeoutError:
                if loop.time() >= next_health:
                    self.health = await modem.probe()
                    self._set_registration("probe", self.health.registration)
                    next_health = loop.time() + self.settings.health_every
                    if self.health.sim not in ("READY", ""):  # (a silent power cycle)
                        self.sim_status = self.health.sim
                        raise _Restart(f"the SIM says {self.health.sim}") from None
                continue
            if urc.name in REBOOT_URCS:
                raise _Restart(f"the modem restarted ({urc.name})")
            if urc.name in REGISTRATION_URCS:
                registration = registration_of(urc.line)
                if registration is not None:  # the network came or went: health says so now
                    self._set_registration(urc.name, registration)
                    if not self.registered:
                        # and a probe at once: one domain going (CS on an LTE module that
                        # stays on EPS) is not the network going
                        next_health = loop.time()
                continue
            if urc.name == "+CPIN" and "READY" not in urc.line:  # the SIM asks again
                raise _Restart(f"the SIM says {urc.line.removeprefix('+CPIN:').strip()}")
            if receiver is not None:
                try:
                    if await receiver.on_urc(session, urc, modem.quirks):
                        continue
                except CommandError as exc:  # not read or not deleted: the next sweep will
                    log.warning("modem %s: %s; sweeping again soon", self.port, exc)
                    next_sweep = min(next_sweep, loop.time() + self.settings.resweep_after)
                    continue
            if self._on_urc is not None:
                try:
                    await self._on_urc(urc)
                except Exception as exc:  # the caller's trouble (a database error) is not ours
                    log.error(
                        "modem %s: handling %s failed: %s", self.port, urc.name, type(exc).__name__
                    )


def _utc(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="seconds")


class _Restart(ModemError):
    """Reopen and re-initialise (a reboot, a locked SIM, a wedged modem)."""

    def __init__(self, reason: str, *, sim_locked: bool = False) -> None:
        super().__init__(reason)
        self.sim_locked = sim_locked
