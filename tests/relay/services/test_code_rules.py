"""Codes only where they belong: which numbers the relay sends an SMS code to, and what it says
to the others (issue 14).

A mainland mobile by default (``code_countries``), never a landline, never a number that sent
STOP until it texts 开通/START, never an expert's, an assistant's or an admin's number. The relay
runs on a real SQLite file; what it decides to send is read from its outbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from smscat.relay.core.errors import Conflict, Forbidden, Invalid, RelayError
from smscat.relay.core.texts import render
from smscat.relay.services.context import RelayOptions
from smscat.relay.services.relay import Relay
from smscat.storage.db import ExpertRow
from smscat.web.texts import render as web_render
from tests.support import relay as support
from tests.support.relay import world_on

ZHANG = ExpertRow("zhang", "张明", "主任医师", "心血管内科", "+8613800138001", "高血压")
HELPER = ExpertRow("wang", "王芳", "护士", "心血管内科", "+8613800138003", None, role="assistant")
ADMIN = "+8613800138099"  # alerts.phones
PATIENT = "+8613912345678"
STRANGER = "+8613711112222"


@dataclass
class World(support.World):
    async def outbox(self, recipient: str) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT text FROM outbox WHERE recipient = ? AND status != 'cancelled' ORDER BY id",
            (recipient,),
        )
        return [str(r["text"]) for r in rows]

    async def code_for(self, number: str) -> tuple[str, str]:
        """(verification id, the code read back from the SMS the relay queued)."""
        verification_id = await self.relay.asking.start_verification(number)
        text = (await self.outbox(number))[-1]
        digits = "".join(c if c.isdigit() else " " for c in text).split()
        return verification_id, next(d for d in digits if len(d) == 6)

    async def ask_with(self, number: str, verification_id: str, code: str) -> int:
        asked = await self.relay.asking.ask(
            expert_id="zhang", nickname="小王", text="头晕怎么办？", public=False,
            phone=number, verification_id=verification_id, code=code,
        )  # fmt: skip
        return asked.id

    def with_options(self, **changes: Any) -> None:
        self.relay = Relay(self.db, replace(self.relay.options, **changes), clock=self.clock)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with world_on(
        tmp_path,
        [ZHANG, HELPER],
        RelayOptions(department="心内科", admin_phones=frozenset({ADMIN})),
        kind=World,
    ) as opened:
        yield opened


async def refused(world: World, number: str, error: type[RelayError] = Invalid) -> str:
    """Ask for a code for ``number``: refused with ``error``; nothing queued; the reason's key."""
    before = await world.db.fetchall("SELECT id FROM outbox")
    with pytest.raises(error) as raised:
        await world.relay.asking.start_verification(number)
    assert await world.db.fetchall("SELECT id FROM outbox") == before
    assert raised.value.field == "phone"
    return str(raised.value.key)


@pytest.mark.parametrize(
    "number", ["+12025550123", "+447911123456", "+2348031234567", "+85291234567"]
)
async def test_a_foreign_number_gets_no_code(world: World, number: str) -> None:
    assert await refused(world, number) == "phone_country"
    # and it leaves nothing behind: no phones row for a number we never text
    assert await world.db.fetchall("SELECT id FROM phones") == []


@pytest.mark.parametrize("number", ["+861012345678", "010-1234 5678", "02112345678"])
async def test_a_landline_gets_no_code(world: World, number: str) -> None:
    assert await refused(world, number) == "phone_not_mobile"


async def test_the_countries_that_get_codes_are_configurable(world: World) -> None:
    world.with_options(code_countries=frozenset({"86", "44"}))
    await world.relay.asking.start_verification("+447911123456")
    assert len(await world.outbox("+447911123456")) == 1
    assert await refused(world, "+442079460000") == "phone_not_mobile"  # a London landline
    assert await refused(world, "+12025550123") == "phone_country"
    world.with_options(code_countries=frozenset({"44"}))
    assert await refused(world, PATIENT) == "phone_country"  # even +86, when not listed


@pytest.mark.parametrize("number", [ZHANG.phone, HELPER.phone, ADMIN])
async def test_staff_numbers_get_nothing_and_nobody_learns_why(world: World, number: str) -> None:
    verification_id = await world.relay.asking.start_verification(number)
    ordinary = await world.relay.asking.start_verification(STRANGER)
    assert len(verification_id) == len(ordinary)  # the same answer as for anyone
    assert await world.outbox(number) == []
    audit = await world.db.fetchall(
        "SELECT action FROM audit_log WHERE action LIKE 'verification.%'"
    )
    assert [r["action"] for r in audit] == ["verification.withheld"]
    # a guess at the code that never went is a wrong code, like any wrong code
    for guess in ("000000", "123456"):
        with pytest.raises(Forbidden) as raised:
            await world.ask_with(number, verification_id, guess)
        assert raised.value.key == "code_wrong"


async def test_stop_means_no_code_until_start(world: World) -> None:
    await world.ask_with(PATIENT, *await world.code_for(PATIENT))
    pending = await world.code_for(PATIENT)  # asked for before the STOP
    await world.sms(PATIENT, "TD")
    assert (await world.outbox(PATIENT))[-1] == render("stop_confirmed", dept="心内科")
    assert await refused(world, PATIENT, Conflict) == "phone_stopped"
    assert "开通" in web_render("error.phone_stopped")  # the board says how to come back
    assert "START" in web_render("error.phone_stopped", "en")
    with pytest.raises(Conflict):  # a code from before the STOP does not undo it either
        await world.ask_with(PATIENT, *pending)

    await world.sms(PATIENT, "开通")
    assert (await world.outbox(PATIENT))[-1] == render("start_confirmed", dept="心内科")
    await world.sms(PATIENT, "START")  # again: already on, nothing more is said
    assert (await world.outbox(PATIENT))[-1] == render("start_confirmed", dept="心内科")
    await world.ask_with(PATIENT, *await world.code_for(PATIENT))


async def test_a_number_that_only_got_codes_can_stop_them(world: World) -> None:
    await world.relay.asking.start_verification(STRANGER)  # someone typed a stranger's number
    await world.sms(STRANGER, "退订")
    assert (await world.outbox(STRANGER))[-1] == render("stop_confirmed", dept="心内科")
    assert await refused(world, STRANGER, Conflict) == "phone_stopped"
    await world.sms(STRANGER, "你们是谁")  # anything else from it is still no patient's
    inbound = await world.db.fetchall("SELECT outcome FROM inbound ORDER BY id")
    assert [r["outcome"] for r in inbound] == ["command", "unknown_sender"]


async def test_answers_follow_the_same_rules(world: World) -> None:
    """One function says who may be texted: a staff number that became a patient's before it
    was staff gets no answer by SMS (the thread page still shows it)."""
    world.with_options(admin_phones=frozenset())
    thread_id = await world.ask_with(ADMIN, *await world.code_for(ADMIN))
    world.with_options(admin_phones=frozenset({ADMIN}))
    await world.sms(ZHANG.phone, "多喝水")
    assert not any("多喝水" in t for t in await world.outbox(ADMIN))
    rows = await world.db.fetchall("SELECT sender FROM messages WHERE thread_id = ?", (thread_id,))
    assert [r["sender"] for r in rows] == ["patient", "expert"]
