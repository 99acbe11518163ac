"""Each module profile end to end: the driver against ``smscat sim --module NAME`` on a pty.

For every module the simulator can pretend to be, the driver initialises it with the quirks
its +CGMI/+CGMM strings select, sends a 300-character Chinese SMS (five UCS2 parts) and receives
one through +CMTI. Then the negative: with the module's quirk flag turned off by a config
override, the simulated module misbehaves as the real one does (no +CMTI on this port without
the URC port command; SMS commands refused before "SMS DONE"; ^RSSI noise without ^CURC=0).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from smscat.hwsim.modules import TABLE
from smscat.modem.atparser import Unsolicited
from smscat.modem.device import Modem
from smscat.modem.errors import CommandError
from smscat.modem.inbox import Inbox
from smscat.modem.quirks import find_entry, lookup
from smscat.modem.reassembly import Reassembler
from smscat.modem.session import AtSession
from tests.support.simclient import HTTP_TIMEOUT, get_json, post_sms
from tests.support.simproc import SimProcess, sim_process

LONG = ("您好，请问术后第三天伤口有点红肿，需要去医院复查吗？" * 12)[:300]  # 5 UCS2 parts
EXPERT = "+8613800138000"
PATIENT = "+8613912345678"
NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
NAMES = sorted(TABLE)
QUECTEL = [name for name in NAMES if TABLE[name].urc_port is not None]
READY_WINDOW = [name for name in NAMES if TABLE[name].sms_ready_after is not None]
NOISY = [name for name in NAMES if TABLE[name].periodic_urc_seconds is not None]


def _sim_args(name: str, ready_after: float = 4.0) -> tuple[str, ...]:
    """``--module NAME``, and a start-up window long enough to meet the driver inside it."""
    window = ("--sms-ready-after", str(ready_after)) if name in READY_WINDOW else ()
    return ("--module", name, *window)


async def _control(sim: SimProcess) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(base_url=sim.control_url, timeout=HTTP_TIMEOUT)


def _drain(session: AtSession) -> list[Unsolicited]:
    urcs = []
    while not session.urcs.empty():
        urcs.append(session.urcs.get_nowait())
    return urcs


async def _network_sms(session: AtSession, control: aiohttp.ClientSession) -> list[Unsolicited]:
    """A phone sends LONG; the URCs the module wrote on this port for it.

    The control call returns after the simulator wrote the delivery's URCs to the pty, so the
    answer to a plain ``AT`` written afterwards comes after them: no sleep, no guessing.
    """
    _drain(session)
    answer = await post_sms(control, {"from": PATIENT, "text": LONG})
    assert answer["parts"] == 5
    await session.command("AT")
    return _drain(session)


async def _module_state(control: aiohttp.ClientSession) -> dict[str, Any]:
    state: dict[str, Any] = await get_json(control, "/module")
    return state


@pytest.mark.parametrize("name", NAMES)
async def test_the_driver_sends_and_receives_long_chinese_sms_on_each_module(
    tmp_path: Path, name: str
) -> None:
    async with (
        sim_process(tmp_path, *_sim_args(name)) as sim,
        await _control(sim) as control,
        AtSession.open(str(sim.link)) as session,
    ):
        modem = Modem(session)
        await modem.initialise()
        state = await _module_state(control)
        assert state["module"] == name
        entry = find_entry(state["manufacturer"], state["model"])
        assert entry is not None, "every simulated module has a row in the quirk table"
        assert modem.quirks == lookup(state["manufacturer"], state["model"])
        # the module's start-up wait and URC routing, as the simulated module saw them
        assert state["sms_ready"] is True
        if name in READY_WINDOW:  # the driver met the window: one refused probe, then waited
            assert state["not_ready_refusals"] == 1
        if name in QUECTEL:
            assert state["urc_port"] == "usbat"
        if name in NOISY:
            assert state["periodic_urcs"] is False

        sent = await modem.send(EXPERT, LONG, ref=7)
        assert [part.seq for part in sent] == [1, 2, 3, 4, 5]
        submitted = await get_json(control, "/sent")
        assert [(m["to"], m["text"], m["complete"]) for m in submitted] == [(EXPERT, LONG, True)]

        urcs = await _network_sms(session, control)
        notices = [urc for urc in urcs if urc.name == "+CMTI"]
        assert len(notices) == 5
        inbox = Inbox(session, modem.quirks)
        reassembler = Reassembler()
        messages = []
        indexes = []
        for urc in notices:
            location = inbox.notified_location(urc)
            assert location is not None
            memory, index = location
            indexes.append(index)
            part = await inbox.read(index, memory)
            assert part is not None
            message = reassembler.add(part.deliver, NOW)
            if message is not None:
                messages.append(message)
                await inbox.delete(index, memory)
        assert [(m.sender, m.text) for m in messages] == [(PATIENT, LONG)]
        assert min(indexes) == modem.quirks.storage_index_base == TABLE[name].index_base


@pytest.mark.parametrize("name", QUECTEL)
async def test_without_the_urc_port_command_no_cmti_reaches_the_at_port(
    tmp_path: Path, name: str
) -> None:
    async with (
        sim_process(tmp_path, *_sim_args(name)) as sim,
        await _control(sim) as control,
        AtSession.open(str(sim.link)) as session,
    ):
        modem = Modem(session, {"urc_port_command": None})
        await modem.initialise()
        assert (await _module_state(control))["urc_port"] == "usbmodem"
        urcs = await _network_sms(session, control)
        assert [urc for urc in urcs if urc.name == "+CMTI"] == []
        # The SMS arrived all the same: only a sweep of the storage finds it.
        assert modem.storages is not None
        parts = await Inbox(session, modem.quirks).sweep(modem.storages[2])
        assert len(parts) == 5


@pytest.mark.parametrize("name", READY_WINDOW)
async def test_without_the_ready_wait_sms_setup_is_refused_before_sms_done(
    tmp_path: Path, name: str
) -> None:
    async with (
        sim_process(tmp_path, *_sim_args(name, ready_after=60.0)) as sim,
        await _control(sim) as control,
        AtSession.open(str(sim.link)) as session,
    ):
        modem = Modem(session, {"sms_ready_lines": []})
        with pytest.raises(CommandError) as refused:
            await modem.initialise()
        assert refused.value.command == "AT+CMGF=0"
        state = await _module_state(control)
        assert (state["sms_ready"], state["not_ready_refusals"]) == (False, 1)  # AT+CMGF=0


@pytest.mark.parametrize("name", READY_WINDOW)
async def test_a_ready_line_that_never_comes_bounds_the_wait(tmp_path: Path, name: str) -> None:
    async with (
        sim_process(tmp_path, *_sim_args(name, ready_after=60.0)) as sim,
        AtSession.open(str(sim.link)) as session,
    ):
        modem = Modem(session, {"sms_ready_timeout": 1})
        with pytest.raises(CommandError):  # waited 1 s, went on, and AT+CMGF=0 said no
            await modem.initialise()


@pytest.mark.parametrize("name", NOISY)
async def test_without_curc_off_the_status_noise_goes_on(tmp_path: Path, name: str) -> None:
    async with (
        sim_process(tmp_path, *_sim_args(name)) as sim,
        await _control(sim) as control,
        AtSession.open(str(sim.link)) as session,
    ):
        modem = Modem(session, {"periodic_urcs_off_command": None})
        await modem.initialise()
        assert (await _module_state(control))["periodic_urcs"] is True
        _drain(session)
        async with asyncio.timeout(10):
            while (await session.urcs.get()).name not in ("^RSSI", "^MODE"):
                pass


@pytest.mark.parametrize("name", NAMES)
def test_the_quirk_table_and_the_simulated_module_agree(name: str) -> None:
    """Two tables written apart (the driver's, the simulator's) say the same of each module."""
    row = TABLE[name]
    quirks = lookup(row.manufacturer, row.model)
    assert quirks.storage_index_base == row.index_base
    assert (quirks.urc_port_command is not None) == (row.urc_port is not None)
    assert bool(quirks.sms_ready_lines) == (row.sms_ready_after is not None)
    assert set(quirks.sms_ready_lines) <= set(row.ready_lines)
    assert (quirks.periodic_urcs_off_command is not None) == (row.periodic_urc_seconds is not None)
