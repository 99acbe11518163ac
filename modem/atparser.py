"""A sans-I/O parser for what a modem writes back on its AT port.

It turns bytes into events and never reads a port, a clock or a task: the session feeds
``receive_data(bytes)`` and drains ``next_event()`` (``None`` means "feed me more"). The session
also tells the parser which command is in flight, because the command decides how a line is read:
``+CREG: 1,1`` is the answer to ``AT+CREG?`` but an unsolicited report otherwise, and in a text-mode
``+CMGR``/``+CMGL`` listing the line after the header is message text even when it says ``OK``.

API::

    parser = AtParser(echo=True)            # echo=False after the session sends ATE0
    parser.start(b"AT+CMGR=3")              # one command in flight; start() while busy raises
    parser.sent_body(b"0011...")            # after a Prompt: what was written (its echo is Echo)
    parser.receive_data(data)               # any chunking gives the same events
    event = parser.next_event()             # Echo | Info | Final | Prompt | Unsolicited
                                            # | Garbage | Stale | None
    parser.abandon()                        # the session gave up waiting (its timeout)
    parser.busy                             # a command is in flight

A :class:`Final` ends the command: the parser returns to idle by itself, there is no ``finish()``.
:meth:`Final.error` turns an error result into the matching :mod:`smscat.modem.errors` exception.

The late-reply rule
-------------------
After ``abandon()``, whatever answer the old command still produces is never handed to the next
one. Every line that is not a URC becomes :class:`Stale` until the next command's boundary:

* echo on: the boundary is the echo of the next command. Lines that arrive after ``start()`` but
  before that echo (the old command's late ``OK``, its info lines) are :class:`Stale`.
* echo off: there is no boundary in the byte stream, so only lines that arrive before ``start()``
  are :class:`Stale`. A session that runs with echo off waits a quiet moment after abandoning
  (it owns the clock) before it starts the next command; a session that can keeps echo on.

A final result code or an info line with no command in flight is :class:`Stale` or
:class:`Garbage` respectively; URCs are :class:`Unsolicited` in every state.

Framing: ``\\r\\n``, a lone ``\\r`` or a lone ``\\n`` ends a line; empty lines are dropped; a line
longer than :data:`MAX_LINE` bytes, or one that is not UTF-8 or holds control bytes, is
:class:`Garbage` and the parser carries on at the next line. ``> `` (no line end) is a
:class:`Prompt` only while a command that prompts (``+CMGS``, ``+CMGW``, ``+CMGC``) is in flight.

Known limits: a text-mode message whose text is empty, or whose text spans several lines and a
later line reads exactly like a final result, cannot be told apart from the result itself.

This module must never do I/O, import asyncio, or put message text or numbers into exceptions.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Final as Constant

from smscat.modem.errors import CmeError, CmsError, CommandError, NotSupported, ParserUsageError

MAX_LINE: Constant = 4096
_CR, _LF = 0x0D, 0x0A
_PROMPT: Constant = b"> "
_HEX = re.compile(r"[0-9A-Fa-f]+")
_NAME = re.compile(r"[+^$%*#&]?[A-Za-z][A-Za-z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class ResultKind(Enum):
    OK = "OK"
    CONNECT = "CONNECT"
    ERROR = "ERROR"
    CME = "+CME ERROR"
    CMS = "+CMS ERROR"
    NOT_SUPPORTED = "COMMAND NOT SUPPORT"
    NO_CARRIER = "NO CARRIER"
    BUSY = "BUSY"
    NO_ANSWER = "NO ANSWER"
    NO_DIALTONE = "NO DIALTONE"


# Whole-line final result codes; the numbered/text error forms are prefixes below.
_FINALS: Constant[dict[str, ResultKind]] = {kind.value: kind for kind in ResultKind}
_ERROR_PREFIXES: Constant[dict[str, ResultKind]] = {
    "+CME ERROR:": ResultKind.CME,
    "+CMS ERROR:": ResultKind.CMS,
    "+EXT ERROR:": ResultKind.ERROR,
}
# AT+CMEE=2 text forms we map back to their numbers (27.007 §9.2, 27.005 §3.2.5).
_ERROR_TEXTS: Constant[dict[tuple[ResultKind, str], int]] = {
    (ResultKind.CME, "operation not allowed"): 3,
    (ResultKind.CME, "operation not supported"): 4,
    (ResultKind.CME, "sim not inserted"): 10,
    (ResultKind.CME, "sim pin required"): 11,
    (ResultKind.CME, "sim failure"): 13,
    (ResultKind.CME, "sim busy"): 14,
    (ResultKind.CME, "unknown"): 100,
    (ResultKind.CMS, "operation not allowed"): 302,
    (ResultKind.CMS, "operation not supported"): 303,
    (ResultKind.CMS, "sim not inserted"): 310,
    (ResultKind.CMS, "sim busy"): 314,
    (ResultKind.CMS, "invalid memory index"): 321,
    (ResultKind.CMS, "memory full"): 322,
    (ResultKind.CMS, "smsc address unknown"): 330,
    (ResultKind.CMS, "no network service"): 331,
    (ResultKind.CMS, "network timeout"): 332,
    (ResultKind.CMS, "unknown error"): 500,
}


class Follow(Enum):
    """Whether an unsolicited line owns the line after it."""

    NEVER = "never"
    ALWAYS = "always"  # +CMT: PDU mode ``+CMT: [alpha],<len>`` or text mode header + text
    IF_LENGTH_ONLY = "if-length-only"  # +CDS: ``+CDS: <len>`` (PDU) vs one-line text form


# Unsolicited result codes, by name (the text before ``:``, or the whole line).
URCS: Constant[dict[str, Follow]] = {
    "+CMTI": Follow.NEVER,
    "+CMT": Follow.ALWAYS,
    "+CDS": Follow.IF_LENGTH_ONLY,
    "+CDSI": Follow.NEVER,
    "+CBM": Follow.ALWAYS,
    "+CBMI": Follow.NEVER,
    "RING": Follow.NEVER,
    "+CRING": Follow.NEVER,
    "+CLIP": Follow.NEVER,
    "+CCWA": Follow.NEVER,
    "+CUSD": Follow.NEVER,
    "+CREG": Follow.NEVER,
    "+CGREG": Follow.NEVER,
    "+CEREG": Follow.NEVER,
    "+C5GREG": Follow.NEVER,
    "+CPIN": Follow.NEVER,
    "+CFUN": Follow.NEVER,
    "+CIEV": Follow.NEVER,
    "+CTZV": Follow.NEVER,
    "+CTZE": Follow.NEVER,
    "+CGEV": Follow.NEVER,
    "+WIND": Follow.NEVER,
    "+QIND": Follow.NEVER,
    "+QUSIM": Follow.NEVER,
    "+ZDONR": Follow.NEVER,
    "+ZPASR": Follow.NEVER,
    "+ZEND": Follow.NEVER,
    "+SIND": Follow.NEVER,
    "^RSSI": Follow.NEVER,
    "^HCSQ": Follow.NEVER,
    "^BOOT": Follow.NEVER,
    "^SYSINFO": Follow.NEVER,
    "^SYSSTART": Follow.NEVER,
    "^SRVST": Follow.NEVER,
    "^SIMST": Follow.NEVER,
    "^MODE": Follow.NEVER,
    "^DSFLOWRPT": Follow.NEVER,
    "^NDISSTAT": Follow.NEVER,
    "^ORIG": Follow.NEVER,
    "^CONF": Follow.NEVER,
    "^CONN": Follow.NEVER,
    "^CEND": Follow.NEVER,
    "^STIN": Follow.NEVER,
    "RDY": Follow.NEVER,
    "SMS Ready": Follow.NEVER,
    "Call Ready": Follow.NEVER,
    "PB DONE": Follow.NEVER,
    "SMS DONE": Follow.NEVER,  # SIMCom A76xx/SIM7600: SMS commands work from now on
    "*ATREADY": Follow.NEVER,  # SIMCom A76xx: the AT interface is up (after a power cycle)
    "NORMAL POWER DOWN": Follow.NEVER,
}
# Commands that answer ``> `` and wait for a body.
_PROMPTING: Constant = frozenset({"+CMGS", "+CMGW", "+CMGC"})
# Commands whose header line is followed by a line of message data.
_LISTING: Constant = frozenset({"+CMGR", "+CMGL"})


@dataclass(frozen=True, slots=True)
class Echo:
    """The modem repeating the command (or the body) the session wrote."""

    line: str


@dataclass(frozen=True, slots=True)
class Info:
    """An information line of the command in flight (a PDU or message text included)."""

    line: str


@dataclass(frozen=True, slots=True)
class Final:
    """The final result code that ends the command in flight."""

    ok: bool
    line: str
    kind: ResultKind
    code: int | None = None

    def error(self, command: str) -> CommandError | None:
        """The exception this result means for ``command``, or None when it is a success."""
        if self.ok:
            return None
        if self.kind is ResultKind.CMS:
            return CmsError(command, self.line, self.code)
        if self.kind is ResultKind.CME:
            return CmeError(command, self.line, self.code)
        if self.kind is ResultKind.NOT_SUPPORTED:
            return NotSupported(command, self.line)
        return CommandError(command, self.line)


@dataclass(frozen=True, slots=True)
class Prompt:
    """``> ``: the modem waits for the body of +CMGS/+CMGW."""


@dataclass(frozen=True, slots=True)
class Unsolicited:
    """A URC; ``pdu`` is the line that belongs to it (+CMT, PDU-mode +CDS), else None."""

    name: str
    line: str
    pdu: str | None = None


@dataclass(frozen=True, slots=True)
class Garbage:
    """Bytes that make no line we can read (at most MAX_LINE of them are kept)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Stale:
    """A line of an abandoned command's answer (or a result with nothing in flight)."""

    line: str


