"""A long SMS that lost a part: posted, marked, after a short timeout; completed by a late part.

The relay runs on a real SQLite file with a clock moved by hand; SMS come in as the PDUs a
modem hands over (built by the simulator's own encoder), part by part, so that a test can lose
one and deliver it later. The last test runs the whole daemon with its simulated modem, whose
network loses part 2 (``drop``) and delivers it later (``ref``), and an admin's dashboard.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from smscat.hwsim import pdu as simpdu
from smscat.modem import pdu
from smscat.modem.inbox import StoredPart
from smscat.relay.core.texts import render
from smscat.relay.daemon.app import relay_options
from smscat.relay.daemon.config_file import ConfigError, load_config
from smscat.relay.services.context import RelayOptions
from smscat.relay.services.relay import Relay
from smscat.storage.db import Database, ExpertRow
from smscat.web.texts import render as web_render
from tests.support.admin import ADMINS, Browser
from tests.support.daemon import EXPERT_ZHANG, PATIENT, TIMEOUT, daemon, settled
from tests.support.relay import Clock, world_on

ZHANG = ExpertRow("zhang", "张明", "主任医师", "心血管内科", EXPERT_ZHANG, "高血压")
UCS2_PART = 67  # characters of a Chinese text in each part of a long SMS
# three parts: 67 + 67 + 20 characters, each part's text known
ANSWER = (
    ("第一段：" + "低盐饮食，" * 13)[:UCS2_PART]
    + ("第二段：" + "规律作息，" * 13)[:UCS2_PART]
    + "第三段：一个月后门诊复查血压和血脂。"
)
PIECES = [ANSWER[i : i + UCS2_PART] for i in range(0, len(ANSWER), UCS2_PART)]
MARK = render("missing_part")
WITHOUT_2 = PIECES[0] + MARK + PIECES[2]


def test_the_answer_is_three_parts() -> None:
    assert len(PIECES) == 3
    assert len(simpdu.deliver_parts(ZHANG.phone, ANSWER, datetime.now(UTC), 1)) == 3


@dataclass
class World:
    relay: Relay
    db: Database
    clock: Clock

    def parts(self, sender: str, text: str, ref: int) -> dict[int, StoredPart]:
        """The parts of ``sender``'s SMS by number, as the modem would hand each over."""
        out = {}
        for tpdu in simpdu.deliver_parts(sender, text, self.clock.now, ref):
            pdu_hex = (simpdu.encode_smsc(None) + tpdu).hex().upper()
            deliver = pdu.decode_deliver(pdu_hex)
            out[deliver.concat.seq if deliver.concat else 1] = StoredPart(None, deliver, pdu_hex)
        return out

    async def deliver(self, parts: dict[int, StoredPart], *seqs: int) -> int:
        for seq in seqs:
            await self.relay.inbound.store_part("m1", parts[seq])
        return await self.relay.inbound.process_inbound()

    async def ask(self, text: str = "头晕怎么办？", *, phone: bool = True) -> int:
        extra: dict[str, Any] = {}
        if phone:
            verification_id = await self.relay.asking.start_verification(PATIENT)
            (row,) = await self.db.fetchall(
                "SELECT text FROM outbox WHERE recipient = ? ORDER BY id DESC LIMIT 1", (PATIENT,)
            )
            code = re.findall(r"\d{6}", row["text"])[0]
            extra = {"phone": PATIENT, "verification_id": verification_id, "code": code}
        asked = await self.relay.asking.ask(
            expert_id="zhang", nickname="小王", text=text, public=True, **extra
        )
        return asked.id

    async def messages(self, thread_id: int) -> list[tuple[str, str]]:
        rows = await self.db.fetchall(
            "SELECT sender, text FROM messages WHERE thread_id = ? ORDER BY id", (thread_id,)
        )
        return [(r["sender"], r["text"]) for r in rows]

    async def sms_to(self, recipient: str, *statuses: str) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            "SELECT id, kind, text, status FROM outbox WHERE recipient = ? AND kind != 'notice'"
            " AND kind != 'verification' ORDER BY id",
            (recipient,),
        )
        return [dict(r) for r in rows if not statuses or r["status"] in statuses]

    async def inbound(self) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            "SELECT id, outcome, thread_id, text, complete, missing, completed_at FROM inbound"
            " ORDER BY id"
        )
        return [dict(r) for r in rows]

    async def audit(self, action: str) -> list[dict[str, Any]]:
        rows = await self.db.fetchall(
            "SELECT subject, detail FROM audit_log WHERE action = ? ORDER BY id", (action,)
        )
        return [{"subject": r["subject"], **json.loads(r["detail"])} for r in rows]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with world_on(tmp_path, [ZHANG], kind=World) as opened:
        yield opened


