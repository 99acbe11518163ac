"""The simulated modem's AT command interpreter and its SIM, as a pure state machine.

Bytes from the DTE go in (:meth:`SimModem.receive`); what a 3GPP 27.005/27.007 modem in PDU
mode would put on the line comes out, as a list of byte strings with :class:`Delay` markers
where a real modem would take time (the submit's round trip to the network). The "network"
side (:meth:`SimModem.network_sms`) delivers SMS from phones to the SIM. No I/O, no asyncio;
time comes from the ``now`` callable. The pty and the control API live in ``link.py`` and
``control.py``. Behaviour follows the SIMCom SIM800/A7670 and Quectel EC25 AT manuals where
they agree; where they differ, the choice is named in a comment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from typing import Final, Literal

from smscat.hwsim import pdu, textmode
from smscat.hwsim.modules import Module
from smscat.hwsim.profiles import PROFILES

CTRL_Z: Final = 0x1A
ESC: Final = 0x1B
BACKSPACE: Final = 0x08
MAX_LINE: Final = 1024  # a longer command line is discarded, as modems overflow their buffer
MAX_TPDU: Final = 164  # 27.005: the longest SMS-SUBMIT TPDU in octets
CHINA: Final = timezone(timedelta(hours=8))
DUPLICATE_WINDOW: Final = timedelta(minutes=10)

CMS_TEXT: Final[dict[int, str]] = {
    300: "ME failure",
    301: "SMS service of ME reserved",
    302: "operation not allowed",
    303: "operation not supported",
    304: "invalid PDU mode parameter",
    305: "invalid text mode parameter",
    310: "SIM not inserted",
    320: "memory failure",
    321: "invalid memory index",
    322: "memory full",
    330: "SMSC address unknown",
    331: "no network service",
    332: "network timeout",
    500: "unknown error",
}
CME_TEXT: Final[dict[int, str]] = {
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    14: "SIM busy",
    16: "incorrect password",
    21: "invalid index",
    30: "no network service",
    50: "Incorrect parameters",
    100: "unknown",
    515: "Please wait, init or command processing in progress",
}


@dataclass(frozen=True, slots=True)
class Delay:
    """The modem is busy for ``seconds`` before the bytes that follow."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Timer:
    """Call :meth:`SimModem.on_timer` with ``key`` after ``seconds`` (the host schedules it)."""

    seconds: float
    key: str


@dataclass(frozen=True, slots=True)
class LinkDown:
    """The USB device vanished: the host closes the pty and removes the link."""


@dataclass(frozen=True, slots=True)
class LinkUp:
    """The device is back: the host opens a new pty at the same link."""


Output = bytes | Delay | Timer | LinkDown | LinkUp


class Stat(Enum):
    """Message status in storage (27.005 ``<stat>``)."""

    REC_UNREAD = 0
    REC_READ = 1
    STO_UNSENT = 2
    STO_SENT = 3


@dataclass(slots=True)
class StoredSms:
    stat: Stat
    pdu: bytes  # SMSC address field + TPDU, as +CMGR shows it
    tpdu_length: int
    kind: Literal["deliver", "report", "submit"] = "deliver"


@dataclass(frozen=True, slots=True)
class Identity:
    manufacturer: str = "SIMCOM INCORPORATED"
    model: str = "SIMCOM_SIM7600G-H"
    revision: str = "LE20B04SIM7600G22"
    imei: str = "867584030123454"  # a valid Luhn check digit
    imsi: str = "460001234567890"
    operator_long: str = "CHINA MOBILE"
    operator_short: str = "CMCC"
    operator_numeric: str = "46000"
    smsc: str = "+8613800100500"


@dataclass(slots=True)
class Settings:
    """What ATZ / a reboot puts back: the volatile settings of the modem."""

    echo: bool = True
    cmee: int = 0
    cmgf: int = 0
    cscs: str = "IRA"
    cnmi: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)  # 27.007 power-up default
    csmp: tuple[int, int, int, int] = (17, 167, 0, 0)
    cmms: int = 0
    creg_n: int = 0
    cereg_n: int = 0
    cops_format: int = 0
    csdh: int = 0
    cpms: tuple[str, str, str] = ("SM", "SM", "SM")  # power-up copies SimModem.storages
    csca: tuple[str, int] = ("+8613800100500", 145)


@dataclass(slots=True)
class SentPart:
    to: str
    text: str
    concat: pdu.Concat | None
    mr: int
    srr: bool
    accepted_at: datetime


@dataclass(slots=True)
class SentMessage:
    """Parts the network accepted, grouped into the message they belong to."""

    to: str
    ref: int | None
    total: int
    parts: dict[int, str] = field(default_factory=dict)
    mr: list[int] = field(default_factory=list)
    duplicate_parts: int = 0
    accepted_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def complete(self) -> bool:
        return len(self.parts) == self.total

    @property
    def text(self) -> str:
        return "".join(self.parts.get(i, "") for i in range(1, self.total + 1))

    def as_json(self) -> dict[str, object]:
        return {
            "to": self.to,
            "text": self.text,
            "parts": self.total,
            "complete": self.complete,
            "ref": self.ref,
            "mr": list(self.mr),
            "duplicate_parts": self.duplicate_parts,
            "accepted_at": self.accepted_at.astimezone(UTC).isoformat(),
        }


class _Error(Exception):
    """A command's final result is an error: ``kind`` is 'cms', 'cme' or 'plain'."""

    def __init__(self, kind: Literal["cms", "cme", "plain", "unsupported"], code: int = 0) -> None:
        super().__init__(kind, code)
        self.kind = kind
        self.code = code


def _cms(code: int) -> _Error:
    return _Error("cms", code)


def _cme(code: int) -> _Error:
    return _Error("cme", code)


_PLAIN = _Error("plain")
_EXTENDED = re.compile(r"([+^$][A-Z0-9]+)(=\?|\?|=)?", re.ASCII)
_BASIC = re.compile(r"(&?[A-Z])(\d*)", re.ASCII)
_CHARSETS: Final = ("IRA", "GSM", "UCS2", "HEX")
_MEMORIES: Final = ("SM", "ME", "SR")  # SR holds status reports (+CNMI ds=2); read/delete only
_STORE_MEMORIES: Final = ("SM", "ME")
# What a module that is not ready for SMS yet refuses (A7670 before "SMS DONE": ERROR).
_SMS_COMMANDS: Final = frozenset(
    {"+CMGF", "+CPMS", "+CNMI", "+CMGS", "+CMGW", "+CMGL", "+CMGR", "+CMGD", "+CSCA", "+CSMP"}
    | {"+CMMS", "+CSDH"}
)
_PERIODIC_URCS: Final = (b"^RSSI:20", b"^MODE:17,17")  # Huawei ^CURC noise


