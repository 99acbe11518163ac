"""The expert's answer cannot reach the patient's phone (issue 15): the thread stays answered,
its page says the SMS did not reach the phone, and the admins are told (an alert, the failed
list). The lifecycle table decides (``AnswerFailed``); the service does not filter it away.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smscat.modem.errors import CmsError
from smscat.relay.core.texts import render
from smscat.relay.services.alerting import Alerter, AlertOptions
from smscat.relay.services.context import Asked
from smscat.storage.db import ExpertRow
from tests.support.outbox import FakeModem, pump
from tests.support.relay import World, world_on

ZHANG = ExpertRow("zhang", "张明", "主任医师", "心血管内科", "+8613800138001", "高血压")
PATIENT = "+8613912345678"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with world_on(tmp_path, [ZHANG]) as opened:
        yield opened


async def ask_with_phone(world: World) -> Asked:
    return await world.relay.asking.ask(
        expert_id="zhang", nickname="小王", text="头晕怎么办？", public=False,
        **await world.verified(PATIENT),
    )  # fmt: skip


async def test_an_answer_that_cannot_reach_the_patients_phone_is_told_on_the_page_and_to_admins(
    world: World,
) -> None:
    modem = FakeModem()
    outbox = pump(world.relay, modem)
    asked = await ask_with_phone(world)
    await outbox.send_due()  # the code and the question go
    await world.sms(ZHANG.phone, "多喝水，明天来门诊")
    modem.refusals.append(CmsError("AT+CMGS=60", "+CMS ERROR: 28", 28))  # unidentified subscriber
    await outbox.send_due()

    (answer,) = await world.db.fetchall(
        "SELECT id, status FROM outbox WHERE kind = 'to_patient' AND thread_id = ?", (asked.id,)
    )
    assert answer["status"] == "failed"
    view = await world.relay.patient_page.thread_view(asked.id, asked.token)
    assert view["status"] == "answered"  # the answer is on the thread all the same
    assert view["notice"] == render("page.answer_undelivered")
    english = await world.relay.patient_page.thread_view(asked.id, asked.token, "en")
    assert english["notice"] == render("page.answer_undelivered", "en")

    # the admins: the thread's alert in the audit log, the failed list, and an incident
    alerts = await world.db.fetchall(
        "SELECT subject FROM audit_log WHERE action = 'alert' AND subject = ?", (str(asked.id),)
    )
    assert len(alerts) == 1
    failed = await world.relay.read.failed_outbox(10)
    assert [(r["id"], r["kind"]) for r in failed] == [(answer["id"], "to_patient")]
    alerter = Alerter(world.relay, {}, AlertOptions())
    await alerter.check()
    assert alerter.sent == [("open", "sms_failed", "outbox")]

    # an admin sends it again and it goes: the page has nothing to say any more
    await world.relay.admin.retry_outbox(int(answer["id"]), "admin")
    await outbox.send_due()
    view = await world.relay.patient_page.thread_view(asked.id, asked.token)
    assert "notice" not in view


async def test_a_failed_answer_after_the_patient_followed_up_keeps_the_thread_queued(
    world: World,
) -> None:
    """The answer's SMS fails while a follow-up waits for the expert: the question's way to the
    expert is not what failed, so the thread is not ``failed``; the page still says the answer
    did not reach the phone."""
    modem = FakeModem()
    outbox = pump(world.relay, modem)
    asked = await ask_with_phone(world)
    await outbox.send_due()
    await world.sms(ZHANG.phone, "多喝水")
    await world.relay.patient_page.follow_up(asked.id, asked.token, "喝多少？")
    (answer,) = await world.db.fetchall("SELECT id FROM outbox WHERE kind = 'to_patient'")
    await world.relay.delivery.failed(int(answer["id"]), 8, "+CMS ERROR 42")
    view = await world.relay.patient_page.thread_view(asked.id, asked.token)
    assert view["status"] == "queued"
    assert view["notice"] == render("page.answer_undelivered")
