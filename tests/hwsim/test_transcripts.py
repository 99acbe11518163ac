"""Raw AT bytes over the simulator's pty, and the exact bytes it answers (27.005/27.007 framing).

Each command's transcript is asserted whole: echo, the info lines with their CR LF framing, the
final result code. Stored SMS are read back and decoded with the simulator's own PDU codec.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from smscat.hwsim import pdu
from smscat.hwsim.service import SimOptions, Simulator, running
from tests.support.atport import AtPort
from tests.support.simclient import (
    SENDER,
    SMSC,
    URC_WAIT,
    decode_stored,
    get_json,
    post_sms,
    submit,
    submit_body,
)

URC_AFTER_RESULT = re.compile(rb"\r\n(OK|ERROR|\+CM[ES] ERROR: [^\r]*)\r\n\r\n\+CMTI: [^\r]*\r\n$")


# -- helpers ----------------------------------------------------------------------------------


async def command_then_urc(port: AtPort, line: bytes) -> bytes:
    """Send ``line``; return its answer and the URC the modem writes right after the result.

    ``port.command`` stops at a final result code that ends the buffer; here the +CMTI comes in
    the same write, after the OK, so the read waits for it instead.
    """
    await port.send(line)
    answer = await port.read_until(URC_AFTER_RESULT)
    return answer + await port.quiet(URC_WAIT)


def deliver_hex(
    text: str, scts: datetime, *, sender: str = SENDER, concat: pdu.Concat | None = None
) -> tuple[int, bytes]:
    """(TPDU length, hex) of the SMS-DELIVER a phone's ``text`` must be stored as."""
    kind, _ = pdu.split_text(text)
    tpdu = pdu.encode_deliver(sender, text, scts, concat=concat, force_ucs2=kind == "ucs2")
    return len(tpdu), (pdu.encode_smsc(SMSC) + tpdu).hex().upper().encode()


def assert_recent(scts: datetime) -> None:
    assert scts.utcoffset() == timedelta(hours=8)  # the network's local time: China
    assert abs(datetime.now(UTC) - scts) < timedelta(minutes=1)


@contextlib.asynccontextmanager
async def modem(
    tmp_path: Path, *, slots: int = 30, index_base: int = 1
) -> AsyncIterator[tuple[Simulator, AtPort, aiohttp.ClientSession]]:
    """A simulator with non-default options (slots, index_base), its port and control API."""
    async with (
        running(SimOptions(tmp_path / "modem", slots=slots, index_base=index_base)) as sim,
        AtPort(sim.link) as port,
        aiohttp.ClientSession(base_url=sim.control_url) as control,
    ):
        yield sim, port, control


# -- V.250 basics -----------------------------------------------------------------------------


async def test_echo_is_on_at_power_up(port: AtPort) -> None:
    assert await port.command(b"AT\r") == b"AT\r\r\nOK\r\n"


async def test_ate0_and_ate1_switch_echo(port: AtPort) -> None:
    assert await port.command(b"ATE0\r") == b"ATE0\r\r\nOK\r\n"  # echoed before it runs
    assert await port.command(b"AT\r") == b"\r\nOK\r\n"
    assert await port.command(b"AT+CSQ\r") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    assert await port.command(b"ATE1\r") == b"\r\nOK\r\n"
    assert await port.command(b"AT\r") == b"AT\r\r\nOK\r\n"
    assert await port.command(b"ATE\r") == b"ATE\r\r\nOK\r\n"  # E alone is E0 (V.250)
    assert await port.command(b"AT\r") == b"\r\nOK\r\n"
    assert await port.command(b"ATE2\r") == b"\r\nERROR\r\n"


async def test_atz_puts_settings_back_to_power_up(port: AtPort) -> None:
    setup = b'AT+CMEE=2;+CMGF=1;+CNMI=2,1;+CREG=2;+CEREG=1;+COPS=3,2;+CSCS="UCS2";+CMMS=1\r'
    assert await port.command(setup) == setup + b"\r\nOK\r\n"
    assert await port.command(b"ATE0\r") == b"ATE0\r\r\nOK\r\n"
    assert await port.command(b"ATZ\r") == b"\r\nOK\r\n"  # typed with echo off
    assert await port.command(b"AT\r") == b"AT\r\r\nOK\r\n"  # echo is back
    queries = b"AT+CMEE?;+CMGF?;+CNMI?;+CREG?;+CEREG?;+COPS?;+CSCS?;+CMMS?;+CSCA?\r"
    assert await port.command(queries) == queries + (
        b"\r\n+CMEE: 0\r\n"
        b"\r\n+CMGF: 0\r\n"
        b"\r\n+CNMI: 0,0,0,0,0\r\n"
        b"\r\n+CREG: 0,1\r\n"
        b"\r\n+CEREG: 0,1\r\n"
        b'\r\n+COPS: 0,0,"CHINA MOBILE",7\r\n'
        b'\r\n+CSCS: "IRA"\r\n'
        b"\r\n+CMMS: 0\r\n"
        b'\r\n+CSCA: "+8613800100500",145\r\n'
        b"\r\nOK\r\n"
    )
    assert await port.command(b"AT+CMEE=7\r") == b"AT+CMEE=7\r\r\nERROR\r\n"  # CMEE 0 again


