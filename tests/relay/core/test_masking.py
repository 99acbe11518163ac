"""Masking: a phone number is hidden however it was written, and what only looks like one
(dates, blood pressures, doses, lab values, prices, codes) is shown as typed.

Whether a number survived is judged by the suite's own reading of the masked text
(:func:`~tests.support.numbers.own_digit_runs`: NFKC, every script's digits, Chinese numerals,
separators dropped), not by the detector under test. The corpus of written forms
(``data/number_formats.json``, each labelled with the digits it hides) and the list of
look-alikes (``data/not_numbers.json``) are shared with the erasure and search tests.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from smscat.relay.core import numbers, numerals
from smscat.relay.core.masking import erase_number, mask_numbers
from smscat.relay.core.numbers import NumberSpan, find_numbers, holds
from tests.support.numbers import FORMATS, NOT_NUMBERS, own_digit_runs, survivors


def test_the_own_reading_reads_every_corpus_form() -> None:
    for row in FORMATS:
        assert any(row["digits"] in run for run in own_digit_runs(row["text"])), row["label"]


def test_the_corpus_is_big_and_labelled() -> None:
    assert len(FORMATS) >= 60
    assert len({row["label"] for row in FORMATS}) == len(FORMATS)
    assert len(NOT_NUMBERS) >= 20


# -- the corpus ------------------------------------------------------------------------------


@pytest.mark.parametrize("row", FORMATS, ids=lambda row: row["label"])
def test_every_written_form_in_the_corpus_is_masked(row: dict[str, str]) -> None:
    masked = mask_numbers(row["text"])
    assert survivors(masked, row["digits"], at_least=4) == [], repr(masked)
    # what is not the number stays as typed: the words around it, the separators
    words = re.sub(r"[\W\d_]+", "", row["text"])
    if not any(numbers.is_digit(ch) for ch in words):
        assert re.sub(r"[\W\d_]+", "", masked) == words


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_what_only_looks_like_a_number_is_shown_as_typed(text: str) -> None:
    assert mask_numbers(text) == text
    assert find_numbers(text) == []


def test_a_number_keeps_its_shape_and_loses_its_digits() -> None:
    assert mask_numbers("电话 139 0517 2486 谢谢") == "电话 *** **** **** 谢谢"
    assert mask_numbers("+86-139-0517-2486") == "+**-***-****-****"
    assert mask_numbers("一三九〇五一七二四八六") == "*" * 11
    assert mask_numbers("王13800138000") == "王***********"
    assert (
        mask_numbers("挂号电话 0755-8123 4567，周一至周五") == "挂号电话 ****-**** ****，周一至周五"
    )


def test_a_number_next_to_values_is_masked_and_the_values_stay() -> None:
    text = "血压160/95，复诊2026-12-06，电话13905172486，5mg×3"
    assert mask_numbers(text) == "血压160/95，复诊2026-12-06，电话***********，5mg×3"
    text = "#12 13905172486"  # a reply's code and a number in one chain
    assert mask_numbers(text) == "#12 ***********"


def test_spans_are_in_the_original_text_and_hide_their_digits_in_repr() -> None:
    text = "请打\u200b+８６ １３９\u00a0０５１７\n２４８６，谢谢"
    (span,) = find_numbers(text)
    assert text[span.start : span.end] == "+８６ １３９\u00a0０５１７\n２４８６"
    assert (span.digits, span.kind) == ("8613905172486", "mobile")
    assert "139" not in repr(span)
    assert span == NumberSpan(3, 20, "8613905172486", "mobile")


def test_erasing_replaces_every_form_of_one_number_and_nothing_else() -> None:
    forms = [row["text"] for row in FORMATS if row["digits"] == "13905172486"]
    text = "；".join([*forms, "科室 0755-8123 4567", "血压160/95"])
    erased = erase_number(text, "13905172486", "[号码已删除]")
    assert survivors(erased, "13905172486", at_least=4) == []
    assert erased.count("[号码已删除]") == len(forms)
    assert erased.endswith("科室 0755-8123 4567；血压160/95")
    assert holds(text, "13905172486")
    assert not holds(erased, "13905172486")
    assert not holds(text, "13905172487")


# -- generated numbers in generated forms ----------------------------------------------------


def script(zero: int) -> str:
    return "".join(chr(zero + i) for i in range(10))


SCRIPTS = [
    "0123456789",
    script(0xFF10),  # full-width
    "〇一二三四五六七八九",
    "零一二三四五六七八九",
    "○一二三四五六七八九",
    "零壹贰叁肆伍陆柒捌玖",
    "零幺两三四五六七八九",
    script(0x0660),  # Arabic-Indic
    script(0x06F0),  # Persian
    script(0x0966),  # Devanagari
    script(0x0E50),  # Thai
    script(0x1D7CE),  # mathematical bold
    script(0x1D7E2),  # mathematical sans-serif
    script(0x1D7D8),  # double-struck
    "⓪①②③④⑤⑥⑦⑧⑨",
    "⓿❶❷❸❹❺❻❼❽❾",
    "⁰¹²³⁴⁵⁶⁷⁸⁹",
    "₀₁₂₃₄₅₆₇₈₉",
    [d + "\ufe0f\u20e3" for d in "0123456789"],  # keycaps
]
GAPS = [
    *("", " ", "  ", "-", " - ", "/", " / ", "、", "，", ",", "_", ".", "·", "。", "|"),
    *("\u00a0", "\u3000", "\u202f", "\t", "\u200b", "\u2060", "\ufeff", "\u200c\u200d"),
    *("\n", "\r\n", " \n ", "—", "–", "～", "－", "(", ")", ") ", "【", "】", "\u00ad"),
]
PREFIXES = ["", "+86", "+86 ", "+86-", "0086", "0086 ", "86", "86-", "(+86)", "(+86) ", "＋８６ "]
BOUNDARIES = [" ", "：", ":", "，", "\n", "（", "是", "电话", "【", "Tel "]
WORDS = ["请回电", "谢谢", "我的手机", "微信同号", "白天打", "call me on", "急", "", "，", "。"]

mobiles = st.builds(
    lambda second, rest: "1" + second + rest,
    st.sampled_from("3456789"),
    st.text("0123456789", min_size=9, max_size=9),
)
context = st.lists(st.sampled_from([*NOT_NUMBERS, *WORDS]), max_size=4).map(" ".join)


@st.composite
def written(draw: st.DrawFn, number: str) -> str:
    """``number`` as a person might write it: a prefix or not, grouped, one separator between
    the groups (and maybe another at one place: "139-0517 2486", a line break), in the
    numerals of one script, or of several."""
    cuts = sorted(draw(st.sets(st.integers(1, len(number) - 1), max_size=len(number) - 1)))
    groups = [number[a:b] for a, b in zip([0, *cuts], [*cuts, len(number)], strict=True)]
    gaps = [draw(st.sampled_from(GAPS))] * (len(groups) - 1)
    if gaps and draw(st.booleans()):
        gaps[draw(st.integers(0, len(gaps) - 1))] = draw(st.sampled_from(GAPS))
    mixed = draw(st.booleans())
    whole: Any = draw(st.sampled_from(SCRIPTS))
    out = [draw(st.sampled_from(PREFIXES)) + draw(st.sampled_from(["", " "]))]
    for group, gap in zip(groups, ["", *gaps], strict=True):
        out.append(gap)
        for digit in group:
            digits = draw(st.sampled_from(SCRIPTS)) if mixed else whole
            out.append(digits[int(digit)])
    return "".join(out).lstrip(" ")


@given(st.data(), mobiles, context, context)
def test_a_generated_number_in_a_generated_form_never_survives_masking(
    data: st.DataObject, number: str, before: str, after: str
) -> None:
    assume(survivors(before + "|" + after, number) == [])  # the context does not hold it
    form = data.draw(written(number))
    text = (
        before
        + data.draw(st.sampled_from(BOUNDARIES))
        + form
        + data.draw(st.sampled_from(BOUNDARIES))
        + after
    )
    masked = mask_numbers(text)
    assert survivors(masked, number) == [], (text, masked)
    assert mask_numbers(masked) == masked
    assert holds(text, number)
    assert survivors(erase_number(text, number, "[号码已删除]"), number) == []


@given(st.lists(st.sampled_from(NOT_NUMBERS), min_size=1, max_size=3), st.sampled_from(WORDS))
def test_look_alikes_side_by_side_stay_as_typed(parts: list[str], between: str) -> None:
    text = f"，{between}，".join(parts)
    assert mask_numbers(text) == text


# -- the detector's tables -------------------------------------------------------------------


def test_the_quick_look_knows_every_character_that_reads_as_a_digit_or_a_gap() -> None:
    """numerals.py keeps two character classes for the detector's first, quick look at a text;
    both must agree with what its reading makes of every code point (for this Python's Unicode)."""
    digit = re.compile(f"[{numerals.DIGIT_CLASS}]")
    gap = re.compile(f"[{numerals.TYPED_GAP_CLASS}]")
    missing_digits, missing_gaps, most = [], [], 0
    for code in range(0x110000):
        ch = chr(code)
        if unicodedata.category(ch) in ("Cn", "Co", "Cs"):
            continue  # unassigned, private use, surrogates: read as themselves
        form = numerals._normal_form(ch)
        runs = re.findall("[0-9]+", form)
        if runs:
            most = max(most, *(len(run) for run in runs))
            if not digit.match(ch):
                missing_digits.append(hex(code))
        elif all(c in numerals.SEPARATORS for c in form) and not gap.match(ch):
            missing_gaps.append(hex(code))
    assert missing_digits == []
    assert missing_gaps == []
    assert most == numerals.MOST_DIGITS_PER_CHAR
