"""SMS PDU codec of the driver: SMS-SUBMIT out, SMS-DELIVER / SMS-STATUS-REPORT in (3GPP 23.040).

Pure functions on hex strings as the modem shows them (SMSC field first, as ``AT+CMGS`` takes and
``+CMGL``/``+CMGR``/``+CDS`` give). No I/O, no clock, nothing of smscat outside this package.
GSM-7 tables come from ``gsm0338`` (see gsm7.py); UCS2 is UTF-16-BE, so emoji and rare CJK
travel as surrogate pairs that are never cut between parts.

It must never: put a phone number or message text into a repr or an exception message; raise
anything but :class:`PduError` on a malformed PDU (or :class:`EncodeError` on bad input to
:func:`plan_submit`); import the simulator's codec (hw-sim is a second opinion, not a library).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Final, Literal, TypeAlias

from . import gsm7
from .address import AddressError, normalise
from .errors import EncodeError, PduError

Alphabet: TypeAlias = Literal["gsm7", "8bit", "ucs2"]

SINGLE_SEPTETS: Final = 160
PART_SEPTETS: Final = 153  # 160 minus the 7 septets of a UDH with one 8-bit concatenation IE
SINGLE_UNITS: Final = 70  # UTF-16 code units
PART_UNITS: Final = 67  # (140 - 6 octets of UDH) // 2
MAX_PARTS: Final = 255

_MTI_DELIVER: Final = 0b00
_MTI_SUBMIT: Final = 0b01
_MTI_STATUS_REPORT: Final = 0b10

_TOA_INTERNATIONAL: Final = 0x91  # TON 001 international, NPI 0001 ISDN/E.164
_TOA_UNKNOWN: Final = 0x81  # TON 000 unknown: short codes, national numbers
_TON_INTERNATIONAL: Final = 1
_TON_ALPHANUMERIC: Final = 5
_MAX_ADDRESS_SEMI_OCTETS: Final = 20
_BCD_DIGITS: Final = "0123456789*#abc"

_IEI_CONCAT_8: Final = 0x00
_IEI_CONCAT_16: Final = 0x08


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Concat:
    """Concatenation information element: part ``seq`` of ``total`` in message ``ref``."""

    ref: int
    total: int
    seq: int


@dataclass(frozen=True)
class SubmitPart:
    """One SMS-SUBMIT ready for ``AT+CMGS=<tpdu_length>`` followed by ``pdu_hex`` and Ctrl-Z."""

    pdu_hex: str = field(repr=False)  # SMSC field + TPDU, upper-case hex
    tpdu_length: int  # octets after the SMSC field: the <length> of AT+CMGS
    seq: int  # 1-based
    total: int
    text: str = field(repr=False)  # the slice of the message this part carries
    alphabet: Literal["gsm7", "ucs2"]


@dataclass(frozen=True)
class MessageWaiting:
    """A message waiting indication (TP-DCS groups 1100-1110)."""

    active: bool
    kind: int  # 0 voicemail, 1 fax, 2 electronic mail, 3 other
    store: bool  # False for group 1100: "discard message" after updating the indicator


@dataclass(frozen=True)
class Coding:
    """What a TP-DCS says (23.038 §4)."""

    alphabet: Alphabet
    message_class: int | None = None
    compressed: bool = False
    waiting: MessageWaiting | None = None


@dataclass(frozen=True)
class Deliver:
    """A received SMS-DELIVER.

    ``sender`` is E.164 with ``+`` for international numbers, digits for national numbers and short
    codes, or the decoded text of an alphanumeric sender. For 8-bit or compressed data ``text`` is
    empty and ``data`` holds the octets; ``data`` is always the user data after any header.
    A UCS2 part of a concatenated message may start or end with half a surrogate pair when the
    sender cut one; :func:`join_texts` mends it.
    """

    sender: str = field(repr=False)
    text: str = field(repr=False)
    data: bytes = field(repr=False)
    scts: datetime
    concat: Concat | None
    dcs: int
    pid: int
    coding: Coding
    smsc: str | None = field(default=None, repr=False)
    reply_path: bool = False
    status_report_indication: bool = False


@dataclass(frozen=True)
class Submit:
    """An SMS-SUBMIT read back (a stored unsent or sent message in a ``+CMGL`` listing)."""

    recipient: str = field(repr=False)
    text: str = field(repr=False)
    data: bytes = field(repr=False)
    mr: int
    srr: bool
    concat: Concat | None
    dcs: int
    pid: int
    coding: Coding
    smsc: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class StatusReport:
    """An SMS-STATUS-REPORT: the fate of the submit whose TP-MR was ``mr`` (23.040 §9.2.3.15).

    ``delivered``: the transaction completed (0x00-0x1F). ``pending``: a temporary error and the
    SC keeps trying (0x20-0x3F). ``permanent_failure``: the SC has given up, after a permanent
    error (0x40-0x5F) or a temporary one it will not retry (0x60-0x7F). Reserved values count as
    0x63 "service rejected", as the standard asks.
    """

    mr: int
    recipient: str = field(repr=False)
    scts: datetime
    discharge: datetime
    status: int
    smsc: str | None = field(default=None, repr=False)

    @property
    def effective_status(self) -> int:
        return _effective_status(self.status)

    @property
    def delivered(self) -> bool:
        return self.effective_status <= 0x1F

    @property
    def pending(self) -> bool:
        return 0x20 <= self.effective_status <= 0x3F

    @property
    def permanent_failure(self) -> bool:
        return self.effective_status >= 0x40


def _effective_status(status: int) -> int:
    group, code = status & 0xE0, status & 0x1F
    defined = {0x00: 0x02, 0x20: 0x05, 0x40: 0x09, 0x60: 0x05}
    if status > 0x7F or (code <= 0x0F and code > defined[group]):
        return 0x63
    return status


# --- reading ----------------------------------------------------------------------------------


class _Reader:
    """Octets of a PDU with bounds checked: running off the end is a PduError, never IndexError."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def octet(self, what: str) -> int:
        return self.take(1, what)[0]

    def take(self, n: int, what: str) -> bytes:
        end = self._pos + n
        if end > len(self._data):
            raise PduError(f"PDU ends inside {what}")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def rest(self) -> bytes:
        chunk = self._data[self._pos :]
        self._pos = len(self._data)
        return chunk


