"""Every SMS goes through one enqueue (``Sender.enqueue``): it wakes the pump after the commit,
applies the duplicate guard, and asks the one "may this phone be texted" rule.

Issue 15: the weekly digest wrote to the outbox by itself, and the alerter queued its SMS
without waking the pump (they waited up to the pump's 30 s idle look).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from smscat.relay.core.retry import OutboxKind
from smscat.relay.daemon.app import running_daemon
from smscat.relay.daemon.config import Settings
from smscat.relay.services.care import EnrolRequest
from smscat.relay.services.care_record import DEFAULT_PLAN, CareConfig
from smscat.relay.services.context import RelayOptions
from smscat.relay.services.relay import Relay
from smscat.storage import outbox as outbox_db
from smscat.storage import phones as phones_db
from smscat.storage.db import Database, ExpertRow, iso
from tests.support.daemon import Client, settings, settled

ADMIN = "+8613700009999"


async def test_an_alert_sms_leaves_within_a_second_of_the_check(tmp_path: Path) -> None:
    config = settings(tmp_path).model_dump()
    config["alerts"] = {"phones": [ADMIN]}
    async with (
        running_daemon(Settings.model_validate(config)) as running,
        aiohttp.ClientSession() as http,
    ):
        client = Client(http, running.url, running.simulators["sim1"])
        await settled(running)  # the welcome SMS have gone; the pump is idle
        relay = running.relay
        async with relay.db.transaction() as conn:  # an SMS that failed for good: an incident
            sms = outbox_db.NewSms("notice", 3, "+8613912345678", "测试", None)
            outbox_id = await outbox_db.enqueue(conn, sms, iso(relay.clock()))
            await outbox_db.mark_failed(conn, outbox_id, 8, "cms_500")
        assert running.alerter is not None
        await running.alerter.check()
        async with asyncio.timeout(1):
            while not await client.received_by(ADMIN):  # noqa: ASYNC110
                await asyncio.sleep(0.05)


# -- who gets which SMS: one rule in Sender.enqueue ------------------------------------------

EXPERT = "+8613800138001"
STOPPED, ERASED, UNVERIFIED, VERIFIED, ENROLLED = (f"+86139123400{n:02d}" for n in range(1, 6))
RECIPIENTS = ("stopped", "erased", "unverified", "verified", "expert", "admin", "enrolled")
# each path's SMS as it asks Sender.enqueue for it, and who gets it (README: "STOP stops every
# SMS to that number, SMS codes too, until START (each confirmed once; a number that was only
# ever sent a code may say them too)"; experts get questions; admins get alerts; a 随访 plan's
# SMS goes only to a number enrolled with its consent recorded, verified or not)
KINDS: dict[str, tuple[OutboxKind, dict[str, bool], str]] = {
    "verification code": ("verification", {}, "..TT..T"),
    "answer to the patient": ("to_patient", {"typed": True}, "...T..."),
    "link to the thread": ("notice", {"guard": False, "patient": True}, "...T..."),
    "open codes to a patient": ("notice", {"patient": True}, "...T..."),
    "STOP/START confirmation": ("notice", {"confirms_command": True}, "T.TT..T"),
    "question or follow-up": ("to_expert", {"typed": True}, "....T.."),
    "welcome, hand-off, list": ("notice", {}, "...TTT."),
    "alert": ("notice", {"guard": False}, "...TTT."),
    "weekly digest": ("notice", {}, "...TTT."),
    "随访 plan step": ("care", {"guard": False}, "......T"),
}


@pytest.fixture
async def people(tmp_path: Path) -> AsyncIterator[tuple[Relay, dict[str, str]]]:
    now = datetime(2026, 12, 6, 2, tzinfo=UTC)
    async with Database.open(tmp_path / "smscat.db") as db:
        zhang = ExpertRow("zhang", "张明", "主任医师", "心血管内科", EXPERT, None)
        await db.sync_experts([zhang], at=now)
        care = CareConfig().options(UTC)
        options = RelayOptions("心内科", admin_phones=frozenset({ADMIN}), care=care)
        relay = Relay(db, options, clock=lambda: now)
        enrolment = EnrolRequest(
            phone=ENROLLED,
            nickname="刘先生",
            anchor=now.date(),
            plan=DEFAULT_PLAN,
            consent="verbal",
        )
        await relay.care.enrol(enrolment, "admin", "admin")
        async with db.transaction() as conn:
            for e164 in (STOPPED, ERASED, UNVERIFIED, VERIFIED):
                phone_id = (await phones_db.ensure_phone(conn, e164, iso(now))).id
                if e164 != UNVERIFIED:
                    await phones_db.mark_phone_verified(conn, phone_id, iso(now))
                if e164 == STOPPED:
                    await phones_db.stop_phone(conn, phone_id, iso(now))
                if e164 == ERASED:  # as the retention purge and `smscat erase` leave it
                    await conn.execute(
                        "UPDATE phones SET e164 = 'erased:' || id, erased_at = ? WHERE id = ?",
                        (iso(now), phone_id),
                    )
                    erased = f"erased:{phone_id}"
        numbers = dict(
            zip(
                RECIPIENTS,
                (STOPPED, erased, UNVERIFIED, VERIFIED, EXPERT, ADMIN, ENROLLED),
                strict=True,
            )
        )
        yield relay, numbers


@pytest.mark.parametrize("name", KINDS)
async def test_every_kind_of_sms_asks_the_one_rule_of_who_may_be_texted(
    people: tuple[Relay, dict[str, str]], name: str
) -> None:
    relay, numbers = people
    kind, flags, expected = KINDS[name]
    got = ""
    for who in RECIPIENTS:
        async with relay.db.transaction() as conn:
            queued = await relay.sending.enqueue(
                conn, kind, numbers[who], f"{name}：您好", None, relay.clock(), **flags
            )
        rows = await relay.db.fetchall(
            "SELECT id FROM outbox WHERE recipient = ? AND kind = ?", (numbers[who], kind)
        )
        assert queued == (rows[0]["id"] if rows else None)  # its outbox id, or None
        got += "T" if queued else "."
    assert dict(zip(RECIPIENTS, got, strict=True)) == dict(zip(RECIPIENTS, expected, strict=True))
