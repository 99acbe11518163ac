"""What a failed submit means for the next attempt: a table of error results, not guesswork.

Four kinds, because the caller does four different things:

* ``transient`` — try the same part again soon, on the same modem (congestion, a busy SIM, a
  network timeout, a modem that did not answer). Each such try is one of the message's attempts.
* ``modem`` — this modem or SIM cannot send now, whatever the message (no network service, no
  SIM, PIN needed, SMSC unknown, barred by the operator, the port gone): the *modem* is marked
  (see :func:`modem_cause`), the message keeps all its attempts and goes through another modem,
  or waits until one can send.
* ``suspect`` — refused, and the cause may be this SIM as much as the message (RP-Cause 21,
  "short message transfer rejected": an operator's content or spam filter says the same): try
  the whole message once from another SIM; refused there too, it is permanent.
* ``permanent`` — this message will never go as it is (unassigned or unknown subscriber,
  rejected PDU): mark it failed and show that; retrying only repeats the refusal.

Sources: 3GPP TS 27.005 §3.2.5 (<err> 300–500 from the ME), TS 24.011 Table 8.4 (RP-Cause
values the network sends back, 1–127 as +CMS ERROR), TS 27.007 §9.2 (+CME ERROR). A code not in
the tables is ``transient`` (CMS 500 is the catch-all and usually passes), and ``attempts``
bound how often that is believed. Pure: no I/O, no clock.
"""

from __future__ import annotations

from typing import Final, Literal

from smscat.modem.errors import (
    CmeError,
    CmsError,
    CommandError,
    EncodeError,
    ModemTimeout,
    ModemUnavailable,
    NotSupported,
    PduError,
    TransportError,
    Unconfirmed,
)

FailureKind = Literal["transient", "modem", "suspect", "permanent"]
# Why a modem cannot send (the mark a ``modem`` failure leaves on it):
ModemCause = Literal["no-network", "barred", "no-smsc", "sim", "refused", "port"]

CMS: Final[dict[int, FailureKind]] = {
    # 24.011 RP-Cause: the network refused this message for this recipient
    1: "permanent",  # unassigned (unallocated) number
    8: "modem",  # operator determined barring (the SIM is barred, e.g. unpaid)
    10: "modem",  # call barred
    21: "suspect",  # short message transfer rejected (this SIM's content, or the recipient)
    27: "transient",  # destination out of service
    28: "permanent",  # unidentified subscriber
    29: "modem",  # facility rejected
    30: "permanent",  # unknown subscriber
    38: "transient",  # network out of order
    41: "transient",  # temporary failure
    42: "transient",  # congestion
    47: "transient",  # resources unavailable, unspecified
    50: "modem",  # requested facility not subscribed
    69: "modem",  # requested facility not implemented
    81: "permanent",  # invalid short message transfer reference value
    95: "permanent",  # invalid message, unspecified
    96: "permanent",  # invalid mandatory information
    97: "permanent",  # message type non-existent or not implemented
    98: "transient",  # message not compatible with short message protocol state
    99: "permanent",  # information element non-existent or not implemented
    111: "transient",  # protocol error, unspecified
    127: "transient",  # interworking, unspecified
    # 27.005 §3.2.5: the ME itself
    300: "transient",  # ME failure
    301: "modem",  # SMS service of ME reserved
    302: "modem",  # operation not allowed
    303: "modem",  # operation not supported
    304: "permanent",  # invalid PDU mode parameter
    305: "permanent",  # invalid text mode parameter
    310: "modem",  # SIM not inserted
    311: "modem",  # SIM PIN required
    312: "modem",  # PH-SIM PIN required
    313: "modem",  # SIM failure
    314: "transient",  # SIM busy
    315: "modem",  # SIM wrong
    316: "modem",  # SIM PUK required
    317: "modem",  # SIM PIN2 required
    318: "modem",  # SIM PUK2 required
    330: "modem",  # SMSC address unknown
    331: "modem",  # no network service (not registered: the SIM, not the message)
    332: "transient",  # network timeout
    500: "transient",  # unknown error
}

CME: Final[dict[int, FailureKind]] = {
    3: "modem",  # operation not allowed
    4: "modem",  # operation not supported
    5: "modem",  # PH-SIM PIN required
    10: "modem",  # SIM not inserted
    11: "modem",  # SIM PIN required
    12: "modem",  # SIM PUK required
    13: "modem",  # SIM failure
    14: "transient",  # SIM busy
    15: "modem",  # SIM wrong
    30: "modem",  # no network service
    31: "transient",  # network timeout
    100: "transient",  # unknown
    515: "transient",  # device busy (vendor range, SIMCom/Quectel)
}


# What a ``modem`` result says about the modem; a code not here is "refused" (the modem will
# not do it now: 301-303, facility not subscribed…), a mark that a person or time clears.
CMS_CAUSE: Final[dict[int, ModemCause]] = {
    8: "barred",
    10: "barred",
    29: "barred",
    50: "barred",
    310: "sim",
    311: "sim",
    312: "sim",
    313: "sim",
    315: "sim",
    316: "sim",
    317: "sim",
    318: "sim",
    330: "no-smsc",
    331: "no-network",
}
CME_CAUSE: Final[dict[int, ModemCause]] = {
    5: "sim",
    10: "sim",
    11: "sim",
    12: "sim",
    13: "sim",
    15: "sim",
    30: "no-network",
}


def classify(exc: BaseException) -> FailureKind:
    """The kind of a submit failure raised by the driver (see the module docstring)."""
    match exc:
        case CmsError(code=int(code)):
            return CMS.get(code, "transient")
        case CmeError(code=int(code)):
            return CME.get(code, "transient")
        case NotSupported():
            return "modem"  # this modem does not do what we asked: another one might
        case TransportError() | ModemUnavailable():
            return "modem"  # the port went away, or the modem is not (yet) back
        case CommandError() | ModemTimeout() | Unconfirmed():
            return "transient"  # a bare ERROR, no answer
        case EncodeError() | PduError():
            return "permanent"  # our input, not the modem
        case _:
            raise TypeError(f"not a modem failure: {type(exc).__name__}")


def modem_cause(exc: BaseException) -> ModemCause | None:
    """What a ``modem`` failure says about the modem (None for the other kinds)."""
    if classify(exc) != "modem":
        return None
    match exc:
        case CmsError(code=int(code)):
            return CMS_CAUSE.get(code, "refused")
        case CmeError(code=int(code)):
            return CME_CAUSE.get(code, "refused")
        case ModemUnavailable(state="sim-locked"):
            return "sim"
        case TransportError() | ModemUnavailable():
            return "port"
        case _:
            return "refused"  # NotSupported


def summary(exc: BaseException) -> str:
    """A few words on a driver failure for people watching the modem: no command, no PDU.

    Exception texts can hold a command line (and so a PIN or a PDU); this never does.
    """
    match exc:
        case CmsError(code=int(code)):
            return f"+CMS ERROR {code}"
        case CmeError(code=int(code)):
            return f"+CME ERROR {code}"
        case NotSupported():
            return "command not supported"
        case CommandError():
            return "ERROR"
        case Unconfirmed():
            return "answer lost after the PDU"
        case ModemTimeout():
            return "no answer"
        case TransportError():
            return "port lost"
        case ModemUnavailable(state=str(state)):
            return f"not ready ({state})"
        case EncodeError() | PduError():
            return "message cannot be encoded"
        case _:
            return type(exc).__name__
