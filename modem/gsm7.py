"""The GSM 7-bit default alphabet (3GPP 23.038 §6.2.1) and septet packing, for the PDU codec.

The tables come from the ``gsm0338`` package, not from a hand-typed list: `` ` ``, ``§``, ``ÿ`` and
form feed are where hand-typed tables go wrong. Pure: no I/O. Never used for anything but
``pdu.py``; it knows nothing of PDUs, addresses or parts.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Final

from gsm0338.charset import BASIC_CHARACTER_SET, BASIC_CHARACTER_SET_EXTENSION

from .errors import PduError

ESC: Final = 0x1B


def _table(names: dict[int, str]) -> dict[int, str]:
    return {code: unicodedata.lookup(name) for code, name in names.items()}


_BASIC_DECODE: Final[dict[int, str]] = _table(BASIC_CHARACTER_SET)
_EXTENSION_DECODE: Final[dict[int, str]] = _table(BASIC_CHARACTER_SET_EXTENSION)

# Encoding: one septet for the basic table, ESC + septet for the extension table. U+001B itself is
# not encodable: a bare escape septet would change the meaning of the next character.
_ENCODE: Final[dict[str, tuple[int, ...]]] = {
    **{ch: (ESC, code) for code, ch in _EXTENSION_DECODE.items()},
    **{ch: (code,) for code, ch in _BASIC_DECODE.items() if code != ESC},
}

if len(_BASIC_DECODE) != 128 or _EXTENSION_DECODE.keys() & {ESC}:  # pragma: no cover
    raise ImportError("gsm0338 tables are not the 23.038 default alphabet")


def char_septets(ch: str) -> tuple[int, ...] | None:
    """The septets of one character (one, or an escape pair), None if it is not GSM-7."""
    return _ENCODE.get(ch)


def encode(text: str) -> list[int] | None:
    """The septets of ``text``, or None when a character is outside the default alphabet."""
    out: list[int] = []
    for ch in text:
        septets = _ENCODE.get(ch)
        if septets is None:
            return None
        out.extend(septets)
    return out


def decode(septets: Sequence[int]) -> str:
    """Text of ``septets`` by 23.038 §6.2.1 (an unknown escape shows the basic character).

    ESC ESC is reserved for a further extension table and shows as a space; an escape with
    nothing after it is a malformed PDU.
    """
    out: list[str] = []
    i = 0
    n = len(septets)
    while i < n:
        code = septets[i]
        if code != ESC:
            out.append(_BASIC_DECODE[code])
            i += 1
            continue
        if i + 1 == n:
            raise PduError("GSM-7 text ends with a lone escape septet")
        nxt = septets[i + 1]
        if nxt == ESC:
            out.append(" ")
        else:
            out.append(_EXTENSION_DECODE.get(nxt, _BASIC_DECODE[nxt]))
        i += 2
    return "".join(out)


def pack(septets: Sequence[int], fill_bits: int = 0) -> bytes:
    """Pack septets LSB first after ``fill_bits`` zero bits (23.038 §6.1.2.1.1)."""
    value = 0
    for k, septet in enumerate(septets):
        value |= (septet & 0x7F) << (fill_bits + 7 * k)
    total_bits = fill_bits + 7 * len(septets)
    return value.to_bytes((total_bits + 7) // 8, "little")


def unpack(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """``count`` septets packed in ``data`` after ``fill_bits`` bits; PduError if too short."""
    if fill_bits + 7 * count > 8 * len(data):
        raise PduError("GSM-7 user data is shorter than its length says")
    value = int.from_bytes(data, "little") >> fill_bits
    return [(value >> (7 * k)) & 0x7F for k in range(count)]