async def test_at_and_f_also_restores_defaults(port: AtPort) -> None:
    assert await port.command(b"AT+CMEE=1\r") == b"AT+CMEE=1\r\r\nOK\r\n"
    assert await port.command(b"AT&F\r") == b"AT&F\r\r\nOK\r\n"
    assert await port.command(b"AT+CMEE?\r") == b"AT+CMEE?\r\r\n+CMEE: 0\r\n\r\nOK\r\n"


async def test_ati_identifies_the_modem(port: AtPort) -> None:
    assert await port.command(b"ATI\r") == (
        b"ATI\r\r\nSIMCOM INCORPORATED\r\nSIMCOM_SIM7600G-H\r\nRevision: LE20B04SIM7600G22\r\n"
        b"\r\nOK\r\n"
    )


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        (b"AT+CGMI", b"SIMCOM INCORPORATED"),
        (b"AT+CGMM", b"SIMCOM_SIM7600G-H"),
        (b"AT+CGMR", b"+CGMR: LE20B04SIM7600G22"),
        (b"AT+CGSN", b"867584030123454"),
        (b"AT+CIMI", b"460001234567890"),
    ],
)
async def test_identity_commands(port: AtPort, command: bytes, answer: bytes) -> None:
    assert await port.command(command + b"\r") == command + b"\r\r\n" + answer + b"\r\n\r\nOK\r\n"
    assert await port.command(command + b"=?\r") == command + b"=?\r\r\nOK\r\n"
    assert await port.command(command + b"?\r") == command + b"?\r\r\nERROR\r\n"


async def test_lower_case_commands_are_accepted(port: AtPort) -> None:
    assert await port.command(b"at+csq\r") == b"at+csq\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n"


# -- errors -----------------------------------------------------------------------------------


async def test_cmee_read_and_test(port: AtPort) -> None:
    assert await port.command(b"AT+CMEE?\r") == b"AT+CMEE?\r\r\n+CMEE: 0\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CMEE=?\r") == b"AT+CMEE=?\r\r\n+CMEE: (0-2)\r\n\r\nOK\r\n"


@pytest.mark.parametrize(
    ("cmee", "cme", "cms"),
    [
        (b"0", b"ERROR", b"+CMS ERROR: 304"),
        (b"1", b"+CME ERROR: 50", b"+CMS ERROR: 304"),
        (b"2", b"+CME ERROR: Incorrect parameters", b"+CMS ERROR: invalid PDU mode parameter"),
    ],
)
async def test_cmee_chooses_how_errors_look(
    port: AtPort, cmee: bytes, cme: bytes, cms: bytes
) -> None:
    set_cmee = b"AT+CMEE=" + cmee + b"\r"
    assert await port.command(set_cmee) == set_cmee + b"\r\nOK\r\n"
    # An equipment error (+CMEE=3 is out of range): ERROR, numeric or verbose.
    assert await port.command(b"AT+CMEE=3\r") == b"AT+CMEE=3\r\r\n" + cme + b"\r\n"
    # A message service error is always +CMS ERROR (27.005 §3.2.5); +CMEE=2 makes it verbose.
    assert await port.command(b"AT+CMGS=0\r") == b"AT+CMGS=0\r\r\n" + cms + b"\r\n"
    # An unknown command is a plain ERROR whatever +CMEE says.
    assert await port.command(b"AT+NOPE\r") == b"AT+NOPE\r\r\nERROR\r\n"


async def test_cms_321_numeric_and_verbose(port: AtPort) -> None:
    assert await port.command(b"AT+CMGR=99\r") == b"AT+CMGR=99\r\r\n+CMS ERROR: 321\r\n"
    assert await port.command(b"AT+CMEE=2\r") == b"AT+CMEE=2\r\r\nOK\r\n"
    assert await port.command(b"AT+CMGR=99\r") == (
        b"AT+CMGR=99\r\r\n+CMS ERROR: invalid memory index\r\n"
    )


@pytest.mark.parametrize(
    "line",
    [b"AT+FOO", b"AT+CSQ?", b"ATX9", b"AT+CGMI=1", b"AT^SYSINFO", b"AT+CPMS", b'AT+CSCS="IRA'],
)
async def test_unknown_or_malformed_commands_are_error(port: AtPort, line: bytes) -> None:
    assert await port.command(line + b"\r") == line + b"\r\r\nERROR\r\n"


async def test_a_line_without_at_is_ignored(port: AtPort) -> None:
    await port.send(b"HELLO\r")
    assert await port.command(b"AT\r") == b"HELLO\rAT\r\r\nOK\r\n"  # echoed, never answered


# -- SIM and network --------------------------------------------------------------------------


async def test_cpin_reports_ready(port: AtPort) -> None:
    assert await port.command(b"AT+CPIN?\r") == b"AT+CPIN?\r\r\n+CPIN: READY\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CPIN=?\r") == b"AT+CPIN=?\r\r\nOK\r\n"
    assert await port.command(b"AT+CMEE=1\r") == b"AT+CMEE=1\r\r\nOK\r\n"
    assert await port.command(b'AT+CPIN="1234"\r') == b'AT+CPIN="1234"\r\r\n+CME ERROR: 3\r\n'


