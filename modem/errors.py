"""Exceptions of the modem driver.

    ModemError
    ├── PduError                       a PDU that is truncated, inconsistent or unsupported
    ├── EncodeError                    text or parameters that cannot become an SMS-SUBMIT
    ├── CommandError                   a command's final result was an error
    │   ├── CmsError  (code)           +CMS ERROR: n (or its text form)
    │   ├── CmeError  (code)           +CME ERROR: n (or its text form)
    │   └── NotSupported               COMMAND NOT SUPPORT / plain ERROR to an unknown command
    ├── ParserUsageError               the AT parser driven wrongly (a session bug, not the modem)
    ├── QuirkConfigError (quirks.py)   a quirk override from config names no known flag
    ├── TransportError                 the port cannot be opened, or failed / vanished (EIO, unplug)
    │   └── ModemRestarted             a start-up line (RDY…) came while a command waited
    ├── ModemTimeout                   no final result within the command's time (also TimeoutError)
    ├── Unconfirmed                    a submit's body was written, then no answer: sent or not?
    └── ModemUnavailable               the supervisor has no usable modem now (reconnecting, SIM)

(address.AddressError, a ValueError, stands apart: config validation raises it too.)
No message ever contains a phone number or message text: the caller has them already.
"""

from __future__ import annotations


class ModemError(Exception):
    """Base of everything smscat.modem raises on purpose."""


class PduError(ModemError, ValueError):
    """A PDU that cannot be decoded; the message names the field, never the content."""


class EncodeError(ModemError, ValueError):
    """Text or parameters that cannot be encoded as an SMS-SUBMIT."""


class CommandError(ModemError):
    """A command ended with an error result (``final`` is the result line, e.g. ``ERROR``)."""

    def __init__(self, command: str, final: str) -> None:
        super().__init__(f"{command}: {final}")
        self.command = command
        self.final = final


class CmsError(CommandError):
    def __init__(self, command: str, final: str, code: int | None) -> None:
        super().__init__(command, final)
        self.code = code


class CmeError(CommandError):
    def __init__(self, command: str, final: str, code: int | None) -> None:
        super().__init__(command, final)
        self.code = code


class NotSupported(CommandError):
    pass


class ParserUsageError(ModemError, RuntimeError):
    """The AT parser was told something impossible (e.g. start() with a command in flight)."""


class TransportError(ModemError):
    """The serial port cannot be opened or stopped working (EIO, unplugged, closed)."""


class ModemRestarted(TransportError):
    """The modem announced a restart (``RDY``, ``*ATREADY``…) while a command waited: that
    command's answer will never come, and the session's settings are gone with the reboot."""

    def __init__(self, line: str) -> None:
        super().__init__(f"the modem restarted ({line}) while a command waited")
        self.line = line


class ModemTimeout(ModemError, TimeoutError):
    """A command got no final result in time; the session has abandoned it."""

    def __init__(self, command: str, seconds: float) -> None:
        super().__init__(f"{command}: no answer within {seconds:g} s")
        self.command = command
        self.seconds = seconds


class Unconfirmed(ModemError):
    """The PDU was written after the ``> `` prompt, then the answer was lost (timeout, unplug).

    The network may or may not have taken the part. The cause is ``__cause__``.
    """

    def __init__(self, command: str, reason: str) -> None:
        super().__init__(f"{command}: {reason} after the message was written")
        self.command = command


class ModemUnavailable(ModemError):
    """The modem is not ready: ``state`` is the supervisor's (connecting, down, sim-locked)."""

    def __init__(self, state: str) -> None:
        super().__init__(f"modem is {state}")
        self.state = state
