"""Independent PDU codecs used only as test oracles, and every known defect of theirs, in one table.

Two third-party codecs check the simulator's codec from outside: python-gsmmodem-new's
`gsmmodem.pdu` (encodeSmsSubmitPdu, decodeSmsPdu) and `smspdudecoder` (decoding only). Neither is
trusted. Each defect below was found by running it (the evidence says how) and `oracle_handles`
tells a test to skip one vector, never a whole test, that would hit one. `test_pdu_oracles` also
checks that every listed defect is still there, so a fixed oracle shows up instead of hiding checks.
Nothing outside tests/ may import this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from io import StringIO
from typing import Any

from gsm0338 import Codec
from gsmmodem import pdu as gsmmodem_pdu
from smspdudecoder.fields import SMSDeliver, SMSSubmit

GSMMODEM_DECODE = "gsmmodem.pdu decodeSmsPdu"
GSMMODEM_ENCODE = "gsmmodem.pdu encodeSmsSubmitPdu"
SMSPDUDECODER = "smspdudecoder"
ORACLES = (GSMMODEM_DECODE, GSMMODEM_ENCODE, SMSPDUDECODER)

_GSM0338 = Codec()


# --- what an oracle said ----------------------------------------------------------------------


@dataclass(frozen=True)
class Decoded:
    """One PDU as an oracle decoded it."""

    address: str
    text: str
    concat: tuple[int, int, int] | None  # (ref, total, seq)
    scts: datetime | None
    mr: int | None


def gsmmodem_decode(pdu_with_smsc: bytes) -> Decoded:
    result: dict[str, Any] = gsmmodem_pdu.decodeSmsPdu(pdu_with_smsc.hex().upper())
    concat = None
    for ie in result.get("udh", []):
        if isinstance(ie, gsmmodem_pdu.Concatenation):
            concat = (ie.reference, ie.parts, ie.number)
    return Decoded(
        address=result["number"],
        text=result["text"],
        concat=concat,
        scts=result.get("time"),
        mr=result.get("reference"),
    )


def gsmmodem_encode_submit(number: str, text: str, *, reference: int, srr: bool) -> list[bytes]:
    """Full PDUs (SMSC field ``00`` first), one per part, as gsmmodem would send them."""
    pdus = gsmmodem_pdu.encodeSmsSubmitPdu(
        number, text, reference=reference, requestStatusReport=srr
    )
    return [bytes(p.data) for p in pdus]


def smspdudecoder_decode(pdu_with_smsc: bytes, *, submit: bool) -> Decoded:
    kind = SMSSubmit if submit else SMSDeliver
    sms: dict[str, Any] = kind.decode(StringIO(pdu_with_smsc.hex().upper()))
    party = sms["recipient" if submit else "sender"]
    address = party["number"]
    if party["toa"]["ton"] == "international":
        address = "+" + address
    concat = None
    header = sms["user_data"].get("header") or {}
    for element in header.get("elements", []):
        if element["iei"] in (0x00, 0x08):
            data = element["data"]
            concat = (data["reference"], data["parts_count"], data["part_number"])
    return Decoded(
        address=address,
        text=sms["user_data"]["data"],
        concat=concat,
        scts=sms.get("scts"),
        mr=sms.get("message-ref"),
    )


# --- the defects ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vector:
    """What an oracle is given for one PDU: the part's text and what surrounds it."""

    text: str
    address: str | None = None
    concat: tuple[int, int, int] | None = None  # (ref, total, seq) of this part
    ucs2: bool = False  # the part is coded in UCS2, else GSM-7
    dcs: int | None = None  # a hand-set TP-DCS; None means 0x00/0x08 as ucs2 says
    scts: datetime | None = None  # the service-centre time stamp of an SMS-DELIVER


@dataclass(frozen=True)
class Defect:
    oracle: str
    name: str
    reason: str
    evidence: str  # a vector that shows it; test_pdu_oracles replays each one
    hits: Callable[[Vector], bool]
    witness: Vector