async def test_csq(port: AtPort) -> None:
    assert await port.command(b"AT+CSQ\r") == b"AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CSQ=?\r") == (
        b"AT+CSQ=?\r\r\n+CSQ: (0-31,99),(0-7,99)\r\n\r\nOK\r\n"
    )


@pytest.mark.parametrize(
    ("name", "location"),
    [(b"+CREG", b',"1A2B","4E5F"'), (b"+CEREG", b',"1A2B","0C3D4E5F",7')],
)
async def test_registration_status_in_every_mode(
    port: AtPort, name: bytes, location: bytes
) -> None:
    async def check(line: bytes, answer: bytes | None) -> None:
        framed = b"\r\n" + answer + b"\r\n" if answer else b""
        assert await port.command(b"AT" + line + b"\r") == (
            b"AT" + line + b"\r" + framed + b"\r\nOK\r\n"
        )

    await check(name + b"=?", name + b": (0-2)")
    await check(name + b"?", name + b": 0,1")
    await check(name + b"=1", None)
    await check(name + b"?", name + b": 1,1")
    await check(name + b"=2", None)
    await check(name + b"?", name + b": 2,1" + location)  # lac/tac and cell id in hex
    await check(name + b"=0", None)
    await check(name + b"?", name + b": 0,1")
    bad = b"AT" + name + b"=3\r"
    assert await port.command(bad) == bad + b"\r\nERROR\r\n"


async def test_cops_names_and_the_format_switch(port: AtPort) -> None:
    assert await port.command(b"AT+COPS?\r") == (
        b'AT+COPS?\r\r\n+COPS: 0,0,"CHINA MOBILE",7\r\n\r\nOK\r\n'
    )
    assert await port.command(b"AT+COPS=?\r") == (
        b'AT+COPS=?\r\r\n+COPS: (2,"CHINA MOBILE","CMCC","46000",7),,(0-4),(0-2)\r\n\r\nOK\r\n'
    )
    assert await port.command(b"AT+COPS=3,2\r") == b"AT+COPS=3,2\r\r\nOK\r\n"
    assert await port.command(b"AT+COPS?\r") == b'AT+COPS?\r\r\n+COPS: 0,2,"46000",7\r\n\r\nOK\r\n'
    assert await port.command(b"AT+COPS=3,1\r") == b"AT+COPS=3,1\r\r\nOK\r\n"
    assert await port.command(b"AT+COPS?\r") == b'AT+COPS?\r\r\n+COPS: 0,1,"CMCC",7\r\n\r\nOK\r\n'
    assert await port.command(b"AT+COPS=0\r") == b"AT+COPS=0\r\r\nOK\r\n"
    assert await port.command(b"AT+COPS=3,3\r") == b"AT+COPS=3,3\r\r\nERROR\r\n"


# -- SMS settings -----------------------------------------------------------------------------


async def test_cmgf(port: AtPort) -> None:
    assert await port.command(b"AT+CMGF?\r") == b"AT+CMGF?\r\r\n+CMGF: 0\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CMGF=?\r") == b"AT+CMGF=?\r\r\n+CMGF: (0,1)\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CMGF=1\r") == b"AT+CMGF=1\r\r\nOK\r\n"
    assert await port.command(b"AT+CMGF?\r") == b"AT+CMGF?\r\r\n+CMGF: 1\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CMGF=2\r") == b"AT+CMGF=2\r\r\nERROR\r\n"
    assert await port.command(b"AT+CMGF=0\r") == b"AT+CMGF=0\r\r\nOK\r\n"
    assert await port.command(b"AT+CMGF?\r") == b"AT+CMGF?\r\r\n+CMGF: 0\r\n\r\nOK\r\n"


