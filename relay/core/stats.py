"""Consultation statistics: questions, answered share, time to first answer, thanks.

Pure: it gets :class:`ThreadFacts` (one per thread, times in UTC) and a :class:`Period`, and
returns figures. Periods are calendar months and ISO weeks *in the department's time zone*
(Asia/Shanghai by default): a question asked at 00:30 on 1 November in Beijing is a November
question although it is still 31 October in UTC.

What counts:

* a **question** is a thread created in the period;
* it is **answered** when it has at least one answer (:func:`.policy.is_answer`: the expert's
  or the assistant's message) at any time, as of the facts given: a question of 30 November
  answered on 1 December counts as answered;
* **time to first answer** runs from the thread's creation to its first answer; the median
  (:func:`median`, also the board's "usually answers within") is taken over the period's
  answered questions (the mean of the two middle values for an even count);
* **thanks** are threads whose ``thanked_at`` falls in the period, whenever they were asked.

It must never: do I/O, read the clock, or import anything outside the standard library.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

_MONTH: Final = re.compile(r"([0-9]{4})-([0-9]{2})")

FIRST_YEAR, LAST_YEAR = 1900, 9998  # dates people mean (and room for a day either side)


@dataclass(frozen=True, slots=True)
class ThreadFacts:
    """What the statistics need of one thread (aware UTC datetimes)."""

    expert_id: str
    created_at: datetime
    first_answer_at: datetime | None
    thanked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)`` in UTC; ``label`` names it as people do (``2026-11``, ``2026-W47``)."""

    label: str
    start: datetime
    end: datetime

    def __contains__(self, when: object) -> bool:
        return isinstance(when, datetime) and self.start <= when < self.end


@dataclass(frozen=True, slots=True)
class Figures:
    """One row of the monthly report: an expert's, or the department's total."""

    questions: int
    answered: int
    median_first_answer_s: float | None  # None when nothing was answered
    thanks: int

    @property
    def answered_percent(self) -> float | None:
        """None when there was no question (0 of 0 is not 0 %)."""
        return percent(self.answered, self.questions)


@dataclass(frozen=True, slots=True)
class WeekFigures:
    """An expert's week, for the digest: asked, first answered, and thanked in the week."""

    asked: int
    answered: int
    thanks: int


@dataclass(frozen=True, slots=True)
class MonthStats:
    period: Period
    experts: dict[str, Figures]  # in the order the expert ids were given
    total: Figures


def month_period(month: str, timezone: str) -> Period:
    """The calendar month ``YYYY-MM`` in ``timezone``; ValueError for anything else."""
    match = _MONTH.fullmatch(month)
    if match is None:
        raise ValueError("a month is written YYYY-MM, e.g. 2026-11")
    year, number = int(match.group(1)), int(match.group(2))
    if not (1 <= number <= 12 and FIRST_YEAR <= year <= LAST_YEAR):
        raise ValueError("a month is written YYYY-MM, e.g. 2026-11")
    zone = zoneinfo.ZoneInfo(timezone)
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return Period(f"{year:04d}-{number:02d}", start.astimezone(UTC), end.astimezone(UTC))


def previous_week(now: datetime, timezone: str) -> Period:
    """The last whole ISO week (Monday 00:00 to Monday 00:00 local) before ``now``'s week."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    zone = zoneinfo.ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    this_monday = today - timedelta(days=today.weekday())
    last_monday = this_monday - timedelta(days=7)
    year, week, _ = last_monday.isocalendar()
    start = datetime(last_monday.year, last_monday.month, last_monday.day, tzinfo=zone)
    end = datetime(this_monday.year, this_monday.month, this_monday.day, tzinfo=zone)
    return Period(f"{year:04d}-W{week:02d}", start.astimezone(UTC), end.astimezone(UTC))


def median(values: Sequence[float]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2


def percent(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole``; None when ``whole`` is 0."""
    if whole < 0 or not 0 <= part <= whole:
        raise ValueError("percent needs 0 <= part <= whole")
    return None if whole == 0 else 100 * part / whole


def first_answer_delay(thread: ThreadFacts) -> float | None:
    """Seconds from the question to its first answer; None while it has none."""
    if thread.first_answer_at is None:
        return None
    return (thread.first_answer_at - thread.created_at).total_seconds()


def median_first_answers(threads: Iterable[ThreadFacts]) -> dict[str, float]:
    """Each expert's median time to a first answer over their answered ``threads`` (the
    board's "usually answers within"; the report's figure over the same threads)."""
    delays: dict[str, list[float]] = {}
    for thread in threads:
        delay = first_answer_delay(thread)
        if delay is not None:
            delays.setdefault(thread.expert_id, []).append(delay)
    medians = {expert_id: median(values) for expert_id, values in delays.items()}
    return {expert_id: m for expert_id, m in medians.items() if m is not None}


def figures(threads: Iterable[ThreadFacts], period: Period) -> Figures:
    """Questions, answered, median time to first answer and thanks of ``threads`` in ``period``."""
    questions = answered = thanks = 0
    delays: list[float] = []
    for thread in threads:
        if thread.thanked_at in period:
            thanks += 1
        if thread.created_at not in period:
            continue
        questions += 1
        delay = first_answer_delay(thread)
        if delay is not None:
            answered += 1
            delays.append(delay)
    return Figures(questions, answered, median(delays), thanks)


def month_stats(
    threads: Iterable[ThreadFacts], period: Period, expert_ids: Sequence[str]
) -> MonthStats:
    """Figures per expert in ``expert_ids`` (zeros for an expert with no thread) and in total.

    The total pools every thread, so its median is the median of all first answers, not a
    median of the experts' medians; threads of experts not listed count in the total only.
    """
    facts = list(threads)
    by_expert: dict[str, list[ThreadFacts]] = {expert_id: [] for expert_id in expert_ids}
    for thread in facts:
        if thread.expert_id in by_expert:
            by_expert[thread.expert_id].append(thread)
    return MonthStats(
        period,
        {expert_id: figures(mine, period) for expert_id, mine in by_expert.items()},
        figures(facts, period),
    )


def week_figures(threads: Iterable[ThreadFacts], period: Period) -> WeekFigures:
    """Questions asked, questions first answered, and thanks, each within ``period``."""
    asked = answered = thanks = 0
    for thread in threads:
        asked += thread.created_at in period
        answered += thread.first_answer_at in period
        thanks += thread.thanked_at in period
    return WeekFigures(asked, answered, thanks)
