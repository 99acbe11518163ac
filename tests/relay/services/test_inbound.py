"""Who an inbound SMS is from and what it means: correlation, commands, and verification rules.

The relay runs on a real SQLite file; SMS come in as the PDUs a modem would hand over (built by
the simulator's own encoder), and what the relay decides to send is read from its outbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from smscat.relay.core.errors import Forbidden, Invalid, TooMany
from smscat.relay.core.texts import render
from smscat.relay.services.relay import Relay
from smscat.storage.db import Database, ExpertRow
from tests.support.relay import Clock, received, world_on

ZHANG = ExpertRow("zhang", "张明", "主任医师", "心血管内科", "+8613800138001", "高血压")
LI = ExpertRow("li", "李华", "副主任医师", "心血管内科", "+8613800138002", None)
PATIENT = "+8613912345678"
STRANGER = "+8613711112222"


@dataclass
class World:
    relay: Relay
    db: Database
    clock: Clock
    refs: int = 0

    async def sms(self, sender: str, text: str) -> int:
        """``sender`` texts the hospital's SIM; the parts are stored and routed."""
        self.refs += 1
        for part in received(sender, text, self.clock.now.astimezone(UTC), self.refs):
            await self.relay.inbound.store_part("m1", part)
        return await self.relay.inbound.process_inbound()

    async def outbox(self, recipient: str) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT text FROM outbox WHERE recipient = ? AND status != 'cancelled' ORDER BY id",
            (recipient,),
        )
        return [r["text"] for r in rows]

    async def inbound(self) -> list[dict[str, Any]]:
        rows = await self.db.fetchall("SELECT outcome, thread_id, text FROM inbound ORDER BY id")
        return [dict(r) for r in rows]

    async def messages(self, thread_id: int) -> list[tuple[str, str]]:
        rows = await self.db.fetchall(
            "SELECT sender, text FROM messages WHERE thread_id = ? ORDER BY id", (thread_id,)
        )
        return [(r["sender"], r["text"]) for r in rows]

    async def status(self, thread_id: int) -> str:
        (row,) = await self.db.fetchall("SELECT status FROM threads WHERE id = ?", (thread_id,))
        return str(row["status"])

    async def verified_phone(self, number: str = PATIENT) -> tuple[str, str]:
        """(verification id, code) — the code read back from the SMS the relay queued."""
        verification_id = await self.relay.asking.start_verification(number)
        text = (await self.outbox(number))[-1]
        code = next(word for word in _digit_runs(text) if len(word) == 6)
        return verification_id, code

    async def ask(
        self, text: str = "头晕怎么办？", *, phone: bool = False, expert: str = "zhang"
    ) -> int:
        extra: dict[str, Any] = {}
        if phone:
            verification_id, code = await self.verified_phone()
            extra = {"phone": PATIENT, "verification_id": verification_id, "code": code}
        asked = await self.relay.asking.ask(
            expert_id=expert, nickname="小王", text=text, public=True, **extra
        )
        return asked.id


def _digit_runs(text: str) -> list[str]:
    runs, current = [], ""
    for ch in text:
        if ch.isdigit():
            current += ch
        elif current:
            runs.append(current)
            current = ""
    return [*runs, current] if current else runs


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with world_on(tmp_path, [ZHANG, LI], kind=World) as opened:
        yield opened


async def test_a_reply_with_a_code_answers_that_thread(world: World) -> None:
    first, second = await world.ask("问题一"), await world.ask("问题二")
    await world.sms(ZHANG.phone, "#2 答复二")
    assert await world.messages(second) == [("patient", "问题二"), ("expert", "答复二")]
    assert await world.status(second) == "answered"
    assert await world.messages(first) == [("patient", "问题一")]


async def test_a_full_width_code_is_the_same_code(world: World) -> None:
    await world.ask("问题一")
    second = await world.ask("问题二")
    await world.sms(ZHANG.phone, "＃２　好的，按时吃药。")
    assert await world.messages(second) == [("patient", "问题二"), ("expert", "好的，按时吃药。")]


async def test_no_code_answers_the_only_open_thread(world: World) -> None:
    await world.ask("问题一", expert="li")  # another expert's thread does not count
    only = await world.ask("问题二")
    await world.sms(ZHANG.phone, "多喝水，注意休息")
    assert await world.messages(only) == [("patient", "问题二"), ("expert", "多喝水，注意休息")]