async def test_cscs_and_strings_in_ucs2_and_hex(port: AtPort) -> None:
    assert await port.command(b"AT+CSCS=?\r") == (
        b'AT+CSCS=?\r\r\n+CSCS: ("IRA","GSM","UCS2","HEX")\r\n\r\nOK\r\n'
    )
    assert await port.command(b"AT+CSCS?\r") == b'AT+CSCS?\r\r\n+CSCS: "IRA"\r\n\r\nOK\r\n'
    assert await port.command(b'AT+CSCS="UCS2"\r') == b'AT+CSCS="UCS2"\r\r\nOK\r\n'
    assert await port.command(b"AT+CSCS?\r") == b'AT+CSCS?\r\r\n+CSCS: "UCS2"\r\n\r\nOK\r\n'
    # In UCS2 a string parameter is four hex digits a character, as real modules answer.
    ucs2 = b"002B0038003600310033003800300030003100300030003500300030"
    assert (
        await port.command(b"AT+CSCA?\r")
        == b'AT+CSCA?\r\r\n+CSCA: "' + ucs2 + b'",145\r\n\r\nOK\r\n'
    )
    other = b"00310033003800300030003100300030003500300031"  # "13800100501"
    assert (
        await port.command(b'AT+CSCA="' + other + b'"\r') == b'AT+CSCA="' + other + b'"\r\r\nOK\r\n'
    )
    assert (
        await port.command(b"AT+CSCA?\r")
        == b'AT+CSCA?\r\r\n+CSCA: "' + other + b'",129\r\n\r\nOK\r\n'
    )
    assert await port.command(b'AT+CSCA="+861"\r') == b'AT+CSCA="+861"\r\r\n+CMS ERROR: 304\r\n'
    assert await port.command(b'AT+CSCS="HEX"\r') == b'AT+CSCS="HEX"\r\r\nOK\r\n'
    assert await port.command(b"AT+CSCA?\r") == (
        b'AT+CSCA?\r\r\n+CSCA: "3133383030313030353031",129\r\n\r\nOK\r\n'
    )
    assert await port.command(b'AT+CSCS="GSM"\r') == b'AT+CSCS="GSM"\r\r\nOK\r\n'
    assert await port.command(b"AT+CSCA?\r") == (
        b'AT+CSCA?\r\r\n+CSCA: "13800100501",129\r\n\r\nOK\r\n'
    )
    assert await port.command(b'AT+CSCS="KOI8-R"\r') == b'AT+CSCS="KOI8-R"\r\r\nERROR\r\n'
    assert await port.command(b"AT+CMEE=1\r") == b"AT+CMEE=1\r\r\nOK\r\n"
    assert await port.command(b'AT+CSCS="KOI8-R"\r') == b'AT+CSCS="KOI8-R"\r\r\n+CME ERROR: 4\r\n'
    assert await port.command(b"AT+CSCS?\r") == b'AT+CSCS?\r\r\n+CSCS: "GSM"\r\n\r\nOK\r\n'


async def test_csca_read_and_set(port: AtPort) -> None:
    assert await port.command(b"AT+CSCA?\r") == (
        b'AT+CSCA?\r\r\n+CSCA: "+8613800100500",145\r\n\r\nOK\r\n'
    )
    assert await port.command(b"AT+CSCA=?\r") == b"AT+CSCA=?\r\r\nOK\r\n"
    assert await port.command(b'AT+CSCA="+8613800755500"\r') == (
        b'AT+CSCA="+8613800755500"\r\r\nOK\r\n'
    )
    assert await port.command(b"AT+CSCA?\r") == (
        b'AT+CSCA?\r\r\n+CSCA: "+8613800755500",145\r\n\r\nOK\r\n'
    )
    assert await port.command(b'AT+CSCA="13800755500",129\r') == (
        b'AT+CSCA="13800755500",129\r\r\nOK\r\n'
    )
    assert await port.command(b"AT+CSCA?\r") == (
        b'AT+CSCA?\r\r\n+CSCA: "13800755500",129\r\n\r\nOK\r\n'
    )
    assert await port.command(b'AT+CSCA="SMSC"\r') == b'AT+CSCA="SMSC"\r\r\n+CMS ERROR: 304\r\n'


async def test_csmp(port: AtPort) -> None:
    assert await port.command(b"AT+CSMP?\r") == b"AT+CSMP?\r\r\n+CSMP: 17,167,0,0\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CSMP=?\r") == b"AT+CSMP=?\r\r\nOK\r\n"
    assert await port.command(b"AT+CSMP=49,167,0,8\r") == b"AT+CSMP=49,167,0,8\r\r\nOK\r\n"
    assert await port.command(b"AT+CSMP?\r") == b"AT+CSMP?\r\r\n+CSMP: 49,167,0,8\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CSMP=,,,0\r") == b"AT+CSMP=,,,0\r\r\nOK\r\n"
    assert await port.command(b"AT+CSMP?\r") == b"AT+CSMP?\r\r\n+CSMP: 49,167,0,0\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CSMP=17,256\r") == b"AT+CSMP=17,256\r\r\nERROR\r\n"


async def test_cnmi(port: AtPort) -> None:
    assert await port.command(b"AT+CNMI=?\r") == (
        b"AT+CNMI=?\r\r\n+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)\r\n\r\nOK\r\n"
    )
    assert await port.command(b"AT+CNMI?\r") == b"AT+CNMI?\r\r\n+CNMI: 0,0,0,0,0\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CNMI=2,1,0,0,0\r") == b"AT+CNMI=2,1,0,0,0\r\r\nOK\r\n"
    assert await port.command(b"AT+CNMI?\r") == b"AT+CNMI?\r\r\n+CNMI: 2,1,0,0,0\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CNMI=,2\r") == b"AT+CNMI=,2\r\r\nOK\r\n"
    assert await port.command(b"AT+CNMI?\r") == b"AT+CNMI?\r\r\n+CNMI: 2,2,0,0,0\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CNMI=4\r") == b"AT+CNMI=4\r\r\nERROR\r\n"
    assert await port.command(b"AT+CNMI=2,1,1\r") == b"AT+CNMI=2,1,1\r\r\nERROR\r\n"  # bm (0,2)
    assert await port.command(b"AT+CNMI?\r") == b"AT+CNMI?\r\r\n+CNMI: 2,2,0,0,0\r\n\r\nOK\r\n"