# -- the timeout ---------------------------------------------------------------------------------


async def test_after_half_an_hour_what_arrived_is_posted_and_forwarded_with_the_marker(
    world: World,
) -> None:
    assert RelayOptions(department="x").reassembly_timeout <= timedelta(minutes=30)
    thread_id = await world.ask()
    parts = world.parts(ZHANG.phone, ANSWER, 41)
    assert await world.deliver(parts, 1, 3) == 0  # part 2 is lost on the way
    world.clock.now += timedelta(minutes=29)
    assert await world.relay.inbound.process_inbound() == 0
    assert await world.messages(thread_id) == [("patient", "头晕怎么办？")]
    world.clock.now += timedelta(minutes=1)
    assert await world.relay.inbound.process_inbound() == 1
    # the marker stands where part 2 would be, in words the patient reads
    assert await world.messages(thread_id) == [("patient", "头晕怎么办？"), ("expert", WITHOUT_2)]
    [sms] = await world.sms_to(PATIENT)
    assert WITHOUT_2 in sms["text"]
    assert sms["text"].startswith("【心内科】张明医生回复#1：")
    [inbound] = await world.inbound()
    assert (inbound["complete"], json.loads(inbound["missing"])) == (0, [2])


def test_the_timeout_is_configured_in_minutes_and_refused_clearly(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("relay: {reassembly_timeout_minutes: 5}\n", encoding="utf-8")
    assert relay_options(load_config(config)).reassembly_timeout == timedelta(minutes=5)
    config.write_text("relay: {}\n", encoding="utf-8")
    assert relay_options(load_config(config)).reassembly_timeout == timedelta(minutes=30)
    for wrong in ("0", "-3", "2000"):
        config.write_text(f"relay: {{reassembly_timeout_minutes: {wrong}}}\n", encoding="utf-8")
        with pytest.raises(ConfigError) as raised:
            load_config(config)
        [(where, why)] = raised.value.problems
        assert where == "relay.reassembly_timeout_minutes"
        assert "at most 1440" in why
        assert "above 0" in why


# -- a late part ---------------------------------------------------------------------------------


async def _posted_without_part_2(world: World, ref: int = 42) -> tuple[int, dict[int, StoredPart]]:
    thread_id = await world.ask()
    parts = world.parts(ZHANG.phone, ANSWER, ref)
    await world.deliver(parts, 1, 3)
    world.clock.now += timedelta(minutes=30)
    assert await world.relay.inbound.process_inbound() == 1
    return thread_id, parts


async def test_a_late_part_completes_the_answer_and_a_queued_sms_goes_whole_instead(
    world: World,
) -> None:
    thread_id, parts = await _posted_without_part_2(world)
    world.clock.now += timedelta(hours=5)  # the network kept part 2 for hours
    assert await world.deliver(parts, 2) == 1
    # one answer on the thread, the whole text: not a second, partial message
    assert await world.messages(thread_id) == [("patient", "头晕怎么办？"), ("expert", ANSWER)]
    [inbound] = await world.inbound()
    assert (inbound["text"], inbound["complete"], inbound["missing"]) == (ANSWER, 1, None)
    assert inbound["completed_at"] is not None
    # the marked SMS had not gone (no pump runs here): it never will, the whole text goes
    marked, whole = await world.sms_to(PATIENT)
    assert (marked["status"], whole["status"]) == ("cancelled", "queued")
    assert ANSWER in whole["text"]
    assert render("complete_version", text="") not in whole["text"]
    [audit] = await world.audit("inbound.completed")
    assert audit == {
        "subject": str(inbound["id"]),
        "thread": thread_id,
        "parts": 1,
        "missing": [],
        "forwarded": "replaced",
    }
    assert await world.relay.inbound.process_inbound() == 0  # nothing left over
    assert len(await world.sms_to(PATIENT, "queued")) == 1


async def test_a_late_part_after_the_marked_sms_went_sends_the_complete_version_once(
    world: World,
) -> None:
    thread_id, parts = await _posted_without_part_2(world)
    [marked] = await world.sms_to(PATIENT)
    await world.relay.delivery.sent(int(marked["id"]), "m1")  # the patient has the marked text
    world.clock.now += timedelta(days=2)
    assert await world.deliver(parts, 2) == 1
    assert await world.messages(thread_id) == [("patient", "头晕怎么办？"), ("expert", ANSWER)]
    sent, again = await world.sms_to(PATIENT)
    assert (sent["status"], again["status"]) == ("sent", "queued")
    assert render("complete_version", text=ANSWER) in again["text"]
    [audit] = await world.audit("inbound.completed")
    assert audit["forwarded"] == "sent_again"
    # the same part read again (another SIM index) changes nothing more
    await world.relay.inbound.store_part("m1", StoredPart(7, parts[2].deliver, parts[2].pdu_hex))
    assert await world.relay.inbound.process_inbound() == 0
    assert len(await world.sms_to(PATIENT)) == 2


async def test_a_patients_follow_up_that_lost_a_part_is_completed_for_the_expert(
    world: World,
) -> None:
    thread_id = await world.ask()
    await world.deliver(world.parts(ZHANG.phone, "先量一周血压。", 1), 1)
    follow_up = ANSWER.replace("第", "问")
    parts = world.parts(PATIENT, follow_up, 9)
    await world.deliver(parts, 2, 3)  # part 1 lost
    world.clock.now += timedelta(minutes=30)
    assert await world.relay.inbound.process_inbound() == 1
    marked = MARK + follow_up[UCS2_PART:]
    assert (await world.messages(thread_id))[-1] == ("patient", marked)
    [question, to_expert] = await world.sms_to(ZHANG.phone)
    assert marked in to_expert["text"]
    await world.relay.delivery.sent(int(question["id"]), "m1")
    await world.relay.delivery.sent(int(to_expert["id"]), "m1")
    assert await world.deliver(parts, 1) == 1
    assert await world.messages(thread_id) == [
        ("patient", "头晕怎么办？"),
        ("expert", "先量一周血压。"),
        ("patient", follow_up),
    ]
    again = (await world.sms_to(ZHANG.phone))[-1]
    assert render("complete_version", text=follow_up) in again["text"]
    assert again["text"].startswith("【心内科】#1 患者「小王」追问：")


async def test_an_unmatched_reply_completed_by_its_late_first_part_finds_its_thread(
    world: World,
) -> None:
    first = await world.ask("问题一", phone=False)
    second = await world.ask("问题二", phone=False)
    reply = f"#{2} {ANSWER}"
    parts = world.parts(ZHANG.phone, reply, 50)
    await world.deliver(parts, 2, 3)  # the code was in part 1: lost
    world.clock.now += timedelta(minutes=30)
    assert await world.relay.inbound.process_inbound() == 1
    [inbound] = await world.inbound()
    assert (inbound["outcome"], inbound["thread_id"]) == ("unmatched", None)
    assert await world.deliver(parts, 1) == 1
    [inbound] = await world.inbound()
    assert (inbound["outcome"], inbound["thread_id"], inbound["complete"]) == ("reply", second, 1)
    assert await world.messages(second) == [("patient", "问题二"), ("expert", ANSWER)]
    assert await world.messages(first) == [("patient", "问题一")]


async def test_a_part_too_late_or_of_another_message_does_not_join(world: World) -> None:
    thread_id, parts = await _posted_without_part_2(world)
    other = world.parts(ZHANG.phone, ANSWER, 43)  # the same text, another reference
    assert await world.deliver(other, 2) == 0  # waits for parts of its own
    world.clock.now += timedelta(days=3, minutes=1)  # and the window for late parts ends
    await world.deliver(parts, 2)
    [first, *_] = await world.inbound()
    assert (first["complete"], first["text"]) == (0, WITHOUT_2)
    assert (await world.messages(thread_id))[1] == ("expert", WITHOUT_2)
    assert await world.audit("inbound.completed") == []


# -- the whole daemon ----------------------------------------------------------------------------


async def _until(check: Any, seconds: float = 15.0) -> Any:
    async with asyncio.timeout(seconds):
        while not (found := await check()):  # noqa: ASYNC110
            await asyncio.sleep(0.1)  # polling the database and the API, as a person would
    return found


async def test_a_lost_part_through_the_daemon_posted_marked_seen_by_admins_then_completed(
    tmp_path: Path,
) -> None:
    five_minutes = {"reassembly_timeout_minutes": 5}
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        daemon(tmp_path, admins=ADMINS, relay=five_minutes) as (running, client),
        aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=jar) as http,
    ):
        relay, db = running.relay, running.relay.db
        await settled(running)
        verification_id, code = await client.verify(PATIENT)
        status, asked = await client.call(
            "POST", "/api/questions", expert_id="zhang", nickname="小王", text="头晕怎么办？",
            public=False, phone=PATIENT, verification_id=verification_id, code=code,
        )  # fmt: skip
        assert status == 201, asked
        await client.wait_for_sms(EXPERT_ZHANG, lambda t: "头晕怎么办" in t)

        sent = await client.simulator("/sms", {"from": EXPERT_ZHANG, "text": ANSWER, "drop": [2]})
        assert sent["parts"] == 3

        async def stored() -> bool:
            rows = await db.fetchall("SELECT 1 FROM inbound_parts WHERE inbound_id IS NULL")
            return len(rows) == 2

        await _until(stored)
        assert await relay.inbound.process_inbound() == 0  # within the 5 minutes: it waits
        later = datetime.now(UTC) + timedelta(minutes=6)
        relay.clock = lambda: later
        await relay.inbound.process_inbound()

        view = await client.thread(asked["id"], asked["token"])
        assert [(m["from"], m["text"]) for m in view["messages"]][1:] == [("expert", WITHOUT_2)]
        await client.wait_for_sms(PATIENT, lambda t: WITHOUT_2 in t)

        admin = Browser(http, running.url)
        assert (await admin.login())[0] == 303
        body, _ = await admin.dashboard()
        section = re.search(r'<section id="incomplete"(.*?)</section>', body, re.S)
        assert section, body
        assert "•••• 8001" in section.group(1)
        assert web_render("admin.incomplete_parts", got=2, total=3, missing="2") in section.group(1)
        assert f"{web_render('admin.thread_id')} {asked['id']}" in section.group(1)
        assert EXPERT_ZHANG[1:] not in body
        assert PATIENT[1:] not in body

        # the network delivers part 2 at last
        await client.simulator(
            "/sms", {"from": EXPERT_ZHANG, "text": ANSWER, "ref": sent["ref"], "drop": [1, 3]}
        )

        async def whole() -> dict[str, Any] | None:
            view = await client.thread(asked["id"], asked["token"])
            return view if view["messages"][-1]["text"] == ANSWER else None

        view = await _until(whole)
        assert [(m["from"], m["text"]) for m in view["messages"]] == [
            ("patient", "头晕怎么办？"),
            ("expert", ANSWER),
        ]  # one answer, whole
        complete = render("complete_version", text=ANSWER)
        await client.wait_for_sms(PATIENT, lambda t: complete in t)
        answers = [t for t in await client.received_by(PATIENT) if "医生回复" in t]
        assert len(answers) == 2  # the marked one, then the complete version, once
        body, _ = await admin.dashboard()
        assert web_render("admin.incomplete_none", days=30) in body
        [entry] = await db.fetchall(
            "SELECT detail FROM audit_log WHERE action = 'inbound.completed'"
        )
        assert json.loads(entry["detail"])["forwarded"] == "sent_again"
