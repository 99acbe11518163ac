"""The simulator's own SMS PDU codec (3GPP TS 23.040 / 23.038): SMS-SUBMIT in, SMS-DELIVER out.

It is the simulated modem's second opinion of what the real driver sends, so it is written apart
from `smscat.modem` and must never import it (nor `gsm0338`). Pure functions: no I/O, no clock, no
logging. Decoding is strict: anything malformed raises PduError (a ValueError) whose message names
the field, never the number or the text. Encoders raise ValueError for what they cannot encode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal, TypeAlias

from . import gsm7

__all__ = [
    "Concat",
    "Deliver",
    "PduError",
    "Submit",
    "decode_deliver",
    "decode_submit",
    "deliver_parts",
    "encode_deliver",
    "encode_smsc",
    "encode_submit",
    "split_smsc",
    "split_text",
]


class PduError(ValueError):
    """A PDU that is truncated, inconsistent or uses a feature the simulator does not support."""


@dataclass(frozen=True)
class Concat:
    """Concatenated-SMS information element (8-bit reference IEI 0x00, or 16-bit IEI 0x08)."""

    ref: int
    total: int
    seq: int


# Relative validity (timedelta), absolute validity (datetime), or the 7 raw octets of the enhanced
# format, which nothing in smscat sends and is therefore only skipped, not interpreted.
ValidityPeriod: TypeAlias = timedelta | datetime | bytes


@dataclass(frozen=True)
class Submit:
    """A decoded SMS-SUBMIT. ``udh`` is the user data header without its length octet (b"" if none).

    For 8-bit data (DCS alphabet 01) ``text`` holds the octets as Latin-1 code points.
    """

    da: str = field(repr=False)
    text: str = field(repr=False)
    dcs: int
    mr: int
    srr: bool
    concat: Concat | None
    vp: ValidityPeriod | None = None
    udh: bytes = b""


@dataclass(frozen=True)
class Deliver:
    """A decoded SMS-DELIVER."""

    oa: str = field(repr=False)
    text: str = field(repr=False)
    dcs: int
    scts: datetime
    concat: Concat | None


Alphabet: TypeAlias = Literal["gsm7", "8bit", "ucs2"]

# TP-MTI (bits 1-0 of the first octet); the same values mean different PDUs in each direction.
_MTI_DELIVER = 0b00
_MTI_SUBMIT = 0b01

_TOA_INTERNATIONAL = 0x91  # extension bit, TON 001 international, NPI 0001 ISDN
_TOA_UNKNOWN = 0x81  # TON 000 unknown (national numbers and short codes), NPI ISDN
_TOA_ALPHANUMERIC = 0xD0  # TON 101 alphanumeric, NPI 0000
_TON_INTERNATIONAL = 1
_TON_ALPHANUMERIC = 5

_MAX_ADDRESS_DIGITS = 20  # the address value is at most 10 octets (23.040 §9.1.2.5)
_MAX_ALPHANUMERIC_SEPTETS = 11  # 20 semi-octets hold 11 septets
_MAX_SMSC_OCTETS = 11  # type-of-address + 10 octets of digits
_MAX_UD_OCTETS = 140
_MAX_UD_SEPTETS = 160

_SINGLE_SEPTETS = 160
_MULTI_SEPTETS = 153  # 160 minus the 7 septets a UDH with one 8-bit concat IE takes
_SINGLE_UCS2_UNITS = 70
_MULTI_UCS2_UNITS = 67  # (140 - 6 octets of UDH) / 2

_IEI_CONCAT_8 = 0x00
_IEI_CONCAT_16 = 0x08

# Semi-octet digit values 0-E (23.040 §9.1.2.3); F is only the filler of an odd-length number.
_DIGITS = "0123456789*#abc"


class _Reader:
    """Reads a TPDU front to back; every shortfall becomes a PduError naming the field."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def octet(self, what: str) -> int:
        return self.take(1, what)[0]

    def take(self, n: int, what: str) -> bytes:
        end = self._pos + n
        if end > len(self._data):
            raise PduError(
                f"truncated PDU: {what} needs {n} octet(s) at offset {self._pos}, "
                f"{len(self._data) - self._pos} left"
            )
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def rest(self) -> bytes:
        chunk = self._data[self._pos :]
        self._pos = len(self._data)
        return chunk


# --- semi-octets and addresses -------------------------------------------------------------------


