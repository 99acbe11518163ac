"""Several modems: failover while one is unplugged, recipients back on their SIM, caps in parts.

Two simulated modems on real ptys, each under its own supervisor; the outbox pump sends
through them. What each SIM sent is read from its simulator.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smscat.hwsim.service import SimOptions, Simulator, running
from smscat.modem.supervisor import ModemSupervisor
from smscat.relay.core import routing
from smscat.relay.core.retry import PRIORITY
from smscat.relay.services.context import RelayOptions
from smscat.relay.services.outbox import OutboxPump
from smscat.relay.services.relay import Relay
from smscat.storage import outbox as outbox_db
from smscat.storage.db import Database, iso
from tests.support.relay import Clock
from tests.support.supervision import FAST, fault, until

RECIPIENTS = [f"+86139000000{i:02d}" for i in range(12)]
SETTINGS = replace(FAST, ready_wait=0.5)


@dataclass
class Rig:
    relay: Relay
    sims: dict[str, Simulator]
    supervisors: dict[str, ModemSupervisor]
    clock: Clock

    async def queue(self, recipient: str, text: str) -> None:
        async with self.relay.db.transaction() as conn:
            sms = outbox_db.NewSms("notice", PRIORITY["notice"], recipient, text, None, 1)
            await outbox_db.enqueue(conn, sms, iso(self.clock()))
        self.relay.outbox_changed.set()

    def sent_by(self, modem_id: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for message in self.sims[modem_id].engine.sent:
            out.setdefault(message.to, []).append(message.text)
        return out

    async def homes(self) -> dict[str, str]:
        rows = await self.relay.db.fetchall("SELECT recipient, modem_id FROM recipient_modem")
        return {r["recipient"]: r["modem_id"] for r in rows}

    async def queued(self) -> int:
        rows = await self.relay.db.fetchall("SELECT COUNT(*) FROM outbox WHERE status = 'queued'")
        return int(rows[0][0])


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    clock = Clock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    async with AsyncExitStack() as stack:
        db = await stack.enter_async_context(Database.open(tmp_path / "smscat.db"))
        sims = {
            m: await stack.enter_async_context(running(SimOptions(link=tmp_path / m)))
            for m in ("a", "b")
        }
        supervisors = {m: ModemSupervisor(str(s.link), settings=SETTINGS) for m, s in sims.items()}
        tasks = [asyncio.create_task(s.run()) for s in supervisors.values()]
        try:
            for s in supervisors.values():
                await asyncio.wait_for(s.wait_ready(), 5)
            relay = Relay(db, RelayOptions(department="心内科"), clock=clock)
            yield Rig(relay, sims, supervisors, clock)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def test_an_unplugged_modem_fails_over_and_recipients_come_back(rig: Rig) -> None:
    pump = OutboxPump(rig.relay, rig.supervisors, rng=random.Random(1), retry_base=0.2)
    pumping = asyncio.create_task(pump.run())
    try:
        for r in RECIPIENTS:
            await rig.queue(r, f"第一轮 {r[-2:]}")
        await until(lambda: pump.sent_parts == len(RECIPIENTS), 15)
        homes = await rig.homes()
        on_a = [r for r in RECIPIENTS if homes[r] == "a"]
        assert on_a  # both SIMs have regulars (the one with more room takes a newcomer)
        assert len(on_a) < len(RECIPIENTS)

        await fault(rig.sims["a"], profile="unplug", seconds=2.0)
        await until(lambda: rig.supervisors["a"].state != "ready")
        for r in RECIPIENTS:
            await rig.queue(r, f"第二轮 {r[-2:]}")
        await until(lambda: pump.sent_parts >= 2 * len(RECIPIENTS), 20)
        for r in on_a:  # everything still went out, through the other SIM
            assert f"第二轮 {r[-2:]}" in rig.sent_by("b")[r]
        assert await rig.homes() == homes  # failover does not move anyone's home

        await until(lambda: rig.supervisors["a"].state == "ready", 10)
        for r in on_a:
            await rig.queue(r, f"第三轮 {r[-2:]}")
        await until(lambda: pump.sent_parts >= 2 * len(RECIPIENTS) + len(on_a), 15)
        for r in on_a:  # back on their usual SIM
            assert f"第三轮 {r[-2:]}" in rig.sent_by("a")[r]
        assert await rig.queued() == 0
    finally:
        pump.stop()
        await asyncio.wait_for(pumping, 10)


async def test_caps_hold_exactly_counted_in_parts(rig: Rig) -> None:
    # notices are the bulk lane: 80 % of the cap, 8 of 10 parts an hour
    limits = {m: routing.Limits(per_hour=10) for m in ("a", "b")}
    pump = OutboxPump(rig.relay, rig.supervisors, limits=limits, rng=random.Random(2))
    for r in RECIPIENTS[:10]:
        await rig.queue(r, "复诊提醒")
    assert await pump.send_due() == 10
    # 3 parts left on each SIM: one 3-part SMS fits on each, a third must wait
    long_text = "请按时服药并记录血压，" * 15
    assert len(pdu_parts(long_text)) == 3
    await rig.queue(RECIPIENTS[10], long_text)
    await rig.queue(RECIPIENTS[11], long_text)
    await rig.queue(RECIPIENTS[10], long_text + "（第二次）")
    await pump.send_due()
    used = {m: sum(len(m_.parts) for m_ in rig.sims[m].engine.sent) for m in ("a", "b")}
    assert used == {"a": 8, "b": 8}  # 5 singles + one 3-part SMS each: exactly the cap
    assert await rig.queued() == 1
    views = {v.id: v for v in await pump.views()}
    assert all(routing.room(v, routing.BULK_SHARE) == 0 for v in views.values())
    assert all(routing.room(v) == 2 for v in views.values())  # kept for codes and answers

    rig.clock.now += timedelta(hours=1, seconds=1)  # the hour has passed
    await pump.send_due()
    assert await rig.queued() == 0


def pdu_parts(text: str) -> list[object]:
    from smscat.modem import pdu

    return list(pdu.plan_submit(RECIPIENTS[0], text, ref=1))
