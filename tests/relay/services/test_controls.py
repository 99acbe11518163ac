"""Expert controls, driven by an injected clock: quiet hours, caps, pause, commands, assistants,
quick replies, the welcome SMS and the hand-off of a leaving expert's threads.

A real SQLite file; SMS in as a modem would hand them over; what goes out is read from the
outbox, with the time each SMS may go (``next_attempt_at``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from smscat.relay.core.errors import Conflict, NotFound
from smscat.relay.services.context import RelayOptions
from smscat.storage.db import ExpertRow
from tests.support import relay as support
from tests.support.relay import world_on

SHANGHAI = ZoneInfo("Asia/Shanghai")
WANG = ExpertRow("wang", "王芳", "护士长", "心血管内科", "+8613800138009", None, role="assistant")
ZHANG = ExpertRow(
    "zhang", "张明", "主任医师", "心血管内科", "+8613800138001", None, assistant_id="wang"
)
LI = ExpertRow(
    "li", "李华", "副主任医师", "心血管内科", "+8613800138002", None,
    quiet_hours=json.dumps(["22:00-07:30"]), daily_cap=2, confirm_replies=1,
)  # fmt: skip
ZHAO = ExpertRow("zhao", "赵强", "主治医师", "心血管内科", "+8613800138003", None)
QUICK = {"T3": "请带上检查报告来门诊复查"}


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@dataclass
class World(support.World):
    async def ask(self, expert: str, text: str = "胸闷") -> int:
        asked = await self.relay.asking.ask(
            expert_id=expert, nickname="小王", text=text, public=True
        )
        return asked.id

    async def outbox(self, person: ExpertRow) -> list[tuple[str, datetime]]:
        rows = await self.db.fetchall(
            "SELECT text, next_attempt_at FROM outbox WHERE recipient = ? AND status != 'cancelled'"
            " ORDER BY id",
            (person.phone,),
        )
        return [(r["text"], datetime.fromisoformat(r["next_attempt_at"])) for r in rows]

    async def last(self, person: ExpertRow) -> str:
        return (await self.outbox(person))[-1][0]

    async def thread(self, thread_id: int) -> dict[str, object]:
        (row,) = await self.db.fetchall("SELECT * FROM threads WHERE id = ?", (thread_id,))
        return dict(row)

    async def posts(self, thread_id: int) -> list[tuple[str, str]]:
        rows = await self.db.fetchall(
            "SELECT sender, text FROM messages WHERE thread_id = ? ORDER BY id", (thread_id,)
        )
        return [(r["sender"], r["text"]) for r in rows]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:  # a Monday morning in Shanghai
    async with world_on(
        tmp_path,
        [ZHANG, LI, ZHAO, WANG],
        RelayOptions(department="心内科", zone=SHANGHAI, quick_replies=QUICK),
        now=local(23, 10),
        kind=World,
    ) as opened:
        yield opened


async def test_quiet_hours_hold_a_question_until_the_window_opens(world: World) -> None:
    world.clock.now = local(23, 23)
    thread_id = await world.ask("li")
    assert (await world.thread(thread_id))["status"] == "held"
    [(text, at)] = await world.outbox(LI)
    assert "胸闷" in text
    assert at == local(24, 7, 30)
    [li] = [e for e in await world.relay.read.experts_view() if e["id"] == "li"]
    assert (li["accepting"], li["accepting_reason"]) == (False, "quiet")


async def test_the_daily_cap_moves_the_third_question_to_the_next_morning(world: World) -> None:
    first, second, third = [await world.ask("li", f"问题{i}") for i in range(3)]
    times = [at for _, at in await world.outbox(LI)]
    assert times[:2] == [local(23, 10), local(23, 10)]
    assert times[2] == local(24, 7, 30)  # tomorrow, after the quiet window
    assert (await world.thread(third))["status"] == "held"
    [li] = [e for e in await world.relay.read.experts_view() if e["id"] == "li"]
    assert (li["accepting"], li["accepting_reason"]) == (False, "cap")
    assert (await world.thread(first))["status"] == "queued"
    assert (await world.thread(second))["status"] == "queued"


async def test_pause_and_resume(world: World) -> None:
    await world.sms(ZHAO.phone, "暂停 3")
    assert "3" in await world.last(ZHAO)
    thread_id = await world.ask("zhao")
    assert (await world.thread(thread_id))["status"] == "held"
    [zhao] = [e for e in await world.relay.read.experts_view() if e["id"] == "zhao"]
    assert zhao["accepting_reason"] == "paused"
    question_at = [at for text, at in await world.outbox(ZHAO) if "胸闷" in text]
    assert question_at == [local(23, 13)]
    await world.sms(ZHAO.phone, "恢复")
    question_at = [at for text, at in await world.outbox(ZHAO) if "胸闷" in text]
    assert question_at == [local(23, 10)]


async def test_list_and_help(world: World) -> None:
    await world.ask("zhao", "血压一直偏高怎么办")
    await world.ask("zhao", "心率慢")
    await world.sms(ZHAO.phone, "LIST")
    listing = await world.last(ZHAO)
    assert "#1 血压一直偏高怎么办" in listing
    assert "#2 心率慢" in listing
    await world.sms(ZHAO.phone, "帮助")
    assert "暂停" in await world.last(ZHAO)


async def test_the_assistant_gets_questions_first_and_answers_as_the_team(world: World) -> None:
    thread_id = await world.ask("zhang")
    assert await world.outbox(ZHANG) == []
    assert "胸闷" in await world.last(WANG)
    await world.sms(WANG.phone, "先测一下血压，记录下来")
    assert (await world.posts(thread_id))[-1] == ("assistant", "先测一下血压，记录下来")


async def test_the_assistant_escalates_and_the_expert_passes_back(world: World) -> None:
    thread_id = await world.ask("zhang")
    await world.sms(WANG.phone, "升 #1")
    assert (await world.thread(thread_id))["handler_id"] == "zhang"
    assert "助手转来" in await world.last(ZHANG)
    assert "#1" in await world.last(WANG)  # confirmed to the assistant
    await world.sms(ZHANG.phone, "#1 需要做冠脉CTA")
    assert (await world.posts(thread_id))[-1] == ("expert", "需要做冠脉CTA")
    await world.sms(ZHANG.phone, "转 #1")
    assert (await world.thread(thread_id))["handler_id"] == "wang"
    assert "助手" in await world.last(ZHANG)


async def test_an_answered_thread_escalated_still_tells_the_expert_the_question(
    world: World,
) -> None:
    thread_id = await world.ask("zhang", "胸闷气短两天了")
    await world.sms(WANG.phone, "#1 先测一下血压")  # the assistant answers
    await world.sms(WANG.phone, "升 #1")  # then passes it up: nothing is waiting since
    assert (await world.thread(thread_id))["handler_id"] == "zhang"
    assert "胸闷气短两天了" in await world.last(ZHANG)


async def test_transfer_without_an_assistant_says_so(world: World) -> None:
    await world.ask("zhao")
    await world.sms(ZHAO.phone, "转 #1")
    assert "没有设置助手" in await world.last(ZHAO)


async def test_quick_reply_with_and_without_own_words(world: World) -> None:
    first = await world.ask("zhao", "问题一")
    second = await world.ask("zhao", "问题二")
    await world.sms(ZHAO.phone, "#1 T3")
    assert (await world.posts(first))[-1] == ("expert", "请带上检查报告来门诊复查")
    await world.sms(ZHAO.phone, "#2 t3 周三上午来")
    assert (await world.posts(second))[-1] == ("expert", "请带上检查报告来门诊复查\n周三上午来")
    await world.sms(ZHAO.phone, "#2 T9")
    assert "T9" in await world.last(ZHAO)


async def test_reply_confirmation_when_the_expert_wants_it(world: World) -> None:
    await world.ask("li")
    await world.sms(LI.phone, "多休息")
    assert await world.last(LI) == "【心内科】已回复#1。"


async def test_each_new_expert_is_welcomed_once(world: World) -> None:
    assert await world.relay.experts.welcome_new() == 4
    assert await world.relay.experts.welcome_new() == 0
    assert "回复" in (await world.outbox(ZHAO))[0][0]
    [(_, at)] = await world.outbox(LI)
    assert at == local(23, 10)  # not in a quiet window now: at once


async def test_hand_off_moves_every_open_thread_in_one_step(world: World) -> None:
    asked = [await world.ask("zhao", f"问题{i}：最近两周经常胸闷气短，夜间加重") for i in range(3)]
    await world.sms(ZHAO.phone, "#2 按时吃药")  # answered: moves, but no question again
    await world.ask("li", "李医生的问题")  # li's own #1: the moved threads get other codes
    moved = await world.relay.experts.handoff("zhao", "li", actor="admin")
    assert moved == 3
    codes = [(await world.thread(t))["code"] for t in asked]
    assert sorted(codes) == [2, 3, 4]
    assert [(await world.thread(t))["expert_id"] for t in asked] == ["li"] * 3
    listing = await world.last(LI)
    assert "赵强" in listing
    assert all(f"#{c}" in listing for c in codes)
    again = [text for text, _ in await world.outbox(LI) if "提问：问题" in text]
    assert len(again) == 2  # the two unanswered questions, with their new codes, whole
    assert ["最近两周经常胸闷气短，夜间加重" in text for text in again] == [True, True], again
    await world.sms(LI.phone, f"#{codes[0]} 我来回答")
    assert (await world.posts(asked[0]))[-1] == ("expert", "我来回答")
    assert all(e["id"] != "zhao" for e in await world.relay.read.experts_view())
    audit = await world.db.fetchall("SELECT action FROM audit_log WHERE action = 'expert.handoff'")
    assert len(audit) == 1
    with pytest.raises(Conflict):
        await world.relay.experts.handoff("li", "li", actor="admin")


async def test_the_same_text_twice_a_day_goes_once(world: World) -> None:
    await world.sms(ZHAO.phone, "待办")
    await world.sms(ZHAO.phone, "待办")
    assert len(await world.outbox(ZHAO)) == 1
    world.clock.now += timedelta(days=1, minutes=1)
    await world.sms(ZHAO.phone, "待办")
    assert len(await world.outbox(ZHAO)) == 2


async def test_resume_releases_what_the_pause_held_but_not_what_the_cap_holds(
    world: World,
) -> None:
    await world.ask("li", "一")
    await world.ask("li", "二")
    await world.ask("li", "三")  # over the cap of 2: tomorrow morning
    await world.sms(LI.phone, "暂停 1")
    assert [at for _, at in await world.outbox(LI)][:3] == [local(23, 11)] * 2 + [
        local(24, 7, 30)
    ]  # a pause holds what already waits, too
    await world.sms(LI.phone, "恢复")
    times = [at for text, at in await world.outbox(LI) if "提问" in text]
    assert times == [local(23, 10), local(23, 10), local(24, 7, 30)]


async def test_a_handed_off_question_carries_the_follow_ups_too(world: World) -> None:
    asked = await world.relay.asking.ask(
        expert_id="zhao", nickname="小王", text="胸闷", public=True
    )
    await world.relay.patient_page.follow_up(asked.id, asked.token, "补充：今天加重了")
    await world.relay.experts.handoff("zhao", "li", actor="admin")
    [again] = [text for text, _ in await world.outbox(LI) if "提问" in text]
    assert "胸闷" in again
    assert "补充：今天加重了" in again


async def test_an_old_open_thread_keeps_its_code(world: World) -> None:
    first = await world.ask("zhao", "老问题")
    world.clock.now += timedelta(days=91)
    second = await world.ask("zhao", "新问题")
    assert (await world.thread(first))["code"] == 1
    assert (await world.thread(second))["code"] == 2


async def test_an_assistants_answer_refreshes_the_boards_median_at_once(world: World) -> None:
    """The board's median counts an assistant's answer (policy.is_answer), so posting one
    makes the cached median stale, as an expert's does."""
    await world.ask("zhang")
    [zhang] = [e for e in await world.relay.read.experts_view() if e["id"] == "zhang"]
    assert zhang["median_first_answer_s"] is None  # (worked out now, kept a few minutes)
    world.clock.now += timedelta(minutes=1)
    await world.sms(WANG.phone, "先测一下血压")
    [zhang] = [e for e in await world.relay.read.experts_view() if e["id"] == "zhang"]
    assert zhang["median_first_answer_s"] == 60.0


async def test_an_expert_who_left_is_asked_nothing_though_still_marked_active(
    world: World,
) -> None:
    """Present is active and not left (policy.is_present), both, whoever set which column."""
    async with world.db.transaction() as conn:
        await conn.execute(
            "UPDATE experts SET left_at = ? WHERE id = 'zhao'", (local(22, 10).isoformat(),)
        )
    with pytest.raises(NotFound):
        await world.ask("zhao")
    assert await world.outbox(ZHAO) == []


async def test_no_hand_off_to_a_colleague_an_admin_deactivated(world: World) -> None:
    """A colleague takes threads over only while present (policy.takes_handoff): an admin's
    clearing ``active`` alone is enough to refuse, and nothing moves."""
    thread_id = await world.ask("zhao")
    async with world.db.transaction() as conn:
        await conn.execute("UPDATE experts SET active = 0 WHERE id = 'li'")
    with pytest.raises(Conflict):
        await world.relay.experts.handoff("zhao", "li", actor="admin")
    assert (await world.thread(thread_id))["expert_id"] == "zhao"
