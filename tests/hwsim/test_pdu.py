"""The simulator's own PDU codec: round trips, exact part boundaries, published vectors, and
malformed input, plus its hand-written GSM 03.38 tables checked against the `gsm0338` package."""

from __future__ import annotations

import contextlib
import random
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest
from gsm0338 import Codec
from gsm0338.charset import BASIC_CHARACTER_SET, BASIC_CHARACTER_SET_EXTENSION
from hypothesis import example, given, settings
from hypothesis import strategies as st

from smscat.hwsim import gsm7, pdu
from smscat.hwsim.pdu import Concat, PduError
from tests.support import strategies
from tests.support.strategies import cjk, emoji, ext_char, gsm_char, rare_cjk, texts, timestamps

CST = timezone(timedelta(hours=8))
WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=CST)

# --- strategies ----------------------------------------------------------------------------------

# Characters people confuse with GSM-7 ones, and the escape character itself.
near_misses = st.sampled_from(list("`ÿç\x1b\x00\x7fʼ·«»Ææ\u00a0"))
any_char = st.characters(codec="utf-8")  # every code point but lone surrogates

gsm_text = texts(st.one_of(gsm_char, ext_char))
message_text = st.one_of(
    gsm_text,
    texts(cjk),
    texts(st.one_of(cjk, emoji, rare_cjk)),
    texts(st.one_of(gsm_char, ext_char, cjk, emoji, rare_cjk, near_misses, any_char)),
)
addresses = st.one_of(
    strategies.addresses,
    st.sampled_from(["+8613800138000", "10086", "95566", "ChinaMobile", "Megafon", "Design@Home"]),
)


def _units(text: str, kind: str) -> int:
    if kind == "gsm7":
        values = gsm7.septets(text)
        assert values is not None
        return len(values)
    return len(text.encode("utf-16-be")) // 2


# --- the GSM 03.38 tables, against gsm0338 -------------------------------------------------------


def test_basic_table_matches_gsm0338() -> None:
    assert len(gsm7.BASIC) == 128
    for code, name in BASIC_CHARACTER_SET.items():
        assert gsm7.BASIC[code] == unicodedata.lookup(name), f"0x{code:02X}"


def test_extension_table_matches_gsm0338() -> None:
    theirs = {
        code: unicodedata.lookup(name) for code, name in BASIC_CHARACTER_SET_EXTENSION.items()
    }
    assert theirs == gsm7.EXTENSION


@pytest.mark.parametrize(
    ("char", "expected"),
    [
        ("@", [0x00]),
        ("£", [0x01]),
        ("$", [0x02]),
        ("¥", [0x03]),
        ("Ç", [0x09]),
        ("\n", [0x0A]),
        ("\r", [0x0D]),
        ("Δ", [0x10]),
        ("_", [0x11]),
        ("É", [0x1F]),
        ("¤", [0x24]),
        ("¡", [0x40]),
        ("§", [0x5F]),
        ("¿", [0x60]),
        ("à", [0x7F]),
        ("\f", [0x1B, 0x0A]),
        ("^", [0x1B, 0x14]),
        ("\\", [0x1B, 0x2F]),
        ("|", [0x1B, 0x40]),
        ("€", [0x1B, 0x65]),
        ("`", None),
        ("ÿ", None),
        ("ç", None),
        ("\x1b", None),
    ],
)
def test_classic_mistakes(char: str, expected: list[int] | None) -> None:
    assert gsm7.septets(char) == expected


@settings(max_examples=150)
@given(st.text(st.one_of(gsm_char, near_misses, any_char), max_size=40))
def test_septets_agree_with_gsm0338(text: str) -> None:
    ours = gsm7.septets(text)
    try:
        theirs: list[int] | None = list(Codec().encode(text)[0])
    except UnicodeEncodeError:
        theirs = None
    if "\x1b" in text:
        # gsm0338 maps U+001B to a bare escape septet; we refuse it (it would eat the next char).
        assert ours is None
    else:
        assert ours == theirs
    if ours is not None:
        assert gsm7.text_from_septets(ours) == text
        assert Codec().decode(bytes(ours))[0] == text


@pytest.mark.parametrize(
    ("values", "text"),
    [
        ([0x1B, 0x41], "A"),  # undefined in the extension table: the basic-table character
        ([0x1B, 0x0D], "\r"),  # reserved CR2: the same fallback
        ([0x1B, 0x1B], " "),  # reserved SS2: 23.038 says show a space
        ([0x1B, 0x65, 0x00], "€@"),
    ],
)
def test_escape_fallbacks(values: list[int], text: str) -> None:
    assert gsm7.text_from_septets(values) == text


