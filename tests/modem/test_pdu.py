"""The driver's PDU codec: round trips against the simulator's codec, boundaries, traps, vectors.

The simulator's codec (smscat.hwsim.pdu) is an independent second opinion; the driver's codec
never imports it, only this test does.
"""

from __future__ import annotations

import contextlib
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from smscat.hwsim import gsm7 as sim_gsm7
from smscat.hwsim import pdu as sim
from smscat.modem import pdu
from smscat.modem.address import normalise
from smscat.modem.errors import EncodeError, PduError
from smscat.modem.pdu import Concat, Deliver, StatusReport, Submit
from tests.support.pduvectors import WHEN
from tests.support.strategies import (
    addresses,
    cjk,
    destinations,
    emoji,
    ext_char,
    gsm_char,
    rare_cjk,
    texts,
    timestamps,
)

MOBILE = "+8613800138000"

message_text = st.one_of(
    texts(st.one_of(gsm_char, ext_char)),
    texts(cjk),
    texts(st.one_of(emoji, rare_cjk)),
    texts(st.one_of(cjk, emoji, rare_cjk, gsm_char, ext_char)),
    texts(st.one_of(gsm_char, st.sampled_from(list("`ÿç\f§\x1b\x00")))),
)


def _units(text: str) -> int:
    return len(text.encode("utf-16-be")) // 2


def _septets(text: str) -> int | None:
    values = sim_gsm7.septets(text)
    return None if values is None else len(values)


def _fewest_parts(text: str) -> int:
    """The fewest parts by the simulator's splitter (an independent greedy cut)."""
    return len(sim.split_text(text)[1])


# --- SMS-SUBMIT: ours encoded, the simulator decodes ----------------------------------------------


def _check_plan(to: str, text: str, ref: int, report: bool) -> list[pdu.SubmitPart]:
    parts = pdu.plan_submit(to, text, ref=ref, report=report)
    total = len(parts)
    assert total == _fewest_parts(text)
    gsm = _septets(text) is not None
    for seq, part in enumerate(parts, start=1):
        assert (part.seq, part.total) == (seq, total)
        assert part.alphabet == ("gsm7" if gsm else "ucs2")
        smsc, tpdu = sim.split_smsc(bytes.fromhex(part.pdu_hex))
        assert smsc is None
        assert len(tpdu) == part.tpdu_length
        got = sim.decode_submit(tpdu)
        assert got.da == normalise(to)
        assert got.srr == report
        assert got.text == part.text
        assert got.dcs == (0x00 if gsm else 0x08)
        assert got.concat == (None if total == 1 else sim.Concat(ref & 0xFF, total, seq))
        if total > 1:
            size = _septets(part.text) if gsm else _units(part.text)
            assert size is not None
            assert size <= (pdu.PART_SEPTETS if gsm else pdu.PART_UNITS)
        # and our own reader agrees
        mine = pdu.decode(part.pdu_hex)
        assert isinstance(mine, Submit)
        assert (mine.recipient, mine.text, mine.srr) == (got.da, part.text, report)
    assert "".join(p.text for p in parts) == text
    return parts


@settings(max_examples=300)
@given(to=destinations, text=message_text, ref=st.integers(0, 0xFFFF), report=st.booleans())
@example(to="138 0013 8000", text="", ref=0, report=False)
@example(to="10086", text="您好，请问明天的门诊几点开始？", ref=1, report=True)
@example(to=MOBILE, text="a" * 152 + "€" + "b" * 200, ref=2, report=False)
@example(to=MOBILE, text="𠮷😀中" * 40, ref=3, report=True)
@example(to=MOBILE, text="[€] {x} ~^| \\ \f" * 20, ref=4, report=False)
def test_submit_round_trips_through_the_simulator(
    to: str, text: str, ref: int, report: bool
) -> None:
    _check_plan(to, text, ref, report)


# --- SMS-DELIVER: the simulator encodes, we decode ------------------------------------------------


