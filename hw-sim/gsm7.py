"""The GSM 7-bit default alphabet and extension table (3GPP TS 23.038 §6.2.1) for the simulator.

The tables are written out here by hand on purpose: the simulator is a second opinion of the real
driver, which uses the `gsm0338` package, so one wrong table cannot hide in both. This module must
never import `gsm0338` or anything from `smscat.modem`; tests cross-check the tables against it.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "BASIC",
    "ESC",
    "EXTENSION",
    "pack",
    "packed_length",
    "septet_count",
    "septets",
    "text_from_septets",
    "unpack",
]

ESC = 0x1B

# Index = septet value. Row by row, 16 code points each, as in the 23.038 table read column-wise.
# 0x1B is the escape to the extension table: it is here only to keep indices aligned and is never
# produced for (or decoded as) a character of its own.
BASIC: str = (
    "@£$¥èéùìòÇ\nØø\rÅå"  # 0x00-0x0F
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"  # 0x10-0x1F
    " !\"#¤%&'()*+,-./"  # 0x20-0x2F  (0x24 is the currency sign ¤, not $)
    "0123456789:;<=>?"  # 0x30-0x3F
    "¡ABCDEFGHIJKLMNO"  # 0x40-0x4F  (0x40 is ¡, not @)
    "PQRSTUVWXYZÄÖÑÜ§"  # 0x50-0x5F  (0x5F is §, not `)
    "¿abcdefghijklmno"  # 0x60-0x6F  (0x60 is ¿, not `)
    "pqrstuvwxyzäöñüà"  # 0x70-0x7F
)

# Septet after ESC -> character. 0x0D (CR2) and 0x1B (SS2) are reserved and deliberately absent.
EXTENSION: dict[int, str] = {
    0x0A: "\f",  # page break, rendered as form feed
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}

_BASIC_INDEX: dict[str, int] = {ch: i for i, ch in enumerate(BASIC) if i != ESC}
_EXTENSION_INDEX: dict[str, int] = {ch: code for code, ch in EXTENSION.items()}


def septets(text: str) -> list[int] | None:
    """The septets (escape pairs expanded) of ``text``, or None if a character is not in GSM-7.

    The ESC control character itself is not encodable: sent alone it would change the meaning of the
    character after it.
    """
    out: list[int] = []
    for ch in text:
        code = _BASIC_INDEX.get(ch)
        if code is not None:
            out.append(code)
            continue
        ext = _EXTENSION_INDEX.get(ch)
        if ext is None:
            return None
        out.extend((ESC, ext))
    return out


def septet_count(ch: str) -> int | None:
    """How many septets one character takes (1, or 2 for an escape pair); None if not in GSM-7."""
    if ch in _BASIC_INDEX:
        return 1
    if ch in _EXTENSION_INDEX:
        return 2
    return None


def text_from_septets(values: Sequence[int]) -> str:
    """Decode septets to text.

    An escape followed by a septet the extension table does not define decodes as the basic-table
    character of that septet (the fallback 23.038 §6.2.1.1 prescribes), except ESC ESC, which the
    spec says to show as a space. A trailing lone ESC raises ValueError: it means an escape pair was
    cut, e.g. across two parts of a long message, exactly the bug a second opinion must report.
    """
    out: list[str] = []
    escaped = False
    for value in values:
        if not 0 <= value <= 0x7F:
            raise ValueError(f"septet value out of range: {value}")
        if escaped:
            escaped = False
            if value == ESC:
                out.append(" ")
            else:
                out.append(EXTENSION.get(value, BASIC[value]))
        elif value == ESC:
            escaped = True
        else:
            out.append(BASIC[value])
    if escaped:
        raise ValueError("GSM-7 text ends with a lone escape septet")
    return "".join(out)


def pack(values: Sequence[int], fill_bits: int = 0) -> bytes:
    """Pack septets LSB first (23.038 §6.1.2.1.1), after ``fill_bits`` zero bits (0-6).

    The fill bits are those that align septets after a user data header to a septet boundary.
    """
    if not 0 <= fill_bits <= 6:
        raise ValueError(f"fill bits must be 0-6, got {fill_bits}")
    acc = 0
    nbits = fill_bits
    out = bytearray()
    for value in values:
        if not 0 <= value <= 0x7F:
            raise ValueError(f"septet value out of range: {value}")
        acc |= value << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


def packed_length(count: int, fill_bits: int = 0) -> int:
    """Octets that ``count`` septets take after ``fill_bits`` fill bits."""
    return (fill_bits + 7 * count + 7) // 8


def unpack(data: bytes, count: int, fill_bits: int = 0) -> list[int]:
    """Unpack ``count`` septets from ``data``, skipping ``fill_bits`` leading bits (0-6).

    Raises ValueError if ``data`` is too short. Octets beyond the septets are ignored here; the PDU
    decoder checks the exact length because it knows where the user data ends.
    """
    if not 0 <= fill_bits <= 6:
        raise ValueError(f"fill bits must be 0-6, got {fill_bits}")
    if count < 0:
        raise ValueError(f"septet count must not be negative, got {count}")
    needed = packed_length(count, fill_bits)
    if len(data) < needed:
        raise ValueError(f"{count} septets need {needed} octets, got {len(data)}")
    bits = int.from_bytes(data[:needed], "little")
    return [(bits >> (fill_bits + 7 * i)) & 0x7F for i in range(count)]
