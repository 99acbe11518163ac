"""The simulator's PDU codec against two independent codecs, in both directions where they can.

What the oracles get wrong lives in tests/oracles.py; a vector that hits one of those defects is
skipped for that oracle alone, and every test asserts that each oracle still checked something.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from smscat.hwsim import pdu
from smscat.hwsim.pdu import Concat, PduError
from tests.oracles import (
    DEFECTS,
    GSMMODEM_DECODE,
    GSMMODEM_ENCODE,
    SMSPDUDECODER,
    Decoded,
    Defect,
    gsmmodem_decode,
    gsmmodem_encode_submit,
    oracle_handles,
    smspdudecoder_decode,
)
from tests.report import report
from tests.support.pduvectors import WHEN, concat_headers, oracle_handles_parts
from tests.support.strategies import (
    addresses,
    cjk,
    emoji,
    ext_char,
    gsm_char,
    rare_cjk,
    texts,
    timestamps,
)

DEFAULT_SMSC = b"\x00"

DECODERS: dict[str, Callable[[bytes, bool], Decoded]] = {
    GSMMODEM_DECODE: lambda full, _submit: gsmmodem_decode(full),
    SMSPDUDECODER: lambda full, submit: smspdudecoder_decode(full, submit=submit),
}

# --- strategies: the families of tests/support/strategies.py, at most 6 pieces a text ---------

near_misses = st.sampled_from(list("`ÿç\x1b\x00"))
message_text = st.one_of(
    texts(st.one_of(gsm_char, ext_char), max_pieces=6),
    texts(cjk, max_pieces=6),
    texts(st.one_of(cjk, emoji, rare_cjk, gsm_char), max_pieces=6),
    texts(st.one_of(gsm_char, ext_char, cjk, near_misses), max_pieces=6),
)


def _readings(
    vectors: str,
    tpdus: list[bytes],
    address: str,
    parts: list[str],
    concats: list[tuple[int, int, int] | None],
    ucs2: bool,
    *,
    submit: bool,
    scts: datetime | None = None,
) -> Iterator[tuple[str, list[Decoded]]]:
    """(oracle, its decoding of each TPDU) for every oracle with no known defect for these parts.

    An oracle that has one is left out and reported as skipping these ``vectors``.
    """
    for oracle, decode in DECODERS.items():
        if not oracle_handles_parts(oracle, address, parts, concats, ucs2, scts):
            report(f"oracle {oracle}: {vectors} vectors skipped (known defect)")
            continue
        yield oracle, [decode(DEFAULT_SMSC + tpdu, submit) for tpdu in tpdus]


# --- SMS-DELIVER: ours encoded, the oracles decode ------------------------------------------------


def _check_deliver(oa: str, text: str, scts: datetime, ref: int, checked: Counter[str]) -> None:
    kind, parts = pdu.split_text(text)
    tpdus = pdu.deliver_parts(oa, text, scts, ref)
    concats = concat_headers(len(parts), ref & 0xFF)
    ucs2 = kind == "ucs2"
    readings = _readings("deliver", tpdus, oa, parts, concats, ucs2, submit=False, scts=scts)
    for oracle, decoded in readings:
        for got, concat in zip(decoded, concats, strict=True):
            assert got.address == oa, oracle
            assert got.concat == concat, oracle
            assert got.scts == scts, oracle
        assert "".join(got.text for got in decoded) == text, oracle
        checked[oracle] += 1
        report(f"oracle {oracle}: deliver vectors checked")


def test_deliver_pdus_read_the_same_in_both_oracles() -> None:
    checked: Counter[str] = Counter()

    @settings(max_examples=80)
    @given(oa=addresses, text=message_text, scts=timestamps, ref=st.integers(0, 0xFFFF))
    @example(oa="+8613800138000", text="hello", scts=WHEN, ref=1)
    @example(oa="10086", text="您好，请问明天的门诊几点开始？", scts=WHEN, ref=2)
    @example(oa="95566", text="[€] {x} ~^| \\ " * 20, scts=WHEN, ref=3)
    @example(oa="+8613800138000", text="术后第7天复诊。" * 30, scts=WHEN, ref=4)
    @example(oa="ChinaMobile", text="a" * 152 + "€" + "b" * 200, scts=WHEN, ref=5)
    @example(oa="Design@Home", text="𠮷😀中" * 40, scts=WHEN.replace(tzinfo=UTC), ref=6)
    def check(oa: str, text: str, scts: datetime, ref: int) -> None:
        _check_deliver(oa, text, scts, ref, checked)

    check()
    assert checked[GSMMODEM_DECODE] > 0
    assert checked[SMSPDUDECODER] > 0


# --- SMS-SUBMIT: gsmmodem encodes, we decode ------------------------------------------------------


def _check_gsmmodem_submit(da: str, text: str, mr: int, srr: bool, checked: Counter[str]) -> None:
    if not oracle_handles(GSMMODEM_ENCODE, text, address=da):
        report(f"oracle {GSMMODEM_ENCODE}: submit vectors skipped (known defect)")
        return
    full_pdus = gsmmodem_encode_submit(da, text, reference=mr, srr=srr)
    total = len(full_pdus)
    decoded = []
    for seq, full in enumerate(full_pdus, start=1):
        smsc, tpdu = pdu.split_smsc(full)
        got = pdu.decode_submit(tpdu)
        assert smsc is None
        assert (got.da, got.mr, got.srr) == (da, mr, srr)
        assert got.concat == (None if total == 1 else Concat(mr, total, seq))
        decoded.append(got)
    assert "".join(got.text for got in decoded) == text
    kind, parts = pdu.split_text(text)
    if decoded[0].dcs == (0x00 if kind == "gsm7" else 0x08):
        # Same alphabet chosen: gsmmodem's own splitter must cut where ours does.
        assert [got.text for got in decoded] == parts
    checked[GSMMODEM_ENCODE] += 1
    report(f"oracle {GSMMODEM_ENCODE}: submit vectors checked")


def test_gsmmodem_submits_decode_to_their_input() -> None:
    checked: Counter[str] = Counter()

    @settings(max_examples=80)
    @given(da=addresses, text=message_text, mr=st.integers(0, 255), srr=st.booleans())
    @example(da="+8613800138000", text="Hello World!", mr=0, srr=False)
    @example(da="10086", text="世界您好！", mr=255, srr=True)
    @example(da="+8613800138000", text="a" * 152 + "€" + "b" * 200, mr=9, srr=False)
    @example(da="+8613800138000", text="术后复诊" * 50, mr=10, srr=True)
    @example(da="Megafon", text="x", mr=11, srr=False)
    def check(da: str, text: str, mr: int, srr: bool) -> None:
        _check_gsmmodem_submit(da, text, mr, srr, checked)

    check()
    assert checked[GSMMODEM_ENCODE] > 0


# --- SMS-SUBMIT: ours encoded, the oracles decode -------------------------------------------------


def _check_our_submit(da: str, text: str, mr: int, ref: int, checked: Counter[str]) -> None:
    kind, parts = pdu.split_text(text)
    concats = concat_headers(len(parts), ref)
    tpdus = [
        pdu.encode_submit(
            da,
            part,
            mr=mr,
            concat=Concat(*concat) if concat else None,
            force_ucs2=kind == "ucs2",
        )
        for part, concat in zip(parts, concats, strict=True)
    ]
    readings = _readings("submit", tpdus, da, parts, concats, kind == "ucs2", submit=True)
    for oracle, decoded in readings:
        for got, concat in zip(decoded, concats, strict=True):
            assert (got.address, got.mr, got.concat) == (da, mr, concat), oracle
        assert "".join(got.text for got in decoded) == text, oracle
        checked[oracle] += 1
        report(f"oracle {oracle}: submit vectors checked")


def test_our_submits_read_the_same_in_both_oracles() -> None:
    checked: Counter[str] = Counter()

    @settings(max_examples=60)
    # split_text sizes parts for an 8-bit reference; 16-bit ones are checked below.
    @given(da=addresses, text=message_text, mr=st.integers(0, 255), ref=st.integers(0, 0xFF))
    @example(da="+8613800138000", text="hello", mr=1, ref=1)
    @example(da="10086", text="你好" * 50, mr=2, ref=200)
    @example(da="+8613800138000", text="{[€]}" * 40, mr=3, ref=255)
    def check(da: str, text: str, mr: int, ref: int) -> None:
        _check_our_submit(da, text, mr, ref, checked)

    check()
    assert checked[GSMMODEM_DECODE] > 0
    assert checked[SMSPDUDECODER] > 0


@pytest.mark.parametrize(
    ("parts", "ucs2"),
    [
        (["a" * 152, "b" * 10], False),  # a 7-octet UDH leaves 152 septets
        (["[€]" * 25 + "ab", "x"], False),  # 152 septets with escapes
        (["你好" * 33, "😀"], True),  # and 66 UTF-16 units
    ],
)
def test_sixteen_bit_references_in_the_oracles(parts: list[str], ucs2: bool) -> None:
    ref = 0x1234
    address = "+8613800138000"
    concats = concat_headers(len(parts), ref)
    tpdus = [
        pdu.encode_submit(address, part, concat=Concat(*c), force_ucs2=ucs2)
        for part, c in zip(parts, concats, strict=True)
        if c is not None
    ]
    checked = 0
    readings = _readings("16-bit reference", tpdus, address, parts, concats, ucs2, submit=True)
    for oracle, decoded in readings:
        assert [d.concat for d in decoded] == concats, oracle
        assert [d.text for d in decoded] == parts, oracle
        checked += 1
        report(f"oracle {oracle}: 16-bit reference vectors checked")
    assert checked > 0


# --- data coding groups ---------------------------------------------------------------------------


def _deliver_with_dcs(oa: str, text: str, dcs: int, ucs2: bool) -> bytes:
    tpdu = bytearray(pdu.encode_deliver(oa, text, WHEN, force_ucs2=ucs2))
    tpdu[3 + (tpdu[1] + 1) // 2 + 1] = dcs  # after first octet, TP-OA and TP-PID
    return bytes(tpdu)


@pytest.mark.parametrize(
    ("dcs", "ucs2"),
    [
        (0x00, False),
        (0x08, True),
        (0x10, False),
        (0x18, True),
        (0x40, False),
        (0x48, True),
        (0xC0, False),
        (0xD8, False),
        (0xE8, True),
        (0xF0, False),
        (0xF3, False),
    ],
)
def test_coding_groups_in_the_oracles(dcs: int, ucs2: bool) -> None:
    text = "你好😀" if ucs2 else "Hi €"
    tpdu = _deliver_with_dcs("+8613800138000", text, dcs, ucs2)
    assert pdu.decode_deliver(tpdu).text == text
    for oracle, decode in DECODERS.items():
        if not oracle_handles(oracle, text, ucs2=ucs2, dcs=dcs):
            report(f"oracle {oracle}: coding-group vectors skipped (known defect)")
            continue
        assert decode(DEFAULT_SMSC + tpdu, False).text == text, oracle
        report(f"oracle {oracle}: coding-group vectors checked")


# --- the defect table is true ---------------------------------------------------------------------


def _defect_shows(defect: Defect) -> bool:
    """Replay a defect's witness: True if the oracle still gets it wrong."""
    w = defect.witness
    address = w.address or "+8613800138000"
    if defect.oracle == GSMMODEM_ENCODE:
        try:
            full_pdus = gsmmodem_encode_submit(address, w.text, reference=0, srr=False)
            decoded = [pdu.decode_submit(pdu.split_smsc(full)[1]) for full in full_pdus]
        except (ValueError, TypeError):  # PduError is a ValueError
            return True
        return "".join(d.text for d in decoded) != w.text or decoded[0].da != address
    if w.dcs is not None:
        tpdu = _deliver_with_dcs(address, w.text, w.dcs, w.ucs2)
    else:
        concat = Concat(*w.concat) if w.concat else None
        scts = w.scts or WHEN
        tpdu = pdu.encode_deliver(address, w.text, scts, concat=concat, force_ucs2=w.ucs2)
    try:
        got = DECODERS[defect.oracle](DEFAULT_SMSC + tpdu, False)
    except Exception:  # an oracle crashing on the witness shows the defect as well
        return True
    return (got.address, got.text, got.scts) != (address, w.text, w.scts or WHEN)


@pytest.mark.parametrize("defect", DEFECTS, ids=[f"{d.oracle}: {d.name}" for d in DEFECTS])
def test_every_listed_defect_is_still_there(defect: Defect) -> None:
    w = defect.witness
    assert not oracle_handles(
        defect.oracle,
        w.text,
        address=w.address,
        concat=w.concat,
        ucs2=w.ucs2,
        dcs=w.dcs,
        scts=w.scts,
    )
    # If this fails the oracle was fixed: drop the row and let it check those vectors again.
    assert _defect_shows(defect), defect.evidence


def test_oracle_handles_refuses_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown oracle"):
        oracle_handles("pdulib", "x")


def test_our_decoder_refuses_what_gsmmodem_sends_for_a_bare_escape() -> None:
    # gsmmodem sends U+001B at the end of a text as a dangling escape; we must say so.
    (full,) = gsmmodem_encode_submit("+8613800138000", "a\x1b", reference=0, srr=False)
    with pytest.raises(PduError, match="lone escape"):
        pdu.decode_submit(pdu.split_smsc(full)[1])