@settings(max_examples=300)
@given(oa=addresses, text=message_text, scts=timestamps, ref=st.integers(0, 0xFFFF))
@example(oa=MOBILE, text="hello", scts=WHEN, ref=1)
@example(oa="Design@Home", text="𠮷😀中" * 40, scts=WHEN.replace(tzinfo=UTC), ref=6)
@example(oa="ABCDEFG", text="1234567@", scts=WHEN, ref=7)
def test_deliver_round_trips_from_the_simulator(
    oa: str, text: str, scts: datetime, ref: int
) -> None:
    tpdus = sim.deliver_parts(oa, text, scts, ref)
    decoded = [pdu.decode_deliver("00" + tpdu.hex()) for tpdu in tpdus]
    total = len(tpdus)
    for seq, got in enumerate(decoded, start=1):
        assert got.sender == oa
        assert got.scts == scts
        assert got.scts.utcoffset() == scts.utcoffset()
        assert got.concat == (None if total == 1 else Concat(ref & 0xFF, total, seq))
        assert pdu.decode("00" + tpdus[seq - 1].hex()) == got
    assert pdu.join_texts([got.text for got in decoded]) == text


@settings(max_examples=100)
@given(
    oa=addresses,
    text=texts(st.one_of(gsm_char, ext_char, cjk, emoji), max_pieces=3),
    ref=st.integers(0x100, 0xFFFF),
    ucs2=st.booleans(),
)
def test_sixteen_bit_concatenation_references(oa: str, text: str, ref: int, ucs2: bool) -> None:
    ucs2 = ucs2 or _septets(text) is None
    text = text[:30]  # 60 septets or UTF-16 units at most: one part with a 7-octet header
    tpdu = sim.encode_deliver(oa, text, WHEN, concat=sim.Concat(ref, 3, 2), force_ucs2=ucs2)
    got = pdu.decode_deliver("00" + tpdu.hex())
    assert got.concat == Concat(ref, 3, 2)
    assert pdu.join_texts([got.text]) == text


# --- exact boundaries -----------------------------------------------------------------------------


def _texts_of(to: str, text: str) -> list[str]:
    return [p.text for p in _check_plan(to, text, 7, False)]


def test_gsm7_single_and_multipart_boundaries() -> None:
    assert _texts_of(MOBILE, "a" * 160) == ["a" * 160]
    assert _texts_of(MOBILE, "a" * 161) == ["a" * 153, "a" * 8]
    assert _texts_of(MOBILE, "€" * 80) == ["€" * 80]  # 160 septets
    assert _texts_of(MOBILE, "€" * 80 + "a") == ["€" * 76, "€" * 4 + "a"]
    assert len(_texts_of(MOBILE, "a" * 153 * 3)) == 3
    assert len(_texts_of(MOBILE, "a" * (153 * 3 + 1))) == 4


def test_an_escape_pair_never_straddles_a_part() -> None:
    first, second = _texts_of(MOBILE, "a" * 152 + "€" + "b" * 10)
    assert first == "a" * 152  # '€' would take septets 153 and 154
    assert second == "€" + "b" * 10
    first, _ = _texts_of(MOBILE, "a" * 151 + "€" + "b" * 10)
    assert first == "a" * 151 + "€"  # exactly 153


def test_ucs2_single_and_multipart_boundaries() -> None:
    assert _texts_of(MOBILE, "你" * 70) == ["你" * 70]
    assert _texts_of(MOBILE, "你" * 71) == ["你" * 67, "你" * 4]
    assert _texts_of(MOBILE, "😀" * 35) == ["😀" * 35]  # 70 units
    assert len(_texts_of(MOBILE, "😀" * 35 + "a")) == 2


def test_a_surrogate_pair_is_never_cut() -> None:
    first, second = _texts_of(MOBILE, "你" * 66 + "😀" + "好" * 10)
    assert first == "你" * 66  # 😀 would take units 67 and 68
    assert second.startswith("😀")
    parts = _texts_of(MOBILE, "你" * 67 + "你" * 66 + "𠮷" + "好" * 10)
    assert parts[1] == "你" * 66
    assert parts[2].startswith("𠮷")
    for part in parts:
        part.encode("utf-16-be")  # no lone surrogate in any part


