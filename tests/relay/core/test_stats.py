"""The statistics' pure core: local months and weeks, counting, median and percentage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.relay.core.stats import (
    Figures,
    Period,
    ThreadFacts,
    WeekFigures,
    figures,
    median,
    month_period,
    month_stats,
    percent,
    previous_week,
    week_figures,
)

SHANGHAI = "Asia/Shanghai"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def thread(
    created: datetime,
    answer_after_s: float | None = None,
    thanked: datetime | None = None,
    expert: str = "zhang",
) -> ThreadFacts:
    answered = None if answer_after_s is None else created + timedelta(seconds=answer_after_s)
    return ThreadFacts(expert, created, answered, thanked)


# -- periods ---------------------------------------------------------------------------------


def test_a_month_is_the_local_calendar_month_in_utc() -> None:
    november = month_period("2026-11", SHANGHAI)
    # 1 November 00:00 in Beijing (UTC+8) is 31 October 16:00 UTC
    assert november == Period("2026-11", utc(2026, 10, 31, 16), utc(2026, 11, 30, 16))


def test_december_ends_in_the_next_year() -> None:
    assert month_period("2026-12", SHANGHAI).end == utc(2026, 12, 31, 16)
    assert month_period("2026-12", "UTC").end == utc(2027, 1, 1)


NOT_MONTHS = ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", "", "2026-11-01", "1899-12"]


@pytest.mark.parametrize("month", [*NOT_MONTHS, "２０２６-11"])  # and full-width digits
def test_anything_but_yyyy_mm_is_refused(month: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_period(month, SHANGHAI)


def test_the_period_holds_its_start_but_not_its_end() -> None:
    november = month_period("2026-11", SHANGHAI)
    assert november.start in november
    assert november.end - timedelta(milliseconds=1) in november
    assert november.end not in november
    assert None not in november


@pytest.mark.parametrize(
    ("now", "label"),
    [
        (utc(2026, 11, 23, 2), "2026-W47"),  # Monday 10:00 in Beijing: last week is W47
        (utc(2026, 11, 22, 16), "2026-W47"),  # Monday 00:00 in Beijing, still Sunday in UTC
        (utc(2026, 11, 22, 15, 59), "2026-W46"),  # Sunday 23:59 in Beijing
        (utc(2027, 1, 4, 2), "2026-W53"),  # 2026 has 53 ISO weeks
    ],
)
def test_previous_week_is_the_last_whole_local_iso_week(now: datetime, label: str) -> None:
    week = previous_week(now, SHANGHAI)
    assert week.label == label
    assert week.end - week.start == timedelta(days=7)
    assert week.start.astimezone(UTC).hour == 16  # Monday 00:00 UTC+8
    assert week.end <= now < week.end + timedelta(days=7)


def test_week_w47_bounds() -> None:
    week = previous_week(utc(2026, 11, 23, 2), SHANGHAI)
    assert (week.start, week.end) == (utc(2026, 11, 15, 16), utc(2026, 11, 22, 16))


# -- figures -----------------------------------------------------------------------------------


def test_figures_by_hand() -> None:
    november = month_period("2026-11", SHANGHAI)
    threads = [
        thread(utc(2026, 10, 31, 16, 30), 600, thanked=utc(2026, 11, 1)),  # 1 Nov 00:30 local
        thread(utc(2026, 11, 10, 2), 1800, thanked=utc(2026, 11, 30, 16, 30)),  # thanked in Dec
        thread(utc(2026, 11, 20, 3)),  # not answered
        thread(utc(2026, 10, 31, 15, 30), 60, thanked=utc(2026, 11, 5)),  # an October question
    ]
    # 3 November questions, 2 answered after 600 s and 1800 s: 66.7 %, median 1200 s;
    # thanks in November: the first thread and the October one
    result = figures(threads, november)
    assert result == Figures(questions=3, answered=2, median_first_answer_s=1200.0, thanks=2)
    assert result.answered_percent == pytest.approx(66.6667, abs=1e-4)


def test_no_question_is_no_percentage_and_no_median() -> None:
    result = figures([], month_period("2026-11", SHANGHAI))
    assert result == Figures(0, 0, None, 0)
    assert result.answered_percent is None


def test_month_stats_per_expert_and_pooled_total() -> None:
    november = month_period("2026-11", SHANGHAI)
    threads = [
        thread(utc(2026, 11, 2), 100, expert="zhang"),
        thread(utc(2026, 11, 3), 300, expert="zhang"),
        thread(utc(2026, 11, 4), 200, expert="li"),
        thread(utc(2026, 11, 5), 900, expert="gone"),  # not listed: counts in the total only
    ]
    result = month_stats(threads, november, ["zhang", "li", "wang"])
    assert list(result.experts) == ["zhang", "li", "wang"]
    assert result.experts["zhang"] == Figures(2, 2, 200.0, 0)  # (100 + 300) / 2
    assert result.experts["li"] == Figures(1, 1, 200.0, 0)
    assert result.experts["wang"] == Figures(0, 0, None, 0)
    # pooled [100, 200, 300, 900] → (200 + 300) / 2, not the median of the medians
    assert result.total == Figures(4, 4, 250.0, 0)


def test_week_figures_count_what_happened_in_the_week() -> None:
    week = previous_week(utc(2026, 11, 23, 2), SHANGHAI)  # 15 Nov 16:00 to 22 Nov 16:00 UTC
    threads = [
        thread(utc(2026, 11, 16), 60, thanked=utc(2026, 11, 17)),  # asked, answered, thanked
        thread(utc(2026, 11, 14), 2 * 86400),  # asked before, first answered in the week
        thread(utc(2026, 11, 22, 15), 7200),  # asked in the week, answered after it
        thread(utc(2026, 11, 1), 60, thanked=utc(2026, 11, 20)),  # only thanked in the week
    ]
    assert week_figures(threads, week) == WeekFigures(asked=2, answered=2, thanks=2)


# -- median and percent against straightforward references ------------------------------------


def reference_median(values: list[float]) -> float | None:
    ordered = sorted(values)
    n = len(ordered)
    return None if n == 0 else (ordered[(n - 1) // 2] + ordered[n // 2]) / 2


seconds = st.floats(min_value=0, max_value=10**8, allow_nan=False)


@given(st.lists(seconds, max_size=40))
def test_median_matches_the_reference(values: list[float]) -> None:
    assert median(values) == reference_median(values)
    assert median(list(reversed(values))) == median(values)


parts_of_a_whole = st.integers(0, 10**6).flatmap(
    lambda whole: st.tuples(st.integers(0, whole), st.just(whole))
)


@given(parts_of_a_whole)
def test_percent_matches_exact_arithmetic(case: tuple[int, int]) -> None:
    part, whole = case
    expected = None if whole == 0 else float(Fraction(100 * part, whole))
    assert percent(part, whole) == expected


def test_percent_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="part"):
        percent(3, 2)


NOV = month_period("2026-11", SHANGHAI)
minutes = st.integers(min_value=-60 * 24 * 40, max_value=60 * 24 * 70)  # around November
facts = st.builds(
    lambda created, answer, thanked: ThreadFacts(
        "zhang",
        NOV.start + timedelta(minutes=created),
        None if answer is None else NOV.start + timedelta(minutes=created + answer),
        None if thanked is None else NOV.start + timedelta(minutes=thanked),
    ),
    minutes,
    st.none() | st.integers(min_value=0, max_value=60 * 24 * 10),
    st.none() | minutes,
)


@given(st.lists(facts, max_size=30))
def test_figures_match_a_straightforward_count(threads: list[ThreadFacts]) -> None:
    asked = [t for t in threads if NOV.start <= t.created_at < NOV.end]
    delays = [
        (t.first_answer_at - t.created_at).total_seconds()
        for t in asked
        if t.first_answer_at is not None
    ]
    thanked = [t for t in threads if t.thanked_at and NOV.start <= t.thanked_at < NOV.end]
    result = figures(threads, NOV)
    assert result.questions == len(asked)
    assert result.answered == len(delays)
    assert result.median_first_answer_s == reference_median(delays)
    assert result.thanks == len(thanked)
    if asked:
        assert result.answered_percent == 100 * len(delays) / len(asked)
