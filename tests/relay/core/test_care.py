"""The 随访 planner's pure rules: windows and gaps, the next action, replies, working hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.relay.core import care

ZONE = ZoneInfo("Asia/Shanghai")
WINDOW = care.Window(time(9), time(20), timedelta(hours=20), ZONE)
HOURS = care.WorkingHours(time(8), time(17, 30), frozenset(range(5)), ZONE)
MENU = (("1", "好转"), ("2", "没变化"), ("3", "加重"))
PLAN = care.Plan(
    name="discharge",
    title="出院随访",
    steps=tuple(
        care.Step(f"d{d}", d, "【{dept}】{nickname}您好", MENU, frozenset({"3"}))
        for d in (1, 7, 30)
    ),
    keywords=("胸痛", "出血"),
)
ANCHOR = date(2026, 11, 23)
moments = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
)


def local(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=ZONE).astimezone(UTC)


@given(moments)
def test_allowed_is_inside_the_window_and_never_earlier(at: datetime) -> None:
    allowed = WINDOW.allowed(at)
    assert allowed >= at
    assert time(9) <= allowed.astimezone(ZONE).time() < time(20)
    assert allowed - at < timedelta(hours=13, seconds=1)
    if time(9) <= at.astimezone(ZONE).time() < time(20):
        assert allowed == at


@given(moments, st.one_of(st.none(), moments))
def test_send_at_keeps_the_gap(due: datetime, last: datetime | None) -> None:
    at = care.send_at(due, last, WINDOW)
    assert at >= due
    if last is not None:
        assert at - last >= WINDOW.gap


def test_the_first_step_is_due_on_day_one_at_the_window_opening() -> None:
    action = care.next_action(PLAN, care.Progress(ANCHOR), local(ANCHOR, 12), WINDOW)
    assert action == care.Wait(local(date(2026, 11, 24), 9))
    due = care.next_action(PLAN, care.Progress(ANCHOR), local(date(2026, 11, 24), 9), WINDOW)
    assert due == care.SendStep(PLAN.steps[0])


def test_silence_brings_one_reminder_then_a_call_then_the_next_step() -> None:
    d1 = local(date(2026, 11, 24), 9)
    progress = care.Progress(ANCHOR, sent={("d1", "step"): d1}, last_sent=d1)
    assert care.next_action(PLAN, progress, d1, WINDOW) == care.Wait(d1 + timedelta(days=2))
    reminded = d1 + timedelta(days=2)
    progress = care.Progress(
        ANCHOR, sent={("d1", "step"): d1, ("d1", "reminder"): reminded}, last_sent=reminded
    )
    call_at = reminded + PLAN.call_after
    assert care.next_action(PLAN, progress, call_at, WINDOW) == care.ListForCall(PLAN.steps[0])
    listed = care.Progress(ANCHOR, sent=progress.sent, last_sent=reminded, listed=frozenset({"d1"}))
    assert care.next_action(PLAN, listed, call_at, WINDOW) == care.Wait(
        local(date(2026, 11, 30), 9)
    )


def test_an_answer_stops_the_chase() -> None:
    d1 = local(date(2026, 11, 24), 9)
    progress = care.Progress(ANCHOR, sent={("d1", "step"): d1}, answered=frozenset({"d1"}))
    assert care.next_action(PLAN, progress, d1 + timedelta(days=3), WINDOW) == care.Wait(
        local(date(2026, 11, 30), 9)
    )


def test_the_end_after_the_last_step_is_answered() -> None:
    sent = {(s.key, "step"): local(ANCHOR + timedelta(days=s.day), 9) for s in PLAN.steps}
    done = care.Progress(ANCHOR, sent=sent, answered=frozenset({"d30"}))
    assert care.next_action(PLAN, done, local(date(2027, 1, 1), 9), WINDOW) == care.Complete()


def test_a_step_due_before_the_first_day_never_goes() -> None:
    late = care.Progress(ANCHOR, first_day=date(2026, 11, 26))
    assert care.next_action(PLAN, late, local(date(2026, 11, 26), 10), WINDOW) == care.Wait(
        local(date(2026, 11, 30), 9)
    )


@given(st.lists(st.sampled_from(["step", "reminder", "answer", "call"]), max_size=12), moments)
def test_the_planner_never_sends_a_step_twice(events: list[str], start: datetime) -> None:
    """Walk the planner from any start: whatever it says is done, and it never repeats."""
    progress = care.Progress(ANCHOR)
    now = start
    said: list[tuple[str, str]] = []
    for _ in range(12):
        action = care.next_action(PLAN, progress, now, WINDOW)
        if isinstance(action, care.Complete):
            break
        if isinstance(action, care.Wait):
            assert action.until > now
            now = action.until
            continue
        key = action.step.key
        if isinstance(action, care.ListForCall):
            assert key not in progress.listed
            progress = care.Progress(
                ANCHOR,
                progress.sent,
                progress.answered,
                progress.listed | {key},
                progress.last_sent,
            )
            continue
        kind = "step" if isinstance(action, care.SendStep) else "reminder"
        assert (key, kind) not in said
        assert time(9) <= now.astimezone(ZONE).time() < time(20)
        if progress.last_sent is not None:
            assert now - progress.last_sent >= WINDOW.gap
        said.append((key, kind))
        answered = progress.answered | ({key} if events and events.pop(0) == "answer" else set())
        progress = care.Progress(
            ANCHOR, {**progress.sent, (key, kind): now}, answered, progress.listed, now
        )


@pytest.mark.parametrize(
    ("text", "choice", "red"),
    [
        ("1", "1", False),
        ("３", "3", True),
        ("3。", "3", True),
        ("三", "3", True),
        (" 2 ", "2", False),
        ("好多了", None, False),
        ("有点胸痛", None, True),
        ("13", None, False),
    ],
)
def test_read_reply(text: str, choice: str | None, red: bool) -> None:
    reading = care.read_reply(PLAN, PLAN.steps[0], text)
    assert (reading.choice, reading.red_flag) == (choice, red)


def test_templates_allow_only_the_variables() -> None:
    assert care.template_problem("【{dept}】{nickname}您好，{date}出院") is None
    assert "diagnosis" in (care.template_problem("{diagnosis}复查") or "")
    assert care.template_problem("{nickname") is not None
    assert care.template_problem("{nickname!r}") is not None


@pytest.mark.parametrize(
    ("raised", "deadline"),
    [
        (local(date(2026, 11, 24), 10), local(date(2026, 11, 24), 12)),  # Tuesday
        (local(date(2026, 11, 24), 17), local(date(2026, 11, 25), 9, 30)),  # over the night
        (local(date(2026, 11, 27), 19), local(date(2026, 11, 30), 10)),  # Friday evening
        (local(date(2026, 11, 28), 3), local(date(2026, 11, 30), 10)),  # Saturday
    ],
)
def test_deadlines_count_working_hours(raised: datetime, deadline: datetime) -> None:
    assert care.add_working(raised, timedelta(hours=2), HOURS) == deadline


@given(moments, st.integers(min_value=1, max_value=60 * 40))
def test_working_time_is_monotonic(at: datetime, minutes: int) -> None:
    span = timedelta(minutes=minutes)
    end = care.add_working(at, span, HOURS)
    assert end >= at + span
    assert care.add_working(at, span + timedelta(minutes=1), HOURS) > end


def test_the_rota_skips_absent_people() -> None:
    rota = ("wang", "zhao", "li")
    assert care.rota_next(rota, -1, {"zhao", "li"}) == 1
    assert care.rota_next(rota, 1, {"zhao", "li"}) == 2
    assert care.rota_next(rota, 2, {"wang"}) is None
    assert care.rota_of(PLAN, "li") == ("li",)
    assert care.rota_of(PLAN, None) == ()