Event = Echo | Info | Final | Prompt | Unsolicited | Garbage | Stale


class State(Enum):
    IDLE = "idle"  # no command in flight
    BUSY = "busy"  # a command in flight, its lines are its answer
    DRAINING = "draining"  # abandoned, or a new command whose echo has not come yet


class LineKind(Enum):
    ECHO = "echo"
    FINAL = "final"
    URC = "urc"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class _Command:
    text: str
    upper: str  # what the echo is compared with
    names: frozenset[str]
    prompts: bool
    lists: bool


@functools.lru_cache(maxsize=256)  # a session repeats a few dozen distinct command lines
def _command(raw: bytes) -> _Command:
    text = raw.decode("latin-1").strip()
    body = text[2:] if text[:2].upper() == "AT" else text
    names = {m.group(0).upper() for part in body.split(";") if (m := _NAME.match(part.strip()))}
    return _Command(
        text=text,
        upper=text.upper(),
        names=frozenset(names),
        prompts=bool(names & _PROMPTING) and "=?" not in body,
        lists=bool(names & _LISTING),
    )


def _name_of(line: str) -> str:
    head = line.split(":", 1)[0].strip() if ":" in line else line.strip()
    return head.upper() if head[:1] in "+^$%*" else head


def _fields(line: str) -> list[str]:
    return line.split(":", 1)[1].strip().split(",") if ":" in line else []