def _from_hex(pdu_hex: str) -> bytes:
    try:
        return bytes.fromhex(pdu_hex.strip())
    except (ValueError, TypeError, AttributeError) as exc:
        raise PduError("PDU is not a string of hex octets") from exc


def _bcd_decode(data: bytes, count: int, what: str) -> str:
    nibbles = [n for b in data for n in (b & 0x0F, b >> 4)][:count]
    if 0x0F in nibbles:
        raise PduError(f"{what} has a filler nibble inside its digits")
    return "".join(_BCD_DIGITS[n] for n in nibbles)


def _bcd_encode(digits: str) -> bytes:
    padded = digits + "F" * (len(digits) % 2)
    return bytes(int(padded[i + 1] + padded[i], 16) for i in range(0, len(padded), 2))


def _read_address(reader: _Reader, what: str) -> str:
    length = reader.octet(f"{what} length")
    toa = reader.octet(f"{what} type")
    if length > _MAX_ADDRESS_SEMI_OCTETS:
        raise PduError(f"{what} is longer than 20 semi-octets")
    value = reader.take((length + 1) // 2, what)
    ton = (toa >> 4) & 0x07
    if ton == _TON_ALPHANUMERIC:
        return gsm7.decode(gsm7.unpack(value, length * 4 // 7))
    digits = _bcd_decode(value, length, what)
    return "+" + digits if ton == _TON_INTERNATIONAL and digits else digits


def _read_smsc(reader: _Reader) -> str | None:
    length = reader.octet("SMSC length")
    if length == 0:
        return None
    if length > 11:
        raise PduError("SMSC field is longer than 11 octets")
    toa = reader.octet("SMSC type")
    value = reader.take(length - 1, "SMSC number")
    nibbles = 2 * len(value) - (1 if value and value[-1] >> 4 == 0x0F else 0)
    digits = _bcd_decode(value, nibbles, "SMSC number")
    return "+" + digits if (toa >> 4) & 0x07 == _TON_INTERNATIONAL and digits else digits


def _bcd_value(octet: int, what: str) -> int:
    low, high = octet & 0x0F, octet >> 4
    if low > 9 or high > 9:
        raise PduError(f"{what} is not BCD")
    return 10 * low + high


def _read_timestamp(reader: _Reader, what: str) -> datetime:
    raw = reader.take(7, what)
    year, month, day, hour, minute, second = (_bcd_value(b, what) for b in raw[:6])
    tz = raw[6]
    quarters = _bcd_value(tz & 0xF7, what)
    if tz & 0x08:
        quarters = -quarters
    try:
        offset = timezone(timedelta(minutes=15 * quarters))
        return datetime(2000 + year, month, day, hour, minute, second, tzinfo=offset)
    except ValueError as exc:
        raise PduError(f"{what} is not a valid date and time") from exc


def coding(dcs: int) -> Coding:
    """The alphabet, class and indications of a TP-DCS (23.038 §4, every coding group).

    Reserved alphabets and reserved coding groups read as GSM-7, as §4 asks.
    """
    group = dcs >> 4
    if group <= 0b0111:  # general data coding, with or without automatic deletion
        alphabet: Alphabet = ("gsm7", "8bit", "ucs2", "gsm7")[(dcs >> 2) & 0b11]
        message_class = dcs & 0b11 if dcs & 0x10 else None
        return Coding(alphabet, message_class, compressed=bool(dcs & 0x20))
    if group in (0b1100, 0b1101, 0b1110):  # message waiting indication
        waiting = MessageWaiting(active=bool(dcs & 0x08), kind=dcs & 0b11, store=group != 0b1100)
        return Coding("ucs2" if group == 0b1110 else "gsm7", waiting=waiting)
    if group == 0b1111:  # data coding / message class
        return Coding("8bit" if dcs & 0x04 else "gsm7", message_class=dcs & 0b11)
    return Coding("gsm7")  # 1000-1011: reserved coding groups


def _parse_udh(udh: bytes) -> Concat | None:
    concat: Concat | None = None
    pos = 0
    while pos < len(udh):
        if pos + 2 > len(udh):
            raise PduError("user data header ends inside an element")
        iei, length = udh[pos], udh[pos + 1]
        data = udh[pos + 2 : pos + 2 + length]
        if len(data) != length:
            raise PduError("user data header element is longer than the header")
        pos += 2 + length
        if iei == _IEI_CONCAT_8 and length == 3:
            ref, total, seq = data[0], data[1], data[2]
        elif iei == _IEI_CONCAT_16 and length == 4:
            ref, total, seq = (data[0] << 8) | data[1], data[2], data[3]
        else:
            continue  # other elements (ports, national language shifts…) are not ours to read
        if total >= 1 and 1 <= seq <= total:  # 23.040 §9.2.3.24.1: otherwise ignore the element
            concat = Concat(ref, total, seq)
    return concat


def _read_user_data(
    reader: _Reader, dcs: int, udhi: bool
) -> tuple[str, bytes, Concat | None, Coding]:
    how = coding(dcs)
    udl = reader.octet("user data length")
    body = reader.rest()
    concat: Concat | None = None
    header_octets = 0
    if udhi:
        if not body:
            raise PduError("user data header indicated but user data is empty")
        header_octets = 1 + body[0]
        if header_octets > len(body):
            raise PduError("user data header is longer than the user data")
        concat = _parse_udh(body[1:header_octets])
    if how.alphabet == "gsm7" and not how.compressed:
        if udl > SINGLE_SEPTETS:
            raise PduError("GSM-7 user data length exceeds 160 septets")
        if len(body) != (7 * udl + 7) // 8:
            raise PduError("GSM-7 user data length does not match the user data")
        header_bits = 8 * header_octets
        header_septets = (header_bits + 6) // 7
        if header_septets > udl:
            raise PduError("user data header is longer than the user data length")
        fill = 7 * header_septets - header_bits
        septets = gsm7.unpack(body[header_octets:], udl - header_septets, fill)
        payload = body[header_octets:]
        return gsm7.decode(septets), payload, concat, how
    if udl != len(body):
        raise PduError("user data length does not match the user data")
    if udl > 140:
        raise PduError("user data length exceeds 140 octets")
    payload = body[header_octets:]
    if how.alphabet == "ucs2" and not how.compressed:
        if len(payload) % 2:
            raise PduError("UCS2 user data has an odd number of octets")
        return payload.decode("utf-16-be", "surrogatepass"), payload, concat, how
    return "", payload, concat, how


def join_texts(parts: list[str]) -> str:
    """The text of a reassembled message: surrogate pairs cut between parts are joined again.

    Any surrogate that still has no partner becomes U+FFFD, so the result always encodes as UTF-8.
    """
    joined = "".join(parts)
    return joined.encode("utf-16-be", "surrogatepass").decode("utf-16-be", "replace")


# --- decoding ---------------------------------------------------------------------------------


def _open(pdu_hex: str) -> tuple[_Reader, str | None, int]:
    reader = _Reader(_from_hex(pdu_hex))
    smsc = _read_smsc(reader)
    first = reader.octet("first octet")
    return reader, smsc, first


def _decode_deliver(reader: _Reader, smsc: str | None, first: int) -> Deliver:
    sender = _read_address(reader, "originating address")
    pid = reader.octet("protocol identifier")
    dcs = reader.octet("data coding scheme")
    scts = _read_timestamp(reader, "service centre time stamp")
    udhi = bool(first & 0x40)
    text, data, concat, how = _read_user_data(reader, dcs, udhi)
    if concat is None:
        text = join_texts([text])
    return Deliver(
        sender=sender,
        text=text,
        data=data,
        scts=scts,
        concat=concat,
        dcs=dcs,
        pid=pid,
        coding=how,
        smsc=smsc,
        reply_path=bool(first & 0x80),
        status_report_indication=bool(first & 0x20),
    )


def _decode_submit(reader: _Reader, smsc: str | None, first: int) -> Submit:
    mr = reader.octet("message reference")
    recipient = _read_address(reader, "destination address")
    pid = reader.octet("protocol identifier")
    dcs = reader.octet("data coding scheme")
    vpf = (first >> 3) & 0b11
    if vpf == 0b10:
        reader.take(1, "validity period")
    elif vpf != 0b00:
        reader.take(7, "validity period")
    text, data, concat, how = _read_user_data(reader, dcs, bool(first & 0x40))
    if concat is None:
        text = join_texts([text])
    return Submit(
        recipient=recipient,
        text=text,
        data=data,
        mr=mr,
        srr=bool(first & 0x20),
        concat=concat,
        dcs=dcs,
        pid=pid,
        coding=how,
        smsc=smsc,
    )


def _decode_status_report(reader: _Reader, smsc: str | None) -> StatusReport:
    mr = reader.octet("message reference")
    recipient = _read_address(reader, "recipient address")
    scts = _read_timestamp(reader, "service centre time stamp")
    discharge = _read_timestamp(reader, "discharge time")
    status = reader.octet("status")
    # TP-PI and what it announces (PID, DCS, UD) may follow; nothing in them is needed here.
    return StatusReport(mr, recipient, scts, discharge, status, smsc)


def _expect(first: int, mti: int, what: str) -> None:
    if first & 0b11 != mti:
        raise PduError(f"PDU is not an {what}")


def decode_deliver(pdu_hex: str) -> Deliver:
    """Decode an SMS-DELIVER given with its SMSC field (``+CMGR``/``+CMGL`` in PDU mode)."""
    reader, smsc, first = _open(pdu_hex)
    _expect(first, _MTI_DELIVER, "SMS-DELIVER")
    return _decode_deliver(reader, smsc, first)


def decode_submit(pdu_hex: str) -> Submit:
    """Decode an SMS-SUBMIT given with its SMSC field (a stored outgoing message)."""
    reader, smsc, first = _open(pdu_hex)
    _expect(first, _MTI_SUBMIT, "SMS-SUBMIT")
    return _decode_submit(reader, smsc, first)


def decode_status_report(pdu_hex: str) -> StatusReport:
    """Decode an SMS-STATUS-REPORT given with its SMSC field (``+CDS``)."""
    reader, smsc, first = _open(pdu_hex)
    _expect(first, _MTI_STATUS_REPORT, "SMS-STATUS-REPORT")
    return _decode_status_report(reader, smsc)


def decode(pdu_hex: str) -> Deliver | Submit | StatusReport:
    """Decode whatever a ``+CMGL`` listing holds, by TP-MTI (messages from the SC to the MS).

    MTI 00 is an SMS-DELIVER, 01 an SMS-SUBMIT stored on the SIM, 10 an SMS-STATUS-REPORT;
    11 is reserved and a PduError.
    """
    reader, smsc, first = _open(pdu_hex)
    mti = first & 0b11
    if mti == _MTI_DELIVER:
        return _decode_deliver(reader, smsc, first)
    if mti == _MTI_SUBMIT:
        return _decode_submit(reader, smsc, first)
    if mti == _MTI_STATUS_REPORT:
        return _decode_status_report(reader, smsc)
    raise PduError("PDU has the reserved message type 11")


# --- encoding ---------------------------------------------------------------------------------


def _encode_number(number: str, what: str) -> tuple[int, str]:
    """(type of address, digits) of a normalised number."""
    try:
        normal = normalise(number)
    except AddressError as exc:
        raise EncodeError(f"{what} is not a phone number") from exc
    if normal.startswith("+"):
        toa, digits = _TOA_INTERNATIONAL, normal[1:]
    else:
        toa, digits = _TOA_UNKNOWN, normal
    if not digits or len(digits) > _MAX_ADDRESS_SEMI_OCTETS:
        raise EncodeError(f"{what} has no digits or more than 20")
    return toa, digits


@functools.lru_cache(maxsize=4096)  # numbers recur; this is most of a short part's encoding
def _address_field(number: str, what: str) -> bytes:
    """TP-DA: length in semi-octets, type of address, BCD digits."""
    toa, digits = _encode_number(number, what)
    return bytes((len(digits), toa)) + _bcd_encode(digits)


def _smsc_field(smsc: str | None) -> bytes:
    if smsc is None:
        return b"\x00"
    toa, digits = _encode_number(smsc, "SMSC")
    value = _bcd_encode(digits)
    return bytes((1 + len(value), toa)) + value


def _split(sizes: list[int], single: int, per_part: int) -> list[tuple[int, int]]:
    """(start, end) index ranges of the fewest parts, cutting only between characters."""
    if sum(sizes) <= single:
        return [(0, len(sizes))]
    ranges: list[tuple[int, int]] = []
    start = used = 0
    for i, size in enumerate(sizes):
        if used + size > per_part:
            ranges.append((start, i))
            start, used = i, 0
        used += size
    ranges.append((start, len(sizes)))
    return ranges


def _user_data(text: str, alphabet: Literal["gsm7", "ucs2"], header: bytes) -> tuple[int, bytes]:
    """(TP-UDL, TP-UD) of one part; ``header`` is the UDH with its length octet, or b""."""
    if alphabet == "ucs2":
        try:
            body = text.encode("utf-16-be")
        except UnicodeEncodeError as exc:
            raise EncodeError("text contains a lone surrogate") from exc
        return len(header) + len(body), header + body
    septets = gsm7.encode(text)
    assert septets is not None  # the alphabet was chosen because every character has septets
    header_septets = (8 * len(header) + 6) // 7
    fill = 7 * header_septets - 8 * len(header)
    return header_septets + len(septets), header + gsm7.pack(septets, fill)


def plan_submit(
    to: str, text: str, *, ref: int, report: bool = False, smsc: str | None = None
) -> list[SubmitPart]:
    """The SMS-SUBMIT PDUs that carry ``text`` to ``to``, in sending order.

    GSM-7 when every character is in the default alphabet or its extension table, else UCS2. One
    SMS holds 160 septets / 70 UTF-16 units; a longer text takes the fewest parts of 153 / 67 with
    an 8-bit concatenation element of reference ``ref & 0xFF``; an escape pair or a surrogate pair
    never straddles two parts. ``to`` and ``smsc`` are normalised (E.164, or digits for a short
    code). TP-MR is 0: the modem assigns it and reports it in ``+CMGS: <mr>``.
    """
    address = _address_field(to, "destination")
    smsc_octets = _smsc_field(smsc)
    costs = [gsm7.char_septets(ch) for ch in text]
    alphabet: Literal["gsm7", "ucs2"]
    if all(c is not None for c in costs):
        alphabet = "gsm7"
        ranges = _split([len(c or ()) for c in costs], SINGLE_SEPTETS, PART_SEPTETS)
    else:
        alphabet = "ucs2"
        sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        ranges = _split(sizes, SINGLE_UNITS, PART_UNITS)
    total = len(ranges)
    if total > MAX_PARTS:
        raise EncodeError(f"text needs {total} parts, more than {MAX_PARTS}")
    first = _MTI_SUBMIT | (0x20 if report else 0) | (0x40 if total > 1 else 0)
    parts: list[SubmitPart] = []
    for seq, (start, end) in enumerate(ranges, start=1):
        piece = text[start:end]
        header = b"" if total == 1 else bytes((5, _IEI_CONCAT_8, 3, ref & 0xFF, total, seq))
        udl, ud = _user_data(piece, alphabet, header)
        dcs = 0x08 if alphabet == "ucs2" else 0x00
        tpdu = bytes((first, 0x00)) + address + bytes((0x00, dcs, udl)) + ud
        parts.append(
            SubmitPart(
                pdu_hex=(smsc_octets + tpdu).hex().upper(),
                tpdu_length=len(tpdu),
                seq=seq,
                total=total,
                text=piece,
                alphabet=alphabet,
            )
        )
    return parts


__all__ = [
    "MAX_PARTS",
    "PART_SEPTETS",
    "PART_UNITS",
    "SINGLE_SEPTETS",
    "SINGLE_UNITS",
    "Alphabet",
    "Coding",
    "Concat",
    "Deliver",
    "MessageWaiting",
    "StatusReport",
    "Submit",
    "SubmitPart",
    "coding",
    "decode",
    "decode_deliver",
    "decode_status_report",
    "decode_submit",
    "join_texts",
    "plan_submit",
]
