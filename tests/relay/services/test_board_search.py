"""The board's search never confirms a number it hides: masking runs before search.

Every written form of the corpus is asked as a public question; then a search for any piece of
each number (seven digits or more, or any four digits of it, in ASCII or as typed) finds no
thread, while a search for the words around it, or for a value that only looks like a number,
does. A message stored before masking knew a form (its ``public_text`` as an older, narrower
masking left it) is not confirmed either.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smscat.relay.services.context import RelayOptions
from smscat.relay.services.relay import Relay
from smscat.storage.db import Database, ExpertRow
from tests.support.numbers import FORMATS, NOT_NUMBERS, own_digit_runs
from tests.support.relay import Clock

ZHANG = ExpertRow("zhang", "张明", "主任医师", "心血管内科", "+8613800138001", "高血压")
T0 = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[Relay]:
    async with Database.open(tmp_path / "smscat.db") as db:
        await db.sync_experts([ZHANG])
        yield Relay(db, RelayOptions(department="心内科"), clock=Clock(T0))


async def found(relay: Relay, q: str) -> int:
    return int((await relay.read.board("zhang", q, 1, 10))["total"])


def pieces(row: dict[str, str]) -> set[str]:
    """What someone who saw the number elsewhere might search for: seven or more of its digits
    in a row, any four of them, and the same stretches as they were typed (separators and
    numerals included)."""
    digits = row["digits"]
    out = {digits[i : i + n] for n in (4, 7, len(digits)) for i in range(len(digits) - n + 1)}
    text = row["text"]
    places = [i for i, ch in enumerate(text) if own_digit_runs(ch)]
    for n in (4, 7):
        for k in range(len(places) - n + 1):
            out.add(text[places[k] : places[k + n - 1] + 1])
    return {piece for piece in out if piece.strip()}


async def test_no_piece_of_a_masked_number_finds_its_thread(relay: Relay) -> None:
    for row in FORMATS:
        await relay.asking.ask(
            expert_id="zhang", nickname="访客", text=f"问：{row['text']}", public=True
        )
    assert await found(relay, "问：") == len(FORMATS)  # the search works

    probes = sorted({piece for row in FORMATS for piece in pieces(row)})
    assert len(probes) > 1000
    confirmed = [piece for piece in probes if await found(relay, piece)]
    assert confirmed == []


async def test_what_only_looks_like_a_number_is_still_found(relay: Relay) -> None:
    for text in NOT_NUMBERS:
        await relay.asking.ask(
            expert_id="zhang", nickname="访客", text=f"记录：{text}", public=True
        )
    for probe in ("160/95", "2026-12-06", "7.8mmol", "1500-2000ml", "#12"):
        assert await found(relay, probe) >= 1, probe


async def test_text_masked_by_an_older_rule_is_searched_as_masked_now(relay: Relay) -> None:
    asked = await relay.asking.ask(
        expert_id="zhang", nickname="访客", text="请回电 139 - 0517 - 2486 谢谢", public=True
    )
    async with relay.db.transaction() as conn:  # as the masking of before 2026-12 stored it
        await conn.execute(
            "UPDATE messages SET public_text = ? WHERE thread_id = ?",
            ("请回电 139 - 0517 - 2486 谢谢", asked.id),
        )
    for probe in ("139", "0517", "2486", "139 - 0517", "0517 - 2486"):
        assert await found(relay, probe) == 0, probe
    assert await found(relay, "请回电") == 1
    assert await found(relay, "谢谢") == 1