def _digits(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also takes "²" and "①", which ``int`` refuses."""
    return text.isascii() and text.isdigit()


def _final_of(line: str) -> Final | None:
    kind = _FINALS.get(line)
    if kind is not None:
        return Final(ok=kind in (ResultKind.OK, ResultKind.CONNECT), line=line, kind=kind)
    if not line.startswith(("+", "C")):
        return None  # (every other final result is in _FINALS)
    upper = line.upper()
    for prefix, kind in _ERROR_PREFIXES.items():
        if upper.startswith(prefix):
            detail = line[len(prefix) :].strip()
            code = int(detail) if _digits(detail) else _ERROR_TEXTS.get((kind, detail.lower()))
            return Final(ok=False, line=line, kind=kind, code=code)
    if line.startswith("CONNECT "):
        return Final(ok=True, line=line, kind=ResultKind.CONNECT)
    return None


def _listing_body(line: str) -> tuple[bool, bool]:
    """For a +CMGR/+CMGL header: (is a data line next, is that line a hex PDU).

    PDU mode (``<stat>`` a number) is followed by the PDU. Text mode (``<stat>`` quoted) is
    followed by the message text, unless it lists a status report, whose field after ``<stat>``
    is ``<fo>`` (a number) instead of a quoted address.
    """
    fields = _fields(line)
    if line.upper().startswith("+CMGL"):
        fields = fields[1:]
    if not fields or fields[0].startswith("("):
        return False, False  # AT+CMGL=? lists the <stat> values
    if not fields[0].startswith('"'):
        return True, True
    return len(fields) < 2 or not _digits(fields[1].strip()), False


def _wants_pdu(header: str) -> bool:
    """A URC header of PDU mode (``+CMT: [<alpha>],<length>``, ``+CDS: <length>``)."""
    fields = _fields(header)
    return 0 < len(fields) <= 2 and _digits(fields[-1].strip())


def _find(data: bytes, needle: bytes, start: int, end: int) -> int:
    found = data.find(needle, start, end)
    return end if found < 0 else found


class AtParser:
    """Bytes from the modem in, events out; see the module docstring for the rules."""

    def __init__(self, *, echo: bool = True) -> None:
        self.echo = echo
        self._state = State.IDLE
        self._command: _Command | None = None
        self._bodies: set[str] = set()
        self._buffer = bytearray()
        self._overflow = False
        self._after_cr = False
        self._events: deque[Event] = deque()
        # The line after this one belongs to it: a URC header, or a listing header.
        self._owner: Unsolicited | None = None
        self._body_next = False
        self._body_hex = False
        self._pending_final: Final | None = None  # what _classify found, for _final
        self._table: dict[tuple[State, LineKind], Callable[[str], None]] = {
            (State.IDLE, LineKind.FINAL): self._stale,
            (State.IDLE, LineKind.INFO): self._garbage_line,
            (State.IDLE, LineKind.URC): self._urc,
            (State.BUSY, LineKind.ECHO): self._echo,
            (State.BUSY, LineKind.FINAL): self._final,
            (State.BUSY, LineKind.INFO): self._info,
            (State.BUSY, LineKind.URC): self._urc,
            (State.DRAINING, LineKind.ECHO): self._boundary,
            (State.DRAINING, LineKind.FINAL): self._stale,
            (State.DRAINING, LineKind.INFO): self._stale,
            (State.DRAINING, LineKind.URC): self._urc,
        }

    # -- what the session says ---------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._command is not None

    def start(self, command: bytes) -> None:
        """A command is being written (``AT...``, without its ``\\r``)."""
        if self._command is not None:
            raise ParserUsageError("a command is already in flight")
        self._command = _command(command)
        self._bodies = set()
        self._body_next = False
        if self._state is State.DRAINING and not self.echo:
            self._state = State.BUSY  # no echo: the boundary is start() itself
        elif self._state is State.IDLE:
            self._state = State.BUSY

    def sent_body(self, body: bytes) -> None:
        """After a Prompt, the session wrote ``body`` (PDU or text, with Ctrl-Z or ESC)."""
        text = body.decode("latin-1").strip("\x1a\x1b\r\n ")
        self._bodies.update(part.strip() for part in re.split(r"[\r\n]+", text) if part.strip())

    def abandon(self) -> None:
        """The session stopped waiting for the command in flight; its answer is now stale."""
        self._command = None
        self._bodies = set()
        self._body_next = False
        self._state = State.DRAINING

    # -- bytes in, events out ----------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        i, n = 0, len(data)
        while i < n:
            byte = data[i]
            if byte in (_CR, _LF):
                i += 1
                if byte == _LF and self._after_cr:
                    self._after_cr = False
                    continue
                self._after_cr = byte == _CR
                if self._buffer or self._overflow:  # (most line ends close an empty line)
                    self._end_line()
                continue
            self._after_cr = False
            # The run of ordinary bytes up to the next line end, taken in one step.
            end = min(_find(data, b"\r", i, n), _find(data, b"\n", i, n))
            run, i = data[i:end], end
            if self._overflow:
                continue
            self._buffer += run
            while (
                self._buffer[:2] == _PROMPT and self._command is not None and self._command.prompts
            ):
                del self._buffer[:2]  # "> " has no line end: it is a prompt as soon as it is seen
                self._flush_owner()
                self._events.append(Prompt())
            if len(self._buffer) > MAX_LINE:  # (after the prompt: however the bytes were split)
                self._flush_owner()
                self._events.append(Garbage(bytes(self._buffer[:MAX_LINE])))
                self._buffer.clear()
                self._overflow = True

    def next_event(self) -> Event | None:
        return self._events.popleft() if self._events else None

    # -- lines -------------------------------------------------------------------------------

    def _end_line(self) -> None:
        if self._overflow:
            self._overflow = False
            return
        raw = bytes(self._buffer)
        self._buffer.clear()
        if not raw.strip():
            return
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            line = ""
        if not line or _CONTROL.search(line):
            self._events.append(Garbage(raw))
            return
        if self._owner is not None:
            owner, self._owner = self._owner, None
            if not _wants_pdu(owner.line) or _HEX.fullmatch(line):
                self._events.append(Unsolicited(owner.name, owner.line, line))
                return
            self._events.append(owner)  # a PDU-mode header whose PDU never came
        if self._body_next:
            self._body_next = False
            if not self._body_hex or _HEX.fullmatch(line):
                self._info(line)
                return
        self._table[(self._state, self._classify(line))](line)

    def _classify(self, line: str) -> LineKind:
        command = self._command
        if command is not None and self._is_echo(line, command):
            return LineKind.ECHO
        self._pending_final = _final_of(line)
        if self._pending_final is not None:
            return LineKind.FINAL
        name = _name_of(line)
        if name in URCS and (command is None or name not in command.names):
            return LineKind.URC
        return LineKind.INFO

    def _is_echo(self, line: str, command: _Command) -> bool:
        return line.upper() == command.upper or line in self._bodies

    # -- handlers (the table) ----------------------------------------------------------------

    def _echo(self, line: str) -> None:
        self._events.append(Echo(line))

    def _boundary(self, line: str) -> None:
        self._state = State.BUSY
        self._events.append(Echo(line))

    def _final(self, line: str) -> None:
        final, self._pending_final = self._pending_final, None
        assert final is not None
        self._command = None
        self._bodies = set()
        self._state = State.IDLE
        self._events.append(final)

    def _info(self, line: str) -> None:
        self._events.append(Info(line))
        command = self._command
        if command is not None and command.lists and _name_of(line) in _LISTING:
            self._body_next, self._body_hex = _listing_body(line)

    def _urc(self, line: str) -> None:
        name = _name_of(line)
        event = Unsolicited(name, line)
        follow = URCS[name]
        fields = _fields(line)
        if follow is Follow.ALWAYS or (
            follow is Follow.IF_LENGTH_ONLY and len(fields) == 1 and _digits(fields[0])
        ):
            self._owner = event
        else:
            self._events.append(event)

    def _stale(self, line: str) -> None:
        self._events.append(Stale(line))

    def _garbage_line(self, line: str) -> None:
        self._events.append(Garbage(line.encode()))

    def _flush_owner(self) -> None:
        if self._owner is not None:
            self._events.append(self._owner)
            self._owner = None