def test_text_from_septets_rejects_a_lone_trailing_escape_and_bad_values() -> None:
    with pytest.raises(ValueError, match="lone escape"):
        gsm7.text_from_septets([0x41, 0x1B])
    with pytest.raises(ValueError, match="out of range"):
        gsm7.text_from_septets([0x80])


@pytest.mark.parametrize(
    ("text", "packed"),
    [
        ("hellohello", "E8329BFD4697D9EC37"),  # the classic example (dreamfabric, Wikipedia)
        ("How are you?", "C8F71D14969741F977FD07"),  # smspdudecoder's codecs.py doctest
        ("2 € par mois", "32D0A60C8287E5A0F63B3D07"),  # the same, with an escape pair
        ("1234567", "31D98C56B3DD00"),  # 7 septets: the 8th octet holds one bit
        ("", ""),
    ],
)
def test_known_packings(text: str, packed: str) -> None:
    values = gsm7.septets(text)
    assert values is not None
    assert gsm7.pack(values).hex().upper() == packed
    assert gsm7.unpack(bytes.fromhex(packed), len(values)) == values


@settings(max_examples=150)
@given(st.lists(st.integers(0, 127), max_size=170), st.integers(0, 6))
def test_pack_unpack_round_trip(values: list[int], fill: int) -> None:
    packed = gsm7.pack(values, fill)
    assert len(packed) == gsm7.packed_length(len(values), fill)
    assert gsm7.unpack(packed, len(values), fill) == values
    if fill:
        assert packed[0] & ((1 << fill) - 1) == 0  # fill bits are zero


def test_pack_unpack_reject_bad_arguments() -> None:
    with pytest.raises(ValueError, match="out of range"):
        gsm7.pack([128])
    with pytest.raises(ValueError, match="fill bits"):
        gsm7.pack([1], 7)
    with pytest.raises(ValueError, match="need 2 octets"):
        gsm7.unpack(b"\x41", 2)
    with pytest.raises(ValueError, match="fill bits"):
        gsm7.unpack(b"\x41", 1, -1)


# --- split_text ----------------------------------------------------------------------------------


@settings(max_examples=200)
@given(message_text)
@example("")
@example("a" * 161)
@example("中" * 71)
def test_split_text_properties(text: str) -> None:
    kind, parts = pdu.split_text(text)
    assert "".join(parts) == text
    assert kind == ("gsm7" if gsm7.septets(text) is not None else "ucs2")
    single, multi = (160, 153) if kind == "gsm7" else (70, 67)
    if len(parts) == 1:
        assert _units(text, kind) <= single
        return
    assert _units(text, kind) > single
    for i, part in enumerate(parts):
        assert 0 < _units(part, kind) <= multi
        if i + 1 < len(parts):
            # Greedy: the next part's first character did not fit in this one.
            assert _units(part + parts[i + 1][0], kind) > multi


@pytest.mark.parametrize(
    ("text", "kind", "sizes"),
    [
        ("", "gsm7", [0]),
        ("a" * 160, "gsm7", [160]),
        ("a" * 161, "gsm7", [153, 8]),
        ("€" * 80, "gsm7", [160]),  # 80 escape pairs are exactly 160 septets
        ("a" * 159 + "€", "gsm7", [153, 8]),  # 161 septets
        ("a" * 152 + "€" + "b" * 10, "gsm7", [152, 12]),  # the pair would take septets 153-154
        ("a" * 151 + "€" + "b" * 10, "gsm7", [153, 10]),  # the pair ends exactly on 153
        ("a" * 306, "gsm7", [153, 153]),
        ("a" * 307, "gsm7", [153, 153, 1]),
        ("中" * 70, "ucs2", [70]),
        ("中" * 71, "ucs2", [67, 4]),
        ("中" * 68 + "😀", "ucs2", [70]),  # a surrogate pair as the 69th-70th units still fits
        ("中" * 69 + "😀", "ucs2", [67, 4]),
        ("中" * 66 + "😀" + "中" * 10, "ucs2", [66, 12]),  # the pair would take units 67-68
        ("中" * 65 + "𠮷" + "中" * 10, "ucs2", [67, 10]),  # the pair ends exactly on 67
        ("a" * 200 + "中", "ucs2", [67, 67, 67]),  # one non-GSM character makes it all UCS2
    ],
)
def test_split_text_boundaries(text: str, kind: str, sizes: list[int]) -> None:
    got_kind, parts = pdu.split_text(text)
    assert got_kind == kind
    assert [_units(p, kind) for p in parts] == sizes