async def test_cpms(port: AtPort, control: aiohttp.ClientSession) -> None:
    assert await port.command(b"AT+CPMS=?\r") == (
        b'AT+CPMS=?\r\r\n+CPMS: ("SM","ME","SR"),("SM","ME"),("SM","ME")\r\n\r\nOK\r\n'
    )
    assert await port.command(b"AT+CPMS?\r") == (
        b'AT+CPMS?\r\r\n+CPMS: "SM",0,30,"SM",0,30,"SM",0,30\r\n\r\nOK\r\n'
    )
    assert await post_sms(control, {"from": SENDER, "text": "hello"}) == {"parts": 1, "ref": 1}
    assert await port.command(b'AT+CPMS="SM","SM","SM"\r') == (
        b'AT+CPMS="SM","SM","SM"\r\r\n+CPMS: 1,30,1,30,1,30\r\n\r\nOK\r\n'
    )
    assert (
        await port.command(b'AT+CPMS="ME"\r')
        == b'AT+CPMS="ME"\r\r\n+CPMS: 0,30,1,30,1,30\r\n\r\nOK\r\n'
    )
    assert await port.command(b"AT+CPMS?\r") == (
        b'AT+CPMS?\r\r\n+CPMS: "ME",0,30,"SM",1,30,"SM",1,30\r\n\r\nOK\r\n'
    )
    assert await port.command(b"AT+CMGL=4\r") == b"AT+CMGL=4\r\r\nOK\r\n"  # ME is empty
    assert await port.command(b'AT+CPMS="XX"\r') == b'AT+CPMS="XX"\r\r\n+CMS ERROR: 302\r\n'


async def test_cmms(port: AtPort) -> None:
    assert await port.command(b"AT+CMMS?\r") == b"AT+CMMS?\r\r\n+CMMS: 0\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CMMS=?\r") == b"AT+CMMS=?\r\r\n+CMMS: (0-2)\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CMMS=1\r") == b"AT+CMMS=1\r\r\nOK\r\n"
    assert await port.command(b"AT+CMMS?\r") == b"AT+CMMS?\r\r\n+CMMS: 1\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CMMS=3\r") == b"AT+CMMS=3\r\r\nERROR\r\n"


# -- submitting -------------------------------------------------------------------------------


async def test_cmgs_prompt_then_ctrl_z_submits(port: AtPort) -> None:
    length, body = submit_body("Take one tablet twice a day")
    assert await port.command(b"AT+CMGS=%d\r" % length) == b"AT+CMGS=%d\r\r\n> " % length
    assert await port.command(body + b"\x1a") == body + b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    assert await port.quiet(0.05) == b""


async def test_cmgs_mr_counts_up_per_submit(port: AtPort) -> None:
    replies = [await submit(port, f"message {n}") for n in range(4)]
    assert replies == [b"\r\n+CMGS: %d\r\n\r\nOK\r\n" % mr for mr in range(4)]


async def test_cmgs_with_echo_off(port: AtPort) -> None:
    assert await port.command(b"ATE0\r") == b"ATE0\r\r\nOK\r\n"
    length, body = submit_body("quiet")
    assert await port.command(b"AT+CMGS=%d\r" % length) == b"\r\n> "
    assert await port.command(body + b"\x1a") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"


async def test_cmgs_esc_aborts(port: AtPort, control: aiohttp.ClientSession) -> None:
    length, body = submit_body("never mind")
    assert await port.command(b"AT+CMGS=%d\r" % length) == b"AT+CMGS=%d\r\r\n> " % length
    assert await port.command(body + b"\x1b") == body + b"\r\nOK\r\n"
    assert await get_json(control, "/sent") == []
    assert await submit(port, "after all") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"  # no MR was used


@pytest.mark.parametrize("delta", [-1, 1])
async def test_cmgs_declared_length_must_match_the_tpdu(port: AtPort, delta: int) -> None:
    length, body = submit_body("hello")
    declared = b"AT+CMGS=%d\r" % (length + delta)
    assert await port.command(declared) == declared + b"\r\n> "
    assert await port.command(body + b"\x1a") == body + b"\r\n+CMS ERROR: 304\r\n"


@pytest.mark.parametrize(
    "body",
    [
        b"0011000D9168311932547",  # odd number of hex digits
        b"00XX000D91683119325476F80000000568656C6C6F",  # not hex
        b"0011",  # truncated TPDU
        b"0004000D91683119325476F80000000568656C6C6F",  # an SMS-DELIVER, not a SUBMIT
    ],
)
async def test_cmgs_malformed_pdu_is_cms_304(port: AtPort, body: bytes) -> None:
    assert await port.command(b"AT+CMGS=19\r") == b"AT+CMGS=19\r\r\n> "
    assert await port.command(body + b"\x1a") == body + b"\r\n+CMS ERROR: 304\r\n"