def test_three_hundred_chinese_characters_take_the_fewest_parts() -> None:
    text = ("术后第七天请按时复诊" * 30)[:298] + "😀𠮷"
    assert len(text) == 300
    parts = pdu.plan_submit(MOBILE, text, ref=9)
    assert len(parts) == math.ceil(_units(text) / 67) == 5
    assert "".join(p.text for p in parts) == text


def test_more_than_255_parts_is_refused() -> None:
    assert len(pdu.plan_submit(MOBILE, "a" * 153 * 255, ref=0)) == 255
    with pytest.raises(EncodeError, match="more than 255"):
        pdu.plan_submit(MOBILE, "a" * (153 * 255 + 1), ref=0)


# --- classic mapping traps ------------------------------------------------------------------------


def _user_data_hex(text: str) -> tuple[str, str]:
    (part,) = pdu.plan_submit(MOBILE, text, ref=0)
    tpdu = bytes.fromhex(part.pdu_hex)[1:]
    dcs, udl, ud = tpdu[12], tpdu[13], tpdu[14:]
    return f"{dcs:02X}", f"{udl:02X}" + ud.hex().upper()


@pytest.mark.parametrize(
    ("text", "dcs", "user_data"),
    [
        ("`", "08", "020060"),  # grave accent is not GSM-7: UCS2
        ("§", "00", "015F"),  # section sign is 0x5F
        ("ÿ", "08", "0200FF"),  # y with diaeresis is not GSM-7
        ("\f", "00", "021B05"),  # form feed is ESC 0x0A
        ("@", "00", "0100"),
        ("¿", "00", "0160"),
        ("€", "00", "029B32"),  # ESC 0x65
        ("\x1b", "08", "02001B"),  # never a bare escape septet
        ("hellohello", "00", "0AE8329BFD4697D9EC37"),
    ],
)
def test_classic_mapping_traps(text: str, dcs: str, user_data: str) -> None:
    assert _user_data_hex(text) == (dcs, user_data)


def test_the_destination_is_normalised_and_never_sent_with_spaces() -> None:
    (intl,) = pdu.plan_submit("138 0013 8000", "x", ref=0)
    assert intl.pdu_hex.startswith("0001000D91683108108300F0")
    (short,) = pdu.plan_submit("10086", "x", ref=0)
    assert short.pdu_hex.startswith("00010005810180F6")
    with pytest.raises(EncodeError, match="destination"):
        pdu.plan_submit("ChinaMobile", "x", ref=0)
    with pytest.raises(EncodeError, match="destination"):
        pdu.plan_submit("+99 1", "x", ref=0)


def test_a_given_smsc_and_a_status_report_request() -> None:
    (part,) = pdu.plan_submit(MOBILE, "x", ref=0, report=True, smsc="+8613800100500")
    assert part.pdu_hex.startswith("0891683108100005F0" + "21")
    got = pdu.decode_submit(part.pdu_hex)
    assert (got.smsc, got.srr) == ("+8613800100500", True)
    assert part.tpdu_length == len(bytes.fromhex(part.pdu_hex)) - 9


def test_a_lone_surrogate_cannot_be_sent() -> None:
    with pytest.raises(EncodeError, match="lone surrogate"):
        pdu.plan_submit(MOBILE, "a\ud83d", ref=0)


def test_reprs_show_neither_numbers_nor_text() -> None:
    secret = "术后复诊 13800138000"
    (part,) = pdu.plan_submit(MOBILE, secret, ref=0)
    deliver = pdu.decode_deliver("00" + sim.deliver_parts(MOBILE, secret, WHEN, 0)[0].hex())
    report = pdu.decode_status_report("00" + sim.encode_status_report(1, MOBILE, WHEN, WHEN).hex())
    for obj in (part, deliver, report, pdu.decode_submit(part.pdu_hex)):
        shown = repr(obj)
        assert "138" not in shown
        assert "0013" not in shown
        assert "术" not in shown
        assert part.pdu_hex[:20] not in shown


