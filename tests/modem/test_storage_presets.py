"""Storages another program left behind: every SMS is still read once and deleted (issue 13.5).

Real modules keep +CPMS across power cycles, so the driver meets whatever the last program set:
gammu-smsd leaves "ME","ME","SM" (read in ME, receive in SM), others receive in ME. The
supervisor and its receiver run against the simulator on a real pty with such a preset; an SMS
announced by +CMTI, or already waiting in either memory before start, reaches the consumer
exactly once and leaves the modem.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from smscat.hwsim.engine import Identity
from smscat.hwsim.service import SimOptions, Simulator, running
from smscat.modem.device import Modem
from smscat.modem.inbox import StoredPart
from smscat.modem.receiver import Receiver
from smscat.modem.session import AtSession
from smscat.modem.supervisor import ModemSupervisor
from tests.support.atport import AtPort
from tests.support.supervision import FAST, until

EXPERT = "+8613800138001"
REPLY = "建议先做24小时动态血压，结果出来前不要自行加药。"
GAMMU_SMSD = ("ME", "ME", "SM")  # read in ME, new SMS in SM
RECEIVE_IN_ME = ("SM", "SM", "ME")
PRESETS = [GAMMU_SMSD, RECEIVE_IN_ME]
ONLY_AT_START = replace(FAST, sweep_every=3600.0)  # the sweep after connecting, no other


class Consumer:
    """What the relay does with a part: keep it (here: in a list)."""

    def __init__(self) -> None:
        self.parts: list[StoredPart] = []

    async def consume(self, part: StoredPart) -> None:
        self.parts.append(part)

    def texts(self) -> list[str]:
        return [p.deliver.text for p in self.parts]


def left_on_modem(sim: Simulator) -> int:
    return sum(store.used for store in sim.engine.stores.values())


def swept(sim: Simulator) -> bool:
    """The start-up sweep has listed both memories (SM and ME)."""
    return sim.engine.by_command.get("+CMGL", 0) >= 2


@asynccontextmanager
async def supervisor(
    sim: Simulator, receiver: Receiver, quirks: dict[str, object] | None = None
) -> AsyncIterator[ModemSupervisor]:
    sup = ModemSupervisor(str(sim.link), receiver=receiver, settings=ONLY_AT_START, quirks=quirks)
    task = asyncio.create_task(sup.run())
    try:
        await asyncio.wait_for(sup.wait_ready(), 5)
        yield sup
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def arrives(sim: Simulator, text: str) -> None:
    """A phone sends ``text``; the modem stores it where +CPMS mem3 says and may announce it."""
    await sim.call(lambda: (None, sim.engine.network_sms(EXPERT, text)[2]))


@pytest.mark.parametrize("preset", PRESETS, ids="-".join)
async def test_an_sms_announced_by_cmti_is_read_once_and_deleted(
    tmp_path: Path, preset: tuple[str, str, str]
) -> None:
    consumer = Consumer()
    receiver = Receiver(consumer.consume)
    options = SimOptions(link=tmp_path / "m", storages=preset)
    async with running(options) as sim, supervisor(sim, receiver):
        await until(lambda: swept(sim))  # the start-up sweep found nothing
        await arrives(sim, REPLY)
        await until(lambda: left_on_modem(sim) == 0, 5)
        assert consumer.texts() == [REPLY]
        assert (receiver.stats.offered, receiver.stats.deleted) == (1, 1)
        assert receiver.stats.sweeps == 1  # it was the +CMTI that brought it
        assert sim.engine.by_command["+CMGR"] == 1


@pytest.mark.parametrize("preset", PRESETS, ids="-".join)
async def test_an_sms_waiting_before_start_is_found_by_the_sweep(
    tmp_path: Path, preset: tuple[str, str, str]
) -> None:
    consumer = Consumer()
    receiver = Receiver(consumer.consume)
    async with running(SimOptions(link=tmp_path / "m", storages=preset)) as sim:
        await arrives(sim, REPLY)  # nobody listens yet: stored in mem3, announced to no one
        assert sim.engine.stores[preset[2]].used == 1
        async with supervisor(sim, receiver):
            await until(lambda: left_on_modem(sim) == 0, 5)
            assert consumer.texts() == [REPLY]
            assert (receiver.stats.offered, receiver.stats.deleted) == (1, 1)


async def test_sms_left_in_both_memories_by_another_program_are_each_taken_once(
    tmp_path: Path,
) -> None:
    consumer = Consumer()
    receiver = Receiver(consumer.consume)
    async with running(SimOptions(link=tmp_path / "m")) as sim:
        async with AtPort(sim.link) as port:  # another program, before smscat starts
            for mem3, text in (("ME", "在 ME 里"), ("SM", "在 SM 里")):
                command = b'AT+CPMS="ME","ME","%s"\r' % mem3.encode()
                assert (await port.command(command)).endswith(b"OK\r\n")
                await arrives(sim, text)
        assert (sim.engine.stores["SM"].used, sim.engine.stores["ME"].used) == (1, 1)
        async with supervisor(sim, receiver):
            await until(lambda: left_on_modem(sim) == 0, 5)
            assert sorted(consumer.texts()) == ["在 ME 里", "在 SM 里"]
            assert {p.memory for p in consumer.parts} == {"SM", "ME"}
            assert (receiver.stats.offered, receiver.stats.deleted) == (2, 2)
            # then a +CMTI names SM while the sweep left ME selected: read and deleted in SM
            await arrives(sim, REPLY)
            await until(lambda: left_on_modem(sim) == 0 and len(consumer.parts) == 3, 5)
            assert consumer.parts[-1].memory == "SM"
            assert consumer.texts()[-1] == REPLY


async def test_configured_storages_receive_in_me_without_a_cpms_before_every_read(
    tmp_path: Path,
) -> None:
    """Preferred storages from config (receive in ME); mem1 is switched once, then kept."""
    consumer = Consumer()
    receiver = Receiver(consumer.consume)
    quirks: dict[str, object] = {"preferred_storages": ["SM", "SM", "ME"]}
    async with (
        running(SimOptions(link=tmp_path / "m")) as sim,
        supervisor(sim, receiver, quirks) as sup,
    ):
        assert sim.engine.settings.cpms[2] == "ME"
        await until(lambda: swept(sim))
        for n in range(3):
            await arrives(sim, f"{REPLY} {n}")
        await until(lambda: len(consumer.parts) == 3 and left_on_modem(sim) == 0, 5)
        assert {p.memory for p in consumer.parts} == {"ME"}
        assert sup.state == "ready"
        # the sweep left ME selected: reads and deletes there need no AT+CPMS of their own
        cpms_after_sweep = sim.engine.by_command["+CPMS"]
        await arrives(sim, "再来一条")
        await until(lambda: len(consumer.parts) == 4 and left_on_modem(sim) == 0, 5)
        assert sim.engine.by_command["+CPMS"] == cpms_after_sweep


async def test_initialise_sets_all_three_storages(tmp_path: Path) -> None:
    async with running(SimOptions(link=tmp_path / "m", storages=GAMMU_SMSD)) as sim:
        async with AtSession.open(str(sim.link)) as session:
            modem = Modem(session)
            await modem.initialise()
        assert sim.engine.settings.cpms == ("SM", "SM", "SM")  # the standard preference
        assert modem.storages == ("SM", "SM", "SM")


async def test_a_quectel_ec25_gets_its_documented_preference(tmp_path: Path) -> None:
    async with running(SimOptions(link=tmp_path / "m", storages=GAMMU_SMSD)) as sim:
        sim.engine.identity = dataclasses.replace(Identity(), manufacturer="Quectel", model="EC25")
        async with AtSession.open(str(sim.link)) as session:
            await Modem(session).initialise()
        assert sim.engine.settings.cpms == ("ME", "ME", "ME")


async def test_a_preference_the_modem_does_not_offer_falls_back_to_one_it_does(
    tmp_path: Path,
) -> None:
    async with running(SimOptions(link=tmp_path / "m", storages=GAMMU_SMSD)) as sim:
        async with AtSession.open(str(sim.link)) as session:
            modem = Modem(session, {"preferred_storages": ["MT", "ME", "MT"]})
            await modem.initialise()
        assert sim.engine.settings.cpms == ("SM", "ME", "SM")  # the simulator has no MT