def gsm_septets(text: str) -> bytes | None:
    """Septets of ``text`` by the gsm0338 package (not by the code under test); None if not GSM-7.

    U+001B is refused although gsm0338 maps it to a bare escape septet: no sender may emit that.
    """
    if "\x1b" in text:
        return None
    try:
        encoded: bytes = _GSM0338.encode(text)[0]
    except UnicodeEncodeError:
        return None
    return encoded


def _alnum_septets(address: str | None) -> bytes | None:
    if address is None or all("0" <= c <= "9" for c in address.removeprefix("+")):
        return None
    return gsm_septets(address)


def _gsm_text(v: Vector) -> bytes | None:
    return None if v.ucs2 else gsm_septets(v.text)


def _udh_octets(v: Vector) -> int:
    if v.concat is None:
        return 0
    return 6 if v.concat[0] <= 0xFF else 7


def _fill_bits(v: Vector) -> int:
    header = _udh_octets(v)
    return (7 - (8 * header) % 7) % 7 if header else 0


def _ends_on_octet_with_zero_septet(septets: bytes | None, fill: int) -> bool:
    if not septets:
        return False
    return septets[-1] == 0 and (fill + 7 * len(septets)) % 8 == 0


def _gsmmodem_drops_final_at(v: Vector) -> bool:
    return _ends_on_octet_with_zero_septet(_gsm_text(v), _fill_bits(v)) or (
        _ends_on_octet_with_zero_septet(_alnum_septets(v.address), 0)
    )


def _gsm_chars(v: Vector, chars: str) -> bool:
    in_text = _gsm_text(v) is not None and any(c in v.text for c in chars)
    in_address = _alnum_septets(v.address) is not None and any(
        c in (v.address or "") for c in chars
    )
    return in_text or in_address


def _gsmmodem_would_use_gsm7(text: str) -> bool:
    try:
        gsmmodem_pdu.encodeGsm7(text)
    except (ValueError, TypeError):
        return False
    return True


def _alnum_of_7_septets(v: Vector) -> bool:
    septets = _alnum_septets(v.address)
    return septets is not None and len(septets) % 8 == 7


def _smspdudecoder_spare_septet(v: Vector) -> bool:
    septets = _gsm_text(v)
    if not septets or 0x1B not in septets:
        return False
    header = _udh_octets(v)
    bits = 8 * header + _fill_bits(v) + 7 * len(septets)
    return (-bits) % 8 == 7


def _smspdudecoder_escape_in_header(v: Vector) -> bool:
    if v.concat is None or _gsm_text(v) is None:
        return False
    ref, total, seq = v.concat
    if ref <= 0xFF:
        header = bytes((5, 0x00, 3, ref, total, seq))
    else:
        header = bytes((6, 0x08, 4, ref >> 8, ref & 0xFF, total, seq))
    bits = int.from_bytes(header, "little")
    count = (8 * len(header) + 6) // 7
    return any((bits >> (7 * k)) & 0x7F == 0x1B for k in range(count))


