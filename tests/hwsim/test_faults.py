"""Every fault profile, driven over the pty: the exact bytes a real modem puts on the line."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from smscat.hwsim import pdu
from smscat.hwsim.engine import PROFILES
from smscat.hwsim.service import SimOptions, Simulator, running
from tests.support.atport import AtPort
from tests.support.simclient import get_json, submit_body

SENDER = "+8613800138000"


def submit_pdu(text: str = "hi") -> tuple[bytes, bytes]:
    """(the AT+CMGS line, the hex typed at the prompt)."""
    length, body = submit_body(text, da=SENDER)
    return b"AT+CMGS=%d\r" % length, body


async def fault(control: aiohttp.ClientSession, **body: Any) -> dict[str, Any]:
    async with control.post("/faults", json=body) as resp:
        assert resp.status == 200, await resp.text()
        result: dict[str, Any] = await resp.json()
        return result


async def state(control: aiohttp.ClientSession) -> dict[str, Any]:
    result: dict[str, Any] = await get_json(control, "/state")
    return result


@pytest.fixture
async def quiet_port(port: AtPort) -> AtPort:
    """The port with echo off, as drivers run it."""
    assert await port.command(b"ATE0\r") == b"ATE0\r\r\nOK\r\n"
    return port


def test_every_profile_has_a_test_here() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    untested = [p for p in PROFILES if f'profile="{p}"' not in source and p != "generic"]
    assert untested == []


async def test_generic_is_the_fault_free_modem(
    quiet_port: AtPort, control: aiohttp.ClientSession
) -> None:
    assert (await fault(control, profile="generic"))["profile"] == "generic"
    assert await quiet_port.command(b"AT+CSQ\r") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    assert await quiet_port.command(b"AT+NOPE\r") == b"\r\nERROR\r\n"


async def test_huawei_urcs_inside_responses_and_the_prompt(
    quiet_port: AtPort, control: aiohttp.ClientSession
) -> None:
    await fault(control, profile="huawei")
    assert await quiet_port.command(b"AT+CSQ\r") == (
        b"\r\n+CSQ: 20,99\r\n\r\n^BOOT:20952548,0,0,0,72\r\n\r\nOK\r\n"
    )
    assert await quiet_port.command(b"AT\r") == b"\r\n^SYSINFO:2,3,0,5,1,,4\r\n\r\nOK\r\n"
    assert await quiet_port.command(b"AT+FOO\r") == (
        b"\r\n^DSFLOWRPT:0000,0,0\r\n\r\nCOMMAND NOT SUPPORT\r\n"
    )
    command, body = submit_pdu()
    prompt = await quiet_port.command(command)
    assert prompt == b"\r\n> "
    assert await quiet_port.quiet(0.2) == b"\r\n^RSSI:20\r\n"  # a URC while the prompt shows
    assert (
        await quiet_port.command(body + b"\x1a")
        == b"\r\n+CMGS: 0\r\n\r\n^BOOT:20952548,0,0,0,72\r\n\r\nOK\r\n"
    )


async def test_huawei_every_nth_response(
    quiet_port: AtPort, control: aiohttp.ClientSession
) -> None:
    await fault(control, profile="huawei", every=2)
    assert await quiet_port.command(b"AT\r") == b"\r\nOK\r\n"
    assert await quiet_port.command(b"AT\r") == b"\r\n^BOOT:20952548,0,0,0,72\r\n\r\nOK\r\n"
    assert await quiet_port.command(b"AT\r") == b"\r\nOK\r\n"


async def test_busy_gives_cme_14_and_515_n_times(
    quiet_port: AtPort, control: aiohttp.ClientSession
) -> None:
    assert await quiet_port.command(b"AT+CMEE=1\r") == b"\r\nOK\r\n"
    await fault(control, profile="busy", count=3)
    assert await quiet_port.command(b"AT+CPMS?\r") == b"\r\n+CME ERROR: 14\r\n"
    assert await quiet_port.command(b"AT+CPMS?\r") == b"\r\n+CME ERROR: 515\r\n"
    assert await quiet_port.command(b"AT+CSQ\r") == b"\r\n+CME ERROR: 14\r\n"
    assert await quiet_port.command(b"AT+CSQ\r") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"


async def test_flaky_fails_every_nth_submit_with_cms_500(
    quiet_port: AtPort, control: aiohttp.ClientSession
) -> None:
    await fault(control, profile="flaky", every=2)
    command, body = submit_pdu()
    replies = []
    for _ in range(4):
        assert await quiet_port.command(command) == b"\r\n> "
        replies.append(await quiet_port.command(body + b"\x1a"))
    assert replies == [
        b"\r\n+CMGS: 0\r\n\r\nOK\r\n",
        b"\r\n+CMS ERROR: 500\r\n",
        b"\r\n+CMGS: 1\r\n\r\nOK\r\n",  # a refused submit uses no TP-MR
        b"\r\n+CMS ERROR: 500\r\n",
    ]
    counters = (await state(control))["counters"]
    assert (counters["cmgs_ok"], counters["cmgs_error"]) == (2, 2)


async def test_silent_answers_nothing_for_s_seconds(
    quiet_port: AtPort, control: aiohttp.ClientSession
) -> None:
    await fault(control, profile="silent", seconds=0.6)
    await quiet_port.send(b"AT\r")
    assert await quiet_port.quiet(0.3) == b""
    assert (await state(control))["fault"]["active"] is True
    await asyncio.sleep(0.5)
    assert await quiet_port.command(b"AT\r") == b"\r\nOK\r\n"  # what it missed stays unanswered
    assert (await state(control))["fault"]["active"] is False


async def test_garbage_non_utf8_and_broken_lines_before_responses(
    quiet_port: AtPort, control: aiohttp.ClientSession
) -> None:
    await fault(control, profile="garbage")
    first = await quiet_port.command(b"AT+CSQ\r")
    assert first == b"\r\n+CS\xc3\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    second = await quiet_port.command(b"AT\r")
    assert second == b"\x1b[0m\x81\r\n^RSS\r\nOK\r\n"
    third = await quiet_port.command(b"AT\r")
    assert third == b"\xff\xfe\x00\x80\r\n\r\nOK\r\n"
    with pytest.raises(UnicodeDecodeError):
        (first + second + third).decode("utf-8")


async def test_unplug_removes_the_pty_and_a_new_one_appears(
    sim: Simulator, control: aiohttp.ClientSession
) -> None:
    before = os.readlink(sim.link)
    async with AtPort(sim.link) as port:
        assert await port.command(b"ATE0\r") == b"ATE0\r\r\nOK\r\n"
        await fault(control, profile="unplug", seconds=0.5)
        assert not sim.link.exists()
        with pytest.raises((EOFError, OSError)):
            await port.command(b"AT\r", timeout=1.0)
    async with asyncio.timeout(5):
        while not sim.link.exists():  # noqa: ASYNC110 - a file appears; nothing to wait on
            await asyncio.sleep(0.05)
    assert re.fullmatch(r"/dev/pts/\d+", os.readlink(sim.link))
    async with AtPort(sim.link) as port:
        assert await port.command(b"AT\r") == b"AT\r\r\nOK\r\n"  # echo is back: settings lost
    assert before  # the old device was a real pty too


async def test_reboot_loses_settings_and_says_rdy_and_sms_ready(
    quiet_port: AtPort, control: aiohttp.ClientSession
) -> None:
    assert await quiet_port.command(b"AT+CMEE=2;+CNMI=2,1\r") == b"\r\nOK\r\n"
    await fault(control, profile="reboot", seconds=0.3)
    assert await quiet_port.quiet(0.6) == (
        b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nSMS Ready\r\n"
    )
    assert await quiet_port.command(b"AT+CMEE?\r") == b"AT+CMEE?\r\r\n+CMEE: 0\r\n\r\nOK\r\n"
    assert (
        await quiet_port.command(b"AT+CNMI?\r") == b"AT+CNMI?\r\r\n+CNMI: 0,0,0,0,0\r\n\r\nOK\r\n"
    )


async def test_network_down_unregisters_and_submits_fail_with_331(
    quiet_port: AtPort, control: aiohttp.ClientSession
) -> None:
    assert await quiet_port.command(b"AT+CREG=1;+CNMI=2,1\r") == b"\r\nOK\r\n"
    await fault(control, profile="network-down", seconds=0.8)
    assert await quiet_port.quiet(0.1) == b"\r\n+CREG: 2\r\n"
    assert await quiet_port.command(b"AT+CREG?\r") == b"\r\n+CREG: 1,2\r\n\r\nOK\r\n"
    assert await quiet_port.command(b"AT+CSQ\r") == b"\r\n+CSQ: 99,99\r\n\r\nOK\r\n"
    command, body = submit_pdu()
    assert await quiet_port.command(command) == b"\r\n> "
    assert await quiet_port.command(body + b"\x1a") == b"\r\n+CMS ERROR: 331\r\n"
    async with control.post("/sms", json={"from": SENDER, "text": "held"}) as resp:
        assert resp.status == 202
    assert (await state(control))["pending"] == 1  # the network keeps it while we are away
    assert await quiet_port.quiet(1.0) == b'\r\n+CREG: 1\r\n\r\n+CMTI: "SM",1\r\n'
    assert (await state(control))["registration"] == "registered"


def concat_submit(seq: int, total: int = 3) -> tuple[bytes, bytes]:
    """Part ``seq`` of a ``total``-part message, as (the AT+CMGS line, the hex at the prompt)."""
    length, body = submit_body(f"part {seq}", da=SENDER, concat=pdu.Concat(77, total, seq))
    return b"AT+CMGS=%d\r" % length, body


async def submitted(port: AtPort, command: bytes, body: bytes) -> bytes:
    assert await port.command(command) == b"\r\n> "
    return await port.command(body + b"\x1a")


async def test_network_down_at_a_part_takes_coverage_away_at_that_submit(
    quiet_port: AtPort, control: aiohttp.ClientSession
) -> None:
    assert await quiet_port.command(b"AT+CREG=1\r") == b"\r\nOK\r\n"
    await fault(control, profile="network-down", part=2, seconds=0.5)
    assert (await state(control))["registration"] == "registered"  # armed, not yet down
    assert (await submitted(quiet_port, *concat_submit(1))).startswith(b"\r\n+CMGS: ")
    assert await submitted(quiet_port, *concat_submit(2)) == b"\r\n+CMS ERROR: 331\r\n"
    assert await quiet_port.quiet(0.1) == b"\r\n+CREG: 2\r\n"  # the network went then
    assert await submitted(quiet_port, *concat_submit(3)) == b"\r\n+CMS ERROR: 331\r\n"
    assert await quiet_port.quiet(1.0) == b"\r\n+CREG: 1\r\n"  # and came back
    assert (await submitted(quiet_port, *concat_submit(2))).startswith(b"\r\n+CMGS: ")


async def test_barred_refuses_every_submit_with_cms_8_while_registered(
    quiet_port: AtPort, control: aiohttp.ClientSession
) -> None:
    await fault(control, profile="barred")
    for _ in range(2):
        assert await submitted(quiet_port, *submit_pdu()) == b"\r\n+CMS ERROR: 8\r\n"
    assert (await state(control))["registration"] == "registered"
    await fault(control, profile="none")
    assert (await submitted(quiet_port, *submit_pdu())).startswith(b"\r\n+CMGS: ")


async def test_reject_refuses_one_part_with_the_code_given(
    quiet_port: AtPort, control: aiohttp.ClientSession
) -> None:
    await fault(control, profile="reject", code=28, part=2, count=1)
    assert (await submitted(quiet_port, *concat_submit(1))).startswith(b"\r\n+CMGS: ")
    assert await submitted(quiet_port, *concat_submit(2)) == b"\r\n+CMS ERROR: 28\r\n"
    # count=1: the part goes the second time; a single SMS was never concerned
    assert (await submitted(quiet_port, *concat_submit(2))).startswith(b"\r\n+CMGS: ")
    await fault(control, profile="reject")  # no part, no count: every submit, RP-Cause 21
    assert await submitted(quiet_port, *submit_pdu()) == b"\r\n+CMS ERROR: 21\r\n"
    assert await submitted(quiet_port, *concat_submit(3)) == b"\r\n+CMS ERROR: 21\r\n"


async def test_slow_adds_latency_per_submit(
    quiet_port: AtPort, control: aiohttp.ClientSession
) -> None:
    await fault(control, profile="slow", seconds=0.4)
    command, body = submit_pdu()
    assert await quiet_port.command(command) == b"\r\n> "
    await quiet_port.send(body + b"\x1a")
    assert await quiet_port.quiet(0.2) == b""  # still at the network
    assert await quiet_port.quiet(0.5) == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"


async def test_sim_full_holds_new_sms_until_a_slot_frees(
    quiet_port: AtPort, control: aiohttp.ClientSession
) -> None:
    assert await quiet_port.command(b"AT+CNMI=2,1\r") == b"\r\nOK\r\n"
    await fault(control, profile="sim-full")
    assert (await state(control))["storage"] == {"used": 30, "total": 30, "read": 30}
    tpdu = pdu.encode_submit(SENDER, "draft")
    assert await quiet_port.command(f"AT+CMGW={len(tpdu)}\r".encode()) == b"\r\n+CMS ERROR: 322\r\n"
    async with control.post("/sms", json={"from": SENDER, "text": "等一下"}) as resp:
        assert resp.status == 202
    assert await quiet_port.quiet(0.3) == b""  # no slot: no +CMTI
    assert (await state(control))["pending"] == 1
    reply = await quiet_port.command(b"AT+CMGD=7\r")
    assert reply + await quiet_port.quiet(0.3) == b'\r\nOK\r\n\r\n+CMTI: "SM",7\r\n'
    stored = await quiet_port.command(b"AT+CMGR=7\r")
    hex_pdu = stored.split(b"\r\n")[2]
    _smsc, delivered = pdu.split_smsc(bytes.fromhex(hex_pdu.decode()))
    assert pdu.decode_deliver(delivered).text == "等一下"


async def test_none_clears_a_fault_at_once(
    quiet_port: AtPort, control: aiohttp.ClientSession
) -> None:
    await fault(control, profile="network-down", seconds=60)
    assert (await state(control))["registration"] == "not-registered"
    cleared = await fault(control, profile="none")
    assert cleared == {
        "profile": "generic",
        "count": None,
        "every": None,
        "seconds": None,
        "code": None,
        "part": None,
        "active": False,
    }
    assert (await state(control))["registration"] == "registered"
    assert await quiet_port.command(b"AT+CSQ\r") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"profile": "melted"}, "unknown profile"),
        ({}, '"profile"'),
        ({"profile": "busy", "count": "3"}, '"count" is a number'),
        ({"profile": "silent", "seconds": -1}, "out of range"),
        ({"profile": "busy", "colour": 1}, "unknown field"),
    ],
)
async def test_bad_fault_requests_are_400(
    control: aiohttp.ClientSession, body: dict[str, Any], reason: str
) -> None:
    async with control.post("/faults", json=body) as resp:
        assert resp.status == 400
        assert reason in (await resp.json())["error"]


async def test_profile_chosen_at_start(tmp_path: Path) -> None:
    options = SimOptions(link=tmp_path / "m", profile="huawei")
    async with running(options) as sim, AtPort(sim.link) as port:
        assert await port.command(b"AT+FOO\r") == (
            b"AT+FOO\r\r\n^BOOT:20952548,0,0,0,72\r\n\r\nCOMMAND NOT SUPPORT\r\n"
        )
