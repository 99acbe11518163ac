"""Multipart reassembly: any order, duplicates, timeouts that speak up, wrap, and persistence."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.modem import pdu
from smscat.modem.pdu import Concat
from smscat.modem.reassembly import (
    MISSING_MARK,
    Message,
    Part,
    Reassembler,
    ReassemblyStateError,
)
from tests.support.strategies import cjk, emoji, gsm_char, rare_cjk

T0 = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
SENDER = "+8613800138000"
OTHER = "+8613900139000"


def split_units(text: str, cuts: list[int]) -> list[str]:
    """Cut ``text`` at UTF-16 code-unit offsets, as a UCS2 sender does (pairs may be cut)."""
    units = text.encode("utf-16-be", "surrogatepass")
    n = len(units) // 2
    points = sorted({0, n, *(c % (n + 1) for c in cuts)})
    return [
        units[2 * a : 2 * b].decode("utf-16-be", "surrogatepass")
        for a, b in itertools.pairwise(points)
    ] or [""]


def parts_of(sender: str, ref: int, pieces: list[str]) -> list[Part]:
    total = len(pieces)
    return [Part(sender, piece, Concat(ref, total, i + 1)) for i, piece in enumerate(pieces)]


def feed(r: Reassembler, parts: list[Part], start: datetime = T0) -> list[Message]:
    out = []
    for i, part in enumerate(parts):
        message = r.add(part, start + timedelta(seconds=i))
        if message is not None:
            out.append(message)
    return out


# --- the basics -------------------------------------------------------------------------------


def test_single_sms_passes_straight_through() -> None:
    r = Reassembler()
    message = r.add(Part(SENDER, "你好", None, T0), T0)
    assert message is not None
    assert (message.complete, message.text, message.parts, message.total) == (True, "你好", 1, 1)
    assert (message.ref, message.missing, message.scts) == (None, (), T0)
    assert len(r) == 0


def test_invalid_concat_element_is_a_single_sms() -> None:
    message = Reassembler().add(Part(SENDER, "x", Concat(7, 2, 3)), T0)
    assert message is not None
    assert message.complete
    assert message.total == 1


def test_parts_out_of_order_complete_once_with_times() -> None:
    r = Reassembler()
    a, b, c = parts_of(SENDER, 42, ["one ", "two ", "three"])
    assert r.add(c, T0) is None
    assert r.add(a, T0 + timedelta(minutes=1)) is None
    message = r.add(b, T0 + timedelta(minutes=5))
    assert message is not None
    assert message.text == "one two three"
    assert (message.complete, message.parts, message.total, message.ref) == (True, 3, 3, 42)
    assert message.first_received == T0
    assert message.last_received == T0 + timedelta(minutes=5)
    assert len(r) == 0


def test_duplicate_part_keeps_the_first_and_is_counted() -> None:
    r = Reassembler()
    a, b = parts_of(SENDER, 1, ["first", "second"])
    assert r.add(a, T0) is None
    assert r.add(Part(SENDER, "IMPOSTOR", Concat(1, 2, 1)), T0) is None
    message = r.add(b, T0)
    assert message is not None
    assert (message.text, message.duplicates) == ("firstsecond", 1)


def test_a_different_total_is_a_different_message() -> None:
    r = Reassembler()
    assert r.add(Part(SENDER, "a", Concat(9, 2, 1)), T0) is None
    assert r.add(Part(SENDER, "x", Concat(9, 3, 1)), T0) is None
    assert len(r) == 2
    message = r.add(Part(SENDER, "b", Concat(9, 2, 2)), T0)
    assert message is not None
    assert message.text == "ab"
    assert len(r) == 1


def test_same_reference_from_another_sender_is_another_message() -> None:
    r = Reassembler()
    r.add(Part(SENDER, "a", Concat(5, 2, 1)), T0)
    assert r.add(Part(OTHER, "b", Concat(5, 2, 2)), T0) is None
    assert len(r) == 2


def test_deliver_is_accepted_directly() -> None:
    parts = pdu.plan_submit(SENDER, "长" * 100, ref=77)
    r = Reassembler()
    out = []
    for part in reversed(parts):
        deliver = pdu.Deliver(
            sender=SENDER,
            text=part.text,
            data=b"",
            scts=T0,
            concat=Concat(77, part.total, part.seq),
            dcs=0x08,
            pid=0,
            coding=pdu.coding(0x08),
        )
        message = r.add(deliver, T0)
        if message is not None:
            out.append(message)
    assert [m.text for m in out] == ["长" * 100]


def test_surrogate_pair_cut_between_parts_is_mended() -> None:
    pieces = split_units("ab😀cd", [3])  # the cut falls inside the pair
    assert len(pieces) == 2
    assert "😀" not in "".join(pieces[:1])
    message = feed(Reassembler(), parts_of(SENDER, 3, pieces))[0]
    assert message.text == "ab😀cd"


# --- reference wrap and late duplicates -------------------------------------------------------


def test_reference_reused_after_completion_starts_a_new_group() -> None:
    r = Reassembler()
    first = feed(r, parts_of(SENDER, 200, ["old ", "msg"]))
    later = T0 + timedelta(hours=3)  # outside the duplicate window
    second = feed(r, parts_of(SENDER, 200, ["new ", "one"]), start=later)
    assert [m.text for m in first + second] == ["old msg", "new one"]


def test_reference_reused_at_once_with_new_content_is_a_new_message() -> None:
    r = Reassembler()
    feed(r, parts_of(SENDER, 200, ["old ", "msg"]))
    second = feed(r, parts_of(SENDER, 200, ["new ", "one"]), start=T0 + timedelta(seconds=5))
    assert [m.text for m in second] == ["new one"]


def test_late_duplicate_of_a_completed_message_is_counted_not_regrouped() -> None:
    r = Reassembler()
    parts = [Part(SENDER, t, Concat(8, 2, i + 1), T0) for i, t in enumerate(["a", "b"])]
    assert len(feed(r, parts)) == 1
    assert r.add(parts[0], T0 + timedelta(minutes=2)) is None
    assert (len(r), r.late_duplicates) == (0, 1)
    assert r.expire(T0 + timedelta(days=2)) == []


# --- expiry: never a silent drop --------------------------------------------------------------


def test_expire_returns_explicit_incomplete_messages() -> None:
    r = Reassembler(timeout=timedelta(hours=24))
    a, _b, c, _d = parts_of(SENDER, 11, ["A", "B", "C", "D"])
    r.add(a, T0)
    r.add(c, T0 + timedelta(hours=1))
    assert r.next_deadline() == T0 + timedelta(hours=24)
    assert r.expire(T0 + timedelta(hours=23, minutes=59)) == []
    (message,) = r.expire(T0 + timedelta(hours=24))
    assert not message.complete
    assert message.missing == (2, 4)
    assert message.text == f"A{MISSING_MARK}C{MISSING_MARK}"
    assert (message.parts, message.total, message.ref) == (2, 4, 11)
    assert message.last_received == T0 + timedelta(hours=1)
    assert len(r) == 0
    assert r.next_deadline() is None


def test_the_missing_mark_is_the_callers_words() -> None:
    r = Reassembler(timeout=timedelta(minutes=10), missing_mark="（部分内容未收到）")
    a, _b, c = parts_of(SENDER, 12, ["A", "B", "C"])
    r.add(a, T0)
    r.add(c, T0)
    (message,) = r.expire(T0 + timedelta(minutes=10))
    assert (message.text, message.missing) == ("A（部分内容未收到）C", (2,))


def test_timeout_is_configurable() -> None:
    r = Reassembler(timeout=timedelta(minutes=10))
    r.add(Part(SENDER, "x", Concat(1, 2, 1)), T0)
    assert len(r.expire(T0 + timedelta(minutes=10))) == 1


def test_pair_cut_at_a_gap_becomes_replacement_char() -> None:
    pieces = split_units("a😀b", [2])  # "a\ud83d" | "\ude00b"
    r = Reassembler()
    r.add(parts_of(SENDER, 4, [*pieces, "tail"])[0], T0)
    (message,) = r.expire(T0 + timedelta(days=1))
    assert message.text == f"a\ufffd{MISSING_MARK}{MISSING_MARK}"
    message.text.encode("utf-8")  # always encodable


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="timeout"):
        Reassembler(timeout=timedelta(0))


def test_repr_never_shows_number_or_text() -> None:
    r = Reassembler()
    part = Part(SENDER, "秘密 secret", Concat(1, 2, 1))
    r.add(part, T0)
    (message,) = r.expire(T0 + timedelta(days=1))
    for shown in (repr(r), repr(part), repr(message)):
        assert "13800138000" not in shown
        assert "secret" not in shown
        assert "秘密" not in shown


# --- snapshot / restore -----------------------------------------------------------------------


def test_snapshot_survives_json_and_a_restart() -> None:
    r = Reassembler()
    pieces = split_units("x😀y𠮷z", [2, 5])
    parts = parts_of(SENDER, 250, pieces)
    r.add(parts[0], T0)
    r.add(parts[0], T0)  # a duplicate, counted
    feed(r, parts_of(OTHER, 1, ["done ", "now"]))  # a completed one, remembered briefly
    rows = json.loads(json.dumps(r.snapshot()))

    again = Reassembler()
    again.restore(rows)
    assert again.snapshot() == rows
    out = feed(again, parts[1:], start=T0 + timedelta(minutes=1))
    assert [m.text for m in out] == ["x😀y𠮷z"]
    assert out[0].duplicates == 1
    assert out[0].first_received == T0


@pytest.mark.parametrize(
    "row",
    [
        {"v": 99},
        {"v": 1, "kind": "pending"},
        {"v": 1, "kind": "nonsense", "sender": "s", "ref": 1, "total": 2},
        {
            "v": 1,
            "kind": "pending",
            "sender": "s",
            "ref": 1,
            "total": 2,
            "first_received": "2024-01-01T00:00:00+00:00",
            "last_received": "2024-01-01T00:00:00+00:00",
            "duplicates": 0,
            "parts": [{"seq": 3, "text_utf16": "", "received_at": "x", "scts": None}],
        },
        {
            "v": 1,
            "kind": "completed",
            "sender": "s",
            "ref": 1,
            "total": 2,
            "completed_at": "2024-01-01T00:00:00+00:00",
            "parts": [{"seq": 1, "text_utf16": "zz", "scts": None}],
        },
    ],
)
def test_restore_refuses_malformed_rows_and_keeps_state(row: dict[str, object]) -> None:
    r = Reassembler()
    r.add(Part(SENDER, "keep", Concat(1, 2, 1)), T0)
    with pytest.raises(ReassemblyStateError):
        r.restore([row])
    assert len(r) == 1


# --- Hypothesis -------------------------------------------------------------------------------

message_text = st.text(st.one_of(gsm_char, cjk, emoji, rare_cjk), min_size=1, max_size=60)
cuts = st.lists(st.integers(min_value=0, max_value=200), max_size=6)


@given(
    text=message_text,
    cut_at=cuts,
    ref=st.integers(0, 255),
    order=st.randoms(use_true_random=False),
    dup_indices=st.lists(st.integers(0, 50), max_size=8),
)
def test_any_permutation_with_duplicates_gives_exactly_one_message(
    text: str, cut_at: list[int], ref: int, order: random.Random, dup_indices: list[int]
) -> None:
    parts = parts_of(SENDER, ref, split_units(text, cut_at))
    stream = list(parts)
    order.shuffle(stream)
    for i in dup_indices:  # duplicates anywhere, even after the last part
        stream.insert(i % (len(stream) + 1), parts[i % len(parts)])
    r = Reassembler()
    out = feed(r, stream)
    assert len(out) == 1
    (message,) = out
    assert message.complete
    assert message.text == text
    assert message.parts == message.total == len(parts)


@given(
    messages=st.lists(
        st.tuples(st.sampled_from([SENDER, OTHER, "10086", "Bank"]), st.integers(0, 3), cuts),
        min_size=1,
        max_size=6,
        unique_by=lambda m: (m[0], m[1]),
    ),
    texts=st.lists(message_text, min_size=6, max_size=6),
    order=st.randoms(use_true_random=False),
)
def test_interleaved_messages_from_several_senders_sort_out(
    messages: list[tuple[str, int, list[int]]], texts: list[str], order: random.Random
) -> None:
    expected: dict[tuple[str, int], str] = {}
    stream: list[Part] = []
    for (sender, ref, cut_at), text in zip(messages, texts, strict=False):
        pieces = split_units(text, cut_at)
        expected[(sender, ref)] = text
        stream.extend(parts_of(sender, ref, pieces))
    order.shuffle(stream)
    r = Reassembler()
    out = feed(r, stream)
    assert {(m.sender, m.ref): m.text for m in out} == expected
    assert len(out) == len(expected)
    assert len(r) == 0
