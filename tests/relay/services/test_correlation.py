"""Which open thread an SMS reply answers (issue 15): the pure rule, then the relay using it —
``待办``/``LIST`` names only the threads still waiting for the expert, and a reply without a code
answers the one thread still waiting when the expert has answered the others.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from smscat.relay.core.correlation import OpenThread, correlate
from smscat.relay.core.texts import render
from smscat.relay.services.context import Asked
from smscat.storage.db import ExpertRow
from tests.support import relay as support
from tests.support.relay import world_on

# --- the rule ---------------------------------------------------------------------------------

ANSWERED_5 = OpenThread(1, 5, waiting=False)
WAITING_7 = OpenThread(2, 7, waiting=True)
WAITING_9 = OpenThread(3, 9, waiting=True)
ANSWERED_11 = OpenThread(4, 11, waiting=False)


@pytest.mark.parametrize(
    ("threads", "code", "answers"),
    [
        ([], None, None),  # nothing open
        ([], 5, None),
        ([ANSWERED_5], None, ANSWERED_5),  # the only open thread: a second message
        ([WAITING_7], None, WAITING_7),
        ([ANSWERED_5, ANSWERED_11], None, None),  # 0 waiting of several: ask for the code
        ([ANSWERED_5, WAITING_7], None, WAITING_7),  # 1 waiting: that one
        ([ANSWERED_5, WAITING_7, ANSWERED_11], None, WAITING_7),
        ([WAITING_7, WAITING_9], None, None),  # 2 waiting: ask for the code
        ([ANSWERED_5, WAITING_7, WAITING_9], None, None),
        ([ANSWERED_5, WAITING_7], 7, WAITING_7),  # a code picks its thread
        ([ANSWERED_5, WAITING_7], 5, ANSWERED_5),  # ... an answered one too
        ([ANSWERED_5, WAITING_7, WAITING_9], 9, WAITING_9),
        ([ANSWERED_5, WAITING_7], 12, None),  # a code no open thread has
        ([WAITING_7], 5, None),  # ... even when a code-less reply would have answered
    ],
)
def test_which_thread_a_reply_answers(
    threads: list[OpenThread], code: int | None, answers: OpenThread | None
) -> None:
    assert correlate(threads, code) == answers


# --- the relay --------------------------------------------------------------------------------

ZHANG = ExpertRow("zhang", "张明", "主任医师", "心血管内科", "+8613800138001", "高血压")
PATIENT = "+8613912345678"


@dataclass
class World(support.World):
    async def ask(self, text: str, *, phone: bool = False) -> Asked:
        # a verified phone: the answer goes to it by SMS
        extra = await self.verified(PATIENT) if phone else {}
        return await self.relay.asking.ask(
            expert_id="zhang", nickname="小王", text=text, public=False, **extra
        )

    async def code(self, asked: Asked) -> str:
        (row,) = await self.db.fetchall("SELECT code FROM threads WHERE id = ?", (asked.id,))
        return f"#{row['code']}"

    async def last_to_expert(self) -> str:
        rows = await self.db.fetchall(
            "SELECT text FROM outbox WHERE recipient = ? ORDER BY id DESC LIMIT 1", (ZHANG.phone,)
        )
        return str(rows[0]["text"])

    async def said_by_expert(self, asked: Asked) -> list[str]:
        view = await self.relay.patient_page.thread_view(asked.id, asked.token)
        return [m["text"] for m in view["messages"] if m["from"] == "expert"]

    async def outcomes(self) -> list[str]:
        rows = await self.db.fetchall("SELECT outcome FROM inbound ORDER BY id")
        return [str(r["outcome"]) for r in rows]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with world_on(tmp_path, [ZHANG], kind=World) as opened:
        yield opened


async def test_list_names_only_the_threads_still_waiting_for_the_expert(world: World) -> None:
    first = await world.ask("头晕怎么办？")
    second = await world.ask("血压高怎么办？")
    first_code, second_code = await world.code(first), await world.code(second)
    await world.sms(ZHANG.phone, f"{first_code} 多喝水")

    await world.sms(ZHANG.phone, "待办")
    listing = await world.last_to_expert()
    assert listing.startswith(render("list_to_expert", dept="心内科", items="")), listing
    assert second_code in listing
    assert first_code not in listing  # answered: waits for no one

    await world.sms(ZHANG.phone, f"{second_code} 少吃盐")
    await world.sms(ZHANG.phone, "LIST")
    assert await world.last_to_expert() == render("list_empty", dept="心内科")

    await world.relay.patient_page.follow_up(
        first.id, first.token, "喝多少？"
    )  # waits for the expert again
    await world.sms(ZHANG.phone, "待办")
    listing = await world.last_to_expert()
    assert first_code in listing
    assert second_code not in listing


async def test_a_reply_without_a_code_answers_the_one_thread_still_waiting(world: World) -> None:
    first = await world.ask("头晕怎么办？")
    second = await world.ask("血压高怎么办？")
    third = await world.ask("心慌怎么办？")
    await world.sms(ZHANG.phone, f"{await world.code(first)} 多喝水")
    await world.sms(ZHANG.phone, "先量血压")  # two still wait: which one?
    assert (await world.outcomes())[-1] == "unmatched"

    await world.sms(ZHANG.phone, f"{await world.code(second)} 少吃盐")
    await world.sms(ZHANG.phone, "明天来门诊")  # only the third still waits
    assert (await world.outcomes())[-1] == "reply"
    assert await world.said_by_expert(third) == ["明天来门诊"]
    assert await world.said_by_expert(first) == ["多喝水"]
    assert await world.said_by_expert(second) == ["少吃盐"]

    await world.sms(ZHANG.phone, "另外注意休息")  # all answered: which one?
    assert (await world.outcomes())[-1] == "unmatched"


async def test_a_patients_reply_without_a_code_still_needs_their_only_open_thread(
    world: World,
) -> None:
    """A patient owes no answer: with two open threads a code-less SMS is unmatched, answered
    or not (unchanged by issue 15)."""
    first = await world.ask("头晕怎么办？", phone=True)
    await world.ask("血压高怎么办？", phone=True)
    await world.sms(ZHANG.phone, f"{await world.code(first)} 多喝水")
    await world.sms(PATIENT, "好的谢谢")
    assert (await world.outcomes())[-1] == "unmatched"
