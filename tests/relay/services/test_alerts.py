"""Alerts fire once per incident, remind at most every ``repeat``, and clear once.

The clock is injected; the modems are stand-ins with ``blocked()`` (what the alerter reads); the
webhook is a real HTTP server on loopback; the admin SMS are read from the outbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from smscat.relay.core.errors import Conflict
from smscat.relay.core.retry import PRIORITY
from smscat.relay.services.alerting import Alerter, AlertOptions
from smscat.relay.services.context import RelayOptions
from smscat.relay.services.relay import Relay
from smscat.storage import outbox as outbox_db
from smscat.storage.db import Database, iso
from tests.support.relay import Clock, received

ADMIN = "+8613700009999"


@dataclass
class Modem:
    block: str | None = None  # what ModemSupervisor.blocked() says: None, it can send

    def blocked(self) -> str | None:
        return self.block


@dataclass
class Rig:
    relay: Relay
    clock: Clock
    modems: dict[str, Modem]
    alerter: Alerter
    posts: list[dict[str, Any]] = field(default_factory=list)

    async def admin_sms(self) -> list[str]:
        rows = await self.relay.db.fetchall(
            "SELECT text FROM outbox WHERE recipient = ? ORDER BY id", (ADMIN,)
        )
        return [r["text"] for r in rows]

    async def tick(self, minutes: float) -> None:
        self.clock.now += timedelta(minutes=minutes)
        await self.alerter.check()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    posts: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        posts.append(await request.json())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    clock = Clock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    try:
        async with Database.open(tmp_path / "db") as db, aiohttp.ClientSession() as http:
            # as the daemon builds it: the alert phones are the admins' numbers (texted as staff)
            relay_options = RelayOptions(department="心内科", admin_phones=frozenset({ADMIN}))
            relay = Relay(db, relay_options, clock=clock)
            modems = {"a": Modem(), "b": Modem()}
            options = AlertOptions(
                phones=(ADMIN,),
                webhook=f"http://127.0.0.1:{port}/hook",
                modem_silent=timedelta(minutes=10),
                # no pump runs here, so the admins' own SMS wait: the queue test sets 15 min
                queue_stalled=timedelta(days=1),
                repeat=timedelta(hours=1),
            )
            alerter = Alerter(relay, modems, options, http=http)
            yield Rig(relay, clock, modems, alerter, posts)
    finally:
        await runner.cleanup()


async def test_a_modem_down_alerts_once_and_clears_once(rig: Rig) -> None:
    rig.modems["a"].block = "down"
    await rig.tick(0)
    await rig.tick(5)
    assert await rig.admin_sms() == []  # not yet: a reconnect is not an incident
    await rig.tick(6)
    for _ in range(5):
        await rig.tick(5)  # 25 more minutes down: no second alert within the hour
    sms = await rig.admin_sms()
    assert len(sms) == 1
    assert "断开" in sms[0]
    assert [(p["state"], p["kind"], p["subject"]) for p in rig.posts] == [
        ("open", "modem_down", "a")
    ]
    rig.modems["a"].block = None
    await rig.tick(1)
    await rig.tick(1)
    sms = await rig.admin_sms()
    assert len(sms) == 2
    assert "恢复" in sms[1]
    assert [p["state"] for p in rig.posts] == ["open", "cleared"]


async def test_a_modem_without_network_alerts_in_words_that_say_so(rig: Rig) -> None:
    rig.modems["a"].block = "no-network"
    rig.modems["b"].block = "sim-puk"
    await rig.tick(0)
    await rig.tick(11)
    sms = await rig.admin_sms()
    assert len(sms) == 2
    assert any("没有网络信号" in t and "a" in t for t in sms)
    assert any("PUK" in t for t in sms)
    assert {(p["kind"], p["subject"], p["detail"]["state"]) for p in rig.posts} == {
        ("modem_down", "a", "no-network"),
        ("modem_down", "b", "sim-puk"),
    }


async def test_sms_failed_for_good_alert_once_and_clear_when_sent_again(rig: Rig) -> None:
    async with rig.relay.db.transaction() as conn:
        sms = outbox_db.NewSms(
            "to_patient", PRIORITY["to_patient"], "+8613900001111", "答", None, 1
        )
        outbox_id = await outbox_db.enqueue(conn, sms, iso(rig.clock()))
        await outbox_db.mark_failed(conn, outbox_id, 1, "+CMS ERROR 28")
    await rig.tick(0)
    await rig.tick(30)
    assert [(p["state"], p["kind"], p["detail"]) for p in rig.posts] == [
        ("open", "sms_failed", {"count": 1})
    ]
    assert any("1条短信发送失败" in t for t in await rig.admin_sms())
    async with rig.relay.db.transaction() as conn:  # an admin's "send again"
        await conn.execute("UPDATE outbox SET status = 'queued' WHERE id = ?", (outbox_id,))
    await rig.tick(1)
    assert [p["state"] for p in rig.posts if p["kind"] == "sms_failed"] == ["open", "cleared"]


async def test_an_admin_sends_a_failed_alert_to_an_admins_phone_again(rig: Rig) -> None:
    """The admins' phones take SMS as staff (the one recipient rule): a failed alert may be
    sent again, while a code may not (it has expired)."""
    async with rig.relay.db.transaction() as conn:
        alert = outbox_db.NewSms("notice", PRIORITY["notice"], ADMIN, "告警", None)
        alert_id = await outbox_db.enqueue(conn, alert, iso(rig.clock()))
        await outbox_db.mark_failed(conn, alert_id, 1, "+CMS ERROR 38")
        code = outbox_db.NewSms("verification", PRIORITY["verification"], ADMIN, "码", None)
        code_id = await outbox_db.enqueue(conn, code, iso(rig.clock()))
        await outbox_db.mark_failed(conn, code_id, 1, "+CMS ERROR 38")
    await rig.relay.admin.retry_outbox(alert_id, "admin:root")
    (row,) = await rig.relay.db.fetchall("SELECT status FROM outbox WHERE id = ?", (alert_id,))
    assert row["status"] == "queued"
    with pytest.raises(Conflict) as refused:
        await rig.relay.admin.retry_outbox(code_id, "admin:root")
    assert refused.value.key == "retry_code"


async def test_a_long_incident_is_reminded_at_most_hourly(rig: Rig) -> None:
    rig.modems["b"].block = "sim-puk"
    await rig.tick(0)
    for _ in range(15):
        await rig.tick(10)  # 150 minutes
    assert [p["state"] for p in rig.posts] == ["open", "open", "open"]  # at 10, 70, 130 min
    assert len(await rig.admin_sms()) == 3  # reminders repeat the text: past the duplicate guard


async def test_a_stalled_queue_alerts_and_clears_when_it_moves(rig: Rig) -> None:
    options = replace(rig.alerter.options, queue_stalled=timedelta(minutes=15))
    rig.alerter = Alerter(rig.relay, rig.modems, options, http=rig.alerter.http)
    async with rig.relay.db.transaction() as conn:
        sms = outbox_db.NewSms("notice", PRIORITY["notice"], "+8613900001111", "提醒", None, 1)
        outbox_id = await outbox_db.enqueue(conn, sms, iso(rig.clock()))
    await rig.tick(10)
    assert rig.posts == []
    await rig.tick(6)
    assert [(p["state"], p["kind"]) for p in rig.posts] == [("open", "queue_stalled")]
    async with rig.relay.db.transaction() as conn:  # a part goes out: the queue moves
        await outbox_db.record_part(conn, outbox_id, 1, 1, "a", 7, iso(rig.clock()))
        await outbox_db.mark_sent(conn, outbox_id, "a", iso(rig.clock()))
    await rig.tick(1)
    assert [(p["state"], p["kind"]) for p in rig.posts] == [
        ("open", "queue_stalled"),
        ("cleared", "queue_stalled"),
    ]


async def test_operator_sms_open_one_incident_without_their_text_until_handled(rig: Rig) -> None:
    """Short codes and unknown numbers: one incident per kind of sender, told once, no text."""
    sent = [
        ("10086", "尊敬的客户，您的话费余额不足5元，请及时充值。"),
        ("10690123456789", "【某银行】点击 http://evil.example/x 领取积分"),
        ("95566", "您的账户发生变动"),
        ("+8613911112222", "你好，我是新来的病人，请问怎么挂号？"),
    ]
    for ref, (sender, text) in enumerate(sent, 1):
        [part] = received(sender, text, rig.clock(), ref)
        await rig.relay.inbound.store_part("a", replace(part, index=ref))
    await rig.relay.inbound.process_inbound()
    await rig.tick(1)
    for _ in range(6):
        await rig.tick(60)  # six hours: no reminder for these
    sms = await rig.admin_sms()
    assert len(sms) == 2  # one for the operator's three, one for the unknown number
    assert any("运营商发来3条短信" in t for t in sms)
    assert any("未知号码发来1条短信" in t for t in sms)
    for sender, text in sent:  # never a sender's number or a word of their text
        assert not any(sender.removeprefix("+86") in t or text[:6] in t for t in sms)
    assert "evil" not in "".join(sms)
    assert sorted((p["state"], p["subject"]) for p in rig.posts) == [
        ("open", "operator"),
        ("open", "unknown"),
    ]
    assert await rig.relay.admin.mark_notices_handled("admin:root") == 4  # the dashboard's button
    await rig.tick(1)
    assert sorted(p["state"] for p in rig.posts) == ["cleared", "cleared", "open", "open"]
    rows = await rig.relay.db.fetchall(
        "SELECT COUNT(*) FROM audit_log WHERE action = ?", ("notices.handled",)
    )
    assert rows[0][0] == 1


async def test_no_admin_number_reaches_a_log(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    rig.modems["a"].block = "down"
    await rig.tick(0)
    await rig.tick(11)
    assert len(await rig.admin_sms()) == 1
    assert all(ADMIN[3:] not in r.getMessage() for r in caplog.records)


async def test_no_stalled_queue_alert_while_every_modem_is_down(rig: Rig) -> None:
    options = replace(rig.alerter.options, queue_stalled=timedelta(minutes=15))
    rig.alerter = Alerter(rig.relay, rig.modems, options, http=rig.alerter.http)
    rig.modems["a"].block = rig.modems["b"].block = "down"
    await rig.tick(0)
    await rig.tick(11)  # two modem alerts, whose SMS cannot go
    await rig.tick(20)
    assert sorted(p["kind"] for p in rig.posts) == ["modem_down", "modem_down"]
