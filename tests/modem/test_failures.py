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
from smscat.modem.failures import CME, CMS, classify


def cms(code: int) -> CmsError:
    return CmsError("AT+CMGS=20", f"+CMS ERROR: {code}", code)


def cme(code: int) -> CmeError:
    return CmeError("AT+CMGS=20", f"+CME ERROR: {code}", code)


@pytest.mark.parametrize(
    "exc",
    [
        cms(42),  # congestion
        cms(331),  # no network service
        cms(332),  # network timeout
        cms(500),  # the catch-all
        cms(514),  # a vendor code nobody documented: believed transient, attempts bound it
        cme(14),  # SIM busy
        cme(515),  # device busy
        CmsError("AT+CMGS=20", "+CMS ERROR: Unknown error", None),  # text form, no code
        CommandError("AT+CMGS=20", "ERROR"),
        ModemTimeout("AT+CMGS=20", 120),
        TransportError("unplugged"),
        Unconfirmed("AT+CMGS=20", "no answer"),
        ModemUnavailable("connecting"),
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
        cme(10),
        cme(11),
        NotSupported("AT+CMGS=20", "COMMAND NOT SUPPORT"),
        ModemUnavailable("sim-locked"),
    ],
)
def test_modem(exc: Exception) -> None:
    assert classify(exc) == "modem"


@pytest.mark.parametrize(
    "exc",
    [
        cms(1),  # unassigned number
        cms(21),  # transfer rejected
        cms(96),  # invalid mandatory information
        cms(304),  # invalid PDU mode parameter
        EncodeError("text too long"),
        PduError("TP-UDL too large"),
    ],
)
def test_permanent(exc: Exception) -> None:
    assert classify(exc) == "permanent"


def test_tables_use_only_the_three_kinds() -> None:
    assert set(CMS.values()) | set(CME.values()) == {"transient", "modem", "permanent"}


def test_anything_else_is_refused() -> None:
    with pytest.raises(TypeError):
        classify(ValueError("not from the driver"))
