"""The session and device layer on a real pty against the simulator (hw-sim)."""

from __future__ import annotations

import asyncio
import json
import math
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from smscat.hwsim.service import SimOptions, Simulator, running
from smscat.modem.atparser import Unsolicited
from smscat.modem.device import Modem, csq_to_dbm
from smscat.modem.errors import (
    CmeError,
    CmsError,
    ModemTimeout,
    TransportError,
    Unconfirmed,
)
from smscat.modem.session import AtSession, SessionSettings
from tests.support.simproc import sim_process

TO = "+8613800138000"
FAST = SessionSettings(
    command_timeout=2.0, prompt_timeout=2.0, submit_timeout=2.0, busy_backoff=0.01
)


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[Simulator]:
    async with running(SimOptions(link=tmp_path / "modem", report_delay=0.05)) as simulator:
        yield simulator


@pytest.fixture
async def modem(sim: Simulator) -> AsyncIterator[Modem]:
    async with AtSession.open(str(sim.link), FAST) as session:
        device = Modem(session)
        await device.initialise()
        yield device


async def set_fault(sim: Simulator, **body: object) -> None:
    url = f"{sim.control_url}/faults"
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as resp:
        assert resp.status == 200, await resp.text()


async def test_probe_reads_identity_sim_signal_and_registration(modem: Modem) -> None:
    health = await modem.probe()
    assert health.as_json() == {
        "manufacturer": "SIMCOM INCORPORATED",
        "model": "SIMCOM_SIM7600G-H",
        "revision": "LE20B04SIM7600G22",
        "imei": "867584030123454",
        "sim": "READY",
        "csq": 20,
        "signal_dbm": -73,
        "registration": "home",
        "roaming": False,
        "operator": "CHINA MOBILE",
    }


@pytest.mark.parametrize(("rssi", "dbm"), [(0, -113), (1, -111), (20, -73), (31, -51), (99, None)])
def test_csq_to_dbm(rssi: int, dbm: int | None) -> None:
    assert csq_to_dbm(rssi) == dbm


async def test_send_chinese_multipart_arrives_exactly_in_minimum_parts(
    modem: Modem, sim: Simulator
) -> None:
    text = ("您好，术后第七天请按时服药，注意休息，定期复查血压。" * 12)[:298] + "😀𠮷"
    sent = await modem.send("138 0013 8000", text, ref=200)
    units = len(text.encode("utf-16-be")) // 2
    assert len(sent) == math.ceil(units / 67)
    assert [p.mr for p in sent] == list(range(len(sent)))
    [message] = sim.engine.sent
    assert (message.to, message.text, message.complete) == (TO, text, True)
    assert message.duplicate_parts == 0


async def test_urcs_inside_responses_go_to_the_queue(modem: Modem, sim: Simulator) -> None:
    await set_fault(sim, profile="huawei")
    lines = await modem.session.command("AT+CSQ")
    assert lines == ["+CSQ: 20,99"]
    urc = await asyncio.wait_for(modem.session.urcs.get(), 1)
    assert isinstance(urc, Unsolicited)
    assert urc.name == "^BOOT"


async def test_busy_is_retried_a_bounded_number_of_times(modem: Modem, sim: Simulator) -> None:
    await set_fault(sim, profile="busy", count=2)
    assert await modem.session.command("AT+CSQ") == ["+CSQ: 20,99"]
    assert modem.session.stats.busy_retries == 2
    await set_fault(sim, profile="busy", count=50)
    with pytest.raises(CmeError) as info:
        await modem.session.command("AT+CSQ")
    assert info.value.code in (14, 515)
    assert modem.session.stats.busy_retries == 2 + FAST.busy_retries


async def test_a_late_reply_never_answers_the_next_command(modem: Modem, sim: Simulator) -> None:
    await set_fault(sim, profile="slow", seconds=2.5)  # longer than the submit timeout
    with pytest.raises(Unconfirmed) as raised:
        await modem.send(TO, "late", ref=1)
    assert isinstance(raised.value.__cause__, ModemTimeout)
    assert [m.text for m in sim.engine.sent] == ["late"]  # why "unconfirmed": it did go
    await asyncio.sleep(1.0)  # the late "+CMGS: 0 / OK" arrives now, after the abandon
    assert await modem.session.command("AT+CSQ") == ["+CSQ: 20,99"]
    assert await modem.session.command("AT+CPIN?") == ["+CPIN: READY"]
    assert modem.session.stats.stale_lines >= 1