async def test_no_code_with_three_open_threads_is_held_and_the_expert_gets_the_list(
    world: World,
) -> None:
    threads = [await world.ask(f"问题{i}") for i in range(3)]
    before = len(await world.outbox(ZHANG.phone))
    await world.sms(ZHANG.phone, "可以")
    for thread_id in threads:
        assert [s for s, _ in await world.messages(thread_id)] == ["patient"]
    [listing] = (await world.outbox(ZHANG.phone))[before:]
    assert all(code in listing for code in ("#1", "#2", "#3"))
    assert (await world.inbound())[-1] == {
        "outcome": "unmatched",
        "thread_id": None,
        "text": "可以",
    }


async def test_a_multipart_reply_is_one_answer(world: World) -> None:
    thread_id = await world.ask()
    long_answer = "请注意：" + "低盐饮食，规律作息，每天监测血压并记录。" * 12
    await world.sms(ZHANG.phone, long_answer)
    assert await world.messages(thread_id) == [("patient", "头晕怎么办？"), ("expert", long_answer)]
    assert len(await world.inbound()) == 1


async def test_the_same_sms_read_twice_is_posted_once(world: World) -> None:
    thread_id = await world.ask()
    [part] = received(ZHANG.phone, "一次就好", world.clock.now, 1)
    for _ in range(2):  # a sweep after the consumer stored it, before the delete went through
        await world.relay.inbound.store_part("m1", replace(part, index=3))
        await world.relay.inbound.process_inbound()
    assert await world.messages(thread_id) == [("patient", "头晕怎么办？"), ("expert", "一次就好")]


async def test_an_unknown_sender_is_never_posted(world: World) -> None:
    thread_id = await world.ask()
    await world.sms(STRANGER, "#1 我也想问")
    assert await world.messages(thread_id) == [("patient", "头晕怎么办？")]
    assert (await world.inbound())[-1]["outcome"] == "unknown_sender"
    assert await world.outbox(STRANGER) == []


async def test_a_service_short_code_is_kept_for_admins_and_never_answered(world: World) -> None:
    await world.sms("10086", "尊敬的客户，您的话费余额不足10元，请及时充值。")
    assert (await world.inbound())[-1]["outcome"] == "short_code"
    assert await world.outbox("10086") == []


async def test_advice_that_starts_like_a_command_is_a_reply(world: World) -> None:
    thread_id = await world.ask()
    await world.sms(ZHANG.phone, "暂停服用阿司匹林两周")
    assert await world.messages(thread_id) == [
        ("patient", "头晕怎么办？"),
        ("expert", "暂停服用阿司匹林两周"),
    ]
    (row,) = await world.db.fetchall("SELECT paused_until FROM experts WHERE id = 'zhang'")
    assert row["paused_until"] is None


async def test_pause_holds_new_questions_and_resume_releases_them(world: World) -> None:
    await world.sms(ZHANG.phone, "暂停 2")
    thread_id = await world.ask()
    assert await world.status(thread_id) == "held"
    (row,) = await world.db.fetchall(
        "SELECT next_attempt_at FROM outbox WHERE thread_id = ?", (thread_id,)
    )
    assert datetime.fromisoformat(row["next_attempt_at"]) == world.clock.now + timedelta(hours=2)
    await world.sms(ZHANG.phone, "恢复")
    (row,) = await world.db.fetchall(
        "SELECT next_attempt_at FROM outbox WHERE thread_id = ?", (thread_id,)
    )
    assert datetime.fromisoformat(row["next_attempt_at"]) == world.clock.now


async def test_list_answers_with_the_open_codes(world: World) -> None:
    await world.ask("问题一")
    await world.ask("问题二")
    await world.sms(ZHANG.phone, "待办")
    listing = (await world.outbox(ZHANG.phone))[-1]
    assert "#1" in listing
    assert "#2" in listing


async def test_the_patient_reply_becomes_a_follow_up_for_the_expert(world: World) -> None:
    thread_id = await world.ask(phone=True)
    await world.sms(ZHANG.phone, "先量一周血压")
    await world.sms(PATIENT, "好的，量完再找您")
    assert (await world.messages(thread_id))[-1] == ("patient", "好的，量完再找您")
    assert "好的，量完再找您" in (await world.outbox(ZHANG.phone))[-1]
    assert await world.status(thread_id) == "queued"


