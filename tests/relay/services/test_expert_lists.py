"""What an expert reads when asking what waits (待办/LIST) or when an SMS matched no question:
each open question by its code and its first words, signed with the department (issue 16)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smscat.relay.core.excerpts import first_words
from smscat.relay.services.context import RelayOptions
from tests.relay.services.test_controls import SHANGHAI, ZHAO, World, local
from tests.support.relay import world_on

CHEST = "最近两周经常胸闷气短，夜间加重"
PRESSURE = "血压高怎么办"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:  # a Monday morning in Shanghai
    options = RelayOptions(department="心内科", zone=SHANGHAI)
    async with world_on(tmp_path, [ZHAO], options, now=local(23, 10), kind=World) as opened:
        yield opened


async def test_an_sms_that_matches_no_question_lists_each_open_one_with_its_first_words(
    world: World,
) -> None:
    await world.ask("zhao", CHEST)
    await world.ask("zhao", PRESSURE)
    await world.sms(ZHAO.phone, "待办。")  # no command (the full stop), no code: which one?
    listing = await world.last(ZHAO)
    assert listing.startswith("【心内科】"), listing
    assert f"#1 {first_words(CHEST)}" in listing, listing
    assert f"#2 {first_words(PRESSURE)}" in listing, listing


async def test_list_names_each_waiting_question_by_its_first_words(world: World) -> None:
    await world.ask("zhao", CHEST)
    await world.ask("zhao", "  \n  " + PRESSURE)  # what leads a text is no first word
    await world.sms(ZHAO.phone, "待办")
    listing = await world.last(ZHAO)
    assert listing.startswith("【心内科】"), listing
    assert f"#1 {first_words(CHEST)}" in listing, listing
    assert f"#2 {PRESSURE}" in listing, listing


def test_first_words_collapse_space_and_shorten_with_an_ellipsis() -> None:
    assert first_words("  胸闷\n\n气短 ") == "胸闷 气短"
    assert first_words("一二三四五六七八九十一二三四", 12) == "一二三四五六七八九十一二…"
    assert first_words("") == ""