async def test_a_late_reply_that_comes_after_the_next_command_is_written_is_stale(
    modem: Modem, sim: Simulator
) -> None:
    await set_fault(sim, profile="slow", seconds=2.5)
    with pytest.raises(Unconfirmed):
        await modem.send(TO, "late", ref=1)
    await set_fault(sim, profile="none")
    # At once: the modem is still busy with the submit, so "+CMGS: 0 / OK" comes after this
    # command was written; the resynchronisation's boundary puts it before the answer.
    resyncs = modem.session.stats.resyncs
    assert await modem.session.command("AT+CSQ") == ["+CSQ: 20,99"]
    assert modem.session.stats.resyncs == resyncs + 1
    assert modem.session.stats.stale_lines >= 2  # the late +CMGS and OK
    assert await modem.session.command("AT+CPIN?") == ["+CPIN: READY"]


def test_echo_is_off_between_resynchronisations(modem: Modem, sim: Simulator) -> None:
    assert sim.engine.settings.echo is False


async def test_a_silent_modem_times_out_and_then_answers_again(
    modem: Modem, sim: Simulator
) -> None:
    await set_fault(sim, profile="silent", seconds=1.0)
    with pytest.raises(ModemTimeout):
        await modem.session.command("AT+CSQ", timeout=0.5)
    await asyncio.sleep(0.7)
    assert await modem.session.command("AT+CSQ") == ["+CSQ: 20,99"]


async def test_garbage_on_the_line_is_skipped(modem: Modem, sim: Simulator) -> None:
    await set_fault(sim, profile="garbage")
    for _ in range(3):
        # A cut-off line can look like an answer line ("^RSS"): real modems also answer with
        # other names (ZTE AT+ZPAS? → +BEARTYPE:), so callers pick their line by its prefix.
        lines = await modem.session.command("AT+CSQ")
        assert [line for line in lines if line.startswith("+CSQ:")] == ["+CSQ: 20,99"]
    assert (await modem.probe()).csq == 20
    assert modem.session.stats.garbage_lines >= 1


async def test_a_failed_submit_is_a_cms_error(modem: Modem, sim: Simulator) -> None:
    await set_fault(sim, profile="flaky", every=1)
    with pytest.raises(CmsError) as info:
        await modem.send(TO, "x", ref=1)
    assert info.value.code == 500


async def test_unplug_fails_the_waiting_command_and_every_later_one(
    modem: Modem, sim: Simulator
) -> None:
    await set_fault(sim, profile="unplug", seconds=5)
    with pytest.raises((TransportError, ModemTimeout)):
        await modem.session.command("AT+CSQ")
    with pytest.raises(TransportError):
        await modem.session.command("AT+CSQ")
    assert modem.session.failed


async def test_cli_send_and_probe_through_a_simulator_process(tmp_path: Path) -> None:
    text = ("复诊提醒：请于下周三上午携带检查报告到心内科门诊。" * 12)[:298] + "😀𠮷"
    async with sim_process(tmp_path) as simulator:
        for args in (
            ["probe"],
            ["send", "--to", "13800138000", "--text", text],
        ):
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "smscat.relay.daemon.cli",
                "modem",
                args[0],
                "--port",
                str(simulator.link),
                *args[1:],
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, err
            result = json.loads(out)
            if args[0] == "probe":
                assert result["imei"] == "867584030123454"
            else:
                units = len(text.encode("utf-16-be")) // 2
                assert result["parts"] == math.ceil(units / 67)
        url = f"{simulator.control_url}/sent"
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            [sent] = await resp.json()
    assert sent["text"] == text
    assert sent["to"] == TO
    assert sent["complete"] is True


async def test_a_prompt_left_open_by_a_previous_owner_is_closed_on_open(sim: Simulator) -> None:
    async with AtSession.open(str(sim.link), FAST) as first:
        await first.command("AT+CMGF=0")
        first._write(b"AT+CMGS=20\r")  # then the owner dies without writing the PDU
        await asyncio.sleep(0.2)
    assert sim.engine.state()["prompt"] is True
    async with AtSession.open(str(sim.link), FAST) as second:
        assert await second.command("AT+CSQ") == ["+CSQ: 20,99"]
    assert sim.engine.state()["prompt"] is False
    assert sim.engine.counters["cmgs_ok"] == 0  # nothing was sent by the abandoned prompt
