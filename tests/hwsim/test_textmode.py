"""Text mode (+CMGF=1): +CMGS/+CMGL/+CMGR/+CMT/+CDS under each +CSCS, and +CSDH."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.hwsim import textmode
from smscat.hwsim.engine import SimModem, Timer
from smscat.hwsim.service import Simulator
from tests.support.atport import AtPort
from tests.support.strategies import GSM_CHARS

NOW = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)  # 10:30 in China: the SCTS shows +32 quarters
TO = "+8613800138000"
UCS2_TO = "002B0038003600310033003800300030003100330038003000300030"


def modem() -> SimModem:
    sim = SimModem(now=lambda: NOW, report_delay=0)
    assert talk(sim, b"ATE0;+CMGF=1\r") == b"ATE0;+CMGF=1\r\r\nOK\r\n"
    return sim


def talk(sim: SimModem, data: bytes) -> bytes:
    return b"".join(item for item in sim.receive(data) if isinstance(item, bytes))


def test_cmgf_reads_and_tests() -> None:
    sim = modem()
    assert talk(sim, b"AT+CMGF?\r") == b"\r\n+CMGF: 1\r\n\r\nOK\r\n"
    assert talk(sim, b"AT+CMGF=?\r") == b"\r\n+CMGF: (0,1)\r\n\r\nOK\r\n"
    assert talk(sim, b"AT+CSDH=?\r") == b"\r\n+CSDH: (0,1)\r\n\r\nOK\r\n"
    assert talk(sim, b"AT+CMGL=?\r") == (
        b'\r\n+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")\r\n\r\nOK\r\n'
    )


@pytest.mark.parametrize(
    ("cscs", "address", "body", "text"),
    [
        ("IRA", b'"+8613800138000"', b"Hello world", "Hello world"),
        ("GSM", b'"+8613800138000"', b"\x00 costs \x01 5", "@ costs £ 5"),
        ("HEX", b'"2B38363133383030313338303030"', b"486921", "Hi!"),
        ("UCS2", b'"' + UCS2_TO.encode() + b'"', b"00480069", "Hi"),
    ],
)
def test_cmgs_takes_the_body_in_the_te_character_set(
    cscs: str, address: bytes, body: bytes, text: str
) -> None:
    sim = modem()
    assert talk(sim, f'AT+CSCS="{cscs}"\r'.encode()) == b"\r\nOK\r\n"
    assert talk(sim, b"AT+CMGS=" + address + b"\r") == b"\r\n> "
    assert talk(sim, body + b"\x1a") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    [sent] = sim.sent
    assert (sent.to, sent.text, sent.total) == (TO, text, 1)


def test_ucs2_data_coding_takes_hex_octets_whatever_the_charset() -> None:
    sim = modem()
    assert talk(sim, b"AT+CSMP=17,167,0,8\r") == b"\r\nOK\r\n"
    assert talk(sim, b'AT+CMGS="+8613800138000"\r') == b"\r\n> "
    assert talk(sim, b"4F60597DD83DDE00\x1a") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    assert sim.sent[0].text == "你好😀"


def test_esc_in_a_gsm_charset_body_cancels_the_send() -> None:
    # The GSM escape (0x1B) is also ESC: typing € raw in the GSM charset aborts, as on a modem.
    sim = modem()
    assert talk(sim, b'AT+CSCS="GSM"\r') == b"\r\nOK\r\n"
    assert talk(sim, b'AT+CMGS="+8613800138000"\r') == b"\r\n> "
    assert talk(sim, b"\x1b\x65uro\x1a") == b"\r\nOK\r\n"
    assert sim.sent == []


def test_each_cr_in_the_body_gives_a_new_prompt_and_stays_in_the_text() -> None:
    sim = modem()
    assert talk(sim, b'AT+CMGS="13800138000"\r') == b"\r\n> "
    assert talk(sim, b"line one\r") == b"\r\n> "
    assert talk(sim, b"line two\x1a") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    assert sim.sent[0].text == "line one\rline two"
    assert sim.sent[0].to == "13800138000"


@pytest.mark.parametrize(
    ("setup", "body"),
    [
        (b"AT\r", "你好".encode()),  # IRA cannot carry Chinese
        (b'AT+CSCS="HEX"\r', b"4G"),  # not hex
        (b"AT+CSMP=17,167,0,8\r", b"4F6"),  # odd hex for UCS2
        (b"AT\r", b"x" * 161),  # longer than one SMS
        (b'AT+CSCS="UCS2"\r', "中".encode("utf-16-be").hex().encode()),  # 4E2D is not GSM
    ],
)
def test_bodies_the_settings_cannot_carry_are_cms_305(setup: bytes, body: bytes) -> None:
    sim = modem()
    assert talk(sim, setup) == b"\r\nOK\r\n"
    address = textmode.to_te(TO, sim.settings.cscs)
    assert talk(sim, b'AT+CMGS="' + address + b'"\r') == b"\r\n> "
    assert talk(sim, body + b"\x1a") == b"\r\n+CMS ERROR: 305\r\n"
    assert sim.sent == []


def test_cmgl_and_cmgr_with_and_without_csdh() -> None:
    sim = modem()
    sim.network_sms(TO, "你好")
    sim.network_sms("10086", "Balance low")
    assert talk(sim, b'AT+CMGL="ALL"\r') == (
        b'\r\n+CMGL: 1,"REC UNREAD","+8613800138000",,"26/11/23,10:30:00+32"\r\n4F60597D\r\n'
        b'+CMGL: 2,"REC UNREAD","10086",,"26/11/23,10:30:00+32"\r\nBalance low\r\n\r\nOK\r\n'
    )
    assert talk(sim, b'AT+CMGL="REC UNREAD"\r') == b"\r\nOK\r\n"  # listing marked them read
    assert talk(sim, b"AT+CMGR=2\r") == (
        b'\r\n+CMGR: "REC READ","10086",,"26/11/23,10:30:00+32"\r\nBalance low\r\n\r\nOK\r\n'
    )
    assert talk(sim, b"AT+CSDH=1\r") == b"\r\nOK\r\n"
    assert talk(sim, b"AT+CMGR=1\r") == (
        b'\r\n+CMGR: "REC READ","+8613800138000",,"26/11/23,10:30:00+32",145,4,0,8,'
        b'"+8613800100500",145,4\r\n4F60597D\r\n\r\nOK\r\n'
    )
    assert talk(sim, b'AT+CMGL="REC READ"\r').startswith(
        b'\r\n+CMGL: 1,"REC READ","+8613800138000",,"26/11/23,10:30:00+32",145,4\r\n'
    )
    assert talk(sim, b"AT+CMGL=4\r") == b"\r\n+CMS ERROR: 305\r\n"  # text mode wants names


def test_cmgr_addresses_follow_cscs() -> None:
    sim = modem()
    sim.network_sms("10086", "Hi")
    assert talk(sim, b'AT+CSCS="UCS2"\r') == b"\r\nOK\r\n"
    assert talk(sim, b"AT+CMGR=1\r") == (
        b'\r\n+CMGR: "REC UNREAD","00310030003000380036",,"26/11/23,10:30:00+32"\r\n'
        b"00480069\r\n\r\nOK\r\n"
    )


def test_long_message_parts_show_their_header_as_hex() -> None:
    sim = modem()
    sim.network_sms(TO, "a" * 170)  # two GSM-7 parts with a concatenation header
    listing = talk(sim, b"AT+CMGR=1\r")
    data = listing.split(b"\r\n")[2]
    assert data.startswith(b"050003")  # UDH: length 5, IEI 0, length 3
    assert set(data) <= set(b"0123456789ABCDEF")


def test_cmt_in_text_mode() -> None:
    sim = modem()
    assert talk(sim, b"AT+CNMI=2,2;+CSDH=1\r") == b"\r\nOK\r\n"
    _parts, _ref, out = sim.network_sms(TO, "Hi @ 5")
    assert b"".join(o for o in out if isinstance(o, bytes)) == (
        b'\r\n+CMT: "+8613800138000",,"26/11/23,10:30:00+32",145,4,0,0,"+8613800100500",145,6'
        b"\r\nHi @ 5\r\n"
    )


def test_cds_in_text_mode() -> None:
    sim = modem()
    assert talk(sim, b"AT+CSMP=49,167,0,0;+CNMI=2,1,0,1\r") == b"\r\nOK\r\n"  # fo 49: SRR
    assert talk(sim, b'AT+CMGS="+8613800138000"\r') == b"\r\n> "
    out = sim.receive(b"report\x1a")
    [timer] = [o for o in out if isinstance(o, Timer)]
    assert talk_out(sim.on_timer(timer.key)) == (
        b'\r\n+CDS: 6,0,"+8613800138000",145,"26/11/23,10:30:00+32","26/11/23,10:30:00+32",0\r\n'
    )


def talk_out(out: list[object]) -> bytes:
    return b"".join(o for o in out if isinstance(o, bytes))


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_ucs2_charset_round_trips_any_text(text: str) -> None:
    assert textmode.from_te(textmode.to_te(text, "UCS2"), "UCS2") == text


@given(st.text(alphabet=st.sampled_from(GSM_CHARS), max_size=40))
def test_gsm_and_hex_charsets_round_trip_gsm_text(text: str) -> None:
    for cscs in ("GSM", "HEX"):
        assert textmode.from_te(textmode.to_te(text, cscs), cscs) == text


async def test_text_mode_over_the_pty(sim: Simulator, port: AtPort) -> None:
    assert await port.command(b'ATE0;+CMGF=1;+CSCS="GSM"\r') == (
        b'ATE0;+CMGF=1;+CSCS="GSM"\r\r\nOK\r\n'
    )
    assert await port.command(b'AT+CMGS="+8613800138000"\r') == b"\r\n> "
    assert await port.command(b"OK is not a result here\x1a") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    assert [m.text for m in sim.engine.sent] == ["OK is not a result here"]