# --- round trips ---------------------------------------------------------------------------------


@settings(max_examples=120)
@given(
    oa=addresses,
    text=message_text,
    scts=timestamps,
    ref=st.integers(0, 0xFFFF),
    order=st.randoms(use_true_random=False),
)
@example(oa="+8613800138000", text="a" * 152 + "€" * 3, scts=WHEN, ref=300, order=None)
@example(oa="ChinaMobile", text="中" * 66 + "𠮷" * 3, scts=WHEN, ref=7, order=None)
def test_deliver_parts_round_trip(
    oa: str, text: str, scts: datetime, ref: int, order: random.Random | None
) -> None:
    kind, parts = pdu.split_text(text)
    tpdus = pdu.deliver_parts(oa, text, scts, ref)
    assert len(tpdus) == len(parts)
    decoded = [pdu.decode_deliver(t) for t in tpdus]
    if order is not None:
        order.shuffle(decoded)
    for d in decoded:
        assert d.oa == oa
        assert d.scts == scts
        assert d.scts.utcoffset() == scts.utcoffset()
        assert d.dcs == (0x00 if kind == "gsm7" else 0x08)
    if len(parts) == 1:
        assert decoded[0].concat is None
        assert decoded[0].text == text
        return
    concats = [d.concat for d in decoded]
    assert all(c is not None and c.ref == ref & 0xFF and c.total == len(parts) for c in concats)
    by_seq = sorted(decoded, key=lambda d: d.concat.seq if d.concat else 0)
    assert [d.concat.seq for d in by_seq if d.concat] == list(range(1, len(parts) + 1))
    assert "".join(d.text for d in by_seq) == text


@settings(max_examples=120)
@given(
    da=addresses,
    text=message_text,
    mr=st.integers(0, 255),
    srr=st.booleans(),
    ref=st.integers(0, 0xFFFF),
)
def test_submit_round_trip(da: str, text: str, mr: int, srr: bool, ref: int) -> None:
    kind, parts = pdu.split_text(text)
    total = len(parts)
    texts = []
    for seq, part in enumerate(parts, start=1):
        concat = Concat(ref & 0xFF, total, seq) if total > 1 else None
        tpdu = pdu.encode_submit(
            da, part, mr=(mr + seq) & 0xFF, srr=srr, concat=concat, force_ucs2=kind == "ucs2"
        )
        got = pdu.decode_submit(tpdu)
        assert (got.da, got.mr, got.srr, got.concat, got.vp) == (
            da,
            (mr + seq) & 0xFF,
            srr,
            concat,
            None,
        )
        assert got.dcs == (0x00 if kind == "gsm7" else 0x08)
        assert got.udh == (b"" if concat is None else bytes((0, 3, ref & 0xFF, total, seq)))
        texts.append(got.text)
    assert "".join(texts) == text


@pytest.mark.parametrize("force_ucs2", [False, True])
def test_sixteen_bit_concat_reference(force_ucs2: bool) -> None:
    concat = Concat(300, 3, 2)
    # A 7-octet UDH takes 8 septets (no fill bits) or 7 octets: 152 septets / 66 units remain.
    fits, too_long = ("中" * 66, "中" * 67) if force_ucs2 else ("a" * 152, "a" * 153)
    got = pdu.decode_submit(pdu.encode_submit("10086", fits, concat=concat, force_ucs2=force_ucs2))
    assert (got.text, got.concat, got.udh) == (fits, concat, bytes.fromhex("0804012C0302"))
    with pytest.raises(ValueError, match="more than one SMS holds"):
        pdu.encode_submit("10086", too_long, concat=concat, force_ucs2=force_ucs2)


@settings(max_examples=100)
@given(
    st.one_of(st.none(), st.from_regex(r"\+?[0-9]{1,20}", fullmatch=True)), st.binary(max_size=20)
)
def test_smsc_round_trip(smsc: str | None, tpdu: bytes) -> None:
    assert pdu.split_smsc(pdu.encode_smsc(smsc) + tpdu) == (smsc, tpdu)


def test_encode_smsc_known() -> None:
    assert pdu.encode_smsc(None) == b"\x00"
    assert pdu.encode_smsc("+8613800100500") == bytes.fromhex("0891683108100005F0")


# --- published vectors --------------------------------------------------------------------------