def _bcd_encode(digits: str) -> bytes:
    nibbles = [_DIGITS.index(d) for d in digits]
    if len(nibbles) % 2:
        nibbles.append(0xF)
    return bytes(lo | (hi << 4) for lo, hi in zip(nibbles[::2], nibbles[1::2], strict=True))


def _bcd_decode(data: bytes, count: int | None, what: str) -> str:
    """Digits of a semi-octet field; ``count`` useful digits, or None to stop at an F filler."""
    nibbles: list[int] = []
    for octet in data:
        nibbles.extend((octet & 0x0F, octet >> 4))
    if count is None:
        count = len(nibbles) - 1 if nibbles and nibbles[-1] == 0xF else len(nibbles)
    if count % 2 and nibbles[count] != 0xF:
        raise PduError(f"{what}: odd number of digits without the F end mark")
    used = nibbles[:count]
    if 0xF in used:
        raise PduError(f"{what}: filler nibble F inside the digits")
    return "".join(_DIGITS[n] for n in used)


def _encode_address(address: str) -> bytes:
    """TP-DA/TP-OA: ``+digits`` international, ``digits`` unknown TON, else alphanumeric."""
    if address.startswith("+"):
        digits = address[1:]
        # "+86 138 ..." is a number typed with spaces, not a sender name: sending it alphanumeric
        # would be wrong, so refuse it rather than guess.
        if not digits or not _all_ascii_digits(digits):
            raise ValueError("an address starting with + must be followed by digits only")
        toa = _TOA_INTERNATIONAL
    elif address and _all_ascii_digits(address):
        digits = address
        toa = _TOA_UNKNOWN
    else:
        return _encode_alphanumeric(address)
    if len(digits) > _MAX_ADDRESS_DIGITS:
        raise ValueError(f"address has more than {_MAX_ADDRESS_DIGITS} digits")
    return bytes((len(digits), toa)) + _bcd_encode(digits)


def _encode_alphanumeric(address: str) -> bytes:
    values = gsm7.septets(address)
    if not address or values is None:
        raise ValueError("an alphanumeric address must be non-empty GSM-7 text")
    if len(values) > _MAX_ALPHANUMERIC_SEPTETS:
        raise ValueError(f"an alphanumeric address is at most {_MAX_ALPHANUMERIC_SEPTETS} septets")
    semi_octets = (7 * len(values) + 3) // 4
    return bytes((semi_octets, _TOA_ALPHANUMERIC)) + gsm7.pack(values)


def _all_ascii_digits(s: str) -> bool:
    # str.isdigit() also accepts "²" and Arabic-Indic digits, which have no semi-octet.
    return all("0" <= c <= "9" for c in s)


