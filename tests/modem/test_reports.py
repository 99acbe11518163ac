"""Delivery-report matching: wrapped TP-MR, out-of-order reports, several modems, stale entries."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.modem.pdu import StatusReport
from smscat.modem.reports import Matched, ReportMatcher, Unmatched

T0 = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
CST = timezone(timedelta(hours=8))
ALICE = "+8613800138000"
BOB = "+8613900139000"


def report(mr: int, recipient: str, scts: datetime, status: int = 0x00) -> StatusReport:
    return StatusReport(
        mr=mr,
        recipient=recipient,
        scts=scts,
        discharge=scts + timedelta(seconds=5),
        status=status,
    )


def test_report_matches_and_removes_its_entry() -> None:
    m: ReportMatcher[str] = ReportMatcher()
    m.record("m1", 17, ALICE, T0, "q1/part1")
    result = m.match("m1", report(17, ALICE, T0), T0 + timedelta(seconds=30))
    assert isinstance(result, Matched)
    assert (result.entry.key, result.final) == ("q1/part1", True)
    assert len(m) == 0
    again = m.match("m1", report(17, ALICE, T0), T0 + timedelta(seconds=31))
    assert isinstance(again, Unmatched)
    assert again.reason == "no-submit"


def test_300_submits_wrapping_mr_with_reports_out_of_order_all_match_their_own() -> None:
    m: ReportMatcher[int] = ReportMatcher()
    spacing = timedelta(seconds=3)  # ~20 SMS a minute: an MR comes back after ~13 minutes
    for n in range(300):
        m.record("m1", n % 256, ALICE, T0 + n * spacing, n)
    reports = [
        (n, report(n % 256, ALICE, T0 + n * spacing + timedelta(seconds=1))) for n in range(300)
    ]
    random.Random(1).shuffle(reports)
    now = T0 + 300 * spacing + timedelta(minutes=5)
    for n, r in reports:
        result = m.match("m1", r, now)
        assert isinstance(result, Matched), n
        assert result.entry.key == n
    assert len(m) == 0


def test_same_mr_to_two_recipients() -> None:
    m: ReportMatcher[str] = ReportMatcher()
    m.record("m1", 5, ALICE, T0, "to-alice")
    m.record("m1", 5, BOB, T0 + timedelta(seconds=2), "to-bob")
    bob = m.match("m1", report(5, BOB, T0), T0 + timedelta(minutes=1))
    alice = m.match("m1", report(5, ALICE, T0), T0 + timedelta(minutes=1))
    assert isinstance(bob, Matched)
    assert bob.entry.key == "to-bob"
    assert isinstance(alice, Matched)
    assert alice.entry.key == "to-alice"


def test_recipient_in_national_form_still_matches() -> None:
    m: ReportMatcher[str] = ReportMatcher()
    m.record("m1", 9, "138 0013 8000", T0, "k")
    result = m.match("m1", report(9, "+8613800138000", T0), T0)
    assert isinstance(result, Matched)
    result = m.match("m1", report(9, "10086", T0), T0)  # a short code stays itself
    assert isinstance(result, Unmatched)


def test_report_from_a_different_modem_does_not_match() -> None:
    m: ReportMatcher[str] = ReportMatcher()
    m.record("m1", 5, ALICE, T0, "k")
    result = m.match("m2", report(5, ALICE, T0), T0 + timedelta(minutes=1))
    assert isinstance(result, Unmatched)
    assert (result.modem_id, result.reason) == ("m2", "no-submit")
    assert len(m) == 1


def test_stale_entry_with_the_same_mr_never_matches_and_expires() -> None:
    m: ReportMatcher[str] = ReportMatcher(window=timedelta(days=3))
    m.record("m1", 200, ALICE, T0, "old")
    late = T0 + timedelta(days=3, seconds=1)
    result = m.match("m1", report(200, ALICE, late), late)
    assert isinstance(result, Unmatched)
    assert result.reason == "outside-window"
    assert [e.key for e in m.expire(late)] == ["old"]
    assert len(m) == 0


def test_stale_entry_is_skipped_for_a_fresh_one_with_the_same_mr() -> None:
    m: ReportMatcher[str] = ReportMatcher(window=timedelta(days=3))
    m.record("m1", 200, ALICE, T0, "old")
    fresh = T0 + timedelta(days=4)
    m.record("m1", 200, ALICE, fresh, "new")
    result = m.match("m1", report(200, ALICE, T0 - timedelta(days=9)), fresh)  # wrong SC clock
    assert isinstance(result, Matched)
    assert result.entry.key == "new"


def test_most_recent_outstanding_wins_when_scts_cannot_tell() -> None:
    m: ReportMatcher[str] = ReportMatcher()
    m.record("m1", 1, ALICE, T0, "first")
    m.record("m1", 1, ALICE, T0 + timedelta(hours=1), "second")
    later = T0 + timedelta(hours=2)
    result = m.match("m1", report(1, ALICE, later), later)
    assert isinstance(result, Matched)
    assert result.entry.key == "second"


def test_scts_in_another_offset_compares_as_an_instant() -> None:
    m: ReportMatcher[str] = ReportMatcher()
    m.record("m1", 1, ALICE, T0, "first")
    m.record("m1", 1, ALICE, T0 + timedelta(hours=1), "second")
    result = m.match("m1", report(1, ALICE, (T0 + timedelta(seconds=2)).astimezone(CST)), T0)
    assert isinstance(result, Matched)
    assert result.entry.key == "first"


def test_pending_report_keeps_the_entry_for_the_final_one() -> None:
    m: ReportMatcher[str] = ReportMatcher()
    m.record("m1", 3, ALICE, T0, "k")
    pending = m.match("m1", report(3, ALICE, T0, status=0x30), T0)
    assert isinstance(pending, Matched)
    assert not pending.final
    assert len(m) == 1
    failed = m.match("m1", report(3, ALICE, T0, status=0x41), T0)
    assert isinstance(failed, Matched)
    assert failed.final
    assert failed.report.permanent_failure
    assert len(m) == 0


def test_expire_keeps_fresh_entries_and_returns_old_ones_in_order() -> None:
    m: ReportMatcher[str] = ReportMatcher(window=timedelta(hours=1))
    m.record("m1", 1, ALICE, T0 + timedelta(minutes=5), "b")
    m.record("m2", 1, ALICE, T0, "a")
    m.record("m1", 2, ALICE, T0 + timedelta(hours=2), "fresh")
    assert [e.key for e in m.expire(T0 + timedelta(hours=2))] == ["a", "b"]
    assert len(m) == 1


def test_bad_input_is_refused_at_record() -> None:
    m: ReportMatcher[str] = ReportMatcher()
    with pytest.raises(ValueError, match="one octet"):
        m.record("m1", 256, ALICE, T0, "k")
    with pytest.raises(ValueError, match="timezone"):
        m.record("m1", 1, ALICE, T0.replace(tzinfo=None), "k")
    with pytest.raises(ValueError, match="window"):
        ReportMatcher(window=timedelta(0))


def test_reprs_never_show_numbers() -> None:
    m: ReportMatcher[str] = ReportMatcher()
    entry = m.record("m1", 1, ALICE, T0, "k")
    result = m.match("m1", report(1, ALICE, T0), T0)
    unmatched = m.match("m1", report(1, ALICE, T0), T0)
    for shown in (repr(m), repr(entry), repr(result), repr(unmatched)):
        assert "13800138000" not in shown


@given(
    n=st.integers(1, 600),
    seconds_apart=st.integers(3, 30),
    seed=st.integers(0, 2**32 - 1),
    recipients=st.lists(st.sampled_from([ALICE, BOB, "10086"]), min_size=600, max_size=600),
)
def test_wrapped_mrs_at_a_realistic_rate_always_find_their_own_part(
    n: int, seconds_apart: int, seed: int, recipients: list[str]
) -> None:
    m: ReportMatcher[int] = ReportMatcher()
    spacing = timedelta(seconds=seconds_apart)
    for i in range(n):
        m.record("m1", i % 256, recipients[i], T0 + i * spacing, i)
    order = list(range(n))
    random.Random(seed).shuffle(order)
    now = T0 + n * spacing
    for i in order:
        result = m.match("m1", report(i % 256, recipients[i], T0 + i * spacing), now)
        assert isinstance(result, Matched)
        assert result.entry.key == i
    assert len(m) == 0