# python-gsmmodem's test/test_pdu.py (encodeSmsSubmit and decode cases, real captures among them),
# the dreamfabric/Wikipedia "hellohello" PDUs. Hex includes the SMSC field.
SUBMIT_VECTORS = [
    # (pdu, smsc, da, text, dcs, mr, srr, vp)
    (
        "0001000B917228001011F100000CC8329BFD065DDF72363904",
        None,
        "+27820001111",
        "Hello World!",
        0x00,
        0,
        False,
        None,
    ),
    (
        "07914400000000F01100099121436587F90008F40A4E16754C60A8597DFF01",
        "+44000000000",
        "+123456789",
        "世界您好！",
        0x08,
        0,
        False,
        timedelta(weeks=52),
    ),
    (
        "04A12143F5310D0AA110624521430000A91BD4F29C0E6A97E7F3F0B9AC03B1DFE3301BE4AEB7C565F91C",
        "12345",
        "0126541234",
        "Test message: local numbers",
        0x00,
        13,
        True,
        timedelta(days=3),
    ),
    (
        "0019000B917228001011F100003170013193008017D474BB3CA787DB70903DCC4E93D3F43C885E9ED301",
        None,
        "+27820001111",
        "Timestamp validity test",
        0x00,
        0,
        False,
        datetime(2013, 7, 10, 13, 39, tzinfo=timezone(timedelta(hours=2))),
    ),
    (
        "07911326040000F0310D0B911326880736F40000A90FF7FBDD454E87CDE1B0DB357EB701",
        "+31624000000",
        "+31628870634",
        "www.diafaan.com",
        0x00,
        13,
        True,
        timedelta(days=3),
    ),
    (
        "07914346466554F601000B914316565811F9000806304253F68449",
        "+34646456456",
        "+34616585119",
        "あ叶葉",
        0x08,
        0,
        False,
        None,
    ),
    (
        "0591721891F101000B917228214365F700040C48656C6C6F20776F726C6421",
        "+2781191",
        "+27821234567",
        "Hello world!",  # 8-bit data, shown as Latin-1
        0x04,
        0,
        False,
        None,
    ),
    (
        "0011000B916407281553F80000AA0AE8329BFD4697D9EC37",
        None,
        "+46708251358",
        "hellohello",
        0x00,
        0,
        False,
        timedelta(days=4),
    ),
]


@pytest.mark.parametrize(
    ("hex_pdu", "smsc", "da", "text", "dcs", "mr", "srr", "vp"), SUBMIT_VECTORS
)
def test_published_submit_vectors(
    hex_pdu: str,
    smsc: str | None,
    da: str,
    text: str,
    dcs: int,
    mr: int,
    srr: bool,
    vp: object,
) -> None:
    got_smsc, tpdu = pdu.split_smsc(bytes.fromhex(hex_pdu))
    got = pdu.decode_submit(tpdu)
    assert (got_smsc, got.da, got.text, got.dcs, got.mr, got.srr, got.vp) == (
        smsc,
        da,
        text,
        dcs,
        mr,
        srr,
        vp,
    )


def test_published_submit_encodes_byte_for_byte() -> None:
    # python-gsmmodem's vector: no SMSC, no validity period, MR 0.
    expected = "01000B917228001011F100000CC8329BFD065DDF72363904"
    assert pdu.encode_submit("+27820001111", "Hello World!").hex().upper() == expected


