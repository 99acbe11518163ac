"""Per thread, until the expert answers: at most three of the patient's messages after the
question reach the expert's phone; the rest wait on the thread and go to the expert in one SMS
when the answer comes (issue 14). From the page and by SMS alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.relay.core import policy
from smscat.relay.core.lifecycle import FOLLOW_UPS_BEFORE_ANSWER, waiting_follow_ups
from smscat.relay.core.texts import render
from smscat.relay.services.context import Asked
from smscat.storage.db import ExpertRow
from tests.support import relay as support
from tests.support.relay import world_on

ZHANG = ExpertRow("zhang", "张明", "主任医师", "心血管内科", "+8613800138001", "高血压")
PATIENT = "+8613912345678"


# --- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("senders", "waiting"),
    [
        ("p", []),
        ("pppp", []),  # the question and three follow-ups
        ("ppppp", [4]),
        ("pppppp", [4, 5]),
        ("ppppppe", []),  # the answer took them along
        ("ppppppeppp", []),  # three after an answer go again
        ("ppppppepppp", [10]),  # (after an answer, no question is free)
        ("ppeppppe", []),
        ("pppppa", []),  # an assistant's answer is an answer
    ],
)
def test_which_follow_ups_wait(senders: str, waiting: list[int]) -> None:
    names = {"p": "patient", "e": "expert", "a": "assistant"}
    assert waiting_follow_ups([names[c] for c in senders]) == waiting


@given(st.lists(st.sampled_from(["patient", "patient", "patient", "expert"]), max_size=40))
def test_never_more_than_three_reach_the_expert_between_answers(senders: list[str]) -> None:
    """Walk a thread message by message, as the relay decides each one when it arrives."""
    went_since_answer = 0
    released: list[int] = []
    for n, sender in enumerate(senders):
        before = waiting_follow_ups(senders[:n])
        if policy.is_answer(sender):
            released += before  # one SMS with what waited
            went_since_answer = 0
        elif n not in waiting_follow_ups(senders[: n + 1]):
            went_since_answer += 1
        first_run = not any(policy.is_answer(s) for s in senders[:n])
        assert went_since_answer <= FOLLOW_UPS_BEFORE_ANSWER + first_run  # + the question
    # every patient message either went at once, or waits, or went with an answer
    waiting = waiting_follow_ups(senders)
    assert not set(released) & set(waiting)


# --- the relay --------------------------------------------------------------------------------


@dataclass
class World(support.World):
    async def to_expert(self) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT text FROM outbox WHERE recipient = ? AND status != 'cancelled' ORDER BY id",
            (ZHANG.phone,),
        )
        return [str(r["text"]) for r in rows]

    async def ask(self, *, phone: bool = False) -> Asked:
        extra = await self.verified(PATIENT) if phone else {}
        return await self.relay.asking.ask(
            expert_id="zhang", nickname="小王", text="头晕怎么办？", public=False, **extra
        )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with world_on(tmp_path, [ZHANG], kind=World) as opened:
        yield opened


def followups(texts: list[str]) -> list[str]:
    return [t for t in texts if "追问：" in t]


async def test_a_fourth_follow_up_waits_for_the_answer_then_goes_with_the_rest(
    world: World,
) -> None:
    asked = await world.ask()
    for n in range(1, 6):
        await world.relay.patient_page.follow_up(asked.id, asked.token, f"补充{n}：还是头晕")
    sent = await world.to_expert()
    assert len(sent) == 1 + 3  # the question and three follow-ups
    assert [t for t in followups(sent) if "补充4" in t or "补充5" in t] == []
    view = await world.relay.patient_page.thread_view(asked.id, asked.token)
    assert view["waiting"] == 2
    assert view["notice"] == render("page.followups_waiting", count=2)
    assert [m["text"] for m in view["messages"]][-2:] == ["补充4：还是头晕", "补充5：还是头晕"]
    english = await world.relay.patient_page.thread_view(asked.id, asked.token, "en")
    assert english["notice"] == render("page.followups_waiting", "en", count=2)

    await world.sms(ZHANG.phone, "多喝水，明天来门诊")
    sent = await world.to_expert()
    assert len(sent) == 5  # exactly one more: what waited, together
    assert "另有2条追问" in sent[-1]
    assert "补充4" in sent[-1]
    assert "补充5" in sent[-1]
    view = await world.relay.patient_page.thread_view(asked.id, asked.token)
    assert view["waiting"] == 0
    assert "notice" not in view

    await world.relay.patient_page.follow_up(
        asked.id, asked.token, "补充6：明天几点？"
    )  # after an answer
    assert "补充6" in (await world.to_expert())[-1]


async def test_by_sms_the_same(world: World) -> None:
    await world.ask(phone=True)
    for n in range(1, 7):
        await world.sms(PATIENT, f"短信补充{n}")
    assert len(followups(await world.to_expert())) == 3
    (row,) = await world.db.fetchall("SELECT status FROM threads")
    assert row["status"] == "queued"  # the third follow-up is what the thread waits for
    inbound = await world.db.fetchall("SELECT outcome FROM inbound ORDER BY id")
    assert [r["outcome"] for r in inbound] == ["followup"] * 6  # all posted on the thread
    await world.sms(ZHANG.phone, "好的")
    last = (await world.to_expert())[-1]
    assert "另有3条追问" in last
    assert all(f"短信补充{n}" in last for n in (4, 5, 6))
    patient = await world.db.fetchall(
        "SELECT text FROM outbox WHERE recipient = ? ORDER BY id", (PATIENT,)
    )
    assert "好的" in patient[-1]["text"]  # the answer still goes to the patient


async def test_what_waited_is_no_longer_than_a_question(world: World) -> None:
    asked = await world.ask()
    for n in range(12):
        await world.relay.patient_page.follow_up(
            asked.id, asked.token, f"第{n}条" + "很长的描述" * 99
        )
    await world.sms(ZHANG.phone, "收到")
    last = (await world.to_expert())[-1]
    fixed = render(
        "followups_waited_to_expert", dept="心内科", code="#1", nickname="小王", count=9, text=""
    )
    assert len(last) <= len(fixed) + world.relay.options.max_text
    assert "另有9条追问" in last
    assert "1.第3条" in last  # each waiting message has its share


async def test_an_admins_assignment_is_an_answer_too(world: World) -> None:
    first, second = await world.ask(), await world.ask()
    for n in range(5):
        await world.relay.patient_page.follow_up(first.id, first.token, f"一号补充{n}")
    await world.sms(ZHANG.phone, "没有编号的回复")  # two open threads: unmatched
    (row,) = await world.db.fetchall("SELECT id FROM inbound WHERE outcome = 'unmatched'")
    before = len(await world.to_expert())
    await world.relay.admin.assign_inbound(int(row["id"]), first.id, "admin")
    sent = (await world.to_expert())[before:]
    assert len(sent) == 1
    assert "另有2条追问" in sent[0]
    assert "一号补充4" in sent[0]
    assert second.id != first.id