DEFECTS: tuple[Defect, ...] = (
    Defect(
        GSMMODEM_DECODE,
        "section sign",
        "its GSM7_BASIC has '`' at 0x5F where 23.038 has '§', so a GSM-7 '§' decodes as '`'",
        "decodeSmsPdu of our SMS-DELIVER of '§' returns '`'",
        lambda v: _gsm_chars(v, "§"),
        Vector("§"),
    ),
    Defect(
        GSMMODEM_DECODE,
        "form feed",
        "its GSM7_EXTENDED maps chr(0xFF) to the int 0x0A instead of '\\f' to chr(0x0A), so the "
        "escape pair 1B 0A matches nothing and is silently dropped",
        "decodeSmsPdu of our SMS-DELIVER of 'a\\fb' returns 'ab'",
        lambda v: _gsm_chars(v, "\f"),
        Vector("a\fb"),
    ),
    Defect(
        GSMMODEM_DECODE,
        "surrogate pairs",
        "decodeUcs2 turns each UTF-16 code unit into a character, so emoji and rare CJK come "
        "out as two lone surrogates",
        "decodeSmsPdu of our UCS2 '😀' returns '\\ud83d\\ude00'",
        lambda v: v.ucs2 and any(ord(c) > 0xFFFF for c in v.text),
        Vector("😀", ucs2=True),
    ),
    Defect(
        GSMMODEM_DECODE,
        "final @ lost",
        "unpackSeptets appends the last septet only 'if b:', so a final '@' (septet 0) that ends "
        "exactly on an octet boundary is lost, in the text and in an alphanumeric address",
        "decodeSmsPdu of '1234567@' returns '1234567'; of sender 'Bank@@@@' returns 'Bank@@@'",
        _gsmmodem_drops_final_at,
        Vector("1234567@"),
    ),
    Defect(
        GSMMODEM_DECODE,
        "16-bit concat and GSM-7",
        "_decodeUserData always skips one octet of fill bits after the UDH; a 7-octet UDH (16-bit "
        "concat reference) ends on a septet boundary with no fill, so the text is read misaligned",
        "decodeSmsPdu of our GSM-7 '{[€]}' with concat (ref 300) returns '([e]}'-like garbage",
        lambda v: v.concat is not None and v.concat[0] > 0xFF and _gsm_text(v) is not None,
        Vector("{[€]}", concat=(300, 1, 1)),
    ),
    Defect(
        GSMMODEM_DECODE,
        "years 2069-2099",
        "_decodeTimestamp parses the two-digit year with strptime('%y'), whose POSIX pivot puts "
        "69-99 in the 1900s",
        "decodeSmsPdu of our deliver stamped 2069-01-01 returns 1969-01-01",
        lambda v: v.scts is not None and v.scts.year % 100 >= 69,
        Vector("x", scts=datetime(2069, 1, 1, tzinfo=UTC)),
    ),
    Defect(
        GSMMODEM_DECODE,
        "coding groups",
        "_decodeDataCoding understands only group 00xx and reads every other TP-DCS as GSM-7",
        "decodeSmsPdu of UCS2 '你好' with TP-DCS 0x48 returns 'O¡ej'",
        lambda v: v.dcs is not None and v.dcs & 0xC0 != 0,
        Vector("你好", ucs2=True, dcs=0x48),
    ),
    Defect(
        GSMMODEM_ENCODE,
        "surrogate pairs",
        "encodeUcs2 writes ord(c) >> 8 as one byte, so any character above U+FFFF crashes",
        "encodeSmsSubmitPdu('+86138', '😀') raises ValueError('byte must be in range(0, 256)')",
        lambda v: any(ord(c) > 0xFFFF for c in v.text),
        Vector("😀"),
    ),
    Defect(
        GSMMODEM_ENCODE,
        "y with diaeresis",
        "its GSM7_EXTENDED has the key 'ÿ' (meant as form feed) with an int value, so encoding 'ÿ' "
        "calls ord() on an int",
        "encodeSmsSubmitPdu('+86', 'ÿ') raises TypeError('ord() expected string of length 1, ...')",
        lambda v: "ÿ" in v.text,
        Vector("ÿ"),
    ),
    Defect(
        GSMMODEM_ENCODE,
        "backtick",
        "its GSM7_BASIC has '`' at 0x5F, so '`' is sent as GSM-7 0x5F, which is '§'",
        "encodeSmsSubmitPdu('+86', '`') decodes (by 23.038) as '§'",
        lambda v: "`" in v.text and _gsmmodem_would_use_gsm7(v.text),
        Vector("`"),
    ),
    Defect(
        GSMMODEM_ENCODE,
        "escape character",
        "U+001B is in its GSM7_BASIC, so it is sent as a bare escape septet that changes the "
        "meaning of the next character (or dangles at the end)",
        "encodeSmsSubmitPdu('+86', '\\x1b[') decodes as ' <'",
        lambda v: "\x1b" in v.text and _gsmmodem_would_use_gsm7(v.text),
        Vector("\x1b["),
    ),
    Defect(
        GSMMODEM_ENCODE,
        "alphanumeric charset",
        "_encodeAddressField packs alphanumeric addresses with its own GSM7 tables, which lack '§' "
        "and form feed, so such an address raises instead of being encoded",
        "encodeSmsSubmitPdu('§', '') raises ValueError('Cannot encode char \"§\" ...')",
        lambda v: (
            _alnum_septets(v.address) is not None and any(c in (v.address or "") for c in "§\f")
        ),
        Vector("x", address="Bank§"),
    ),
    Defect(
        GSMMODEM_ENCODE,
        "alphanumeric length",
        "_encodeAddressField puts 2 x octets in the address length, not the useful semi-octets, "
        "so a 7-septet alphanumeric address reads back with an '@' appended",
        "encodeSmsSubmitPdu('ABCDEFG', 'a') gives TP-DA length 14 where 23.040 says 13",
        _alnum_of_7_septets,
        Vector("a", address="ABCDEFG"),
    ),
    Defect(
        SMSPDUDECODER,
        "alphanumeric length",
        "Address.decode unpacks every septet of the ceil(length/2) octets, so a 7-septet "
        "alphanumeric sender gains an '@' from the 4 spare bits plus padding",
        "SMSDeliver.decode of our deliver from 'ABCDEFG' gives sender 'ABCDEFG@'",
        _alnum_of_7_septets,
        Vector("a", address="ABCDEFG"),
    ),
    Defect(
        SMSPDUDECODER,
        "spare septet",
        "UserData.decode unpacks every septet of the octets and slices the decoded characters by "
        "the septet count; when there are 7 spare bits and an escape pair shortened the text, the "
        "zero padding septet shows as a trailing '@'",
        "SMSDeliver.decode of our deliver of '€wZ[ò' (7 septets in 7 octets) gives '€wZ[ò@'",
        _smspdudecoder_spare_septet,
        Vector("€wZ[ò"),
    ),
    Defect(
        SMSPDUDECODER,
        "escape in header",
        "for GSM-7 it decodes the UDH octets as text too and slices by septet count; when a UDH "
        "septet is 0x1B it swallows the next one and the text shifts by a character",
        "SMSDeliver.decode of GSM-7 'abc' with concat (ref 0xB0, total 1, seq 1) loses a char",
        _smspdudecoder_escape_in_header,
        Vector("abc", concat=(0xB0, 1, 1)),
    ),
    Defect(
        SMSPDUDECODER,
        "coding groups",
        "DCS.decode reads bits 3-2 whatever the coding group, so groups 1000-1111 are misread "
        "(and 8-bit data comes back as bytes, not text)",
        "SMSDeliver.decode of GSM-7 'abc' with TP-DCS 0xC8 (message waiting, GSM-7) reads UCS2",
        lambda v: v.dcs is not None and v.dcs & 0x80 != 0,
        Vector("abc", dcs=0xC8),
    ),
)


def oracle_handles(
    oracle: str,
    text: str,
    *,
    address: str | None = None,
    concat: tuple[int, int, int] | None = None,
    ucs2: bool | None = None,
    dcs: int | None = None,
    scts: datetime | None = None,
) -> bool:
    """Whether ``oracle`` is expected to get this PDU right (no known defect applies).

    ``ucs2`` None: UCS2 iff not GSM-7.
    """
    if oracle not in ORACLES:
        raise ValueError(f"unknown oracle {oracle!r}")
    if ucs2 is None:
        ucs2 = gsm_septets(text) is None
    vector = Vector(text, address, concat, ucs2, dcs, scts)
    hit = [d for d in DEFECTS if d.oracle == oracle and d.hits(vector)]
    return not hit