@pytest.mark.parametrize("line", [b"AT+CMGS=0", b"AT+CMGS=165"])
async def test_cmgs_length_out_of_range_gets_no_prompt(port: AtPort, line: bytes) -> None:
    assert await port.command(line + b"\r") == line + b"\r\r\n+CMS ERROR: 304\r\n"


async def test_cmgs_in_text_mode_takes_an_address_not_a_length(port: AtPort) -> None:
    assert await port.command(b"AT+CMGF=1\r") == b"AT+CMGF=1\r\r\nOK\r\n"
    assert await port.command(b'AT+CMGS="+8613800138000"\r') == (
        b'AT+CMGS="+8613800138000"\r\r\n> '
    )
    assert await port.command(b"\x1b") == b"\r\nOK\r\n"
    assert await port.command(b'AT+CMGS="138-0013"\r') == (
        b'AT+CMGS="138-0013"\r\r\n+CMS ERROR: 305\r\n'
    )


# -- receiving --------------------------------------------------------------------------------


async def test_cmti_after_an_sms_is_posted(port: AtPort, control: aiohttp.ClientSession) -> None:
    assert await port.command(b"AT+CNMI=2,1,0,0,0\r") == b"AT+CNMI=2,1,0,0,0\r\r\nOK\r\n"
    assert await post_sms(control, {"from": SENDER, "text": "hello"}) == {"parts": 1, "ref": 1}
    assert await port.quiet(URC_WAIT) == b'\r\n+CMTI: "SM",1\r\n'
    await post_sms(control, {"from": SENDER, "text": "again"})
    assert await port.quiet(URC_WAIT) == b'\r\n+CMTI: "SM",2\r\n'


async def test_no_urc_with_cnmi_at_power_up(port: AtPort, control: aiohttp.ClientSession) -> None:
    await post_sms(control, {"from": SENDER, "text": "silent"})
    assert await port.quiet(URC_WAIT) == b""
    reply = await port.command(b"AT+CMGL\r")  # default <stat>: received unread
    [deliver] = decode_stored(reply)
    assert (deliver.oa, deliver.text) == (SENDER, "silent")


async def test_cmt_when_mt_is_2(port: AtPort, control: aiohttp.ClientSession) -> None:
    assert await port.command(b"AT+CNMI=2,2,0,0,0\r") == b"AT+CNMI=2,2,0,0,0\r\r\nOK\r\n"
    await post_sms(control, {"from": SENDER, "text": "直接显示"})
    urc = await port.quiet(URC_WAIT)
    [deliver] = decode_stored(urc.replace(b"+CMT: ", b"+CMGL: "))
    assert (deliver.oa, deliver.text) == (SENDER, "直接显示")
    assert_recent(deliver.scts)
    length, hex_pdu = deliver_hex("直接显示", deliver.scts)
    assert urc == b"\r\n+CMT: ,%d\r\n%s\r\n" % (length, hex_pdu)
    # Routed to the DTE, not stored.
    assert await port.command(b"AT+CMGL=4\r") == b"AT+CMGL=4\r\r\nOK\r\n"


async def test_cmgl_lists_pdus_and_unread_becomes_read(
    port: AtPort, control: aiohttp.ClientSession
) -> None:
    await post_sms(control, {"from": SENDER, "text": "first"})
    await post_sms(control, {"from": "10086", "text": "话费余额"})
    assert await port.command(b"AT+CMGL=?\r") == b"AT+CMGL=?\r\r\n+CMGL: (0-4)\r\n\r\nOK\r\n"
    reply = await port.command(b"AT+CMGL=4\r")
    first, second = decode_stored(reply)
    assert (first.oa, first.text) == (SENDER, "first")
    assert (second.oa, second.text) == ("10086", "话费余额")
    assert_recent(first.scts)
    len1, pdu1 = deliver_hex("first", first.scts)
    len2, pdu2 = deliver_hex("话费余额", second.scts, sender="10086")
    entries = b"\r\n+CMGL: 1,%%s,,%d\r\n%s\r\n+CMGL: 2,%%s,,%d\r\n%s\r\n" % (len1, pdu1, len2, pdu2)
    assert reply == b"AT+CMGL=4\r" + entries.replace(b"%s", b"0") + b"\r\nOK\r\n"
    # Listed once: now "received read".
    assert await port.command(b"AT+CMGL=0\r") == b"AT+CMGL=0\r\r\nOK\r\n"
    assert await port.command(b"AT+CMGL=1\r") == (
        b"AT+CMGL=1\r" + entries.replace(b"%s", b"1") + b"\r\nOK\r\n"
    )
    assert await port.command(b"AT+CMGL=5\r") == b"AT+CMGL=5\r\r\nERROR\r\n"
    assert await port.command(b'AT+CMGL="ALL"\r') == b'AT+CMGL="ALL"\r\r\n+CMS ERROR: 304\r\n'