def _decode_address(reader: _Reader, what: str) -> str:
    length = reader.octet(f"{what} length")
    toa = reader.octet(f"{what} type-of-address")
    if length > _MAX_ADDRESS_DIGITS:
        raise PduError(f"{what}: length {length} exceeds {_MAX_ADDRESS_DIGITS} semi-octets")
    if not toa & 0x80:
        raise PduError(f"{what}: type-of-address bit 7 must be 1")
    value = reader.take((length + 1) // 2, what)
    ton = (toa >> 4) & 0x07
    if ton == _TON_ALPHANUMERIC:
        try:
            return gsm7.text_from_septets(gsm7.unpack(value, length * 4 // 7))
        except ValueError as exc:
            raise PduError(f"{what}: bad alphanumeric address: {exc}") from exc
    digits = _bcd_decode(value, length, what)
    return "+" + digits if ton == _TON_INTERNATIONAL else digits


def encode_smsc(number: str | None) -> bytes:
    """The SMSC address field that precedes a TPDU; None gives ``00`` (use the SIM's default)."""
    if number is None:
        return b"\x00"
    if number.startswith("+"):
        digits, toa = number[1:], _TOA_INTERNATIONAL
    else:
        digits, toa = number, _TOA_UNKNOWN
    if not digits or not _all_ascii_digits(digits) or len(digits) > _MAX_ADDRESS_DIGITS:
        raise ValueError("an SMSC number must be 1-20 digits, optionally after +")
    value = _bcd_encode(digits)
    return bytes((1 + len(value), toa)) + value


def split_smsc(pdu: bytes) -> tuple[str | None, bytes]:
    """Split what follows ``AT+CMGS=<n>`` into (SMSC number or None for the default, TPDU)."""
    reader = _Reader(pdu)
    length = reader.octet("SMSC length")
    if length == 0:
        return None, reader.rest()
    if length > _MAX_SMSC_OCTETS:
        raise PduError(f"SMSC: length {length} exceeds {_MAX_SMSC_OCTETS} octets")
    toa = reader.octet("SMSC type-of-address")
    if not toa & 0x80:
        raise PduError("SMSC: type-of-address bit 7 must be 1")
    if (toa >> 4) & 0x07 == _TON_ALPHANUMERIC:
        raise PduError("SMSC: an alphanumeric SMSC address is not valid")
    digits = _bcd_decode(reader.take(length - 1, "SMSC"), None, "SMSC")
    smsc = "+" + digits if (toa >> 4) & 0x07 == _TON_INTERNATIONAL else digits
    return smsc, reader.rest()


# --- timestamps and validity ---------------------------------------------------------------------


def _encode_timestamp(when: datetime) -> bytes:
    """TP-SCTS / absolute TP-VP: swapped BCD YYMMDDhhmmss plus the zone in signed quarter hours."""
    offset = when.utcoffset()
    if offset is None:
        raise ValueError("the timestamp must be timezone-aware")
    if not 2000 <= when.year <= 2099:
        raise ValueError("the timestamp year must be 2000-2099 (two digits in the PDU)")
    minutes, remainder = divmod(offset, timedelta(minutes=15))
    if remainder:
        raise ValueError("the UTC offset must be a whole number of quarter hours")
    quarters = abs(minutes)
    if quarters > 79:  # two BCD digits, the top bit taken by the sign
        raise ValueError("the UTC offset is too large for the PDU")
    fields = (when.year % 100, when.month, when.day, when.hour, when.minute, when.second, quarters)
    octets = bytearray((v % 10) << 4 | (v // 10) for v in fields)
    if minutes < 0:
        octets[6] |= 0x08  # bit 3 of the zone octet is the sign (23.040 §9.2.3.11)
    return bytes(octets)


def _decode_timestamp(data: bytes, what: str) -> datetime:
    values: list[int] = []
    for i, octet in enumerate(data):
        tens, units = octet & 0x0F, octet >> 4
        if i == 6:
            tens &= 0x07  # strip the sign bit
        if tens > 9 or units > 9:
            raise PduError(f"{what}: octet {i} is not two BCD digits")
        values.append(tens * 10 + units)
    quarters = -values[6] if data[6] & 0x08 else values[6]
    # Two-digit years: everything this simulator sees or sends is in 20xx.
    try:
        return datetime(
            2000 + values[0],
            values[1],
            values[2],
            values[3],
            values[4],
            values[5],
            tzinfo=timezone(timedelta(minutes=15 * quarters)),
        )
    except ValueError as exc:
        raise PduError(f"{what}: not a valid date/time: {exc}") from exc


def _relative_validity(value: int) -> timedelta:
    # 23.040 §9.2.3.12.1
    if value <= 143:
        return timedelta(minutes=5 * (value + 1))
    if value <= 167:
        return timedelta(hours=12, minutes=30 * (value - 143))
    if value <= 196:
        return timedelta(days=value - 166)
    return timedelta(weeks=value - 192)


# --- data coding scheme and user data ------------------------------------------------------------


def _alphabet(dcs: int) -> Alphabet:
    """The character set a TP-DCS selects (23.038 §4)."""
    group = dcs >> 4
    if group <= 0b0111:
        # 00xx general data coding and 01xx the same with automatic deletion (so 0x48 is UCS2).
        if dcs & 0x20:
            raise PduError(f"DCS 0x{dcs:02X}: compressed text is not supported")
        alphabet = (dcs >> 2) & 0x03
        if alphabet == 0b01:
            return "8bit"
        if alphabet == 0b10:
            return "ucs2"
        # 00 is GSM-7; 11 is reserved, which a receiver treats as GSM-7.
        return "gsm7"
    if group == 0b1110:
        return "ucs2"  # message waiting indication, store message, UCS2
    if group == 0b1111:
        return "8bit" if dcs & 0x04 else "gsm7"  # data coding / message class
    # 1100 and 1101 (message waiting, GSM-7) and the reserved groups 1000-1011, which a receiver
    # treats as GSM-7 too.
    return "gsm7"


def _parse_udh(udh: bytes) -> Concat | None:
    concat: Concat | None = None
    pos = 0
    while pos < len(udh):
        if pos + 2 > len(udh):
            raise PduError("UDH: information element header runs past the UDH")
        iei, length = udh[pos], udh[pos + 1]
        data = udh[pos + 2 : pos + 2 + length]
        if len(data) != length:
            raise PduError(f"UDH: information element 0x{iei:02X} runs past the UDH")
        pos += 2 + length
        if iei not in (_IEI_CONCAT_8, _IEI_CONCAT_16):
            continue  # other elements (ports, national language shifts, …) are skipped
        if concat is not None:
            raise PduError("UDH: more than one concatenation element")
        if iei == _IEI_CONCAT_8 and length == 3:
            ref, total, seq = data[0], data[1], data[2]
        elif iei == _IEI_CONCAT_16 and length == 4:
            ref, total, seq = data[0] << 8 | data[1], data[2], data[3]
        else:
            raise PduError(f"UDH: concatenation element 0x{iei:02X} has length {length}")
        # A receiver "shall ignore" such an element; our own driver must never send one, so say so.
        if total == 0 or not 1 <= seq <= total:
            raise PduError(f"UDH: concatenation part {seq} of {total} is out of range")
        concat = Concat(ref, total, seq)
    return concat


def _decode_user_data(reader: _Reader, dcs: int, udhi: bool) -> tuple[str, bytes, Concat | None]:
    alphabet = _alphabet(dcs)
    udl = reader.octet("TP-UDL")
    if alphabet == "gsm7":
        if udl > _MAX_UD_SEPTETS:
            raise PduError(f"TP-UDL {udl} exceeds {_MAX_UD_SEPTETS} septets")
        ud_octets = gsm7.packed_length(udl)
    else:
        if udl > _MAX_UD_OCTETS:
            raise PduError(f"TP-UDL {udl} exceeds {_MAX_UD_OCTETS} octets")
        ud_octets = udl
    ud = reader.take(ud_octets, "user data")
    extra = reader.rest()
    if extra:
        raise PduError(f"{len(extra)} octet(s) after the user data")

    udh = b""
    header_octets = 0
    if udhi:
        if not ud:
            raise PduError("TP-UDHI is set but the user data is empty")
        udh = ud[1 : 1 + ud[0]]
        header_octets = 1 + ud[0]
        if len(udh) != ud[0] or header_octets > len(ud):
            raise PduError("UDH length runs past the user data")
    concat = _parse_udh(udh)

    if alphabet == "gsm7":
        # The header is padded with fill bits up to a septet boundary; TP-UDL counts those septets.
        header_septets = (8 * header_octets + 6) // 7
        fill = 7 * header_septets - 8 * header_octets
        count = udl - header_septets
        if count < 0:
            raise PduError("TP-UDL is smaller than the user data header")
        try:
            text = gsm7.text_from_septets(gsm7.unpack(ud[header_octets:], count, fill))
        except ValueError as exc:
            raise PduError(f"GSM-7 user data: {exc}") from exc
        return text, udh, concat

    body = ud[header_octets:]
    if alphabet == "8bit":
        return body.decode("latin-1"), udh, concat
    if len(body) % 2:
        raise PduError(f"UCS2 user data has an odd length ({len(body)} octets)")
    try:
        # SMS "UCS2" is UTF-16-BE in practice: emoji and rare CJK arrive as surrogate pairs. A lone
        # surrogate (a pair split across parts) is an error, not something to pass along.
        return body.decode("utf-16-be"), udh, concat
    except UnicodeDecodeError as exc:
        raise PduError(f"UCS2 user data is not valid UTF-16: {exc.reason}") from exc


def _encode_user_data(text: str, concat: Concat | None, force_ucs2: bool) -> tuple[int, bytes]:
    """(TP-DCS, TP-UDL + TP-UD) for one part; raises ValueError if the text does not fit."""
    udh = b""
    if concat is not None:
        if not 0 <= concat.ref <= 0xFFFF or not 1 <= concat.seq <= concat.total <= 0xFF:
            raise ValueError("concatenation: need 0 <= ref <= 65535 and 1 <= seq <= total <= 255")
        if concat.ref <= 0xFF:
            udh = bytes((_IEI_CONCAT_8, 3, concat.ref, concat.total, concat.seq))
        else:
            ref_hi, ref_lo = divmod(concat.ref, 0x100)
            udh = bytes((_IEI_CONCAT_16, 4, ref_hi, ref_lo, concat.total, concat.seq))
    header = bytes((len(udh),)) + udh if udh else b""

    values = None if force_ucs2 else gsm7.septets(text)
    if values is not None:
        header_septets = (8 * len(header) + 6) // 7
        fill = 7 * header_septets - 8 * len(header)
        udl = header_septets + len(values)
        if udl > _MAX_UD_SEPTETS:
            raise ValueError(f"text needs {udl} septets with its header, more than one SMS holds")
        return 0x00, bytes((udl,)) + header + gsm7.pack(values, fill)

    # surrogatepass is not needed: Python strings hold code points, UTF-16 makes the pairs.
    body = text.encode("utf-16-be")
    udl = len(header) + len(body)
    if udl > _MAX_UD_OCTETS:
        raise ValueError(f"text needs {udl} UCS2 octets with its header, more than one SMS holds")
    return 0x08, bytes((udl,)) + header + body


# --- SMS-SUBMIT (driver -> simulated modem) ------------------------------------------------------


def decode_submit(tpdu: bytes) -> Submit:
    """Decode an SMS-SUBMIT TPDU (no SMSC field: see split_smsc)."""
    reader = _Reader(tpdu)
    first = reader.octet("first octet")
    if first & 0x03 != _MTI_SUBMIT:
        raise PduError(f"TP-MTI {first & 0x03:02b} is not SMS-SUBMIT")
    vpf = (first >> 3) & 0x03
    srr = bool(first & 0x20)
    udhi = bool(first & 0x40)
    mr = reader.octet("TP-MR")
    da = _decode_address(reader, "TP-DA")
    reader.octet("TP-PID")
    dcs = reader.octet("TP-DCS")
    vp: ValidityPeriod | None = None
    if vpf == 0b10:
        vp = _relative_validity(reader.octet("TP-VP (relative)"))
    elif vpf == 0b11:
        vp = _decode_timestamp(reader.take(7, "TP-VP (absolute)"), "TP-VP (absolute)")
    elif vpf == 0b01:
        vp = reader.take(7, "TP-VP (enhanced)")
    text, udh, concat = _decode_user_data(reader, dcs, udhi)
    return Submit(da=da, text=text, dcs=dcs, mr=mr, srr=srr, concat=concat, vp=vp, udh=udh)


def encode_submit(
    da: str,
    text: str,
    *,
    mr: int = 0,
    srr: bool = False,
    concat: Concat | None = None,
    force_ucs2: bool = False,
) -> bytes:
    """One SMS-SUBMIT TPDU (no SMSC field, no validity period); the reverse of decode_submit."""
    if not 0 <= mr <= 0xFF:
        raise ValueError("TP-MR must be 0-255")
    dcs, user_data = _encode_user_data(text, concat, force_ucs2)
    first = _MTI_SUBMIT | (0x20 if srr else 0) | (0x40 if concat is not None else 0)
    return bytes((first, mr)) + _encode_address(da) + bytes((0x00, dcs)) + user_data


# --- SMS-DELIVER (simulated network -> driver) ---------------------------------------------------


def encode_deliver(
    oa: str,
    text: str,
    scts: datetime,
    *,
    concat: Concat | None = None,
    force_ucs2: bool = False,
) -> bytes:
    """One SMS-DELIVER TPDU; GSM-7 when the text allows it (and not force_ucs2), else UCS2."""
    dcs, user_data = _encode_user_data(text, concat, force_ucs2)
    # TP-MMS set means "no more messages waiting", which is what real networks send.
    first = _MTI_DELIVER | 0x04 | (0x40 if concat is not None else 0)
    return (
        bytes((first,))
        + _encode_address(oa)
        + bytes((0x00, dcs))
        + _encode_timestamp(scts)
        + user_data
    )


def decode_deliver(tpdu: bytes) -> Deliver:
    """Decode an SMS-DELIVER TPDU (no SMSC field)."""
    reader = _Reader(tpdu)
    first = reader.octet("first octet")
    if first & 0x03 != _MTI_DELIVER:
        raise PduError(f"TP-MTI {first & 0x03:02b} is not SMS-DELIVER")
    udhi = bool(first & 0x40)
    oa = _decode_address(reader, "TP-OA")
    reader.octet("TP-PID")
    dcs = reader.octet("TP-DCS")
    scts = _decode_timestamp(reader.take(7, "TP-SCTS"), "TP-SCTS")
    text, _udh, concat = _decode_user_data(reader, dcs, udhi)
    return Deliver(oa=oa, text=text, dcs=dcs, scts=scts, concat=concat)


def split_text(text: str) -> tuple[Literal["gsm7", "ucs2"], list[str]]:
    """Split text into the parts of one (possibly concatenated) message.

    GSM-7 when every character is in the default alphabet or its extension table: 160 septets in a
    single SMS, 153 per part otherwise, an escape pair never cut. Else UCS2 (UTF-16): 70 code units
    single, 67 per part, a surrogate pair never cut. Empty text is one empty part.
    """
    costs = [gsm7.septet_count(ch) for ch in text]
    kind: Literal["gsm7", "ucs2"]
    if all(cost is not None for cost in costs):
        kind, single, multi = "gsm7", _SINGLE_SEPTETS, _MULTI_SEPTETS
        sizes = [cost or 0 for cost in costs]
    else:
        kind, single, multi = "ucs2", _SINGLE_UCS2_UNITS, _MULTI_UCS2_UNITS
        sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    if sum(sizes) <= single:
        return kind, [text]
    parts: list[str] = []
    start = used = 0
    for i, size in enumerate(sizes):
        if used + size > multi:
            parts.append(text[start:i])
            start, used = i, 0
        used += size
    parts.append(text[start:])
    return kind, parts


def deliver_parts(oa: str, text: str, scts: datetime, ref: int) -> list[bytes]:
    """The SMS-DELIVER TPDUs of one message, concatenated with reference ``ref & 0xFF`` if long."""
    kind, parts = split_text(text)
    ucs2 = kind == "ucs2"  # every part in one alphabet, as the split was measured in it
    if len(parts) == 1:
        return [encode_deliver(oa, parts[0], scts, force_ucs2=ucs2)]
    if len(parts) > 0xFF:
        raise ValueError("text needs more than 255 parts")
    return [
        encode_deliver(oa, part, scts, concat=Concat(ref & 0xFF, len(parts), seq), force_ucs2=ucs2)
        for seq, part in enumerate(parts, start=1)
    ]


# --- SMS-STATUS-REPORT (simulated network -> driver) ---------------------------------------------

_MTI_STATUS_REPORT = 0b10


@dataclass(frozen=True)
class StatusReport:
    """A decoded SMS-STATUS-REPORT: the fate of the submit whose TP-MR was ``mr``."""

    mr: int
    ra: str = field(repr=False)
    scts: datetime
    dt: datetime
    status: int  # TP-ST: 0 received by the recipient, 0x20-0x3F temporary, 0x40-0x7F permanent


def encode_status_report(mr: int, ra: str, scts: datetime, dt: datetime, status: int = 0) -> bytes:
    """One SMS-STATUS-REPORT TPDU (TP-SRQ 0: it reports on an SMS-SUBMIT)."""
    if not 0 <= mr <= 0xFF or not 0 <= status <= 0xFF:
        raise ValueError("TP-MR and TP-ST are octets")
    first = _MTI_STATUS_REPORT | 0x04  # TP-MMS: no more messages waiting
    return (
        bytes((first, mr))
        + _encode_address(ra)
        + _encode_timestamp(scts)
        + _encode_timestamp(dt)
        + bytes((status,))
    )


def decode_status_report(tpdu: bytes) -> StatusReport:
    """Decode an SMS-STATUS-REPORT TPDU (no SMSC field); optional trailing parameters ignored."""
    reader = _Reader(tpdu)
    first = reader.octet("first octet")
    if first & 0x03 != _MTI_STATUS_REPORT:
        raise PduError(f"TP-MTI {first & 0x03:02b} is not SMS-STATUS-REPORT")
    mr = reader.octet("TP-MR")
    ra = _decode_address(reader, "TP-RA")
    scts = _decode_timestamp(reader.take(7, "TP-SCTS"), "TP-SCTS")
    dt = _decode_timestamp(reader.take(7, "TP-DT"), "TP-DT")
    status = reader.octet("TP-ST")
    return StatusReport(mr=mr, ra=ra, scts=scts, dt=dt, status=status)


def deliver_fields(tpdu: bytes) -> tuple[int, int, int, bytes]:
    """``(first octet, TP-PID, TP-DCS, TP-UD octets)`` of an SMS-DELIVER, for text-mode listings.

    Text mode shows user data with a header, or in 8-bit/UCS2, as hex of these octets (27.005).
    """
    reader = _Reader(tpdu)
    first = reader.octet("first octet")
    _decode_address(reader, "TP-OA")
    pid = reader.octet("TP-PID")
    dcs = reader.octet("TP-DCS")
    reader.take(7, "TP-SCTS")
    reader.octet("TP-UDL")
    return first, pid, dcs, reader.rest()


def alphabet(dcs: int) -> Alphabet:
    """The alphabet a TP-DCS value selects (23.038 §4)."""
    return _alphabet(dcs)