# --- published and hand-checked vectors -----------------------------------------------------------


def test_published_deliver_vector() -> None:
    # The classic SMS-DELIVER of "hellohello" (dreamfabric.com/sms, also in many codec test suites).
    got = pdu.decode_deliver(
        "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37"
    )
    assert isinstance(got, Deliver)
    assert got.smsc == "+27381000015"
    assert got.sender == "27838890001"  # TON 100: digits, no '+'
    assert got.text == "hellohello"
    # Two-digit years are read as 20yy (nothing received today predates 2000).
    assert got.scts == datetime(2099, 3, 29, 15, 16, 59, tzinfo=timezone(timedelta(hours=2)))
    assert got.concat is None


def test_published_submit_vectors() -> None:
    # The matching SMS-SUBMIT with a relative validity period (VPF 10, VP 0xAA = 4 days).
    got = pdu.decode_submit("0011000B916407281553F80000AA0AE8329BFD4697D9EC37")
    assert (got.recipient, got.text, got.mr, got.srr) == ("+46708251358", "hellohello", 0, False)
    (part,) = pdu.plan_submit("+46708251358", "hellohello", ref=0)
    assert part.pdu_hex == "0001000B916407281553F800000AE8329BFD4697D9EC37"
    assert part.tpdu_length == 22
    (ucs2,) = pdu.plan_submit(MOBILE, "你好", ref=0)
    assert ucs2.pdu_hex == "0001000D91683108108300F00008044F60597D"
    assert ucs2.tpdu_length == 18


def test_multipart_vector_by_hand() -> None:
    first, second = pdu.plan_submit(MOBILE, "a" * 160 + "b", ref=0x1A2B)
    # UDHI set; UDH 05 00 03 <ref 2B> <total 02> <seq>; UDL counts the 7 header septets.
    assert first.pdu_hex.startswith("0041000D91683108108300F00000A00500032B0201")
    assert second.pdu_hex.startswith("0041000D91683108108300F000000F0500032B0202")
    assert second.text == "a" * 7 + "b"


def test_status_report_vector_by_hand() -> None:
    stamp = "42506070809023"  # 2024-05-06 07:08:09 +08:00
    hex_ = "00" + "06" + "2A" + "0D91683108108300F0" + stamp + stamp + "00"
    got = pdu.decode(hex_)
    assert isinstance(got, StatusReport)
    assert (got.mr, got.recipient, got.status) == (0x2A, MOBILE, 0)
    assert got.scts == got.discharge == WHEN
    assert got.delivered
    assert not got.permanent_failure
    assert not got.pending


@pytest.mark.parametrize(
    ("status", "delivered", "pending", "failed"),
    [
        (0x00, True, False, False),
        (0x01, True, False, False),
        (0x02, True, False, False),
        (0x03, False, False, True),  # reserved: service rejected
        (0x10, True, False, False),  # SC specific, completed
        (0x20, False, True, False),
        (0x25, False, True, False),
        (0x26, False, False, True),  # reserved
        (0x30, False, True, False),
        (0x40, False, False, True),
        (0x49, False, False, True),
        (0x60, False, False, True),
        (0x7F, False, False, True),
        (0x80, False, False, True),
        (0xFF, False, False, True),
    ],
)
def test_status_classification(status: int, delivered: bool, pending: bool, failed: bool) -> None:
    tpdu = sim.encode_status_report(7, "10086", WHEN, WHEN + timedelta(seconds=3), status)
    got = pdu.decode_status_report("00" + tpdu.hex())
    assert (got.mr, got.recipient, got.status) == (7, "10086", status)
    assert got.discharge == WHEN + timedelta(seconds=3)
    assert (got.delivered, got.pending, got.permanent_failure) == (delivered, pending, failed)


