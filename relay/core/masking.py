"""Masking what looks like a phone number in text shown to the public, and erasing one number
from a text.

Patients type their own numbers into questions ("请打电话 138 0013 8000"), in every form:
E.164, national, spaced, hyphenated, slashed, full-width, in Chinese numerals, across a line
break. :func:`~smscat.relay.core.numbers.find_numbers` finds them; on public pages each digit of a
number (in whatever script it was typed) becomes ``*`` and the separators stay, so the shape
shows and the number does not; doses, dates, blood pressures and other short numbers stay as
typed. The board's search runs over the masked text, so a query never confirms a hidden number.

:func:`erase_number` replaces a given number, in every form it was written, with a
placeholder: the same reading of digits and separators
(:func:`~smscat.relay.core.numbers.find_number`), so erasure reaches whatever masking hides, and
more (the number being known, digits that would read as values side by side go too). Pure:
no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from smscat.relay.core.numbers import NumberSpan, find_number, find_numbers, is_digit

MASK: Final = "*"


def mask_numbers(text: str) -> str:
    """``text`` with every phone-like number's digits masked, everything else as typed."""
    return _replace(text, find_numbers(text), _masked)


def number_tail(number: str) -> str:
    """A stored number as admins see it: its last four digits only ("" for a number erased
    or too short to show any of it)."""
    digits = [c for c in number if c.isdigit()]
    return "".join(digits[-4:]) if len(digits) > 4 and not number.startswith("erased:") else ""


def erase_number(text: str, number: str, placeholder: str) -> str:
    """``text`` with each number that holds ``number`` (its digits, e.g. the national ones)
    replaced by ``placeholder``, prefix and separators included."""
    return _replace(text, find_number(text, number), lambda _: placeholder)


def _masked(typed: str) -> str:
    return "".join(MASK if is_digit(ch) else ch for ch in typed)


def _replace(text: str, spans: list[NumberSpan], how: Callable[[str], str]) -> str:
    if not spans:
        return text
    out: list[str] = []
    last = 0
    for span in spans:
        out.append(text[last : span.start])
        out.append(how(text[span.start : span.end]))
        last = span.end
    out.append(text[last:])
    return "".join(out)
