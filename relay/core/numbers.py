"""Phone numbers in free text, however a person writes them: the one detector behind masking,
the board's search and erasure.

Patients and experts type numbers in every form: ``13900139001``, ``139 0013 9001``,
``+86 139-0013-9001``, full-width ``１３９…``, with ``/``, ``、``, ``，``, ``_`` or dots between
the groups, a non-breaking or zero-width space, across a line break; in Chinese numerals
(一三九…, 壹叁玖…, 幺 for 1, 两 for 2, 〇/零/○ for 0); in Arabic-Indic, mathematical bold,
circled or superscript digits. :func:`find_numbers` (masking, search) reads them all alike:

1. **Normalise** each character (:mod:`.numerals`): NFKC, then digits of any script and
   Chinese numerals to ASCII digits, every separator to one character per kind (space, line
   break, dash, dot, slash, comma, underscore, brackets, ``+``), zero-width and combining
   characters dropped. Each normalised character remembers the original one it came from.
2. A **chain** is digit groups with at most :data:`MAX_GAP` separators between them.
3. In a chain, an 11-digit **mainland mobile** (``1[3-9]`` and nine digits) that starts and
   ends on group boundaries is a number, however it is grouped, with the ``+86``, ``0086`` or
   ``86`` in front of it; unless its digits read better as values side by side: a list
   (1、3、5、7、9、11、13), or values it would cut into (the day of 2026/12/13 and what
   follows, 160/95 and the next group).
4. What is left of a chain is a number when it keeps :data:`MIN_DIGITS` digits or more after
   taking out what is written as a value rather than a number: dates (2026-12-06,
   06/12/2026, 2026.12), pairs (160/95, 3-5, 0.5, 12/06), thousands (12,800), enumerations
   (1、3、7、14), a thread code after ``#`` (#12), an amount after a currency sign and a
   quantity before a unit (1500-2000ml, 3天). A group of seven digits or more is never a value.
   Landlines (0755-8123 4567), service numbers, ID-card numbers and anything else that long
   are masked, which is what a public page wants.

:func:`find_number` (erasure) looks for one known number in the same chains: wherever its
digits are, however they would read otherwise.

Spans are given in the original text, so masking replaces the very characters the person
typed and erasure replaces the whole number, prefix and separators included. What is not
detected: a number broken up by letters or words (``139哦0013``), letters for digits
(``O``/``l``), or gaps longer than :data:`MAX_GAP` separators.

Pure: standard library only, no I/O, no logging. A :class:`NumberSpan`'s repr never shows its
digits.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Final, Literal

from smscat.relay.core.numerals import (
    DIGIT_CLASS,
    MOST_DIGITS_PER_CHAR,
    SEPARATORS,
    TYPED_GAP_CLASS,
    Normalised,
    flatten,
    normalise,
    reads_as,
)

MIN_DIGITS: Final = 7  # fewer digits than this are a dose, a date, an age, not a number
MAX_GAP: Final = 6  # separators between two digit groups of one number (" - ", "\r\n", "), (")

_TYPED_GAP: Final = 4 * MAX_GAP  # characters, zero-width ones included
# A quick look at the text as typed: enough digits close enough to each other to be worth
# normalising. Most texts stop here.
_MAYBE: Final = re.compile(
    rf"[{DIGIT_CLASS}](?:[{TYPED_GAP_CLASS}]{{0,{_TYPED_GAP}}}[{DIGIT_CLASS}])"
    rf"{{{-(-MIN_DIGITS // MOST_DIGITS_PER_CHAR) - 1},}}"
)
_SEP_CLASS: Final = re.escape(SEPARATORS).replace("\\ ", " ")
_CHAIN: Final = re.compile(rf"[0-9](?:[{_SEP_CLASS}]{{0,{MAX_GAP}}}[0-9]){{{MIN_DIGITS - 1},}}")
_GROUP: Final = re.compile(r"[0-9]+")
_NOT_DIGIT: Final = re.compile(r"[^0-9]+")
_NO_SEPARATORS: Final = {ord(c): None for c in SEPARATORS}
_MOBILE: Final = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_PREFIXES: Final = ("86", "0086")
_CURRENCY: Final = frozenset("¥$€£")
# What follows a quantity: units of measure, dose forms, time, money, counts.
_UNIT: Final = re.compile(
    r" ?(?:(?:mmhg|mmol|μmol|umol|mol|mg|mcg|μg|ug|kg|g|ml|dl|cm|mm|km|iu|kcal|bpm|hrs?|min)"
    r"(?![a-z])|[%‰°℃天日周月年岁次片粒支瓶袋盒克斤升元块个步米倍针滴床层楼毫])",
    re.IGNORECASE,
)


def is_digit(ch: str) -> bool:
    """Whether the character stands for one or more digits (``1``, ``１``, ``一``, ``①``…)."""
    return any("0" <= c <= "9" for c in reads_as(ch))


Kind = Literal["mobile", "other"]
Link = Literal["value", "list"]  # what joins two digit groups into something not a number


@dataclass(frozen=True, slots=True)
class NumberSpan:
    """A phone number (or something as long) in a text: ``text[start:end]`` as typed."""

    start: int
    end: int
    digits: str = field(repr=False)  # ASCII, prefix included ("8613900139001")
    kind: Kind


def holds(text: str, number: str) -> bool:
    """Whether ``text`` holds ``number`` (ASCII digits, e.g. the national ones) in some form.

    Quick when it does not: a text with too few digits, or without the number's digits in a
    row once the separators are gone, is answered without looking for spans."""
    return bool(find_number(text, number))


def find_number(text: str, number: str) -> list[NumberSpan]:
    """Where ``text`` holds ``number`` (ASCII digits, e.g. the national ones), in any form.

    For erasure: the number is known, so every chain whose digits hold it counts, however
    they would read otherwise (values side by side, a list). A span is the whole groups that
    hold the number, with a ``+86``, ``0086`` or ``86`` that starts a group before it."""
    if not number or not _MAYBE.search(text):
        return []
    if number not in flatten(text).translate(_NO_SEPARATORS):
        return []
    norm = normalise(text)
    flat = norm.text
    kind: Kind = "mobile" if _MOBILE.fullmatch(number) else "other"
    found: list[NumberSpan] = []
    for chain in _CHAIN.finditer(flat):
        groups = [(m.start(), m.end()) for m in _GROUP.finditer(flat, chain.start(), chain.end())]
        digits = "".join(flat[a:b] for a, b in groups)
        group_of = [g for g, (a, b) in enumerate(groups) for _ in range(b - a)]
        starts = {i for i, g in enumerate(group_of) if i == 0 or group_of[i - 1] != g}
        spans: list[list[int]] = []  # [first group, last group]
        at = digits.find(number)
        while at >= 0:
            first, last = group_of[at], group_of[at + len(number) - 1]
            for prefix in _MOBILE_PREFIXES:
                begin = at - len(prefix)
                if (
                    begin in starts
                    and digits[begin:at] == prefix
                    and group_of[at] - group_of[begin] <= 2  # "86", "0086", "00 86"
                    and not (spans and group_of[begin] <= spans[-1][1])
                ):
                    first = group_of[begin]
            if spans and first <= spans[-1][1]:
                spans[-1][1] = last
            else:
                spans.append([first, last])
            at = digits.find(number, at + len(number))
        found.extend(_span(text, norm, groups[a][0], groups[b][1], kind) for a, b in spans)
    return found


def _span(text: str, norm: Normalised, start: int, end: int, kind: Kind) -> NumberSpan:
    """The span of normalised ``start:end`` in the original text, with a ``+`` before it and
    what trails its last digit and reads as nothing (a keycap, a zero-width space)."""
    if start > 0 and norm.text[start - 1] == "+":
        start -= 1
    first, last = norm.original(start, end)
    while last < len(text) and not reads_as(text[last]):
        last += 1
    return NumberSpan(first, last, _NOT_DIGIT.sub("", norm.text[start:end]), kind)


def find_numbers(text: str) -> list[NumberSpan]:
    """Every phone number (or other number as long) in ``text``, in order, not overlapping."""
    if not _MAYBE.search(text):
        return []
    norm = normalise(text)
    flat = norm.text
    found: list[NumberSpan] = []
    for chain in _CHAIN.finditer(flat):
        for start, end, kind in _numbers_in_chain(flat, chain.start(), chain.end()):
            found.append(_span(text, norm, start, end, kind))
    return found


def _numbers_in_chain(flat: str, start: int, end: int) -> list[tuple[int, int, Kind]]:
    """The numbers in one chain: (start, end, kind) in the normalised text."""
    groups = [(m.start(), m.end()) for m in _GROUP.finditer(flat, start, end)]
    values = [flat[a:b] for a, b in groups]
    gaps = [flat[groups[i][1] : groups[i + 1][0]] for i in range(len(groups) - 1)]
    found: list[tuple[int, int, Kind]] = []
    taken = [False] * len(groups)
    # 3. mainland mobiles, whatever the grouping, unless the digits read better as values:
    # the clear readings first, then those that start with a value (160/95 …) where no clear
    # reading overlaps them
    links = _links(values, gaps, 0, len(groups) - 1)
    after = flat[end:]
    readings: list[tuple[int, int, bool]] = []
    for i in range(len(groups)):
        hit = _mobile_from(values, i)
        if hit is None:
            continue
        last, prefixed = hit
        first = i
        if first >= 1 and values[first - 1] in _MOBILE_PREFIXES:
            first, prefixed = first - 1, True
        elif first >= 2 and values[first - 2 : first] == ["00", "86"]:
            first, prefixed = first - 2, True
        quantity = last == len(groups) - 1 and len(values[last]) <= 3 and _UNIT.match(after)
        clear = _reads_as_mobile(links, first, last, prefixed)
        if clear is not None and not quantity:
            readings.append((first, last, clear))
    for wanted in (True, False):
        for first, last, clear in readings:
            if clear is wanted and not any(taken[first : last + 1]):
                taken[first : last + 1] = [True] * (last + 1 - first)
                found.append((groups[first][0], groups[last][1], "mobile"))
    # 4. the rest, less what is written as a value
    before = flat[:start].rstrip(" ")[-1:]
    i = 0
    while i < len(groups):
        if taken[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(groups) and not taken[j + 1]:
            j += 1
        kept = _values(
            values, gaps, i, j, before if i == 0 else "", after if j == len(groups) - 1 else ""
        )
        run: list[int] = []
        for k in [*range(i, j + 1), None]:
            if k is not None and k not in kept:
                run.append(k)
                continue
            if sum(len(values[r]) for r in run) >= MIN_DIGITS:
                found.append((groups[run[0]][0], groups[run[-1]][1], "other"))
            run = []
        i = j + 1
    found.sort()
    return found


def _mobile_from(values: list[str], i: int) -> tuple[int, bool] | None:
    """A mobile number starting in group ``i`` (after a prefix in it): its last group, and
    whether group ``i`` begins with the prefix."""
    for skip in (0, *(len(p) for p in _MOBILE_PREFIXES if values[i].startswith(p))):
        digits = values[i][skip:]
        last = i
        while len(digits) < 11 and last + 1 < len(values):
            last += 1
            digits += values[last]
        if len(digits) == 11 and _MOBILE.fullmatch(digits):
            return last, skip > 0
    return None


def _reads_as_mobile(links: dict[int, Link], first: int, last: int, prefixed: bool) -> bool | None:
    """How groups ``first..last`` read. True: a number. None: values written side by side,
    a list (1、3、5、7、9、11、13), or a window that starts inside a value (the day of
    2026/12/13 and what follows) or cuts one off its end while holding values itself
    (…142/92，12/06、12/13). False: it starts with a value (160/95 +86…; a prefix does not
    count: 86-139…), so it is a number only where no clearer reading overlaps it."""
    inside = [links.get(k) for k in range(first, last)]
    if inside and all(link == "list" for link in inside):
        return None
    if first - 1 in links or (any(inside) and last in links):
        return None
    return not (first in links and not prefixed)


def _values(
    values: list[str], gaps: list[str], first: int, last: int, before: str, after: str
) -> set[int]:
    """The groups ``first..last`` that are written as values (dates, pairs …), not numbers.

    ``before`` is the character before the first group (when nothing of the number is
    there), ``after`` the text after the last (when it ends the chain)."""
    kept = {g for k in _links(values, gaps, first, last) for g in (k, k + 1)}
    # a thread code (#12), an amount (¥128), a quantity before its unit (1500-2000ml)
    if before == "#" and len(values[first]) <= 4:
        kept.add(first)
    if before in _CURRENCY and len(values[first]) <= 6:
        kept.add(first)
    if after and _UNIT.match(after) and len(values[last]) <= 5:
        kept.add(last)
        if last > first and gaps[last - 1].strip(" ") in ("-", "/"):
            kept.add(last - 1)
    return {k for k in kept if len(values[k]) < MIN_DIGITS}


def _links(values: list[str], gaps: list[str], first: int, last: int) -> dict[int, Link]:
    """Which gaps of groups ``first..last`` (k: the one after group k) join digits into a
    value: a date or a pair (``value``), thousands or an enumeration (``list`` for the
    latter, which no number is read across)."""
    links: dict[int, Link] = {}

    def sep(k: int) -> str:  # the separator after group k, spaces aside
        return gaps[k].strip(" ") if first <= k < last else ""

    # dates: 2026-12-06, 06/12/2026, 12.06.2026, and 2026-12 / 12/2026
    k = first
    while k < last:
        if k + 2 <= last and sep(k) == sep(k + 1) in ("-", "/", ".") and _date(values[k : k + 3]):
            links.update({k: "value", k + 1: "value"})
            k += 3
        elif (
            sep(k) in ("-", "/", ".")
            and sep(k) not in (sep(k - 1), sep(k + 1))
            and _year_month(values[k], values[k + 1])
        ):
            links[k] = "value"
            k += 2
        else:
            k += 1
    # thousands (12,800,000) and enumerations (1、3、7、14): groups between commas
    k = first
    while k <= last:
        j = k
        while j < last and sep(j) == ",":
            j += 1
        run = values[k : j + 1]
        if _enumeration(run):
            links.update(dict.fromkeys(range(k, j), "list"))
        elif all(gaps[m] == "," for m in range(k, j)) and _thousands(run):
            links.update(dict.fromkeys(range(k, j), "value"))
        k = j + 1
    # pairs: 160/95, 3-5, 0.5, 12/06 (not part of a longer run: 1-2-3-4 is not a pair)
    for k in range(first, last):
        if k - 1 in links or k in links or k + 1 in links:
            continue
        if sep(k) not in (sep(k - 1), sep(k + 1)) and _pair(values[k], gaps[k], values[k + 1]):
            links[k] = "value"
    return links


def _thousands(run: list[str]) -> bool:
    head, *rest = run
    return bool(rest) and len(head) <= 3 and head[0] != "0" and all(len(v) == 3 for v in rest)


def _enumeration(run: list[str]) -> bool:
    """Three or more small numbers, rising: 1、3、7、14 (days, items), not digits of a number."""
    if len(run) < 3 or any(len(v) > 2 or v[0] == "0" for v in run):
        return False
    return all(int(a) < int(b) for a, b in itertools.pairwise(run))


def _date(parts: list[str]) -> bool:
    a, b, c = parts
    if len(a) == 4 and len(b) <= 2 and len(c) <= 2:
        return _year(a) and _month_day(b, c)
    if len(c) == 4 and len(a) <= 2 and len(b) <= 2:
        return _year(c) and (_month_day(a, b) or _month_day(b, a))
    return False


def _year_month(a: str, b: str) -> bool:
    if len(a) == 4 and len(b) <= 2:
        return _year(a) and 1 <= int(b) <= 12
    if len(b) == 4 and len(a) <= 2:
        return _year(b) and 1 <= int(a) <= 12
    return False


def _year(value: str) -> bool:
    return 1900 <= int(value) <= 2099


def _month_day(month: str, day: str) -> bool:
    return 1 <= int(month) <= 12 and 1 <= int(day) <= 31


def _pair(a: str, gap: str, b: str) -> bool:
    """A decimal (36.5), a ratio or range (160/95, 3-5) or a day (12/06), not a number's part."""
    if len(a) > 3 or len(b) > 3:
        return False
    if gap == ".":
        return a == "0" or a[0] != "0"
    if gap.strip(" ") not in ("-", "/"):
        return False
    if len(a) <= 2 and len(b) <= 2 and (_month_day(a, b) or _month_day(b, a)):
        return True
    return a[0] != "0" and (b == "0" or b[0] != "0")