@settings(max_examples=100)
@given(
    mr=st.integers(0, 255),
    ra=addresses,
    scts=timestamps,
    dt=timestamps,
    status=st.integers(0, 255),
)
def test_status_reports_from_the_simulator(
    mr: int, ra: str, scts: datetime, dt: datetime, status: int
) -> None:
    got = pdu.decode("00" + sim.encode_status_report(mr, ra, scts, dt, status).hex())
    assert isinstance(got, StatusReport)
    assert (got.mr, got.recipient, got.scts, got.discharge, got.status) == (
        mr,
        ra,
        scts,
        dt,
        status,
    )
    assert [got.delivered, got.pending, got.permanent_failure].count(True) == 1


# --- data coding schemes (23.038 §4) --------------------------------------------------------------

_OA = "0D91683108108300F0"
_SCTS = "42506070809023"


def _deliver_hex(dcs: int, user_data: str, *, first: int = 0x04) -> str:
    return f"00{first:02X}{_OA}00{dcs:02X}{_SCTS}{user_data}"


@pytest.mark.parametrize(
    ("dcs", "alphabet", "message_class", "waiting"),
    [
        (0x00, "gsm7", None, None),
        (0x04, "8bit", None, None),
        (0x08, "ucs2", None, None),
        (0x0C, "gsm7", None, None),  # reserved alphabet reads as GSM-7
        (0x10, "gsm7", 0, None),
        (0x19, "ucs2", 1, None),
        (0x16, "8bit", 2, None),
        (0x40, "gsm7", None, None),  # automatic deletion group
        (0x48, "ucs2", None, None),
        (0x52, "gsm7", 2, None),
        (0x80, "gsm7", None, None),  # reserved coding groups
        (0xB8, "gsm7", None, None),
        (0xC0, "gsm7", None, pdu.MessageWaiting(active=False, kind=0, store=False)),
        (0xC8, "gsm7", None, pdu.MessageWaiting(active=True, kind=0, store=False)),
        (0xD9, "gsm7", None, pdu.MessageWaiting(active=True, kind=1, store=True)),
        (0xE8, "ucs2", None, pdu.MessageWaiting(active=True, kind=0, store=True)),
        (0xEB, "ucs2", None, pdu.MessageWaiting(active=True, kind=3, store=True)),
        (0xF0, "gsm7", 0, None),
        (0xF3, "gsm7", 3, None),
        (0xF4, "8bit", 0, None),
        (0xF6, "8bit", 2, None),
    ],
)
def test_every_coding_group(
    dcs: int, alphabet: str, message_class: int | None, waiting: pdu.MessageWaiting | None
) -> None:
    how = pdu.coding(dcs)
    assert (how.alphabet, how.message_class, how.waiting) == (alphabet, message_class, waiting)
    if alphabet == "gsm7":
        got = pdu.decode_deliver(_deliver_hex(dcs, "0AE8329BFD4697D9EC37"))
        assert got.text == "hellohello"
    elif alphabet == "ucs2":
        got = pdu.decode_deliver(_deliver_hex(dcs, "064F60597D597D"))
        assert got.text == "你好好"
    else:
        got = pdu.decode_deliver(_deliver_hex(dcs, "0400FF1B80"))
        assert (got.text, got.data) == ("", b"\x00\xff\x1b\x80")
    assert got.dcs == dcs
    assert got.coding == how


def test_compressed_data_is_returned_as_octets() -> None:
    got = pdu.decode_deliver(_deliver_hex(0x24, "03010203"))  # compressed, 8-bit
    assert got.coding.compressed
    assert (got.text, got.data) == ("", b"\x01\x02\x03")


def test_eight_bit_data_with_a_port_header() -> None:
    # UDH: application port addressing 16-bit (IEI 05) then 8-bit concat; data after it.
    udh = "0B" + "0504158A0000" + "0003070301"
    got = pdu.decode_deliver(_deliver_hex(0x04, "0F" + udh + "CAFE00", first=0x44))
    assert got.concat == Concat(7, 3, 1)
    assert got.data == bytes.fromhex("CAFE00")


