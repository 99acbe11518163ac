"""Phone numbers: E.164 normalisation, short codes, and a type that never prints the number."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.modem.address import (
    AddressError,
    PhoneNumber,
    is_short_code,
    line_kind,
    mask,
    normalise,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("138 0013 8000", "+8613800138000"),
        ("13800138000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("0086 13800138000", "+8613800138000"),
        (
            "１３８００１３８０００".translate({c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)}),
            "+8613800138000",
        ),
        ("+1 650 253 0000", "+16502530000"),
        ("10086", "10086"),
        ("95566", "95566"),
        ("106900001234", "106900001234"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "abc", "+86 12", "+", "138-0013-8000x", "+44 12"])
def test_not_a_number_is_refused_without_echoing_it(raw: str) -> None:
    with pytest.raises(AddressError) as info:
        normalise(raw)
    if len(raw.strip()) > 2:
        assert raw.strip() not in str(info.value)


def test_short_codes_are_not_e164() -> None:
    assert is_short_code("10086")
    assert not is_short_code("+8613800138000")
    assert PhoneNumber("10010").is_short_code


def test_phone_number_masks_itself_everywhere() -> None:
    number = PhoneNumber("138 0013 8000")
    assert number.e164 == "+8613800138000"
    for shown in (str(number), repr(number), f"{number}", "%s" % number, f"{[number]}"):  # noqa: UP031 (as logging does)
        assert "0013" not in shown
    assert str(number) == "+86138****8000"
    assert number == PhoneNumber("+8613800138000")
    assert len({number, PhoneNumber("13800138000")}) == 1
    assert number != "+8613800138000"


@given(st.text(alphabet="0123456789+ ", min_size=1, max_size=20))
def test_mask_never_shows_the_middle_digits(number: str) -> None:
    shown = mask(number)
    if len(number) > 6:
        assert number not in shown
    assert len(shown) >= 4


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("+8613800138000", ("86", True)),
        ("+8617012345678", ("86", True)),  # a virtual operator's mobile
        ("+861012345678", ("86", False)),  # a Beijing landline
        ("+862112345678", ("86", False)),
        ("+447911123456", ("44", True)),
        ("+442079460000", ("44", False)),
        ("+12025550123", ("1", True)),  # +1 cannot tell a mobile from a landline: may be one
        ("10086", None),  # a short code is no E.164 number
        ("erased:12", None),
        ("+8614812345678", None),  # not a valid number
    ],
)
def test_line_kind(number: str, kind: tuple[str, bool] | None) -> None:
    assert line_kind(number) == kind