async def test_cmgr_reads_marks_read_and_reports_bad_indexes(
    port: AtPort, control: aiohttp.ClientSession
) -> None:
    await post_sms(control, {"from": SENDER, "text": "read me"})
    reply = await port.command(b"AT+CMGR=1\r")
    [deliver] = decode_stored(reply)
    assert (deliver.oa, deliver.text) == (SENDER, "read me")
    length, hex_pdu = deliver_hex("read me", deliver.scts)
    assert reply == b"AT+CMGR=1\r\r\n+CMGR: 0,,%d\r\n%s\r\n\r\nOK\r\n" % (length, hex_pdu)
    assert await port.command(b"AT+CMGR=1\r") == (
        b"AT+CMGR=1\r\r\n+CMGR: 1,,%d\r\n%s\r\n\r\nOK\r\n" % (length, hex_pdu)
    )
    assert await port.command(b"AT+CMGR=2\r") == b"AT+CMGR=2\r\r\nOK\r\n"  # empty slot
    assert await port.command(b"AT+CMGR=30\r") == b"AT+CMGR=30\r\r\nOK\r\n"  # last slot
    assert await port.command(b"AT+CMGR=31\r") == b"AT+CMGR=31\r\r\n+CMS ERROR: 321\r\n"
    assert await port.command(b"AT+CMGR=0\r") == b"AT+CMGR=0\r\r\n+CMS ERROR: 321\r\n"
    assert await port.command(b"AT+CMGR=?\r") == b"AT+CMGR=?\r\r\nOK\r\n"
    assert await port.command(b"AT+CMGR\r") == b"AT+CMGR\r\r\nERROR\r\n"


async def test_cmgd_with_every_delflag(port: AtPort, control: aiohttp.ClientSession) -> None:
    async def used() -> bytes:
        reply = await port.command(b"AT+CMGD=?\r")
        match = re.fullmatch(rb"AT\+CMGD=\?\r\r\n\+CMGD: \(([\d,]*)\),\(0-4\)\r\n\r\nOK\r\n", reply)
        assert match, reply
        return match.group(1)

    assert await used() == b""
    for n in range(5):
        await post_sms(control, {"from": SENDER, "text": f"sms {n}"})
    assert await used() == b"1,2,3,4,5"
    assert await port.command(b"AT+CMGD=2\r") == b"AT+CMGD=2\r\r\nOK\r\n"
    assert await port.command(b"AT+CMGD=2,0\r") == b"AT+CMGD=2,0\r\r\nOK\r\n"  # already empty
    assert await used() == b"1,3,4,5"
    assert (await port.command(b"AT+CMGR=1\r")).endswith(b"\r\nOK\r\n")  # 1 is read now
    assert await port.command(b"AT+CMGD=5,1\r") == b"AT+CMGD=5,1\r\r\nOK\r\n"  # index ignored
    assert await used() == b"3,4,5"
    await port.command(b"AT+CMGR=3\r")
    assert await port.command(b"AT+CMGD=1,2\r") == b"AT+CMGD=1,2\r\r\nOK\r\n"
    assert await used() == b"4,5"
    await port.command(b"AT+CMGR=4\r")
    assert await port.command(b"AT+CMGD=1,3\r") == b"AT+CMGD=1,3\r\r\nOK\r\n"
    assert await used() == b"5"  # unread is kept by flags 1-3
    assert await port.command(b"AT+CMGD=1,4\r") == b"AT+CMGD=1,4\r\r\nOK\r\n"
    assert await used() == b""
    assert await port.command(b"AT+CMGD=31\r") == b"AT+CMGD=31\r\r\n+CMS ERROR: 321\r\n"
    assert await port.command(b"AT+CMGD=1,5\r") == b"AT+CMGD=1,5\r\r\nERROR\r\n"
    assert await port.command(b"AT+CMGD\r") == b"AT+CMGD\r\r\nERROR\r\n"


async def test_full_sim_store_releases_waiting_sms_when_a_slot_is_freed(tmp_path: Path) -> None:
    async with modem(tmp_path, slots=2) as (_, port, control):
        assert await port.command(b"AT+CNMI=2,1\r") == b"AT+CNMI=2,1\r\r\nOK\r\n"
        for n in range(4):
            await post_sms(control, {"from": SENDER, "text": f"sms {n}"})
        assert await port.quiet(URC_WAIT) == b'\r\n+CMTI: "SM",1\r\n\r\n+CMTI: "SM",2\r\n'
        assert await port.command(b"AT+CPMS?\r") == (
            b'AT+CPMS?\r\r\n+CPMS: "SM",2,2,"SM",2,2,"SM",2,2\r\n\r\nOK\r\n'
        )
        state = await get_json(control, "/state")
        assert (state["storage"], state["pending"]) == ({"used": 2, "total": 2, "read": 0}, 2)
        # The network retries as soon as a slot is free: +CMTI right after the OK.
        reply = await command_then_urc(port, b"AT+CMGD=1\r")
        assert reply == b'AT+CMGD=1\r\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'
        [deliver] = decode_stored(await port.command(b"AT+CMGR=1\r"))
        assert deliver.text == "sms 2"
        reply = await command_then_urc(port, b"AT+CMGD=1,4\r")
        assert reply == b'AT+CMGD=1,4\r\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'
        [deliver] = decode_stored(await port.command(b"AT+CMGL=4\r"))
        assert deliver.text == "sms 3"
        assert (await get_json(control, "/state"))["pending"] == 0


