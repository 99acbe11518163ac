"""Phone numbers: E.164 normalisation and a type that never prints the number.

Pure: no I/O. A :class:`PhoneNumber` masks itself in ``str()``/``repr()`` so that a number that
slips into a log line, an exception or a template shows as ``+86138****8000``; code that really
needs the digits (the PDU encoder, the database) asks for ``.e164`` explicitly.
"""

from __future__ import annotations

import functools
import re
from typing import Final

import phonenumbers

DEFAULT_REGION: Final = "CN"
_SEPARATORS = re.compile(r"[\s\-().\u00a0\u3000]")
_DIGITS = re.compile(r"\d{1,20}")


class AddressError(ValueError):
    """A string that cannot be a phone number; the message never repeats the input.

    (Not a ModemError subclass on purpose: config validation raises it outside the driver.)
    """


@functools.lru_cache(maxsize=4096)  # pure, ~20 µs in phonenumbers, and numbers recur
def normalise(raw: str, region: str = DEFAULT_REGION) -> str:
    """Return ``raw`` as E.164 (``+8613800138000``), or as bare digits for a service short code.

    "138 0013 8000" becomes "+8613800138000": a number with spaces sent as-is would be an
    alphanumeric address. Short codes (10086, 95566, 1069…) are not E.164 and stay as digits.
    """
    compact = _SEPARATORS.sub("", raw)
    if not compact:
        raise AddressError("empty phone number")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    international = compact.startswith("+")
    digits = compact[1:] if international else compact
    if not _DIGITS.fullmatch(digits):
        raise AddressError("a phone number has only digits, an optional leading '+' and spaces")
    try:
        parsed = phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException as exc:
        raise AddressError("not a phone number") from exc
    if phonenumbers.is_valid_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if international:
        raise AddressError("not a valid international number")
    return digits


def is_short_code(number: str) -> bool:
    """True for a normalised number that is not E.164 (10086, 95566, …)."""
    return not number.startswith("+")


# What phonenumbers' metadata says a number is: a mobile, or (as in +1) it cannot tell a mobile
# from a landline by the number alone. Everything else (a landline, a toll-free or premium
# number, VoIP, a pager…) is no phone that an SMS should go to.
_MOBILE_TYPES: Final = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


@functools.lru_cache(maxsize=4096)
def line_kind(number: str) -> tuple[str, bool] | None:
    """``(country calling code, is a mobile)`` of an E.164 number: ``("86", True)`` for
    +8613800138000, ``("86", False)`` for the landline +861012345678; None for anything that is
    not a valid E.164 number (a short code, an erased number's placeholder)."""
    if not number.startswith("+"):
        return None
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    mobile = phonenumbers.number_type(parsed) in _MOBILE_TYPES
    return str(parsed.country_code), mobile


def mask(number: str) -> str:
    """``+8613800138000`` → ``+86138****8000``; anything shorter keeps only two digits."""
    if number.startswith("+") and len(number) > 11:
        return number[:6] + "****" + number[-4:]
    if len(number) <= 4:
        return "****"
    return number[:2] + "*" * (len(number) - 2)


class PhoneNumber:
    """A normalised phone number whose text form is always masked.

    Equality and hashing use the full number; ``.e164`` is the only way to the digits.
    """

    __slots__ = ("_e164",)

    def __init__(self, raw: str, region: str = DEFAULT_REGION) -> None:
        self._e164 = normalise(raw, region)

    @property
    def e164(self) -> str:
        return self._e164

    @property
    def is_short_code(self) -> bool:
        return is_short_code(self._e164)

    def __str__(self) -> str:
        return mask(self._e164)

    def __repr__(self) -> str:
        return f"PhoneNumber({mask(self._e164)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PhoneNumber) and other._e164 == self._e164

    def __hash__(self) -> int:
        return hash(("PhoneNumber", self._e164))
