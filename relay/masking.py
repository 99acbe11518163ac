"""Masking what looks like a phone number in text shown to the public.

Patients type their own numbers into questions ("请打电话 138 0013 8000"), in every form:
E.164, national, spaced or hyphenated, full-width digits. On public pages each run of seven or
more digits (separators between them allowed) has its digits replaced by ``*``; shorter
numbers (doses, dates, ages) stay. Pure: no I/O.
"""

from __future__ import annotations

import re
from typing import Final

MASK: Final = "*"
_DIGIT = r"[0-9\uff10-\uff19]"  # ASCII and full-width digits
_SEPARATOR = r"[ \t\-\u2010-\u2015\u3000\uff0d.()（）]"
_NUMBER: Final = re.compile(rf"{_DIGIT}(?:{_SEPARATOR}{{0,2}}{_DIGIT}){{6,}}")
_ANY_DIGIT: Final = re.compile(_DIGIT)


def mask_numbers(text: str) -> str:
    """``text`` with every phone-like run of digits masked, everything else as typed."""
    return _NUMBER.sub(lambda m: _ANY_DIGIT.sub(MASK, m.group(0)), text)
