"""When a question may reach an expert's phone: quiet hours, a daily cap, a pause.

Quiet hours are local windows (``"22:00-07:30"`` crosses midnight, ``"12:00-13:30"`` does not)
in the department's time zone; no SMS reaches the expert inside one. The daily cap counts new
questions per local day: question number cap+1 waits for the next day. A pause holds everything
until it ends. :func:`question_time` combines the three and says when a new question may go;
:func:`send_time` does it for anything else (a follow-up, a hand-off list): quiet hours and a
pause only. Pure: times come in, times go out; no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Final

DAY: Final = timedelta(days=1)
# Windows that cover the whole day never end: stop following them after this long (the SMS is
# held that long, then looked at again).
LONGEST_QUIET: Final = timedelta(days=2)


def _window(text: str) -> tuple[time, time]:
    start, end = text.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def quiet_until(now: datetime, windows: Sequence[str], zone: tzinfo) -> datetime | None:
    """The end of the quiet window ``now`` falls in (UTC), or None when ``now`` is not quiet.

    Windows that touch or overlap are followed through: 22:00-23:00 and 23:00-07:00 end at 07:00.
    """
    local = now.astimezone(zone)
    end: datetime | None = None
    moved = True
    while moved and (end is None or end - local < LONGEST_QUIET):
        moved = False
        at = end or local
        for text in windows:
            start_t, end_t = _window(text)
            if start_t == end_t:
                continue  # an empty window
            for day in (at.date() - DAY, at.date()):
                start = datetime.combine(day, start_t, zone)
                stop = datetime.combine(
                    day + (DAY if end_t <= start_t else timedelta()), end_t, zone
                )
                if start <= at < stop and (end is None or stop > end):
                    end, moved = stop, True
    return end.astimezone(UTC) if end is not None else None


def send_time(
    now: datetime, windows: Sequence[str], zone: tzinfo, paused_until: datetime | None = None
) -> datetime | None:
    """When an SMS to the expert may go: None for now, else the first moment it may."""
    at = max(now, paused_until) if paused_until and paused_until > now else now
    quiet = quiet_until(at, windows, zone)
    at = quiet or at
    return None if at == now else at


def question_time(
    now: datetime,
    windows: Sequence[str],
    zone: tzinfo,
    *,
    cap: int | None,
    scheduled: Iterable[datetime],
    paused_until: datetime | None = None,
) -> datetime | None:
    """When a new question may go (None: now), given the times earlier questions were set for.

    With a cap, the question takes the first local day (today or later) that has fewer than
    ``cap`` questions set for it; on a later day it goes at the day's start, or after its quiet
    window. A cap of 0 means no questions at all until it is raised: held a year.
    """
    first = send_time(now, windows, zone, paused_until) or now
    if cap is None:
        return None if first == now else first
    if cap == 0:
        return now + timedelta(days=365)
    per_day: dict[date, int] = {}
    for when in scheduled:
        day = when.astimezone(zone).date()
        per_day[day] = per_day.get(day, 0) + 1
    day = first.astimezone(zone).date()
    at = first
    while per_day.get(day, 0) >= cap:
        day += DAY
        midnight = datetime.combine(day, time(0), zone).astimezone(UTC)
        at = send_time(midnight, windows, zone, paused_until) or midnight
        day = at.astimezone(zone).date()
    return None if at == now else at
