"""Which SIM sends: home first, failover, caps in parts (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smscat.relay.routing import (
    SPILL_AFTER,
    Limits,
    ModemView,
    Usage,
    choose,
    fits,
    near_cap,
    room,
)

CAPPED = Limits(per_minute=10, per_hour=200, per_day=1000)


def view(
    modem_id: str, healthy: bool = True, minute: int = 0, day: int = 0, busy: bool = False
) -> ModemView:
    return ModemView(modem_id, healthy, CAPPED, Usage(minute, minute, day), busy)


def test_home_while_healthy_and_with_room() -> None:
    assert choose([view("a"), view("b")], "b", 1) == "b"


def test_failover_when_home_is_down_or_full() -> None:
    assert choose([view("a"), view("b", healthy=False)], "b", 1) == "a"
    assert choose([view("a"), view("b", minute=10)], "b", 1) == "a"
    assert choose([view("a", minute=9), view("b", minute=9)], "a", 2) is None


def test_a_newcomer_goes_where_there_is_most_room() -> None:
    assert choose([view("a", minute=5), view("b", minute=2)], None, 1) == "b"
    assert choose([view("a", day=30), view("b", day=3)], None, 1) == "b"
    assert choose([view("a", healthy=False)], None, 1) is None


def test_a_busy_home_keeps_its_sms_until_it_has_waited_long_enough() -> None:
    modems = [view("a", busy=True), view("b")]
    assert choose(modems, "a", 1, waited=0.0) == "a"
    assert choose(modems, "a", 1, waited=SPILL_AFTER - 0.1) == "a"
    assert choose(modems, "a", 1, waited=SPILL_AFTER) == "b"  # the idle SIM sends it
    # nobody idle to take it: it waits for its home however long
    assert choose([view("a", busy=True), view("b", busy=True)], "a", 1, waited=600) == "a"
    # an idle home is always its home
    assert choose([view("a"), view("b")], "a", 1, waited=600) == "a"


def test_a_newcomer_goes_to_an_idle_modem_first() -> None:
    assert choose([view("a", busy=True), view("b", minute=5)], None, 1) == "b"
    assert choose([view("a", busy=True), view("b", busy=True, minute=5)], None, 1) == "a"


def test_a_home_no_longer_configured_is_ignored() -> None:
    assert choose([view("a")], "gone", 1) == "a"


def test_near_cap() -> None:
    assert near_cap(view("a", day=900), 0.9)
    assert not near_cap(view("a", day=899), 0.9)


@given(
    used=st.lists(st.tuples(st.integers(0, 12), st.integers(0, 1100)), min_size=1, max_size=4),
    parts=st.integers(1, 10),
    home=st.integers(0, 4),
)
def test_the_choice_always_fits(used: list[tuple[int, int]], parts: int, home: int) -> None:
    views = [view(str(i), minute=m, day=d) for i, (m, d) in enumerate(used)]
    chosen = choose(views, str(home), parts)
    if chosen is None:
        assert not any(fits(v, parts) for v in views)
    else:
        picked = next(v for v in views if v.id == chosen)
        left = room(picked)
        assert left is None or left >= parts