async def test_stop_stops_every_sms_and_is_confirmed_once(world: World) -> None:
    thread_id = await world.ask(phone=True)
    await world.sms(PATIENT, "TD")
    await world.sms(PATIENT, "退订")
    texts = await world.outbox(PATIENT)
    assert sum("退订" in t for t in texts) == 1  # the confirmation, once
    before = len(texts)
    await world.sms(ZHANG.phone, "按时服药")  # answered on the page, not by SMS
    assert (await world.messages(thread_id))[-1] == ("expert", "按时服药")
    assert len(await world.outbox(PATIENT)) == before


async def test_a_reply_to_a_closed_thread_is_unmatched(world: World) -> None:
    thread_id = await world.ask()
    await world.sms(ZHANG.phone, "多休息")
    world.clock.now += timedelta(days=8)
    assert await world.relay.threads.close_due() == 1
    assert await world.status(thread_id) == "closed"
    await world.sms(ZHANG.phone, "#1 补充一句")
    assert (await world.inbound())[-1]["outcome"] == "unmatched"


async def test_a_verification_code_expires(world: World) -> None:
    verification_id, code = await world.verified_phone()
    world.clock.now += timedelta(minutes=11)
    with pytest.raises(Invalid) as raised:
        await world.relay.asking.ask(
            expert_id="zhang",
            nickname="小王",
            text="问题",
            public=False,
            phone=PATIENT,
            verification_id=verification_id,
            code=code,
        )
    assert raised.value.field == "code"


async def test_wrong_codes_are_counted_and_limited(world: World) -> None:
    verification_id, code = await world.verified_phone()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        with pytest.raises(Forbidden):
            await world.relay.asking.ask(
                expert_id="zhang",
                nickname="小王",
                text="问题",
                public=False,
                phone=PATIENT,
                verification_id=verification_id,
                code=wrong,
            )
    with pytest.raises(TooMany):  # even the right code: the verification is spent
        await world.relay.asking.ask(
            expert_id="zhang",
            nickname="小王",
            text="问题",
            public=False,
            phone=PATIENT,
            verification_id=verification_id,
            code=code,
        )


async def test_codes_per_phone_and_hour_are_limited(world: World) -> None:
    for _ in range(5):
        await world.relay.asking.start_verification(PATIENT)
    with pytest.raises(TooMany):
        await world.relay.asking.start_verification(PATIENT)
    world.clock.now += timedelta(hours=1, minutes=1)
    await world.relay.asking.start_verification(PATIENT)


async def test_parts_stored_before_a_restart_complete_after_it(world: World) -> None:
    thread_id = await world.ask()
    answer = "分三条发：" + "饭后服药，避免空腹，" * 15
    parts = received(ZHANG.phone, answer, world.clock.now, 77)
    assert len(parts) >= 3
    for part in parts[:-1]:
        await world.relay.inbound.store_part("m1", part)
    assert await world.relay.inbound.process_inbound() == 0  # incomplete: waits, stored
    # a new daemon on the same database: the stored parts are the reassembly state
    restarted = Relay(world.db, world.relay.options, clock=world.clock)
    await restarted.inbound.store_part("m1", parts[-1])
    assert await restarted.inbound.process_inbound() == 1
    assert await world.messages(thread_id) == [("patient", "头晕怎么办？"), ("expert", answer)]


async def test_a_message_missing_a_part_comes_out_marked_after_the_timeout(world: World) -> None:
    thread_id = await world.ask()
    answer = "缺一条：" + "多喝温水，" * 40
    for part in received(ZHANG.phone, answer, world.clock.now, 78)[:-1]:
        await world.relay.inbound.store_part("m1", part)  # the network never delivers the last part
    assert await world.relay.inbound.process_inbound() == 0
    world.clock.now += timedelta(minutes=30)  # the default timeout: half an hour, not a day
    assert await world.relay.inbound.process_inbound() == 1
    [(sender, text)] = (await world.messages(thread_id))[1:]
    assert sender == "expert"
    # the missing part is marked in words people read, never silently dropped
    assert text.endswith(render("missing_part"))
