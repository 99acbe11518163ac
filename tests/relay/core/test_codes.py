"""Thread codes: the smallest free number, never longer than the parser reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.relay.core.codes import MAX_CODE, REUSE_AFTER, CodesExhausted, allocate, format_code
from smscat.relay.core.commands import Reply, parse_expert


@pytest.mark.parametrize(
    ("in_use", "expected"),
    [
        ([], 1),
        ([1], 2),
        ([2, 3], 1),
        ([1, 2, 3], 4),
        ([1, 2, 4, 5], 3),  # a gap left by a thread older than 90 days is filled first
        ([3, 1, 1, 2], 4),  # order and repeats do not matter
        ([0, -5, 10_000, 1], 2),  # values no code can have are ignored
    ],
)
def test_allocate(in_use: list[int], expected: int) -> None:
    assert allocate(in_use) == expected


def test_allocate_takes_any_iterable_once() -> None:
    assert allocate(iter([1, 2])) == 3
    assert allocate(code for code in (1, 3)) == 2


@given(st.sets(st.integers(-3, 60)))
def test_allocate_is_the_smallest_free_positive(in_use: set[int]) -> None:
    code = allocate(in_use)
    assert code >= 1
    assert code not in in_use
    assert all(smaller in in_use for smaller in range(1, code))


def test_allocate_refuses_a_fifth_digit() -> None:
    with pytest.raises(CodesExhausted, match="9999"):
        allocate(range(1, MAX_CODE + 1))
    assert allocate(range(1, MAX_CODE)) == MAX_CODE


def test_codes_are_not_reused_within_ninety_days() -> None:
    assert timedelta(days=90) == REUSE_AFTER


@pytest.mark.parametrize(("n", "text"), [(1, "#1"), (12, "#12"), (9999, "#9999")])
def test_format_code(n: int, text: str) -> None:
    assert format_code(n) == text


@pytest.mark.parametrize("n", [0, -1, 10_000])
def test_format_code_refuses_what_is_no_code(n: int) -> None:
    with pytest.raises(ValueError, match="thread code"):
        format_code(n)


@given(st.integers(1, MAX_CODE))
def test_a_formatted_code_parses_back(n: int) -> None:
    assert parse_expert(f"{format_code(n)} 好的") == Reply(n, "好的")