def _tz(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


DELIVER_VECTORS = [
    # (pdu, smsc, oa, text, scts, concat)
    (
        "06917228195339040B917228214365F700003130805120618005D4F29C2E03",
        "+2782913593",
        "+27821234567",
        "Test2",
        datetime(2013, 3, 8, 15, 2, 16, tzinfo=_tz(2)),
        None,
    ),
    (
        "07915892000000F0040B915892214365F700007040213252242331493A283D0795C3F33C88FE06C9CB6132885E"
        "C6D341EDF27C1E3E97E7207B3A0C0A5241E377BB1D7693E72E",
        "+85290000000",
        "+85291234567",
        "It is easy to read text messages via AT commands.",
        datetime(2007, 4, 12, 23, 25, 42, tzinfo=_tz(8)),
        None,
    ),
    (
        "06917228195339040B917228214365F70000313062315352800A800D8A5E98D337A910",
        "+2782913593",
        "+27821234567",
        "@{tést}!",
        datetime(2013, 3, 26, 13, 35, 25, tzinfo=_tz(2)),
        None,
    ),
    (
        "0591721891F1400781721881F800003160526104848059050003C30101916536FB1DCABEEB2074D85E064941B1"
        "9CAB060319A5C522289C96D3D3ED32286C0FA7D96131BBEC024941B19CAB0603DDD36C36A88C87A7E565D0DB0D"
        "82C55EB0DB4B068BCD5C20",
        "+2781191",
        "2781188",
        "Hello!You have R 19.50 FREE airtime available. R 19.50 will expire on 01/07/2013. ",
        datetime(2013, 6, 25, 16, 40, 48, tzinfo=_tz(2)),
        Concat(0xC3, 1, 1),
    ),
    (
        "07919762020033F1400DD0CDF2396C7EBB010008415072411084618C0500035602010053004D005300200063006F"
        "00640065003A00200034003800350036002C00200063006F006E006600690072006D006100740069006F006E00"
        "20006F00660020006100730073006F00630069006100740069006F006E0020006200650074007700650065006E"
        "0020006100630063006F0075006E007400200061006E00640020004D00650067",
        "+79262000331",
        "Megafon",  # a real alphanumeric sender: 7 septets in 13 semi-octets
        "SMS code: 4856, confirmation of association between account and Meg",
        datetime(2014, 5, 27, 14, 1, 48, tzinfo=_tz(4)),
        Concat(0x56, 2, 1),
    ),
    (
        # dreamfabric's SMS-DELIVER: TON "subscriber", national numbering plan; the year 99 is read
        # as 2099 because everything this simulator handles is in 20xx.
        "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37",
        "+27381000015",
        "27838890001",
        "hellohello",
        datetime(2099, 3, 29, 15, 16, 59, tzinfo=_tz(2)),
        None,
    ),
]


@pytest.mark.parametrize(("hex_pdu", "smsc", "oa", "text", "scts", "concat"), DELIVER_VECTORS)
def test_published_deliver_vectors(
    hex_pdu: str, smsc: str, oa: str, text: str, scts: datetime, concat: Concat | None
) -> None:
    got_smsc, tpdu = pdu.split_smsc(bytes.fromhex(hex_pdu))
    got = pdu.decode_deliver(tpdu)
    assert (got_smsc, got.oa, got.text, got.scts, got.concat) == (smsc, oa, text, scts, concat)
    assert got.scts.utcoffset() == scts.utcoffset()


@pytest.mark.parametrize(
    ("oa", "text", "scts", "tpdu"),
    [
        (
            "+27821234567",
            "Test2",
            datetime(2013, 3, 8, 15, 2, 16, tzinfo=_tz(2)),
            "040B917228214365F700003130805120618005D4F29C2E03",
        ),
        (
            "+27821234567",
            "@{tést}!",
            datetime(2013, 3, 26, 13, 35, 25, tzinfo=_tz(2)),
            "040B917228214365F70000313062315352800A800D8A5E98D337A910",
        ),
    ],
)
def test_published_deliver_encodes_byte_for_byte(
    oa: str, text: str, scts: datetime, tpdu: str
) -> None:
    assert pdu.encode_deliver(oa, text, scts).hex().upper() == tpdu


def _oa_field(tpdu: bytes) -> bytes:
    return tpdu[1 : 3 + (tpdu[1] + 1) // 2]


def _scts_field(tpdu: bytes) -> bytes:
    start = 3 + (tpdu[1] + 1) // 2 + 2  # after first octet, TP-OA, TP-PID and TP-DCS
    return tpdu[start : start + 7]


@pytest.mark.parametrize(
    ("oa", "field"),
    [
        ("MMoney", "0BD0CDE6DB5DCE03"),  # smspdudecoder's fields.py doctests
        ("Design@Home", "14D0C4F23C7D760390EF7619"),
        ("Megafon", "0DD0CDF2396C7EBB01"),  # from the captured Megafon PDU above
        ("+8613800138000", "0D91683108108300F0"),
        ("10086", "05810180F6"),
    ],
)
def test_address_fields(oa: str, field: str) -> None:
    tpdu = pdu.encode_deliver(oa, "x", WHEN)
    assert _oa_field(tpdu).hex().upper() == field
    assert pdu.decode_deliver(tpdu).oa == oa


@pytest.mark.parametrize(
    ("scts", "field"),
    [
        # python-gsmmodem's TestTimestamp vectors and smspdudecoder's elements.py doctest.
        (datetime(2015, 11, 27, tzinfo=_tz(0)), "51117200000000"),
        (datetime(2015, 11, 27, tzinfo=_tz(2)), "51117200000080"),
        (datetime(2007, 4, 12, 23, 25, 42, tzinfo=_tz(8)), "70402132522423"),
        (datetime(2007, 4, 12, 23, 25, 42, tzinfo=_tz(-8)), "7040213252242B"),
        (datetime(2013, 3, 25, 23, 1, 56, tzinfo=_tz(-7)), "3130523210658A"),
        (datetime(2024, 1, 1, tzinfo=_tz(5.75)), "42101000000032"),  # Nepal, 23 quarters
    ],
)
def test_timestamps(scts: datetime, field: str) -> None:
    tpdu = pdu.encode_deliver("10086", "x", scts)
    assert _scts_field(tpdu).hex().upper() == field
    assert pdu.decode_deliver(tpdu).scts.utcoffset() == scts.utcoffset()


# --- data coding scheme and validity period ------------------------------------------------------

_HEAD = "01000B917228001011F100"  # SMS-SUBMIT, MR 0, TP-DA +27820001111, TP-PID 0


def _submit_with(dcs: int, alphabet: str, text: str, first: str = "01", vp: str = "") -> bytes:
    if alphabet == "gsm7":
        values = gsm7.septets(text)
        assert values is not None
        udl, body = len(values), gsm7.pack(values)
    elif alphabet == "ucs2":
        body = text.encode("utf-16-be")
        udl = len(body)
    else:
        body = text.encode("latin-1")
        udl = len(body)
    head = bytes.fromhex(first + _HEAD[2:])
    return head + bytes((dcs,)) + bytes.fromhex(vp) + bytes((udl,)) + body


@pytest.mark.parametrize(
    ("dcs", "alphabet"),
    [
        (0x00, "gsm7"),
        (0x04, "8bit"),
        (0x08, "ucs2"),
        (0x0C, "gsm7"),  # reserved alphabet: treated as GSM-7
        (0x10, "gsm7"),  # class 0 (flash)
        (0x11, "gsm7"),
        (0x14, "8bit"),
        (0x18, "ucs2"),
        (0x13, "gsm7"),
        (0x40, "gsm7"),  # automatic deletion group
        (0x44, "8bit"),
        (0x48, "ucs2"),
        (0x58, "ucs2"),
        (0x80, "gsm7"),  # reserved groups 1000-1011: GSM-7
        (0xB4, "gsm7"),
        (0xC0, "gsm7"),  # message waiting, discard
        (0xC8, "gsm7"),
        (0xD3, "gsm7"),  # message waiting, store, GSM-7
        (0xE0, "ucs2"),  # message waiting, store, UCS2
        (0xEB, "ucs2"),
        (0xF0, "gsm7"),  # data coding / message class
        (0xF1, "gsm7"),
        (0xF4, "8bit"),
        (0xF7, "8bit"),
    ],
)
def test_dcs_groups(dcs: int, alphabet: str) -> None:
    text = {"gsm7": "Hi €", "ucs2": "你好😀", "8bit": "Hi\x00\xff"}[alphabet]
    got = pdu.decode_submit(_submit_with(dcs, alphabet, text))
    assert (got.text, got.dcs) == (text, dcs)


@pytest.mark.parametrize("dcs", [0x20, 0x24, 0x28, 0x3C, 0x60, 0x68])
def test_compressed_text_is_refused(dcs: int) -> None:
    with pytest.raises(PduError, match="compressed"):
        pdu.decode_submit(_submit_with(dcs, "gsm7", "abc"))


@pytest.mark.parametrize(
    ("value", "period"),
    [
        (0, timedelta(minutes=5)),
        (143, timedelta(hours=12)),
        (144, timedelta(hours=12, minutes=30)),
        (167, timedelta(hours=24)),
        (168, timedelta(days=2)),
        (196, timedelta(days=30)),
        (197, timedelta(weeks=5)),
        (255, timedelta(weeks=63)),
    ],
)
def test_relative_validity(value: int, period: timedelta) -> None:
    got = pdu.decode_submit(_submit_with(0, "gsm7", "hi", first="11", vp=f"{value:02X}"))
    assert (got.vp, got.text) == (period, "hi")


def test_absolute_and_enhanced_validity_are_skipped_correctly() -> None:
    absolute = pdu.decode_submit(_submit_with(0, "gsm7", "hi", first="19", vp="70402132522423"))
    assert absolute.vp == datetime(2007, 4, 12, 23, 25, 42, tzinfo=_tz(8))
    enhanced = pdu.decode_submit(_submit_with(0, "gsm7", "hi", first="09", vp="42300000000000"))
    assert (enhanced.vp, enhanced.text) == (bytes.fromhex("42300000000000"), "hi")
    with pytest.raises(PduError, match="TP-VP"):
        pdu.decode_submit(bytes.fromhex("19000B917228001011F10000704021"))


# --- malformed PDUs -----------------------------------------------------------------------------

VALID_SUBMITS = [
    pdu.encode_submit("+8613800138000", "hi €"),
    pdu.encode_submit("ChinaMobile", "你好😀", mr=9, srr=True, concat=Concat(1, 2, 2)),
    pdu.encode_submit("10086", "a" * 152, concat=Concat(300, 2, 1)),
] + [pdu.split_smsc(bytes.fromhex(v[0]))[1] for v in SUBMIT_VECTORS]
VALID_DELIVERS = [
    *pdu.deliver_parts("+8613800138000", "€" * 100, WHEN, 5),
    *pdu.deliver_parts("Design@Home", "𠮷" * 40, WHEN, 6),
] + [pdu.split_smsc(bytes.fromhex(v[0]))[1] for v in DELIVER_VECTORS]


def test_every_truncation_is_a_pdu_error() -> None:
    for tpdu in VALID_SUBMITS:
        for end in range(len(tpdu)):
            with pytest.raises(PduError):
                pdu.decode_submit(tpdu[:end])
    for tpdu in VALID_DELIVERS:
        for end in range(len(tpdu)):
            with pytest.raises(PduError):
                pdu.decode_deliver(tpdu[:end])


def test_trailing_octets_are_a_pdu_error() -> None:
    with pytest.raises(PduError, match="after the user data"):
        pdu.decode_submit(VALID_SUBMITS[0] + b"\x00")
    with pytest.raises(PduError, match="after the user data"):
        pdu.decode_deliver(VALID_DELIVERS[0] + b"\x00")


@pytest.mark.parametrize(
    ("hex_tpdu", "message"),
    [
        ("00", "not SMS-SUBMIT"),
        ("02", "not SMS-SUBMIT"),  # a status report's MTI
        ("01000B117228001011F1000000", "bit 7 must be 1"),
        ("0100159172280010112233445566F1000000", "exceeds 20"),
        ("01000B917228F01011F1000000", "filler nibble F"),
        ("01000B917228001011010000", "without the F end mark"),
        ("01000B917228001011F10000A1" + "00" * 142, "exceeds 160 septets"),
        ("01000B917228001011F100088D" + "00" * 141, "exceeds 140 octets"),
        ("01000B917228001011F10008034F6061", "odd length"),
        ("01000B917228001011F1000802D83D", "not valid UTF-16"),
        ("01000B917228001011F1000001" + "1B", "lone escape"),
        ("41000B917228001011F1000000", "user data is empty"),
        ("41000B917228001011F10008020500", "UDH length runs past"),
        ("41000B917228001011F1000806050003010200", "part 0 of 2"),
        ("41000B917228001011F1000806050003010203", "part 3 of 2"),
        ("41000B917228001011F1000806050003000000", "part 0 of 0"),
        ("41000B917228001011F10008050400020102", "has length 2"),
        ("41000B917228001011F100080D0A000301020100030102014F60", "more than one"),
        ("41000B917228001011F1000804030A0501", "runs past the UDH"),
        ("41000B917228001011F10008020100", "header runs past"),
        ("41000B917228001011F1000006050003010201", "smaller than the user data header"),
    ],
)
def test_malformed_submits(hex_tpdu: str, message: str) -> None:
    with pytest.raises(PduError, match=message):
        pdu.decode_submit(bytes.fromhex(hex_tpdu))


@pytest.mark.parametrize(
    ("hex_tpdu", "message"),
    [
        ("01", "not SMS-DELIVER"),
        ("040B917228214365F70000313080512061A00000", "not two BCD digits"),
        ("040B917228214365F70000313180512061800000", "not a valid date"),  # month 13
        ("040B917228214365F700003130805120618005D4F2", "truncated"),
    ],
)
def test_malformed_delivers(hex_tpdu: str, message: str) -> None:
    with pytest.raises(PduError, match=message):
        pdu.decode_deliver(bytes.fromhex(hex_tpdu))


@pytest.mark.parametrize(
    ("hex_pdu", "message"),
    [
        ("", "truncated"),
        ("0C91683108100005F00000000000", "exceeds 11"),
        ("0891683108", "truncated"),
        ("0811683108100005F0", "bit 7 must be 1"),
        ("04D04F7901", "alphanumeric SMSC"),
        ("03916F31", "filler nibble F"),
    ],
)
def test_malformed_smsc(hex_pdu: str, message: str) -> None:
    with pytest.raises(PduError, match=message):
        pdu.split_smsc(bytes.fromhex(hex_pdu))


def test_published_pdu_with_an_overlong_address_is_refused() -> None:
    # python-gsmmodem keeps this one as "UCS-2 PDU; user data length is invalid (too long)". Its
    # TP-DA also claims 12 digits but carries 11 and an F. A second opinion must say no.
    _, tpdu = pdu.split_smsc(bytes.fromhex("0041010C910661345542F60008A0050003000301306F3044"))
    with pytest.raises(PduError):
        pdu.decode_submit(tpdu)


def test_status_report_is_neither_submit_nor_deliver() -> None:
    _, tpdu = pdu.split_smsc(bytes.fromhex("0006D60B911326880736F4111011719551401110117195714000"))
    with pytest.raises(PduError, match="not SMS-SUBMIT"):
        pdu.decode_submit(tpdu)
    with pytest.raises(PduError, match="not SMS-DELIVER"):
        pdu.decode_deliver(tpdu)


def _decode_or_pdu_error(data: bytes) -> None:
    for decode in (pdu.decode_submit, pdu.decode_deliver, pdu.split_smsc):
        with contextlib.suppress(PduError):
            decode(data)


@settings(max_examples=300)
@given(st.binary(max_size=180))
def test_arbitrary_bytes_decode_or_raise_pdu_error(data: bytes) -> None:
    _decode_or_pdu_error(data)


@settings(max_examples=300)
@given(
    st.sampled_from(VALID_SUBMITS + VALID_DELIVERS),
    st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=4),
    st.integers(0, 200),
)
def test_mutated_pdus_decode_or_raise_pdu_error(
    tpdu: bytes, changes: list[tuple[int, int]], cut: int
) -> None:
    mutated = bytearray(tpdu)
    for pos, value in changes:
        mutated[pos % len(mutated)] = value
    _decode_or_pdu_error(bytes(mutated))
    _decode_or_pdu_error(bytes(mutated[: len(mutated) - cut % len(mutated)]))


# --- encoder arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: pdu.encode_deliver("10086", "a" * 161, WHEN), "more than one SMS holds"),
        (lambda: pdu.encode_deliver("10086", "中" * 71, WHEN), "more than one SMS holds"),
        (
            lambda: pdu.encode_deliver("10086", "a" * 154, WHEN, concat=Concat(1, 2, 1)),
            "more than one SMS holds",
        ),
        (
            lambda: pdu.encode_deliver("10086", "中" * 68, WHEN, concat=Concat(1, 2, 1)),
            "more than one SMS holds",
        ),
        (lambda: pdu.encode_deliver("10086", "a", WHEN.replace(tzinfo=None)), "timezone-aware"),
        (lambda: pdu.encode_deliver("10086", "a", WHEN.replace(year=1999)), "2000-2099"),
        (
            lambda: pdu.encode_deliver("10086", "a", WHEN.replace(tzinfo=_tz(1 / 6))),
            "quarter hours",
        ),
        (lambda: pdu.encode_deliver("+86 138 0013 8000", "a", WHEN), "digits only"),
        (lambda: pdu.encode_deliver("China Mobile", "a", WHEN), "at most 11 septets"),
        (lambda: pdu.encode_deliver("医院", "a", WHEN), "GSM-7"),
        (lambda: pdu.encode_deliver("", "a", WHEN), "non-empty"),
        (lambda: pdu.encode_deliver("1" * 21, "a", WHEN), "more than 20 digits"),
        (lambda: pdu.encode_submit("10086", "a", mr=256), "0-255"),
        (lambda: pdu.encode_submit("10086", "a", concat=Concat(1, 2, 0)), "seq"),
        (lambda: pdu.encode_submit("10086", "a", concat=Concat(1, 2, 3)), "seq"),
        (lambda: pdu.encode_submit("10086", "a", concat=Concat(70000, 2, 1)), "ref"),
        (lambda: pdu.encode_smsc("+"), "1-20 digits"),
        (lambda: pdu.deliver_parts("10086", "a" * 153 * 256, WHEN, 1), "255 parts"),
    ],
)
def test_encoders_refuse_what_they_cannot_encode(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_numbers_and_text_stay_out_of_reprs_and_errors() -> None:
    tpdu = pdu.encode_submit("+8613800138000", "秘密 secret")
    got = pdu.decode_submit(tpdu)
    assert "8613800138000" not in repr(got)
    assert "secret" not in repr(got)
    delivered = pdu.decode_deliver(pdu.encode_deliver("+8613800138000", "secret", WHEN))
    assert "8613800138000" not in repr(delivered)
    assert "secret" not in repr(delivered)
    with pytest.raises(PduError) as info:
        pdu.decode_submit(tpdu[:-1])
    assert "8613800138000" not in str(info.value)