def _digits(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also takes "²", which ``int`` refuses."""
    return text.isascii() and text.isdigit()


_HUAWEI_URCS: Final = (
    b"^RSSI:20",
    b"^BOOT:20952548,0,0,0,72",
    b"^SYSINFO:2,3,0,5,1,,4",
    b"^DSFLOWRPT:0000,0,0",
)
_GARBAGE: Final = (
    b"\xff\xfe\x00\x80\r\n",  # bytes that are not UTF-8
    b"\r\n+CS\xc3",  # a line cut off mid-character by a USB hiccup
    b"\x1b[0m\x81\r\n^RSS",  # noise, then the start of a line that never ends
)
_REBOOT_URCS: Final = b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nSMS Ready\r\n"


class Store:
    """One message memory (SM or ME) with a fixed number of slots."""

    def __init__(self, slots: int, base: int) -> None:
        self.slots = slots
        self.base = base
        self.messages: dict[int, StoredSms] = {}

    @property
    def used(self) -> int:
        return len(self.messages)

    def in_range(self, index: int) -> bool:
        return self.base <= index < self.base + self.slots

    def add(self, sms: StoredSms) -> int | None:
        for index in range(self.base, self.base + self.slots):
            if index not in self.messages:
                self.messages[index] = sms
                return index
        return None


@dataclass(slots=True)
class Fault:
    """The active fault profile and its parameters (see ``SimModem.set_fault``)."""

    profile: str = "generic"
    count: int | None = None
    every: int | None = None
    seconds: float | None = None
    code: int | None = None  # reject: the +CMS ERROR code (RP-Cause), 21 when not given
    part: int | None = None  # reject / network-down: only at this part of a long SMS
    ticks: int = 0  # responses or submits seen since the profile started
    remaining: int = 0  # busy: errors still to give
    active: bool = False  # a timed fault (silent, network-down, unplug, reboot) is under way
    generation: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "profile": self.profile,
            "count": self.count,
            "every": self.every,
            "seconds": self.seconds,
            "code": self.code,
            "part": self.part,
            "active": self.active,
        }


@dataclass(frozen=True, slots=True)
class Received:
    """What a phone sent to the SIM, for the virtual-phones page."""

    sender: str
    text: str
    parts: int
    delivered: int
    at: datetime


@dataclass(frozen=True, slots=True)
class IncomingPart:
    """One SMS-DELIVER the network holds for the SIM."""

    pdu: bytes  # SMSC field + TPDU
    tpdu_length: int


class SimModem:
    """A modem with a SIM, registered on a network, speaking AT commands."""

    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        slots: int = 30,
        index_base: int = 1,
        send_latency: float = 0.0,
        report_delay: float = 1.0,
        identity: Identity | None = None,
        pin: str | None = None,
        storages: tuple[str, str, str] = ("SM", "SM", "SM"),
        module: Module | None = None,
        sms_ready_after: float | None = None,
    ) -> None:
        if storages[0] not in _MEMORIES or any(m not in _STORE_MEMORIES for m in storages[1:]):
            raise ValueError(f"storages: mem1 of {_MEMORIES}, mem2 and mem3 of {_STORE_MEMORIES}")
        self._now = now
        self._slots = slots
        self._index_base = index_base
        self.send_latency = send_latency
        self.report_delay = report_delay
        self.pin = pin
        self.pin_tries_left = 3
        self.sim_state = "SIM PIN" if pin else "READY"
        self.fault = Fault()
        self.silent = False
        self.received: list[Received] = []
        self._timers: dict[str, Callable[[], list[Output]]] = {}
        self._timer_seq = 0
        self.module = module
        if identity is None and module is not None:
            identity = Identity(module.manufacturer, module.model, module.revision)
        self.identity = identity or Identity()
        # A7670: seconds from power-up until SMS commands work (None: at once).
        self.sms_ready_after = (
            sms_ready_after
            if sms_ready_after is not None or module is None
            else module.sms_ready_after
        )
        self.sms_ready = self.sms_ready_after is None
        self.not_ready_refusals = 0  # SMS commands refused before the module was ready
        # +QURCCFG "urcport": where URCs go (None: no such setting, always this AT port). Kept
        # across power cycles (a choice: the manual does not say whether it is saved).
        self.urc_port = module.urc_port if module is not None else None
        self.stores = {m: Store(slots, index_base) for m in _MEMORIES}
        # +CPMS as another program left it (gammu-smsd leaves "ME","ME","SM"). Real modules
        # keep +CPMS in non-volatile memory (SIM800, EC25), so power-up restores it rather than
        # a default. The choice here: every AT+CPMS write is saved at once and survives ATZ,
        # AT&F, a reboot and an unplug; only POST /reset (a new device) goes back to the preset.
        self._preset_storages = storages
        self.storages = storages
        self.power_on()
        self.sent: list[SentMessage] = []
        self.counters: dict[str, int] = {"commands": 0, "cmgs_ok": 0, "cmgs_error": 0}
        self.by_command: dict[str, int] = {}
        self.mr = 0
        self.concat_ref = 0
        self.functionality = 1  # +CFUN: 1 full, 0 minimum, 4 radio off
        self.network_up = True  # the network is reachable (a fault profile may take it away)
        self.registered = True
        self.csq = (20, 99)
        self.pending: list[IncomingPart] = []  # the network holds these while storage is full
        self.unassigned: set[str] = set()  # digits of numbers the network refuses (RP-Cause 1)

    # -- lifecycle -----------------------------------------------------------------------

    def power_on(self) -> None:
        """Power-up state: default settings but the saved +CPMS, an empty line buffer.

        Stored SMS survive (they are on the SIM, or in the module's non-volatile memory).
        """
        smsc = self.identity.smsc  # the SIM's SMSC, not a fixed number (Identity can change it)
        self.settings = Settings(
            csca=(smsc, 145 if smsc.startswith("+") else 129), cpms=self.storages
        )
        self._line = bytearray()
        self._prompt: bytearray | None = None
        self._prompt_length = 0
        self._prompt_for: tuple[str, str, Stat] = ("cmgs", "", Stat.STO_UNSENT)
        self._held_urcs: list[Output] = []
        self.curc = True  # Huawei ^CURC: periodic status URCs on (power-up default)

    def start(self) -> list[Output]:
        """What the module does at power-up: start-up lines, its SMS-ready and noise timers."""
        module = self.module
        out: list[Output] = []
        if module is not None and module.startup_lines:
            out.append(b"".join(b"\r\n" + line.encode() + b"\r\n" for line in module.startup_lines))
        self.sms_ready = self.sms_ready_after is None
        if self.sms_ready_after is not None:
            self._timers["module:sms-ready"] = self._become_ready
            out.append(Timer(self.sms_ready_after, "module:sms-ready"))
        if (
            module is not None
            and module.periodic_urc_seconds is not None
            and not any(key == "module:periodic" for key in self._timers)
        ):
            self._timers["module:periodic"] = self._periodic_urc
            out.append(Timer(module.periodic_urc_seconds, "module:periodic"))
        return out

    def _become_ready(self) -> list[Output]:
        self.sms_ready = True
        lines = self.module.ready_lines if self.module is not None else ()
        return self._unsolicited(b"".join(b"\r\n" + ln.encode() + b"\r\n" for ln in lines))

    def _periodic_urc(self) -> list[Output]:
        """Huawei: a status line every few seconds while ^CURC is on; the timer re-arms itself."""
        assert self.module is not None
        assert self.module.periodic_urc_seconds is not None
        self._timers["module:periodic"] = self._periodic_urc
        again = Timer(self.module.periodic_urc_seconds, "module:periodic")
        if not self.curc:
            return [again]
        self._timer_seq += 1
        line = _PERIODIC_URCS[self._timer_seq % len(_PERIODIC_URCS)]
        return [*self._unsolicited(b"\r\n" + line + b"\r\n"), again]

    def _unsolicited(self, data: bytes) -> list[Output]:
        """A URC now: nothing from a hung modem, held while the ``> `` prompt is open."""
        if self.silent or not data:
            return []
        if self._prompt is not None:
            self._held_urcs.append(data)
            return []
        return [data]

    def _urcs_here(self) -> bool:
        """+CMTI/+CMT/+CDS/+CDSI reach this AT port (Quectel: only with urcport "usbat")."""
        return self.urc_port in (None, "usbat")

    def _power_cycle(self) -> None:
        """Power lost and back: settings gone, and a SIM with a PIN asks for it again."""
        self.power_on()
        self.sms_ready = self.sms_ready_after is None  # _wake starts the module again
        if self.pin is not None and self.sim_state == "READY":
            self.sim_state = "SIM PIN"

    def reset(self) -> None:
        """Everything back to a new device with an empty SIM (control API ``POST /reset``)."""
        self.stores = {m: Store(self._slots, self._index_base) for m in _MEMORIES}
        self.storages = self._preset_storages
        self.power_on()
        self.fault = Fault()
        self.silent = False
        self.received.clear()
        self._timers.clear()
        self.sent.clear()
        self.counters = {"commands": 0, "cmgs_ok": 0, "cmgs_error": 0}
        self.by_command.clear()
        self.pending.clear()
        self.mr = 0
        self.concat_ref = 0
        self.functionality = 1
        self.network_up = True
        self.registered = True
        self.unassigned.clear()
        self.urc_port = self.module.urc_port if self.module is not None else None

    # -- DTE side --------------------------------------------------------------------------

    def receive(self, data: bytes) -> list[Output]:
        """Feed bytes written by the DTE; return what the modem writes back."""
        if self.silent:
            return []  # a hung modem reads nothing and answers nothing
        out: list[Output] = []
        for byte in data:
            if self._prompt is not None:
                out.extend(self._prompt_byte(byte))
            else:
                out.extend(self._line_byte(byte))
        return _coalesce(out)

    def _line_byte(self, byte: int) -> list[Output]:
        out: list[Output] = []
        if self.settings.echo:
            out.append(bytes([byte]))
        if byte == 0x0D:
            line = bytes(self._line)
            self._line.clear()
            result = self._decorate(self._command_line(line))
            # URCs a command released (+CMGD freeing a slot) follow its final result code;
            # after a ``> `` prompt they wait until the submit ends.
            out.extend(result if self._prompt is not None else self._finish(result))
        elif byte == 0x0A:
            pass  # a DTE that ends lines with CR LF: the LF is noise
        elif byte == BACKSPACE:
            del self._line[-1:]
        elif len(self._line) < MAX_LINE:
            self._line.append(byte)
        else:
            self._line.clear()
        return out

    def _prompt_byte(self, byte: int) -> list[Output]:
        assert self._prompt is not None
        if byte == CTRL_Z:
            body = bytes(self._prompt)
            self._prompt = None
            return self._finish(self._decorate(self._submit(body)))
        if byte == ESC:
            # 27.005 §3.5.1: ESC cancels the send; SIM800 and EC25 answer OK.
            self._prompt = None
            return self._finish([b"\r\nOK\r\n"])
        out: list[Output] = [bytes([byte])] if self.settings.echo else []
        if self.settings.cmgf == 1 and byte == 0x0D:
            # Text mode: CR is part of the message and the modem prompts for the next line.
            self._prompt.append(byte)
            return [*out, b"\r\n> "]
        if byte not in (0x0D, 0x0A) and len(self._prompt) < 2 * (MAX_TPDU + 12):
            self._prompt.append(byte)
        return out

    def _finish(self, out: list[Output]) -> list[Output]:
        held, self._held_urcs = self._held_urcs, []
        return [*out, *held]

    def _command_line(self, raw: bytes) -> list[Output]:
        text = raw.decode("latin-1").strip()
        if not text:
            return []
        if text[:2].upper() != "AT":
            return []  # modems ignore what does not start with AT (line noise, stray bytes)
        body = text[2:]
        blocks: list[bytes] = []
        try:
            for name, op, args in _split_commands(body):
                self.counters["commands"] += 1
                self.by_command[name] = self.by_command.get(name, 0) + 1
                if self.fault.profile == "busy" and self.fault.remaining and name[0] == "+":
                    given = (self.fault.count or 0) - self.fault.remaining
                    self.fault.remaining -= 1
                    raise _cme(14 if given % 2 == 0 else 515)  # SIM busy, then device busy
                if not self.sms_ready and name in _SMS_COMMANDS:
                    self.not_ready_refusals += 1
                    raise _PLAIN  # A7670 before "SMS DONE" (LilyGo-Modem-Series #247)
                result = (
                    self._dispatch(name, op, args) if name[0] in "+^$" else self._basic(name, op)
                )
                if isinstance(result, _Prompt):
                    return [*blocks, b"\r\n> "]
                if result:
                    blocks.append(b"\r\n" + b"".join(line + b"\r\n" for line in result))
        except _Error as err:
            return [*blocks, self._error_bytes(err)]
        return [*blocks, b"\r\nOK\r\n"]

    def _error_bytes(self, err: _Error) -> bytes:
        if err.kind == "cms":
            text = CMS_TEXT.get(err.code, "unknown error")
            detail = text if self.settings.cmee == 2 else str(err.code)
            return f"\r\n+CMS ERROR: {detail}\r\n".encode()
        if err.kind == "unsupported" and self.fault.profile == "huawei":
            return b"\r\nCOMMAND NOT SUPPORT\r\n"
        if err.kind == "cme" and self.settings.cmee:
            text = CME_TEXT.get(err.code, "unknown")
            detail = text if self.settings.cmee == 2 else str(err.code)
            return f"\r\n+CME ERROR: {detail}\r\n".encode()
        return b"\r\nERROR\r\n"

    # -- faults ----------------------------------------------------------------------------

    def set_fault(
        self,
        profile: str,
        *,
        count: int | None = None,
        every: int | None = None,
        seconds: float | None = None,
        code: int | None = None,
        part: int | None = None,
    ) -> list[Output]:
        """Switch to fault ``profile`` ("none" clears); return what the modem does at once.

        ``network-down`` with ``part`` waits for the submit of that part (of any message) and
        takes the network away then: that submit gets +CMS ERROR: 331, as when coverage goes
        in the middle of a long SMS. ``reject`` refuses ``count`` submits (all, when None).
        """
        if profile == "none":
            profile = "generic"
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}, none")
        out = self._end_fault()
        generation = self.fault.generation + 1
        self.fault = Fault(profile, count, every, seconds, code, part, generation=generation)
        self._timers = {k: v for k, v in self._timers.items() if not k.startswith("fault:")}
        if profile == "busy":
            self.fault.remaining = count if count is not None else 3
        elif profile in ("silent", "reboot"):
            self.silent = True
            self.fault.active = True
            if profile == "reboot":
                self._power_cycle()  # every setting is lost; the SIM keeps its messages
            out.append(self._fault_timer(seconds if seconds is not None else 1.0, self._wake))
        elif profile == "unplug":
            self._power_cycle()
            self.silent = True
            self.fault.active = True
            out.append(LinkDown())
            out.append(self._fault_timer(seconds if seconds is not None else 2.0, self._replug))
        elif profile == "network-down" and part is None:
            out.extend(self._network_down())
        elif profile == "reject":
            self.fault.remaining = count if count is not None else -1  # -1: without end
        elif profile == "sim-full":
            store = self.stores[self.settings.cpms[2]]
            filler = pdu.encode_deliver("10086", "尊敬的客户，您的话费余额不足10元。", self._now())
            smsc = pdu.encode_smsc(self.identity.smsc)
            while store.add(StoredSms(Stat.REC_READ, smsc + filler, len(filler))) is not None:
                pass
        return out

    def _network_down(self) -> list[Output]:
        """Coverage gone (+CREG/+CEREG say so where enabled) until the fault's time is up."""
        self.fault.active = True
        self.network_up = False
        seconds = self.fault.seconds if self.fault.seconds is not None else 10.0
        return [*self._set_registered(False), self._fault_timer(seconds, self._end_fault)]

    def _refusal(self, seq: int) -> list[Output] | None:
        """A fault that refuses this submit (part ``seq``) at the network: its output, or None."""
        fault = self.fault
        if fault.part is not None and fault.part != seq:
            return None
        if fault.profile == "network-down" and not fault.active and fault.part is not None:
            fault.part = None  # once: the network stays down for the fault's time
            return [self._error_bytes(_cms(331)), *self._network_down()]
        if fault.profile == "barred":
            return [self._error_bytes(_cms(8))]
        if fault.profile == "reject" and fault.remaining:
            fault.remaining -= fault.remaining > 0  # (-1: every time)
            return [self._error_bytes(_cms(fault.code if fault.code is not None else 21))]
        return None

    def _fault_timer(self, seconds: float, action: Callable[[], list[Output]]) -> Timer:
        key = f"fault:{self.fault.generation}:{self.fault.profile}"
        self._timers[key] = action
        return Timer(seconds, key)

    def _end_fault(self) -> list[Output]:
        """Undo what a timed fault changed (network back, modem awake, device plugged in)."""
        out: list[Output] = []
        if self.fault.profile == "unplug" and self.fault.active:
            out.extend(self._replug())
        if self.fault.profile in ("silent", "reboot") and self.fault.active:
            out.extend(self._wake())
        if not self.network_up:
            self.network_up = True
            out.extend(self._set_registered(self.functionality == 1))
            out.extend(self._release_pending())
        self.fault.active = False
        return out

    def _wake(self) -> list[Output]:
        self.silent = False
        self.fault.active = False
        if self.fault.profile != "reboot":
            return []
        return [_REBOOT_URCS, *self.start()]

    def _replug(self) -> list[Output]:
        self.silent = False
        self.fault.active = False
        return [LinkUp()]

    def on_timer(self, key: str) -> list[Output]:
        """A :class:`Timer` this modem asked for has run out."""
        action = self._timers.pop(key, None)
        return action() if action is not None else []  # a cleared fault's timer does nothing

    def _set_registered(self, registered: bool) -> list[Output]:
        self.registered = registered
        out: list[Output] = []
        for name, n, lte in (
            ("+CREG", self.settings.creg_n, False),
            ("+CEREG", self.settings.cereg_n, True),
        ):
            if n:
                line = self._registration_line(name, n, lte=lte)
                out.append(
                    b"\r\n" + line.replace(f"{name}: {n},".encode(), f"{name}: ".encode()) + b"\r\n"
                )
        return out

    def _decorate(self, out: list[Output]) -> list[Output]:
        """Noise some profiles add to a response: a Huawei URC inside it, garbage before it."""
        profile = self.fault.profile
        if profile not in ("huawei", "garbage") or not out:
            return out
        self.fault.ticks += 1
        if self.fault.ticks % (self.fault.every or 1):
            return out
        pick = self.fault.ticks // (self.fault.every or 1)
        if profile == "garbage":
            return [_GARBAGE[pick % len(_GARBAGE)], *out]
        urc = b"\r\n" + _HUAWEI_URCS[pick % len(_HUAWEI_URCS)] + b"\r\n"
        final = max(i for i, item in enumerate(out) if isinstance(item, bytes))
        if out[final] == b"\r\n> ":
            return [*out, urc]  # the URC lands while the modem shows the prompt
        # between the information lines and the final result code
        return [*out[:final], urc, *out[final:]]

    # -- commands --------------------------------------------------------------------------

    def _dispatch(self, name: str, op: str, args: list[str]) -> list[bytes] | _Prompt:
        handler = _HANDLERS.get(name)
        if handler is None:
            raise _Error("unsupported")
        return handler(self, op, args)

    def _basic(self, name: str, value: str) -> list[bytes]:
        s = self.settings
        if name == "E" and value in ("", "0", "1"):
            s.echo = value == "1"
            return []
        if name in ("Z", "&F") and value in ("", "0"):
            self.power_on()
            return []
        if name == "I" and value in ("", "0"):
            i = self.identity
            return [i.manufacturer.encode(), i.model.encode(), f"Revision: {i.revision}".encode()]
        if (name == "V" and value in ("", "1")) or (name == "Q" and value in ("", "0")):
            return []  # verbose result codes, results not suppressed: the only modes simulated
        raise _PLAIN

    def cmd_cmee(self, op: str, args: list[str]) -> list[bytes]:
        return self._setting("+CMEE", op, args, [(0, 2)], "cmee")

    def cmd_cmgf(self, op: str, args: list[str]) -> list[bytes]:
        return self._setting("+CMGF", op, args, [(0, 1)], "cmgf", test="(0,1)")

    def cmd_csdh(self, op: str, args: list[str]) -> list[bytes]:
        return self._setting("+CSDH", op, args, [(0, 1)], "csdh", test="(0,1)")

    def cmd_cmms(self, op: str, args: list[str]) -> list[bytes]:
        return self._setting("+CMMS", op, args, [(0, 2)], "cmms")

    def cmd_creg(self, op: str, args: list[str]) -> list[bytes]:
        if op == "?":
            return [self._registration_line("+CREG", self.settings.creg_n, lte=False)]
        return self._setting("+CREG", op, args, [(0, 2)], "creg_n")

    def cmd_cereg(self, op: str, args: list[str]) -> list[bytes]:
        if op == "?":
            return [self._registration_line("+CEREG", self.settings.cereg_n, lte=True)]
        return self._setting("+CEREG", op, args, [(0, 2)], "cereg_n")

    def _registration_line(self, name: str, n: int, *, lte: bool) -> bytes:
        stat = 1 if self.registered else (2 if self.functionality == 1 else 0)
        line = f"{name}: {n},{stat}"
        if n == 2 and self.registered:
            line += ',"1A2B","0C3D4E5F",7' if lte else ',"1A2B","4E5F"'
        return line.encode()

    def _setting(
        self,
        name: str,
        op: str,
        args: list[str],
        ranges: Sequence[tuple[int, int]],
        attr: str,
        test: str | None = None,
    ) -> list[bytes]:
        if op == "=?":
            shown = test or ",".join(f"({lo}-{hi})" for lo, hi in ranges)
            return [f"{name}: {shown}".encode()]
        if op == "?":
            return [f"{name}: {getattr(self.settings, attr)}".encode()]
        if op == "=":
            values = _ints(args, ranges)
            setattr(self.settings, attr, values[0])
            return []
        raise _PLAIN

    def cmd_cnmi(self, op: str, args: list[str]) -> list[bytes]:
        if op == "=?":
            return [b"+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)"]
        if op == "?":
            return [("+CNMI: " + ",".join(map(str, self.settings.cnmi))).encode()]
        if op == "=":
            current = list(self.settings.cnmi)
            ranges = [(0, 3), (0, 3), (0, 3), (0, 2), (0, 1)]
            if not 1 <= len(args) <= 5:
                raise _cms(303) if len(args) > 5 else _PLAIN
            for i, arg in enumerate(args):
                if arg != "":
                    current[i] = _ints([arg], [ranges[i]])[0]
            if current[2] not in (0, 2):
                raise _cme(50)  # bm: only what the test command offers, (0,2)
            self.settings.cnmi = (current[0], current[1], current[2], current[3], current[4])
            return []
        raise _PLAIN

    def cmd_csmp(self, op: str, args: list[str]) -> list[bytes]:
        if op == "?":
            return [("+CSMP: " + ",".join(map(str, self.settings.csmp))).encode()]
        if op == "=?":
            return []  # 27.005: test command answers OK only
        if op == "=" and 1 <= len(args) <= 4:
            current = list(self.settings.csmp)
            for i, arg in enumerate(args):
                if arg != "":
                    current[i] = _ints([arg], [(0, 255)])[0]
            self.settings.csmp = (current[0], current[1], current[2], current[3])
            return []
        raise _PLAIN

    def cmd_cscs(self, op: str, args: list[str]) -> list[bytes]:
        if op == "=?":
            return [("+CSCS: (" + ",".join(f'"{c}"' for c in _CHARSETS) + ")").encode()]
        if op == "?":
            return [f'+CSCS: "{self.settings.cscs}"'.encode()]
        if op == "=" and len(args) == 1 and _unquote(args[0]).upper() in _CHARSETS:
            self.settings.cscs = _unquote(args[0]).upper()
            return []
        raise _cme(4) if op == "=" else _PLAIN

    def cmd_csca(self, op: str, args: list[str]) -> list[bytes]:
        charset = self.settings.cscs
        if op == "?":
            number, kind = self.settings.csca
            return [f'+CSCA: "{_to_charset(number, charset)}",{kind}'.encode()]
        if op == "=?":
            return []
        given = _from_charset(_unquote(args[0]), charset) if op == "=" and args else None
        if given and 1 <= len(args) <= 2 and re.fullmatch(r"\+?\d{3,20}", given):
            kind = (
                _ints(args[1:], [(128, 255)])[0]
                if len(args) == 2
                else (145 if given.startswith("+") else 129)
            )
            self.settings.csca = (given, kind)
            return []
        raise _cms(304) if op == "=" else _PLAIN

    def cmd_cfun(self, op: str, args: list[str]) -> list[bytes]:
        if op == "=?":
            return [b"+CFUN: (0,1,4),(0-1)"]
        if op == "?":
            return [f"+CFUN: {self.functionality}".encode()]
        if op == "=" and 1 <= len(args) <= 2:
            fun = _ints(args[:1], [(0, 4)])[0]
            if fun not in (0, 1, 4):
                raise _cme(50)
            reset = len(args) == 2 and _ints(args[1:], [(0, 1)])[0] == 1
            self.functionality = fun
            self.registered = fun == 1 and self.network_up
            if reset:
                self.power_on()
            return []
        raise _PLAIN

    def cmd_cpin(self, op: str, args: list[str]) -> list[bytes]:
        if op == "?":
            return [f"+CPIN: {self.sim_state}".encode()]
        if op == "=?":
            return []
        if op != "=" or not args or self.sim_state != "SIM PIN":
            raise _cme(3)  # no PIN is pending (or a PUK is needed): entering one is not allowed
        self.counters["pin_attempts"] = self.counters.get("pin_attempts", 0) + 1
        if _unquote(args[0]) == self.pin:
            self.sim_state = "READY"
            return []
        self.pin_tries_left -= 1
        if self.pin_tries_left == 0:
            self.sim_state = "SIM PUK"  # three wrong PINs lock the SIM
        raise _cme(16)  # incorrect password

    def cmd_csq(self, op: str, args: list[str]) -> list[bytes]:
        if op == "=?":
            return [b"+CSQ: (0-31,99),(0-7,99)"]
        if op == "":
            rssi, ber = self.csq if self.registered else (99, 99)
            return [f"+CSQ: {rssi},{ber}".encode()]
        raise _PLAIN

    def cmd_cops(self, op: str, args: list[str]) -> list[bytes]:
        i = self.identity
        if op == "=?":
            return [
                f'+COPS: (2,"{i.operator_long}","{i.operator_short}","{i.operator_numeric}",7)'
                ",,(0-4),(0-2)".encode()
            ]
        if op == "?":
            if not self.registered:
                return [b"+COPS: 0"]
            name = (i.operator_long, i.operator_short, i.operator_numeric)[
                self.settings.cops_format
            ]
            return [f'+COPS: 0,{self.settings.cops_format},"{name}",7'.encode()]
        if op == "=" and args:
            mode = _ints(args[:1], [(0, 4)])[0]
            if mode == 3 and len(args) >= 2:
                self.settings.cops_format = _ints(args[1:2], [(0, 2)])[0]
                return []
            if mode in (0, 1, 4) or (mode == 2 and len(args) == 1):
                return []
            raise _cme(3)
        raise _PLAIN

    def _identity_line(self, value: str, op: str) -> list[bytes]:
        if op == "=?":
            return []
        if op == "":
            return [value.encode()]
        raise _PLAIN

    def cmd_cgmi(self, op: str, args: list[str]) -> list[bytes]:
        return self._identity_line(self.identity.manufacturer, op)

    def cmd_cgmm(self, op: str, args: list[str]) -> list[bytes]:
        return self._identity_line(self.identity.model, op)

    def cmd_cgmr(self, op: str, args: list[str]) -> list[bytes]:
        return self._identity_line(f"+CGMR: {self.identity.revision}", op)

    def cmd_cgsn(self, op: str, args: list[str]) -> list[bytes]:
        return self._identity_line(self.identity.imei, op)

    def cmd_cimi(self, op: str, args: list[str]) -> list[bytes]:
        return self._identity_line(self.identity.imsi, op)

    def cmd_qurccfg(self, op: str, args: list[str]) -> list[bytes]:
        """Quectel: ``AT+QURCCFG="urcport"[,"usbat"|"usbmodem"|"uart1"]``; others lack it."""
        if self.urc_port is None:
            raise _Error("unsupported")
        ports = ("usbat", "usbmodem", "uart1")
        if op == "=?":
            return [b'+QURCCFG: "urcport",(' + ",".join(f'"{p}"' for p in ports).encode() + b")"]
        if op != "=" or not args or _unquote(args[0]).lower() != "urcport" or len(args) > 2:
            raise _PLAIN
        if len(args) == 1:
            return [f'+QURCCFG: "urcport","{self.urc_port}"'.encode()]
        port = _unquote(args[1]).lower()
        if port not in ports:
            raise _PLAIN
        self.urc_port = port
        return []

    def hw_curc(self, op: str, args: list[str]) -> list[bytes]:
        """Huawei ``AT^CURC=0|1``: periodic status URCs off or on; others lack it."""
        if self.module is None or self.module.periodic_urc_seconds is None:
            raise _Error("unsupported")
        if op == "?":
            return [f"^CURC: {int(self.curc)}".encode()]
        if op == "=?":
            return [b"^CURC: (0-1)"]
        if op == "=":
            self.curc = bool(_ints(args, [(0, 1)])[0])
            return []
        raise _PLAIN

    # -- SMS storage -------------------------------------------------------------------------

    def _memory(self, which: int) -> Store:
        return self.stores[self.settings.cpms[which]]

    def cmd_cpms(self, op: str, args: list[str]) -> list[bytes]:
        readable = "(" + ",".join(f'"{m}"' for m in _MEMORIES) + ")"
        storable = "(" + ",".join(f'"{m}"' for m in _STORE_MEMORIES) + ")"
        if op == "=?":
            return [f"+CPMS: {readable},{storable},{storable}".encode()]
        if op == "?":
            stores = [(m, self.stores[m]) for m in self.settings.cpms]
            parts = [f'"{m}",{store.used},{store.slots}' for m, store in stores]
            return [("+CPMS: " + ",".join(parts)).encode()]
        if op == "=" and 1 <= len(args) <= 3:
            chosen = [_unquote(a).upper() for a in args]
            if chosen[0] not in _MEMORIES or any(m not in _STORE_MEMORIES for m in chosen[1:]):
                raise _cms(302)
            current = list(self.settings.cpms)
            current[: len(chosen)] = chosen
            self.settings.cpms = (current[0], current[1], current[2])
            self.storages = self.settings.cpms  # saved at once (see __init__)
            counts = [f"{self.stores[m].used},{self.stores[m].slots}" for m in current]
            return [("+CPMS: " + ",".join(counts)).encode()]
        raise _PLAIN

    def cmd_cmgl(self, op: str, args: list[str]) -> list[bytes]:
        text_mode = self.settings.cmgf == 1
        if op == "=?":
            if text_mode:
                names = ",".join(f'"{n}"' for n in (*textmode.STAT_NAMES, "ALL"))
                return [f"+CMGL: ({names})".encode()]
            return [b"+CMGL: (0-4)"]
        if op == "":
            # 27.005: the default <stat> is "received unread"
            args, op = ['"REC UNREAD"' if text_mode else "0"], "="
        if op != "=" or len(args) != 1:
            raise _PLAIN
        wanted = self._stat_argument(args[0])
        store = self._memory(0)
        lines: list[bytes] = []
        for index in sorted(store.messages):
            sms = store.messages[index]
            if wanted != 4 and sms.stat.value != wanted:
                continue
            if text_mode:
                lines.extend(self._text_listing("+CMGL", index, sms))
            else:
                lines.append(f"+CMGL: {index},{sms.stat.value},,{sms.tpdu_length}".encode())
                lines.append(sms.pdu.hex().upper().encode())
            if sms.stat is Stat.REC_UNREAD:
                sms.stat = Stat.REC_READ
        return lines

    def _stat_argument(self, arg: str) -> int:
        """``<stat>`` of +CMGL: a number in PDU mode, a quoted name in text mode."""
        if self.settings.cmgf == 0:
            if not _digits(arg):
                raise _cms(304)
            return _ints([arg], [(0, 4)])[0]
        names = [*textmode.STAT_NAMES, "ALL"]
        name = _unquote(arg).upper()
        if not arg.startswith('"') or name not in names:
            raise _cms(305)
        return names.index(name)

    def _text_listing(self, prefix: str, index: int | None, sms: StoredSms) -> list[bytes]:
        """A stored message as text mode lists it (+CMGL) or reads it (+CMGR)."""
        cscs, stat = self.settings.cscs, textmode.STAT_NAMES[sms.stat.value]
        _smsc, tpdu = pdu.split_smsc(sms.pdu)
        lead = f"{prefix}: {index}," if index is not None else f"{prefix}: "
        if sms.kind == "report":
            line = textmode.status_report_line(prefix, tpdu, cscs, stat)
            return [lead.encode() + line.split(b": ", 1)[1]]
        if sms.kind == "submit":
            submit = pdu.decode_submit(tpdu)
            da = textmode.to_te(submit.da, cscs).decode("latin-1")
            return [f'{lead}"{stat}","{da}",'.encode(), textmode.to_te(submit.text, cscs)]
        shown = textmode.text_deliver(tpdu, cscs)
        header = shown.header(prefix, stat, self.settings.csca[0], bool(self.settings.csdh))
        if index is not None:
            header = lead.encode() + header.split(b": ", 1)[1]
        return [header, shown.data]

    def cmd_cmgr(self, op: str, args: list[str]) -> list[bytes]:
        if op == "=?":
            return []
        if op != "=" or len(args) != 1 or not _digits(args[0]):
            raise _PLAIN
        store = self._memory(0)
        index = int(args[0])
        if not store.in_range(index):
            raise _cms(321)
        sms = store.messages.get(index)
        if sms is None:
            return []  # an empty slot: SIM800 and EC25 answer a bare OK
        if self.settings.cmgf == 1:
            lines = self._text_listing("+CMGR", None, sms)
        else:
            lines = [f"+CMGR: {sms.stat.value},,{sms.tpdu_length}".encode()]
            lines.append(sms.pdu.hex().upper().encode())
        if sms.stat is Stat.REC_UNREAD:
            sms.stat = Stat.REC_READ
        return lines

    def cmd_cmgd(self, op: str, args: list[str]) -> list[bytes]:
        store = self._memory(0)
        if op == "=?":
            used = ",".join(str(i) for i in sorted(store.messages))
            return [f"+CMGD: ({used}),(0-4)".encode()]
        if op != "=" or not 1 <= len(args) <= 2 or not all(_digits(a) for a in args):
            raise _PLAIN
        index = int(args[0])
        flag = _ints(args[1:], [(0, 4)])[0] if len(args) == 2 else 0
        doomed = {
            0: (),
            1: (Stat.REC_READ,),
            2: (Stat.REC_READ, Stat.STO_SENT),
            3: (Stat.REC_READ, Stat.STO_SENT, Stat.STO_UNSENT),
            4: tuple(Stat),
        }[flag]
        if flag == 0:
            if not store.in_range(index):
                raise _cms(321)
            store.messages.pop(index, None)
        else:
            for i in [i for i, m in store.messages.items() if m.stat in doomed]:
                del store.messages[i]
        self._held_urcs.extend(self._release_pending())
        return []

    # -- submit ------------------------------------------------------------------------------

    def cmd_cmgs(self, op: str, args: list[str]) -> list[bytes] | _Prompt:
        if op == "=?":
            return []
        if self.settings.cmgf == 1:
            if op != "=" or not 1 <= len(args) <= 2 or not args[0]:
                raise _PLAIN  # (an unquoted number is accepted, as SIM800 and EC25 do)
            try:
                da = textmode.from_te(_unquote(args[0]).encode("latin-1"), self.settings.cscs)
            except textmode.TextModeError:
                raise _cms(305) from None
            if not re.fullmatch(r"\+?\d{1,20}", da):
                raise _cms(305)
            return self._open_prompt("cmgs", 0, da)
        if op != "=" or len(args) != 1 or not _digits(args[0]):
            raise _PLAIN
        length = int(args[0])
        if not 1 <= length <= MAX_TPDU:
            raise _cms(304)
        return self._open_prompt("cmgs", length)

    def cmd_cmgw(self, op: str, args: list[str]) -> list[bytes] | _Prompt:
        """Write an SMS-SUBMIT to storage (PDU mode): ``+CMGW: <index>``."""
        if op == "=?":
            return []
        if self.settings.cmgf == 1:
            raise _cms(303)  # text-mode +CMGW is not simulated
        if op != "=" or not 1 <= len(args) <= 2 or not all(_digits(a) for a in args):
            raise _PLAIN
        length = int(args[0])
        stat = _ints(args[1:], [(2, 3)])[0] if len(args) == 2 else Stat.STO_UNSENT.value
        if not 1 <= length <= MAX_TPDU:
            raise _cms(304)
        store = self._memory(1)
        if store.used >= store.slots:
            raise _cms(322)
        return self._open_prompt("cmgw", length, stat=Stat(stat))

    def _open_prompt(
        self, purpose: str, length: int, da: str = "", stat: Stat = Stat.STO_UNSENT
    ) -> _Prompt:
        self._prompt = bytearray()
        self._prompt_length = length
        self._prompt_for = (purpose, da, stat)
        return _Prompt()

    def _submit(self, body: bytes) -> list[Output]:
        purpose, da, stat = self._prompt_for
        if da:  # text mode: the body is the message in the TE character set
            _fo, _vp, _pid, dcs = self.settings.csmp
            try:
                text = textmode.submit_text(body.rstrip(b"\r"), self.settings.cscs, dcs)
            except textmode.TextModeError:
                self.counters["cmgs_error"] += 1
                return [self._error_bytes(_cms(305))]
            return self._to_network(da, text, None, srr=bool(self.settings.csmp[0] & 0x20))
        try:
            data = bytes.fromhex(body.decode("ascii"))
            _smsc, tpdu = pdu.split_smsc(data)
            if len(tpdu) != self._prompt_length:
                raise pdu.PduError(
                    f"declared length {self._prompt_length} but TPDU has {len(tpdu)} octets"
                )
            submit = pdu.decode_submit(tpdu)
        except (ValueError, UnicodeDecodeError):
            if purpose == "cmgs":
                self.counters["cmgs_error"] += 1
            return [self._error_bytes(_cms(304))]
        if purpose == "cmgw":
            smsc = pdu.encode_smsc(self.identity.smsc)
            index = self._memory(1).add(StoredSms(stat, smsc + tpdu, len(tpdu), "submit"))
            if index is None:
                return [self._error_bytes(_cms(322))]
            return [f"\r\n+CMGW: {index}\r\n\r\nOK\r\n".encode()]
        return self._to_network(submit.da, submit.text, submit.concat, srr=submit.srr)

    def _to_network(
        self, da: str, text: str, concat: pdu.Concat | None, *, srr: bool
    ) -> list[Output]:
        """The submit's round trip to the SMSC: faults, TP-MR, the record, a status report."""
        latency = self.send_latency
        if self.fault.profile == "slow":
            latency += self.fault.seconds if self.fault.seconds is not None else 5.0
        wait: list[Output] = [Delay(latency)] if latency else []
        refused = self._refusal(concat.seq if concat else 1)
        if refused is not None:
            self.counters["cmgs_error"] += 1
            return [*wait, *refused]
        if not self.registered:
            self.counters["cmgs_error"] += 1
            return [*wait, self._error_bytes(_cms(331))]
        if "".join(c for c in da if c.isdigit()) in self.unassigned:
            self.counters["cmgs_error"] += 1
            return [*wait, self._error_bytes(_cms(1))]  # unassigned (unallocated) number
        if self.fault.profile == "flaky":
            self.fault.ticks += 1
            if self.fault.ticks % (self.fault.every or 3) == 0:
                self.counters["cmgs_error"] += 1
                return [*wait, self._error_bytes(_cms(500))]
        mr = self.mr
        self.mr = (self.mr + 1) & 0xFF
        self.counters["cmgs_ok"] += 1
        now = self._now()
        self._record_sent(SentPart(da, text, concat, mr, srr, now))
        out: list[Output] = [*wait, f"\r\n+CMGS: {mr}\r\n".encode(), b"\r\nOK\r\n"]
        if srr and self.settings.cnmi[3] in (1, 2):
            self._timer_seq += 1
            key = f"report:{self._timer_seq}"
            self._timers[key] = lambda: self._status_report(mr, da, now)
            out.append(Timer(self.report_delay, key))
        return out

    def _status_report(self, mr: int, ra: str, submitted: datetime) -> list[Output]:
        """The network says the part with TP-MR ``mr`` reached the recipient."""
        scts = submitted.astimezone(CHINA)
        tpdu = pdu.encode_status_report(mr, ra, scts, self._now().astimezone(CHINA), 0)
        ds = self.settings.cnmi[3]
        smsc = pdu.encode_smsc(self.identity.smsc)
        if ds == 2:
            index = self.stores["SR"].add(
                StoredSms(Stat.REC_UNREAD, smsc + tpdu, len(tpdu), "report")
            )
            if index is None or not self._urcs_here():
                return []
            return [f'\r\n+CDSI: "SR",{index}\r\n'.encode()]
        if ds != 1 or not self._urcs_here():
            return []
        if self.settings.cmgf == 1:
            return [
                b"\r\n" + textmode.status_report_line("+CDS", tpdu, self.settings.cscs) + b"\r\n"
            ]
        # 27.005 §3.4.1: like +CMT, the PDU shown starts with the SMSC address field.
        line = (smsc + tpdu).hex().upper().encode()
        return [f"\r\n+CDS: {len(tpdu)}\r\n".encode() + line + b"\r\n"]

    def _record_sent(self, part: SentPart) -> None:
        concat = part.concat
        ref, total, seq = (concat.ref, concat.total, concat.seq) if concat else (None, 1, 1)
        message = None
        if concat is not None:
            for candidate in reversed(self.sent):
                if (candidate.to, candidate.ref, candidate.total) != (part.to, ref, total):
                    continue
                fresh = part.accepted_at - candidate.last_at <= DUPLICATE_WINDOW
                if not candidate.complete or (seq in candidate.parts and fresh):
                    message = candidate
                break
        if message is None:
            message = SentMessage(
                part.to, ref, total, accepted_at=part.accepted_at, last_at=part.accepted_at
            )
            self.sent.append(message)
        if seq in message.parts:
            message.duplicate_parts += 1
        message.parts[seq] = part.text
        message.mr.append(part.mr)
        message.last_at = part.accepted_at

    # -- network side ----------------------------------------------------------------------

    def network_sms(
        self,
        sender: str,
        text: str,
        *,
        order: Sequence[int] | Literal["reverse"] | None = None,
        drop: Iterable[int] = (),
        ref: int | None = None,
    ) -> tuple[int, int, list[Output]]:
        """A phone sends ``text`` to this SIM: returns ``(parts, ref, modem output)``.

        ``order`` lists part numbers (1-based) in the order the network delivers them, or
        says "reverse";
        ``drop`` names parts the network loses.
        ``ref``, the reference an earlier call returned, makes these parts of that earlier
        message: with ``drop`` naming the others, the network delivers a part it held back.
        """
        late = ref is not None
        if ref is None:
            ref = (self.concat_ref + 1) & 0xFF
        elif not 0 <= ref <= 0xFF:
            raise ValueError("ref must be 0..255")
        tpdus = pdu.deliver_parts(sender, text, self._now().astimezone(CHINA), ref)
        natural = list(range(1, len(tpdus) + 1))
        if order is None or order == "reverse":
            sequence = natural if order is None else natural[::-1]
        else:
            sequence = list(order)
        if sorted(sequence) != natural:
            raise ValueError(f"order must be a permutation of 1..{len(tpdus)}")
        if not late:
            self.concat_ref = ref  # a refused request uses no reference
        lost = set(drop)
        delivered = len([seq for seq in sequence if seq not in lost])
        earlier = [i for i, r in enumerate(self.received) if (r.sender, r.text) == (sender, text)]
        if late and earlier:  # the phones page shows the message with its late part
            was = self.received[earlier[-1]]
            self.received[earlier[-1]] = replace(
                was, delivered=min(was.parts, was.delivered + delivered)
            )
        else:
            self.received.append(Received(sender, text, len(tpdus), delivered, self._now()))
        smsc = pdu.encode_smsc(self.identity.smsc)
        for seq in sequence:
            if seq not in lost:
                tpdu = tpdus[seq - 1]
                self.pending.append(IncomingPart(smsc + tpdu, len(tpdu)))
        urcs = self._release_pending()
        if self.silent:
            return len(tpdus), ref, []  # a hung or unplugged modem announces nothing
        if self._prompt is not None:
            self._held_urcs.extend(urcs)
            return len(tpdus), ref, []
        return len(tpdus), ref, urcs

    def _release_pending(self) -> list[Output]:
        """Deliver what the network holds, as far as storage allows; return the URCs."""
        mode, mt = self.settings.cnmi[0], self.settings.cnmi[1]
        out: list[Output] = []
        while self.pending and self.network_up and not (self.silent and mt == 2):
            part = self.pending[0]
            if mt == 2:
                self.pending.pop(0)
                if mode and self._urcs_here():
                    out.append(self._routed(part))
                continue
            memory = self.settings.cpms[2]
            index = self.stores[memory].add(StoredSms(Stat.REC_UNREAD, part.pdu, part.tpdu_length))
            if index is None:
                break  # storage full: the network keeps the rest and retries later
            self.pending.pop(0)
            if mode and mt in (1, 3) and self._urcs_here():
                out.append(f'\r\n+CMTI: "{memory}",{index}\r\n'.encode())
        return out

    def _routed(self, part: IncomingPart) -> bytes:
        """+CMT: an SMS handed straight to the DTE, not stored (+CNMI mt=2)."""
        if self.settings.cmgf == 0:
            return (
                f"\r\n+CMT: ,{part.tpdu_length}\r\n".encode()
                + part.pdu.hex().upper().encode()
                + b"\r\n"
            )
        _smsc, tpdu = pdu.split_smsc(part.pdu)
        shown = textmode.text_deliver(tpdu, self.settings.cscs)
        header = shown.header("+CMT", None, self.settings.csca[0], bool(self.settings.csdh))
        return b"\r\n" + header + b"\r\n" + shown.data + b"\r\n"

    def module_state(self) -> dict[str, object]:
        """Which module this is and where it stands in the ways modules differ."""
        return {
            "module": self.module.name if self.module is not None else "generic",
            "manufacturer": self.identity.manufacturer,
            "model": self.identity.model,
            "sms_ready": self.sms_ready,
            "not_ready_refusals": self.not_ready_refusals,
            "urc_port": self.urc_port,
            "periodic_urcs": self.curc
            and self.module is not None
            and self.module.periodic_urc_seconds is not None,
        }

    def state(self) -> dict[str, object]:
        store = self.stores[self.settings.cpms[2]]
        return {
            "registration": "registered" if self.registered else "not-registered",
            "csq": self.csq[0] if self.registered else 99,
            "storage": {
                "used": store.used,
                "total": store.slots,
                "read": sum(m.stat is Stat.REC_READ for m in store.messages.values()),
            },
            "prompt": self._prompt is not None,  # showing "> ", collecting a message
            "pending": len(self.pending),
            "fault": self.fault.as_json(),
            "counters": {**self.counters, "by_command": dict(self.by_command)},
        }


class _Prompt:
    """A command that switched the modem to the ``> `` prompt."""


Handler = Callable[[SimModem, str, list[str]], "list[bytes] | _Prompt"]
_HANDLERS: dict[str, Handler] = {
    "+" + name.removeprefix("cmd_").upper(): method
    for name, method in vars(SimModem).items()
    if name.startswith("cmd_")
} | {"^CURC": SimModem.hw_curc}


def _split_commands(body: str) -> list[tuple[str, str, list[str]]]:
    """``E0+CMEE=1;+CSQ`` → ``[("E", "0", []), ("+CMEE", "=", ["1"]), ("+CSQ", "", [])]``.

    Basic commands come back as ``(letter, digits, [])``; they are dispatched by ``_basic``.
    """
    commands: list[tuple[str, str, list[str]]] = []
    rest = body
    while rest:
        if rest[0] == ";":
            rest = rest[1:]
            continue
        upper = rest.upper()
        match = _EXTENDED.match(upper)
        if match:
            name, op = match.group(1), match.group(2) or ""
            rest = rest[match.end() :]
            args_text, rest = _take_args(rest)
            args = _split_args(args_text) if op == "=" else []
            if op != "=" and args_text.strip():
                raise _PLAIN
            commands.append((name, op, args))
            continue
        match = _BASIC.match(upper)
        if not match:
            raise _PLAIN
        commands.append((match.group(1), match.group(2), []))
        rest = rest[match.end() :]
    return commands


def _take_args(text: str) -> tuple[str, str]:
    quoted = False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            return text[:i], text[i + 1 :]
    if quoted:
        raise _PLAIN
    return text, ""


def _split_args(text: str) -> list[str]:
    args, current, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            current += ch
        elif ch == "," and not quoted:
            args.append(current.strip())
            current = ""
        else:
            current += ch
    args.append(current.strip())
    return args


def _to_charset(value: str, charset: str) -> str:
    """A string parameter as +CSCS says the TE sees it (27.007 §5.5).

    In "UCS2" real modems answer ``+CSCA: "002B0038…",145``: each character as four hex digits
    (UTF-16-BE); in "HEX" each octet as two. "IRA" and "GSM" agree on digits and "+".
    """
    if charset == "UCS2":
        return value.encode("utf-16-be").hex().upper()
    if charset == "HEX":
        return value.encode("latin-1").hex().upper()
    return value


def _from_charset(value: str, charset: str) -> str | None:
    """The reverse of :func:`_to_charset`; None when ``value`` is not valid in ``charset``."""
    try:
        if charset == "UCS2":
            return bytes.fromhex(value).decode("utf-16-be")
        if charset == "HEX":
            return bytes.fromhex(value).decode("latin-1")
    except ValueError:
        return None
    return value


def _unquote(arg: str) -> str:
    return arg[1:-1] if len(arg) >= 2 and arg[0] == arg[-1] == '"' else arg


def _ints(args: Sequence[str], ranges: Sequence[tuple[int, int]]) -> list[int]:
    if len(args) != len(ranges):
        raise _cme(50)
    values = []
    for arg, (lo, hi) in zip(args, ranges, strict=True):
        if not _digits(arg) or not lo <= int(arg) <= hi:
            raise _cme(50)
        values.append(int(arg))
    return values


def _coalesce(out: list[Output]) -> list[Output]:
    """Join adjacent byte strings so each write to the line is one chunk."""
    merged: list[Output] = []
    for item in out:
        if isinstance(item, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] = merged[-1] + item
        elif not (isinstance(item, bytes) and not item):
            merged.append(item)
    return merged
