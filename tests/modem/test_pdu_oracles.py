"""The driver's PDU codec against two independent codecs, in both directions where they can.

gsmmodem.pdu decodes our SMS-SUBMITs and encodes SMS-SUBMITs we decode; smspdudecoder decodes
our SMS-SUBMITs; both decode the simulator's SMS-DELIVERs next to our decoder. A vector that hits
a known defect (tests/oracles.py) is skipped for that oracle alone. A fixed, seeded list of
vectors keeps the count stable: each of the three fixed-list tests asserts its own floor, and the
floors add up to 2,500 message vectors checked (>= 1,000 as required), whatever order the tests run
in. Hypothesis adds a few more shapes.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscat.hwsim import pdu as sim
from smscat.modem import pdu
from smscat.modem.address import normalise
from smscat.modem.pdu import Concat
from tests.oracles import (
    GSMMODEM_DECODE,
    GSMMODEM_ENCODE,
    SMSPDUDECODER,
    Decoded,
    gsm_septets,
    gsmmodem_decode,
    gsmmodem_encode_submit,
    oracle_handles,
    smspdudecoder_decode,
)
from tests.report import report
from tests.support.pduvectors import Concats, concat_headers, oracle_handles_parts
from tests.support.strategies import GSM_CHARS, cjk, destinations, emoji, gsm_char, rare_cjk, texts

DECODERS: dict[str, Callable[[bytes, bool], Decoded]] = {
    GSMMODEM_DECODE: lambda full, _submit: gsmmodem_decode(full),
    SMSPDUDECODER: lambda full, submit: smspdudecoder_decode(full, submit=submit),
}

# --- a fixed list of vectors from a seeded generator ----------------------------------------------

_RNG = random.Random(20240506)
_NEAR_MISSES = "`ÿç\x1b\x00§\f"
_MOBILE_PREFIXES = ("135", "138", "139", "150", "177", "186", "199")
_SHORT_CODES = ("10086", "10010", "95566", "95588", "106900001234")


def _char(rng: random.Random, family: str) -> str:
    if family == "gsm":
        return rng.choice(GSM_CHARS)
    if family == "cjk":
        return chr(rng.randint(0x4E00, 0x9FFF))
    if family == "emoji":
        return chr(rng.randint(0x1F300, 0x1FAFF))
    if family == "rare":
        return chr(rng.randint(0x20000, 0x2A6DF))
    return rng.choice(_NEAR_MISSES)


def _text(rng: random.Random) -> str:
    families = rng.choice(
        [["gsm"], ["gsm"], ["cjk"], ["cjk", "gsm"], ["cjk", "emoji", "rare"], ["gsm", "near"]]
    )
    length = rng.choice(
        [rng.randint(0, 5), rng.randint(60, 75), rng.randint(130, 165), rng.randint(290, 320)]
    )
    return "".join(_char(rng, rng.choice(families)) for _ in range(length))


def _destination(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return rng.choice(_SHORT_CODES)
    rest = "".join(rng.choice("0123456789") for _ in range(8))
    prefix = rng.choice(_MOBILE_PREFIXES)
    return rng.choice([f"+86{prefix}{rest}", f"{prefix} {rest[:4]} {rest[4:]}"])


def _when(rng: random.Random) -> datetime:
    seconds = rng.randint(0, 99 * 365 * 86400)
    offset = timezone(timedelta(minutes=15 * rng.randint(-48, 56)))
    return (datetime(2000, 1, 1) + timedelta(seconds=seconds)).replace(tzinfo=offset)


VECTORS: list[tuple[str, str, int, bool, datetime]] = [
    (_destination(_RNG), _text(_RNG), _RNG.randint(0, 0xFFFF), _RNG.random() < 0.5, _when(_RNG))
    for _ in range(700)
]


def _handles(
    oracle: str,
    address: str,
    parts: list[str],
    concats: Concats,
    ucs2: bool,
    scts: datetime | None = None,
) -> bool:
    handled = oracle_handles_parts(oracle, address, parts, concats, ucs2, scts)
    if not handled:
        report(f"modem codec vs {oracle}: vectors skipped (known defect)")
    return handled


def _count(oracle: str, direction: str, checked: Counter[str]) -> None:
    checked[oracle] += 1
    report(f"modem codec vs {oracle}: {direction} vectors checked")


# --- our SMS-SUBMITs, read by both oracles --------------------------------------------------------


def _check_our_submit(to: str, text: str, ref: int, srr: bool, checked: Counter[str]) -> None:
    parts = pdu.plan_submit(to, text, ref=ref, report=srr)
    address = normalise(to)
    concats = concat_headers(len(parts), ref & 0xFF)
    ucs2 = parts[0].alphabet == "ucs2"
    pieces = [p.text for p in parts]
    for oracle, decode in DECODERS.items():
        if not _handles(oracle, address, pieces, concats, ucs2):
            continue
        decoded = [decode(bytes.fromhex(p.pdu_hex), True) for p in parts]
        for got, concat in zip(decoded, concats, strict=True):
            assert (got.address, got.concat, got.mr) == (address, concat, 0), oracle
        assert [got.text for got in decoded] == pieces, oracle
        _count(oracle, "submit", checked)


def test_our_submits_read_the_same_in_both_oracles() -> None:
    checked: Counter[str] = Counter()
    for to, text, ref, srr, _ in VECTORS:
        _check_our_submit(to, text, ref, srr, checked)
    assert checked[GSMMODEM_DECODE] >= 450
    assert checked[SMSPDUDECODER] >= 650


# --- gsmmodem's SMS-SUBMITs, read by us -----------------------------------------------------------


def _check_gsmmodem_submit(to: str, text: str, mr: int, srr: bool, checked: Counter[str]) -> None:
    address = normalise(to)
    if not oracle_handles(GSMMODEM_ENCODE, text, address=address):
        report(f"modem codec vs {GSMMODEM_ENCODE}: vectors skipped (known defect)")
        return
    full_pdus = gsmmodem_encode_submit(address, text, reference=mr, srr=srr)
    total = len(full_pdus)
    decoded = [pdu.decode_submit(full.hex()) for full in full_pdus]
    for seq, got in enumerate(decoded, start=1):
        assert (got.recipient, got.mr, got.srr, got.smsc) == (address, mr, srr, None)
        assert got.concat == (None if total == 1 else Concat(mr, total, seq))
    assert "".join(got.text for got in decoded) == text
    ours = pdu.plan_submit(address, text, ref=mr, report=srr)
    if decoded[0].coding.alphabet == ours[0].alphabet:
        # Same alphabet chosen: both splitters must cut in the same places.
        assert [got.text for got in decoded] == [p.text for p in ours]
    _count(GSMMODEM_ENCODE, "submit", checked)


def test_gsmmodem_submits_decode_to_their_input() -> None:
    checked: Counter[str] = Counter()
    for to, text, ref, srr, _ in VECTORS:
        _check_gsmmodem_submit(to, text, ref & 0xFF, srr, checked)
    assert checked[GSMMODEM_ENCODE] >= 500


# --- the simulator's SMS-DELIVERs, read by us and by both oracles ---------------------------------


def _check_deliver(oa: str, text: str, scts: datetime, ref: int, checked: Counter[str]) -> None:
    kind, parts = sim.split_text(text)
    tpdus = [b"\x00" + tpdu for tpdu in sim.deliver_parts(oa, text, scts, ref)]
    concats = concat_headers(len(parts), ref & 0xFF)
    ours = [pdu.decode_deliver(full.hex()) for full in tpdus]
    assert [(d.sender, d.scts) for d in ours] == [(oa, scts)] * len(tpdus)
    assert [d.concat for d in ours] == [Concat(*c) if c else None for c in concats]
    assert pdu.join_texts([d.text for d in ours]) == text
    for oracle, decode in DECODERS.items():
        if not _handles(oracle, oa, parts, concats, kind == "ucs2", scts):
            continue
        decoded = [decode(full, False) for full in tpdus]
        for got, mine in zip(decoded, ours, strict=True):
            assert got.address == mine.sender, oracle
            assert got.scts == mine.scts, oracle
            assert got.text == mine.text, oracle
            assert got.concat == (astuple(mine.concat) if mine.concat else None), oracle
        _count(oracle, "deliver", checked)


def astuple(concat: Concat) -> tuple[int, int, int]:
    return (concat.ref, concat.total, concat.seq)


def test_simulator_delivers_read_the_same_by_us_and_both_oracles() -> None:
    checked: Counter[str] = Counter()
    for to, text, ref, _srr, when in VECTORS:
        _check_deliver(normalise(to), text, when, ref, checked)
    assert checked[GSMMODEM_DECODE] >= 300
    assert checked[SMSPDUDECODER] >= 600


# --- Hypothesis: shapes the fixed list may miss ---------------------------------------------------

message_text = st.one_of(
    texts(st.one_of(gsm_char, st.sampled_from(list(_NEAR_MISSES))), max_pieces=6),
    texts(st.one_of(cjk, emoji, rare_cjk, gsm_char), max_pieces=6),
)


@settings(max_examples=60)
@given(to=destinations, text=message_text, ref=st.integers(0, 0xFFFF), srr=st.booleans())
def test_hypothesis_submits_in_both_directions(to: str, text: str, ref: int, srr: bool) -> None:
    checked: Counter[str] = Counter()
    _check_our_submit(to, text, ref, srr, checked)
    _check_gsmmodem_submit(to, text, ref & 0xFF, srr, checked)


@pytest.mark.parametrize("dcs", [0x00, 0x10, 0x40, 0xF0, 0xF1, 0x08, 0x18, 0x48, 0xC8, 0xE8])
def test_coding_groups_against_the_oracles(dcs: int) -> None:
    ucs2 = pdu.coding(dcs).alphabet == "ucs2"
    text = "你好😀" if ucs2 else "Hi €"
    assert (gsm_septets(text) is None) == ucs2
    tpdu = bytearray(sim.encode_deliver("+8613800138000", text, VECTORS[0][4], force_ucs2=ucs2))
    tpdu[3 + (tpdu[1] + 1) // 2 + 1] = dcs
    full = b"\x00" + bytes(tpdu)
    mine = pdu.decode_deliver(full.hex())
    assert mine.text == text
    for oracle, decode in DECODERS.items():
        if oracle_handles(oracle, text, ucs2=ucs2, dcs=dcs):
            assert decode(full, False).text == mine.text, oracle
            _count(oracle, "coding-group", Counter())
