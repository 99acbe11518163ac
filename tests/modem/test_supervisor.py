"""The supervisor keeps a modem usable through unplug, reboot, a wedged modem and a locked SIM."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from smscat.hwsim.service import SimOptions, running
from smscat.modem import pdu
from smscat.modem.atparser import Unsolicited
from smscat.modem.errors import CmsError, ModemRestarted
from smscat.modem.inbox import StoredPart
from smscat.modem.receiver import Receiver
from smscat.modem.session import AtSession
from tests.support.supervision import FAST, fault, supervised, until


async def test_comes_up_with_health(tmp_path: Path) -> None:
    async with running(SimOptions(link=tmp_path / "m")) as sim, supervised(sim) as sup:
        await asyncio.wait_for(sup.wait_ready(), 5)
        assert sup.state == "ready"
        assert sup.health is not None
        assert sup.health.registration == "home"


async def test_unplug_reconnects_at_the_same_link_and_sends_again(tmp_path: Path) -> None:
    async with running(SimOptions(link=tmp_path / "m")) as sim, supervised(sim) as sup:
        await asyncio.wait_for(sup.wait_ready(), 5)
        await fault(sim, profile="unplug", seconds=0.5)
        await until(lambda: sup.state != "ready")
        await until(lambda: sup.state == "ready")
        assert sup.stats.reconnects >= 1
        sent = await sup.send("+8613800138000", "回来了", ref=1)
        assert len(sent) == 1
        assert sim.engine.sent[-1].text == "回来了"


async def test_reboot_is_noticed_and_settings_are_restored(tmp_path: Path) -> None:
    urcs: list[str] = []

    async def on_urc(urc: Unsolicited) -> None:
        urcs.append(urc.name)

    async with (
        running(SimOptions(link=tmp_path / "m")) as sim,
        supervised(sim, on_urc=on_urc) as sup,
    ):
        await asyncio.wait_for(sup.wait_ready(), 5)
        await fault(sim, profile="reboot", seconds=0.2)
        await until(lambda: sup.stats.reconnects >= 1 and sup.state == "ready")
        assert sim.engine.settings.cnmi[:2] == (2, 1)  # re-initialised after the reboot
        async with aiohttp.ClientSession() as http:
            await http.post(f"{sim.control_url}/sms", json={"from": "+8613800138001", "text": "hi"})
        await until(lambda: "+CMTI" in urcs)


async def test_a_command_waiting_when_the_modem_reboots_fails_at_the_reboot(
    tmp_path: Path,
) -> None:
    """A long command (a +CMGL sweep may wait 30 s) in flight when the module restarts: its
    answer will never come, so the start-up line fails it at once (not at its timeout)."""
    async with (
        running(SimOptions(link=tmp_path / "m")) as sim,
        AtSession.open(str(sim.link)) as session,
    ):
        await session.command("AT")
        await fault(sim, profile="reboot", seconds=0.2)  # silent, then RDY…
        with pytest.raises(ModemRestarted) as restarted:
            await session.command("AT+CMGL=4", timeout=20)
        assert restarted.value.line == "RDY"
        assert session.failed  # the supervisor reopens and re-initialises


async def test_a_wedged_modem_is_reopened_and_the_send_goes_through(tmp_path: Path) -> None:
    async with running(SimOptions(link=tmp_path / "m")) as sim, supervised(sim) as sup:
        await asyncio.wait_for(sup.wait_ready(), 5)
        await fault(sim, profile="silent", seconds=1.5)
        sent = await sup.send("+8613800138000", "x", ref=1)  # times out, reopens, sends
        assert len(sent) == 1
        assert sup.stats.reconnects >= 1
        assert sup.stats.resubmits >= 1
        assert sup.stats.unconfirmed == 0  # the hung modem never showed a prompt
        assert [m.text for m in sim.engine.sent] == ["x"]


async def test_a_lost_answer_is_sent_again_and_the_handset_shows_the_part_once(
    tmp_path: Path,
) -> None:
    """At least once: the answer after the body was lost, so the part goes again."""
    text = "长" * 100  # two UCS2 parts
    async with running(SimOptions(link=tmp_path / "m")) as sim, supervised(sim) as sup:
        await asyncio.wait_for(sup.wait_ready(), 5)
        await fault(sim, profile="slow", seconds=1.3)  # longer than FAST's submit timeout
        sending = asyncio.create_task(sup.send("+8613800138000", text, ref=7))
        await until(lambda: sup.stats.unconfirmed >= 1)  # then a backoff before the retry
        await fault(sim, profile="none")
        sent = await asyncio.wait_for(sending, 10)
        assert [part.seq for part in sent] == [1, 2]
        assert sup.stats.unconfirmed == 1
        [message] = sim.engine.sent
        assert message.text == text
        assert message.duplicate_parts == 1  # the network took part 1 twice; shown once


async def test_a_wrong_pin_is_tried_exactly_once(tmp_path: Path) -> None:
    options = SimOptions(link=tmp_path / "m", pin="1234")
    async with running(options) as sim, supervised(sim, pin="0000") as sup:
        await until(lambda: sup.state == "sim-locked")
        await asyncio.sleep(1.0)  # it keeps checking, never tries again
        assert sup.stats.pin_attempts == 1
        assert sim.engine.counters["pin_attempts"] == 1
        assert sim.engine.sim_state == "SIM PIN"  # two tries left for a person


async def test_the_right_pin_unlocks_once(tmp_path: Path) -> None:
    options = SimOptions(link=tmp_path / "m", pin="1234")
    async with running(options) as sim, supervised(sim, pin="1234") as sup:
        await asyncio.wait_for(sup.wait_ready(), 5)
        assert sim.engine.sim_state == "READY"
        assert sim.engine.counters["pin_attempts"] == 1


class Pins:
    """A PinMemory that outlives a supervisor, as the database does across restarts."""

    def __init__(self) -> None:
        self.refusals = 0
        self.accepted = 0

    async def refused(self) -> bool:
        return self.refusals > self.accepted

    async def remember(self, *, refused: bool) -> None:
        if refused:
            self.refusals += 1
        else:
            self.accepted = self.refusals


async def test_a_refused_pin_is_not_tried_by_the_next_supervisor(tmp_path: Path) -> None:
    pins = Pins()
    options = SimOptions(link=tmp_path / "m", pin="1234")
    async with running(options) as sim:
        for _ in range(3):  # three daemon starts against one SIM
            async with supervised(sim, pin="0000", pins=pins) as sup:
                await until(lambda: sup.state == "sim-locked")
            assert sup.blocked() == "sim-pin"
        assert sim.engine.counters["pin_attempts"] == 1
        assert sim.engine.sim_state == "SIM PIN"  # not behind the PUK


async def test_the_pin_is_entered_again_after_a_power_cycle(tmp_path: Path) -> None:
    options = SimOptions(link=tmp_path / "m", pin="1234")
    async with running(options) as sim, supervised(sim, pin="1234") as sup:
        await asyncio.wait_for(sup.wait_ready(), 5)
        await fault(sim, profile="unplug", seconds=0.3)
        await until(lambda: sup.state != "ready")
        await until(lambda: sup.blocked() is None, 10)
        assert sim.engine.counters["pin_attempts"] == 2
        assert sim.engine.sim_state == "READY"


async def test_a_sim_behind_its_puk_says_so(tmp_path: Path) -> None:
    options = SimOptions(link=tmp_path / "m", pin="1234")
    async with running(options) as sim:
        sim.engine.sim_state = "SIM PUK"
        async with supervised(sim, pin="1234") as sup:
            await until(lambda: sup.state == "sim-locked")
            assert sup.blocked() == "sim-puk"
            assert sim.engine.counters.get("pin_attempts", 0) == 0  # a PIN is no use now


async def test_losing_and_regaining_the_network_blocks_and_wakes(tmp_path: Path) -> None:
    changes: list[str | None] = []
    async with running(SimOptions(link=tmp_path / "m")) as sim, supervised(sim) as sup:
        sup.on_change(lambda: changes.append(sup.blocked()))
        await asyncio.wait_for(sup.wait_ready(), 5)
        await until(lambda: sup.blocked() is None)
        changes.clear()
        await fault(sim, profile="network-down", seconds=0.5)
        await until(lambda: sup.blocked() == "no-network")
        assert sup.status()["can_send"] is False
        await until(lambda: sup.blocked() is None)
        assert changes == ["no-network", None]  # each change told once, at once


async def test_a_barred_sim_is_marked_for_the_cooldown_then_tried_again(tmp_path: Path) -> None:
    settings = replace(FAST, fault_cooldown=0.5)
    async with (
        running(SimOptions(link=tmp_path / "m")) as sim,
        supervised(sim, settings=settings) as sup,
    ):
        await asyncio.wait_for(sup.wait_ready(), 5)
        await fault(sim, profile="barred")
        with pytest.raises(CmsError) as refused:
            await sup.send("+8613800138000", "停机了吗", ref=1)
        assert refused.value.code == 8
        assert sup.blocked() == "barred"
        assert sup.health is not None
        assert sup.health.registration == "home"  # registered, and still it may not send
        await until(lambda: sup.blocked() is None, 5)  # one more try after the cooldown


async def test_a_submit_without_network_service_marks_the_modem_until_registration(
    tmp_path: Path,
) -> None:
    """+CMS 331 where no URC said so (URCs lost): the modem is marked, the probe clears it."""
    settings = replace(FAST, network_probe_every=0.2)
    async with (
        running(SimOptions(link=tmp_path / "m")) as sim,
        supervised(sim, settings=settings) as sup,
    ):
        await asyncio.wait_for(sup.wait_ready(), 5)
        await fault(sim, profile="reject", code=331, count=1)  # registered, yet "no service"
        parts = pdu.plan_submit("+8613800138000", "有信号吗", ref=1)
        with pytest.raises(CmsError) as refused:
            await sup.submit(parts[0])
        assert refused.value.code == 331
        assert sup.blocked() == "no-network"
        await until(lambda: sup.blocked() is None, 5)  # the probe sees it registered


async def test_an_sms_that_arrived_while_unplugged_is_found_by_the_sweep_after_reconnect(
    tmp_path: Path,
) -> None:
    stored: list[StoredPart] = []

    async def consume(part: StoredPart) -> None:
        stored.append(part)

    settings = replace(FAST, sweep_every=3600.0)  # only the sweep on (re)connect can find it
    async with (
        running(SimOptions(link=tmp_path / "m")) as sim,
        supervised(sim, receiver=Receiver(consume), settings=settings) as sup,
    ):
        await asyncio.wait_for(sup.wait_ready(), 5)
        await fault(sim, profile="unplug", seconds=0.5)
        await sim.call(lambda: (None, sim.engine.network_sms("+8613800138001", "在吗")[2]))
        await until(lambda: len(stored) == 1)
        assert sup.stats.reconnects >= 1
        assert stored[0].deliver.text == "在吗"
        await until(lambda: sim.engine.state()["storage"]["used"] == 0)  # deleted after


async def test_a_consumer_failure_leaves_the_sms_on_the_sim_for_the_next_sweep(
    tmp_path: Path,
) -> None:
    stored: list[str] = []
    fail = [True]

    async def consume(part: StoredPart) -> None:
        if fail.pop() if fail else False:
            raise OSError("disk full")
        stored.append(part.deliver.text)

    settings = replace(FAST, sweep_every=0.3)
    async with (
        running(SimOptions(link=tmp_path / "m")) as sim,
        supervised(sim, receiver=Receiver(consume), settings=settings) as sup,
    ):
        await asyncio.wait_for(sup.wait_ready(), 5)
        await sim.call(lambda: (None, sim.engine.network_sms("+8613800138001", "在吗")[2]))
        await until(lambda: stored == ["在吗"])
        assert sup.stats.reconnects == 0
        await until(lambda: sim.engine.state()["storage"]["used"] == 0)


async def test_a_failing_urc_handler_does_not_stop_the_supervisor(tmp_path: Path) -> None:
    seen: list[str] = []

    async def on_urc(urc: Unsolicited) -> None:
        seen.append(urc.name)
        raise RuntimeError("the database is full")

    async with (
        running(SimOptions(link=tmp_path / "m")) as sim,
        supervised(sim, on_urc=on_urc) as sup,
    ):
        await asyncio.wait_for(sup.wait_ready(), 5)
        for _ in range(2):
            async with aiohttp.ClientSession() as http:
                await http.post(
                    f"{sim.control_url}/sms", json={"from": "+8613800138001", "text": "x"}
                )
        await until(lambda: seen.count("+CMTI") == 2)
        assert sup.state == "ready"
        assert sup.stats.reconnects == 0
