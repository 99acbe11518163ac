"""Quiet hours, daily caps and pauses decide when a question may reach an expert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from smscat.relay.core.schedule import question_time, quiet_until, send_time

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = ["22:00-07:30"]


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def test_inside_a_window_that_crosses_midnight() -> None:
    assert quiet_until(local(23, 23), NIGHT, SHANGHAI) == local(24, 7, 30)
    assert quiet_until(local(24, 6), NIGHT, SHANGHAI) == local(24, 7, 30)
    assert quiet_until(local(24, 7, 30), NIGHT, SHANGHAI) is None  # the end is open again
    assert quiet_until(local(24, 12), NIGHT, SHANGHAI) is None


def test_touching_windows_are_followed_through() -> None:
    windows = ["12:00-13:00", "13:00-14:30"]
    assert quiet_until(local(24, 12, 15), windows, SHANGHAI) == local(24, 14, 30)


def test_a_pause_then_quiet_hours() -> None:
    pause_end = local(24, 23)  # the pause ends inside the night
    assert send_time(local(24, 9), NIGHT, SHANGHAI, pause_end) == local(25, 7, 30)
    assert send_time(local(24, 9), NIGHT, SHANGHAI, None) is None


def test_the_cap_moves_the_next_question_to_the_next_morning() -> None:
    now = local(24, 10)
    taken = [local(24, 8), local(24, 9)]
    assert question_time(now, NIGHT, SHANGHAI, cap=3, scheduled=taken) is None
    full = [*taken, local(24, 9, 30)]
    assert question_time(now, NIGHT, SHANGHAI, cap=3, scheduled=full) == local(25, 7, 30)
    tomorrow_full = [*full, local(25, 7, 30), local(25, 7, 30), local(25, 7, 30)]
    assert question_time(now, NIGHT, SHANGHAI, cap=3, scheduled=tomorrow_full) == local(26, 7, 30)


def test_no_cap_and_no_window_means_now() -> None:
    assert question_time(local(24, 3), [], SHANGHAI, cap=None, scheduled=[]) is None


windows_strategy = st.lists(
    st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(0, 23), st.integers(0, 59)).map(
        lambda t: f"{t[0]:02d}:{t[1]:02d}-{t[2]:02d}:{t[3]:02d}"
    ),
    max_size=3,
)


@given(
    windows=windows_strategy,
    minutes=st.integers(0, 7 * 24 * 60),
    cap=st.none() | st.integers(1, 4),
    earlier=st.lists(st.integers(0, 3 * 24 * 60), max_size=12),
)
def test_a_question_never_goes_in_a_quiet_window_or_over_the_cap(
    windows: list[str], minutes: int, cap: int | None, earlier: list[int]
) -> None:
    now = local(23, 0) + timedelta(minutes=minutes)
    scheduled = [local(23, 0) + timedelta(minutes=m) for m in earlier]
    at = question_time(now, windows, SHANGHAI, cap=cap, scheduled=scheduled) or now
    assert at >= now
    if at - now < timedelta(days=2):  # (windows covering the whole day hold for two days)
        assert quiet_until(at, windows, SHANGHAI) is None
        if cap is not None and at > now:
            day = at.astimezone(SHANGHAI).date()
            same_day = [s for s in scheduled if s.astimezone(SHANGHAI).date() == day]
            assert (
                len(same_day) < cap
                or at.astimezone(SHANGHAI).date() == now.astimezone(SHANGHAI).date()
            )