async def test_index_base_zero(tmp_path: Path) -> None:
    async with modem(tmp_path, index_base=0) as (_, port, control):
        assert await port.command(b"AT+CNMI=2,1\r") == b"AT+CNMI=2,1\r\r\nOK\r\n"
        await post_sms(control, {"from": SENDER, "text": "zero"})
        assert await port.quiet(URC_WAIT) == b'\r\n+CMTI: "SM",0\r\n'
        reply = await port.command(b"AT+CMGL=4\r")
        [deliver] = decode_stored(reply)
        length, hex_pdu = deliver_hex("zero", deliver.scts)
        assert reply == b"AT+CMGL=4\r\r\n+CMGL: 0,0,,%d\r\n%s\r\n\r\nOK\r\n" % (length, hex_pdu)
        assert (await port.command(b"AT+CMGR=0\r")).startswith(b"AT+CMGR=0\r\r\n+CMGR: 1,,")
        assert await port.command(b"AT+CMGR=30\r") == b"AT+CMGR=30\r\r\n+CMS ERROR: 321\r\n"
        assert await port.command(b"AT+CMGD=?\r") == (
            b"AT+CMGD=?\r\r\n+CMGD: (0),(0-4)\r\n\r\nOK\r\n"
        )
        assert await port.command(b"AT+CMGD=0\r") == b"AT+CMGD=0\r\r\nOK\r\n"
        assert await port.command(b"AT+CMGD=?\r") == b"AT+CMGD=?\r\r\n+CMGD: (),(0-4)\r\n\r\nOK\r\n"


async def test_sms_arriving_at_the_prompt_is_announced_after_the_submit(
    port: AtPort, control: aiohttp.ClientSession
) -> None:
    assert await port.command(b"AT+CNMI=2,1\r") == b"AT+CNMI=2,1\r\r\nOK\r\n"
    length, body = submit_body("hello")
    assert await port.command(b"AT+CMGS=%d\r" % length) == b"AT+CMGS=%d\r\r\n> " % length
    await post_sms(control, {"from": SENDER, "text": "meanwhile"})
    assert await port.quiet(URC_WAIT) == b""  # nothing may land inside the PDU
    reply = await command_then_urc(port, body + b"\x1a")
    assert reply == body + b'\r\n+CMGS: 0\r\n\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'


# -- command lines ----------------------------------------------------------------------------


async def test_several_commands_on_one_line(port: AtPort) -> None:
    assert await port.command(b"AT+CMEE=1;+CSQ\r") == (
        b"AT+CMEE=1;+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    )
    assert await port.command(b"AT+CMEE?\r") == b"AT+CMEE?\r\r\n+CMEE: 1\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CGMI;+CGMM\r") == (
        b"AT+CGMI;+CGMM\r\r\nSIMCOM INCORPORATED\r\n\r\nSIMCOM_SIM7600G-H\r\n\r\nOK\r\n"
    )
    # An error stops the line: what ran before keeps its answer, what follows never runs.
    assert await port.command(b"AT+CSQ;+FOO;+CMEE=0\r") == (
        b"AT+CSQ;+FOO;+CMEE=0\r\r\n+CSQ: 20,99\r\n\r\nERROR\r\n"
    )
    # Basic commands chain without a separator; the error uses the +CMEE just set.
    assert await port.command(b"ATE0+CMEE=2;+CMEE=9\r") == (
        b"ATE0+CMEE=2;+CMEE=9\r\r\n+CME ERROR: Incorrect parameters\r\n"
    )
    assert await port.command(b"AT\r") == b"\r\nOK\r\n"


LINES = [
    b"AT+CSQ\r",
    b"ATI\r",
    b"AT+CMEE=1;+CREG?\r",
    b"AT+CMEE=5\r",
    b"AT+FOO\r",
    b'AT+CPMS="SM","SM","SM"\r',
]


@pytest.mark.parametrize("line", LINES)
async def test_a_line_fed_one_byte_at_a_time_answers_as_a_whole_line(
    tmp_path: Path, line: bytes
) -> None:
    async with modem(tmp_path) as (_, whole_port, _control):
        whole = await whole_port.command(line)
    async with modem(tmp_path) as (_, port, _control):
        fed = bytearray()
        for byte in line[:-1]:
            await port.send(bytes([byte]))
            # Wait for the echo, so each byte reaches the modem in a read of its own.
            fed += await port.read_until(re.compile(re.escape(bytes([byte])) + rb"$"))
        fed += await port.command(line[-1:])
    assert bytes(fed) == whole


async def test_a_pdu_fed_one_byte_at_a_time_is_submitted(port: AtPort) -> None:
    length, body = submit_body("slowly")
    assert await port.command(b"AT+CMGS=%d\r" % length) == b"AT+CMGS=%d\r\r\n> " % length
    fed = bytearray()
    for byte in body:
        await port.send(bytes([byte]))
        fed += await port.read_until(re.compile(re.escape(bytes([byte])) + rb"$"))
    fed += await port.command(b"\x1a")
    assert bytes(fed) == body + b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
