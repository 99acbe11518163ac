"""Which SIM sends: home first, failover, caps in parts (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smscat.relay.core.routing import (
    BULK_SHARE,
    SPILL_AFTER,
    Limits,
    ModemView,
    Usage,
    choose,
    fits,
    fits_ever,
    near_cap,
    room,
    share_of,
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


def test_bulk_sms_leave_the_last_fifth_of_each_window_to_codes_and_answers() -> None:
    """Lanes: questions may fill 80 % of a cap; a code still finds room in the rest."""
    assert share_of("to_expert") == share_of("notice") == BULK_SHARE == 0.8
    assert share_of("verification") == share_of("to_patient") == 1.0
    hour = ModemView("a", True, Limits(per_hour=200), Usage(hour=160))
    assert room(hour, share_of("to_expert")) == 0
    assert choose([hour], None, 1, share=share_of("to_expert")) is None
    assert room(hour, share_of("verification")) == 40
    assert choose([hour], None, 1, share=share_of("verification")) == "a"


def test_a_small_cap_still_lets_bulk_send_one_part() -> None:
    tiny = ModemView("a", True, Limits(per_minute=1), Usage())
    assert room(tiny, BULK_SHARE) == 1
    assert fits_ever(tiny, 1, BULK_SHARE)
    assert not fits_ever(tiny, 2, BULK_SHARE)


@given(
    used=st.integers(0, 300),
    cap=st.integers(1, 300),
    parts=st.integers(1, 10),
    kind=st.sampled_from(["verification", "to_patient", "to_expert", "notice"]),
)
def test_a_lane_never_passes_its_share_of_a_cap(used: int, cap: int, parts: int, kind: str) -> None:
    modem = ModemView("a", True, Limits(per_hour=cap), Usage(hour=used))
    if choose([modem], None, parts, share=share_of(kind)) == "a":
        assert used + parts <= max(1, int(cap * share_of(kind)))