def test_an_invalid_concatenation_element_is_ignored() -> None:
    got = pdu.decode_deliver(_deliver_hex(0x08, "08050003070304" + "4F60", first=0x44))
    assert got.concat is None  # seq 4 of 3: 23.040 says ignore the element
    assert got.text == "你"


def test_a_surrogate_pair_cut_by_the_sender_is_mended_on_reassembly() -> None:
    one = pdu.decode_deliver(_deliver_hex(0x08, "08050003070201" + "D83D", first=0x44))
    two = pdu.decode_deliver(_deliver_hex(0x08, "08050003070202" + "DE00", first=0x44))
    assert pdu.join_texts([one.text, two.text]) == "😀"
    assert pdu.join_texts([one.text]) == "\ufffd"
    single = pdu.decode_deliver(_deliver_hex(0x08, "02D83D"))
    assert single.text == "\ufffd"  # an unconcatenated message never carries a lone surrogate


def test_alphanumeric_senders_and_escapes() -> None:
    tpdu = sim.encode_deliver("Bk§\f[x]", "€", WHEN)
    got = pdu.decode_deliver("00" + tpdu.hex())
    assert (got.sender, got.text) == ("Bk§\f[x]", "€")


# --- malformed input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hex_", "match"),
    [
        ("", "SMSC length"),
        ("zz", "hex"),
        ("00", "first octet"),
        ("0003", "reserved message type"),
        ("0004", "originating address"),
        ("00040D91683108108300", "originating address"),
        (_deliver_hex(0x00, "05E8329BFD4697D9EC37"), "does not match"),
        (_deliver_hex(0x00, "0AE8329BFD"), "does not match"),
        (_deliver_hex(0x00, "A1" + "00" * 141), "exceeds 160"),
        (_deliver_hex(0x08, "034F60"), "does not match"),
        (_deliver_hex(0x08, "034F6059"), "odd number"),
        (_deliver_hex(0x00, "011B"), "lone escape"),
        (_deliver_hex(0x08, "02FF4F", first=0x44), "longer than the user data"),
        (_deliver_hex(0x08, "0402000300", first=0x44), "longer than the header"),
        (_deliver_hex(0x08, "0301004F", first=0x44), "ends inside an element"),
        ("0004" + _OA + "0000" + "42136070809023" + "00", "not a valid date"),
        ("0004" + _OA + "0000" + "4A506070809023" + "00", "not BCD"),
        ("00040D91683108108F00F0" + "0000" + _SCTS + "00", "filler"),
        ("0C91" + "00" * 11, "longer than 11 octets"),
        ("0001000D91683108108300F0000801", "does not match"),
    ],
)
def test_malformed_pdus_raise_pdu_error(hex_: str, match: str) -> None:
    with pytest.raises(PduError, match=match):
        pdu.decode(hex_)


def test_each_decoder_refuses_the_other_types() -> None:
    deliver = _deliver_hex(0x00, "00")
    with pytest.raises(PduError, match="not an SMS-SUBMIT"):
        pdu.decode_submit(deliver)
    with pytest.raises(PduError, match="not an SMS-STATUS-REPORT"):
        pdu.decode_status_report(deliver)
    with pytest.raises(PduError, match="not an SMS-DELIVER"):
        pdu.decode_deliver("0001000D91683108108300F0000000")


@settings(max_examples=500)
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_give_a_result_or_pdu_error(data: bytes) -> None:
    with contextlib.suppress(PduError):
        pdu.decode(data.hex())


@settings(max_examples=500)
@given(
    oa=addresses,
    text=message_text,
    cut=st.integers(0, 400),
    flips=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=3),
)
def test_damaged_pdus_give_a_result_or_pdu_error(
    oa: str, text: str, cut: int, flips: list[tuple[int, int]]
) -> None:
    full = bytearray(b"\x00" + sim.deliver_parts(oa, text, WHEN, 1)[0])
    for pos, value in flips:
        if pos < len(full):
            full[pos] = value
    with contextlib.suppress(PduError):
        pdu.decode(bytes(full[:cut]).hex())
