"""The simulator's module table: each module behaves as its row says, byte for byte.

Pure engine tests (no pty, no clock): start-up lines and the SMS-ready window (A7670, SIM7600),
URCs only after ``AT+QURCCFG="urcport","usbat"`` (Quectel), ^RSSI noise until ``AT^CURC=0``
(Huawei), and the names config and the CLI accept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from pydantic import ValidationError

from smscat.hwsim.engine import Output, SimModem, Timer
from smscat.hwsim.modules import TABLE, module
from smscat.hwsim.profiles import MODULES
from smscat.hwsim.service import SimOptions, running
from smscat.relay.daemon.config import SimOptions as ConfigSimOptions
from tests.support.simclient import HTTP_TIMEOUT, get_json

START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def modem(name: str) -> SimModem:
    row = module(name)
    return SimModem(now=lambda: START, module=row, index_base=row.index_base if row else 1)


def line_bytes(out: list[Output]) -> bytes:
    return b"".join(item for item in out if isinstance(item, bytes))


def timers(out: list[Output]) -> list[Timer]:
    return [item for item in out if isinstance(item, Timer)]


def send(sim: SimModem, data: bytes) -> bytes:
    return line_bytes(sim.receive(data))


def test_every_module_name_has_a_row_and_the_cli_and_config_take_it() -> None:
    assert set(MODULES) == {"generic", *TABLE}
    for name in MODULES:
        assert ConfigSimOptions(module=name).module == name
    with pytest.raises(ValidationError, match="unknown module"):
        ConfigSimOptions(module="ec99")
    with pytest.raises(ValueError, match="unknown module"):
        module("ec99")


@pytest.mark.parametrize("name", sorted(TABLE))
def test_identity_is_what_the_module_reports(name: str) -> None:
    sim = modem(name)
    sim.receive(b"ATE0\r")
    row = TABLE[name]
    assert send(sim, b"AT+CGMI\r") == f"\r\n{row.manufacturer}\r\n\r\nOK\r\n".encode()
    assert send(sim, b"AT+CGMM\r") == f"\r\n{row.model}\r\n\r\nOK\r\n".encode()
    assert send(sim, b"AT+CGMR\r") == f"\r\n+CGMR: {row.revision}\r\n\r\nOK\r\n".encode()
    assert len(row.source) > 20


def test_a7670_refuses_sms_commands_until_sms_done() -> None:
    sim = modem("a7670")
    start = sim.start()
    assert line_bytes(start) == b"\r\n*ATREADY: 1\r\n\r\n+CPIN: READY\r\n"
    [ready] = timers(start)
    assert ready.seconds == 5.0
    sim.receive(b"ATE0\r")
    assert send(sim, b"AT+CMGF=0\r") == b"\r\nERROR\r\n"  # LilyGo-Modem-Series #247
    assert send(sim, b"AT+CSQ\r") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"  # not an SMS command
    assert line_bytes(sim.on_timer(ready.key)) == b"\r\nSMS DONE\r\n\r\nPB DONE\r\n"
    assert send(sim, b"AT+CMGF=0\r") == b"\r\nOK\r\n"
    assert sim.module_state()["not_ready_refusals"] == 1


def test_a_rebooting_a7670_starts_its_window_again() -> None:
    sim = modem("a7670")
    sim.on_timer(timers(sim.start())[0].key)
    out = sim.set_fault("reboot", seconds=0.1)
    [wake] = timers(out)
    again = sim.on_timer(wake.key)
    assert b"*ATREADY: 1" in line_bytes(again)
    assert sim.module_state()["sms_ready"] is False
    sim.receive(b"ATE0\r")
    assert send(sim, b"AT+CPMS?\r") == b"\r\nERROR\r\n"
    sim.on_timer(timers(again)[0].key)
    assert send(sim, b"AT+CPMS?\r").startswith(b"\r\n+CPMS: ")


@pytest.mark.parametrize("name", ["ec20", "ec25", "eg25", "ec200u"])
def test_quectel_sends_cmti_here_only_after_the_urc_port_command(name: str) -> None:
    sim = modem(name)
    base = TABLE[name].index_base
    sim.receive(b"ATE0\r")
    assert send(sim, b"AT+CNMI=2,1,0,0,0\r") == b"\r\nOK\r\n"
    assert send(sim, b'AT+QURCCFG="urcport"\r') == (
        b'\r\n+QURCCFG: "urcport","usbmodem"\r\n\r\nOK\r\n'
    )
    *_, urcs = sim.network_sms("+8613912345678", "您好")
    assert line_bytes(urcs) == b""  # "to another port"
    assert send(sim, b'AT+QURCCFG="urcport","usbat"\r') == b"\r\nOK\r\n"
    *_, urcs = sim.network_sms("+8613912345678", "再见")
    assert line_bytes(urcs) == f'\r\n+CMTI: "SM",{base + 1}\r\n'.encode()
    assert send(sim, b'AT+QURCCFG="urcport","usb"\r') == b"\r\nERROR\r\n"


def test_modules_without_a_urc_port_setting_refuse_the_command() -> None:
    sim = modem("a7670")
    sim.on_timer(timers(sim.start())[0].key)
    sim.receive(b"ATE0;+CMEE=1\r")
    assert send(sim, b'AT+QURCCFG="urcport","usbat"\r') == b"\r\nERROR\r\n"
    assert send(sim, b"AT^CURC=0\r") == b"\r\nERROR\r\n"


def test_huawei_status_noise_runs_until_curc_0() -> None:
    sim = modem("me909s")
    [tick] = timers(sim.start())
    out = sim.on_timer(tick.key)
    assert line_bytes(out) in (b"\r\n^RSSI:20\r\n", b"\r\n^MODE:17,17\r\n")
    [tick] = timers(out)
    sim.receive(b"ATE0\r")
    assert send(sim, b"AT^CURC=0\r") == b"\r\nOK\r\n"
    assert send(sim, b"AT^CURC?\r") == b"\r\n^CURC: 0\r\n\r\nOK\r\n"
    out = sim.on_timer(tick.key)
    assert line_bytes(out) == b""
    assert len(timers(out)) == 1  # still ticking: AT^CURC=1 would bring the noise back
    assert sim.module_state()["periodic_urcs"] is False


def test_the_generic_modem_has_no_module_behaviour() -> None:
    sim = SimModem(now=lambda: START)
    assert sim.start() == []
    assert sim.module_state()["module"] == "generic"
    sim.receive(b"ATE0\r")
    assert send(sim, b"AT+CMGF=0\r") == b"\r\nOK\r\n"


async def test_the_running_simulator_takes_the_module_and_reset_powers_it_up_again(
    tmp_path: Path,
) -> None:
    options = SimOptions(link=tmp_path / "modem", module="a7670", sms_ready_after=60.0)
    async with (
        running(options) as sim,
        aiohttp.ClientSession(base_url=sim.control_url, timeout=HTTP_TIMEOUT) as control,
    ):
        state = await get_json(control, "/module")
        assert (state["module"], state["model"], state["sms_ready"]) == (
            "a7670",
            "A7670E-LNXY-UBL",
            False,
        )
        sim.engine.sms_ready = True
        async with control.post("/reset") as resp:
            assert resp.status == 200
        assert (await get_json(control, "/module"))["sms_ready"] is False  # a new device
    async with running(SimOptions(link=tmp_path / "modem", module="ec25")) as sim:
        assert sim.engine.stores["SM"].base == 0  # the module's index base wins
