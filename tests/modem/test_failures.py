"""Submit failures sort into transient / modem / permanent by the 3GPP tables, one test each."""

from __future__ import annotations

import pytest

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
from smscat.modem.failures import CME, CME_CAUSE, CMS, CMS_CAUSE, classify, modem_cause


def cms(code: int) -> CmsError:
    return CmsError("AT+CMGS=20", f"+CMS ERROR: {code}", code)


def cme(code: int) -> CmeError:
    return CmeError("AT+CMGS=20", f"+CME ERROR: {code}", code)


@pytest.mark.parametrize(
    "exc",
    [
        cms(42),  # congestion
        cms(332),  # network timeout
        cms(500),  # the catch-all
        cms(514),  # a vendor code nobody documented: believed transient, attempts bound it
        cme(14),  # SIM busy
        cme(515),  # device busy
        CmsError("AT+CMGS=20", "+CMS ERROR: Unknown error", None),  # text form, no code
        CommandError("AT+CMGS=20", "ERROR"),
        ModemTimeout("AT+CMGS=20", 120),
        Unconfirmed("AT+CMGS=20", "no answer"),
    ],
)
def test_transient(exc: Exception) -> None:
    assert classify(exc) == "transient"


@pytest.mark.parametrize(
    "exc",
    [
        cms(8),  # operator determined barring: the SIM, not the message
        cms(310),  # SIM not inserted
        cms(311),  # SIM PIN required
        cms(330),  # SMSC address unknown
        cms(331),  # no network service: the SIM is not registered, any message fails
        cme(10),
        cme(11),
        cme(30),
        NotSupported("AT+CMGS=20", "COMMAND NOT SUPPORT"),
        ModemUnavailable("sim-locked"),
        ModemUnavailable("connecting"),
        TransportError("unplugged"),
    ],
)
def test_modem(exc: Exception) -> None:
    assert classify(exc) == "modem"


@pytest.mark.parametrize(
    ("exc", "cause"),
    [
        (cms(8), "barred"),
        (cms(10), "barred"),
        (cms(310), "sim"),
        (cms(311), "sim"),
        (cms(316), "sim"),
        (cms(330), "no-smsc"),
        (cms(331), "no-network"),
        (cms(302), "refused"),
        (cme(11), "sim"),
        (cme(30), "no-network"),
        (NotSupported("AT+CMGS=20", "COMMAND NOT SUPPORT"), "refused"),
        (ModemUnavailable("sim-locked"), "sim"),
        (ModemUnavailable("down"), "port"),
        (TransportError("unplugged"), "port"),
        (cms(28), None),
        (cms(500), None),
    ],
)
def test_modem_cause(exc: Exception, cause: str | None) -> None:
    """A modem failure marks the modem with what went wrong; other kinds mark nothing."""
    assert modem_cause(exc) == cause


def test_transfer_rejected_is_suspect() -> None:
    """RP-Cause 21 may be this SIM's filter as much as the recipient: one try elsewhere."""
    assert classify(cms(21)) == "suspect"


@pytest.mark.parametrize(
    "exc",
    [
        cms(1),  # unassigned number
        cms(28),  # unidentified subscriber
        cms(96),  # invalid mandatory information
        cms(304),  # invalid PDU mode parameter
        EncodeError("text too long"),
        PduError("TP-UDL too large"),
    ],
)
def test_permanent(exc: Exception) -> None:
    assert classify(exc) == "permanent"


def test_tables_use_only_the_four_kinds() -> None:
    kinds = {"transient", "modem", "suspect", "permanent"}
    assert set(CMS.values()) | set(CME.values()) == kinds


def test_every_modem_code_has_a_cause_or_is_a_refusal() -> None:
    """The cause tables name only modem-level codes: a message-level code never marks a SIM."""
    assert all(CMS[code] == "modem" for code in CMS_CAUSE)
    assert all(CME[code] == "modem" for code in CME_CAUSE)


def test_anything_else_is_refused() -> None:
    with pytest.raises(TypeError):
        classify(ValueError("not from the driver"))
