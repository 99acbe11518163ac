"""``smscat modem scan``: ports, their holders, USB modes, the probe, the words and the snippet.

The host facts run on fake ``/dev``, ``/proc`` and ``/sys`` trees and on a real pty held by a
real process; the probe talks to simulated modules (hw-sim), in-process where the test needs
to change what the SIM holds, and as ``smscat sim`` processes for the command end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import ValidationError

from smscat.hwsim.service import SimOptions, Simulator, running
from smscat.modem.device import Modem
from smscat.modem.session import AtSession
from smscat.modem.supervisor import ModemSupervisor
from smscat.relay.daemon.config import ModemConfig
from smscat.relay.daemon.scan import PortReport, ScanReport, probe_port, render, snippet
from smscat.relay.daemon.scanhost import Holder, Port, holders, list_ports, usb_hints
from smscat.relay.daemon.words import LANGUAGES, WORDS, say
from tests.support.simproc import sim_process
from tests.support.supervision import FAST, until

ROOT = Path(__file__).resolve().parents[3]


def _smscat(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sysconfig.get_path("scripts")) / "smscat"
    return subprocess.run(
        [str(exe), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


# -- which ports -----------------------------------------------------------------------------


def _fake_dev(tmp: Path) -> Path:
    dev = tmp / "dev"
    by_id = dev / "serial" / "by-id"
    by_id.mkdir(parents=True)
    for name in ("ttyUSB0", "ttyUSB1", "ttyUSB2", "ttyUSB3", "ttyUSB10", "ttyACM0", "ttyS0"):
        (dev / name).touch()
    stem = "usb-Quectel_EC25_0123456789ABCDEF"
    for i, tty in enumerate(("ttyUSB0", "ttyUSB1", "ttyUSB2", "ttyUSB3")):
        (by_id / f"{stem}-if0{i}-port0").symlink_to(f"../../{tty}")
    return dev


def test_by_id_links_come_first_then_the_ttys_they_do_not_name(tmp_path: Path) -> None:
    dev = _fake_dev(tmp_path)
    ports = list_ports(dev)
    stem = "usb-Quectel_EC25_0123456789ABCDEF"
    assert [p.path for p in ports] == [
        *(str(dev / "serial" / "by-id" / f"{stem}-if0{i}-port0") for i in range(4)),
        str(dev / "ttyUSB10"),  # ttyUSB0-3 are named by by-id already; 10 after 3, not after 1
        str(dev / "ttyACM0"),
    ]
    assert ports[2].device == str(dev / "ttyUSB2")
    assert (ports[2].group, ports[2].interface) == (stem, "if02")
    assert ports[4].group is None  # no by-id name: no device to group it with


def test_ports_given_are_scanned_alone_in_their_order(tmp_path: Path) -> None:
    dev = _fake_dev(tmp_path)
    ports = list_ports(dev, [str(dev / "ttyACM0"), str(dev / "ttyUSB1")])
    assert [p.path for p in ports] == [str(dev / "ttyACM0"), str(dev / "ttyUSB1")]


def test_no_dev_directory_lists_nothing(tmp_path: Path) -> None:
    assert list_ports(tmp_path / "missing") == []


# -- who holds a port --------------------------------------------------------------------------


def _process(proc: Path, pid: int, comm: str, fds: dict[str, str], info: str = "") -> None:
    (proc / str(pid) / "fd").mkdir(parents=True)
    (proc / str(pid) / "fdinfo").mkdir()
    (proc / str(pid) / "comm").write_text(comm + "\n")
    for fd, target in fds.items():
        (proc / str(pid) / "fd" / fd).symlink_to(target)
        (proc / str(pid) / "fdinfo" / fd).write_text(info)


def test_the_holder_is_named_from_a_fake_proc(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    _process(proc, 812, "ModemManager", {"0": "/dev/null", "7": "/dev/ttyUSB2"})
    _process(proc, 900, "gammu-smsd", {"3": "/dev/ttyUSB3"})
    _process(proc, 77, "smscat", {"4": "/dev/ttyUSB2"})  # the scan itself
    (proc / "self").mkdir()  # not a pid
    assert holders(proc, "/dev/ttyUSB2", me=77) == [Holder(812, "ModemManager")]
    assert str(holders(proc, "/dev/ttyUSB2", me=77)[0]) == "ModemManager pid 812"
    assert holders(proc, "/dev/ttyUSB1", me=77) == []


def test_the_pty_s_own_master_side_is_not_a_holder(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    # a simulator: the master of pty 4 and its own slave descriptor
    _process(proc, 50, "smscat", {"3": "/dev/ptmx", "4": "/dev/pts/4"}, "pos:\t0\ntty-index:\t4\n")
    # a terminal of pty 9 that also has pty 4 open: a holder
    _process(proc, 60, "minicom", {"3": "/dev/ptmx", "5": "/dev/pts/4"}, "tty-index:\t9\n")
    assert holders(proc, "/dev/pts/4", me=1) == [Holder(60, "minicom")]


@contextlib.contextmanager
def _pty_held_by_another_process() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A real pty whose slave a real ``python -c`` has open; the child is killed at the end."""
    master, slave = os.openpty()
    name = os.ttyname(slave)
    os.close(slave)
    code = (
        "import os, sys, time\n"
        f"fd = os.open({name!r}, os.O_RDWR | os.O_NOCTTY)\n"
        "print('open', flush=True)\n"
        "time.sleep(120)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "open"
        yield name, child
    finally:
        child.kill()
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
        os.close(master)


def test_a_real_process_holding_a_real_pty_is_named() -> None:
    with _pty_held_by_another_process() as (name, child):
        found = holders(Path("/proc"), name)
        # this test holds the master (the pty's other side): only the child is listed
        assert [h.pid for h in found] == [child.pid]
        assert found[0].name.startswith("python")
    assert holders(Path("/proc"), name) == []  # gone with it


# -- USB devices with no AT port ---------------------------------------------------------------


def _usb_device(
    sys_root: Path, name: str, vid: str, pid: str, product: str, interfaces: list[tuple[str, str]]
) -> None:
    base = sys_root / "bus" / "usb" / "devices"
    drivers = sys_root / "bus" / "usb" / "drivers"
    (base / name).mkdir(parents=True)
    (base / name / "idVendor").write_text(vid + "\n")
    (base / name / "idProduct").write_text(pid + "\n")
    (base / name / "product").write_text(product + "\n")
    for i, (cls, driver) in enumerate(interfaces):
        iface = base / f"{name}:1.{i}"
        iface.mkdir()
        (iface / "bInterfaceClass").write_text(cls + "\n")
        if driver:
            (drivers / driver).mkdir(parents=True, exist_ok=True)
            (iface / "driver").symlink_to(drivers / driver)
        if driver == "option":
            (iface / f"ttyUSB{i}").mkdir()


def test_cd_rom_and_hilink_sticks_are_told_apart_from_modems(tmp_path: Path) -> None:
    sys_root = tmp_path / "sys"
    _usb_device(sys_root, "1-1", "12d1", "1f01", "HUAWEI_MOBILE", [("08", "usb-storage")])
    _usb_device(
        sys_root, "1-2", "12d1", "14dc", "HUAWEI_MOBILE", [("02", "cdc_ether"), ("0a", "cdc_ether")]
    )
    _usb_device(
        sys_root,
        "1-3",
        "2c7c",
        "0125",
        "EC25",
        [("ff", "option"), ("ff", "option"), ("ff", "qmi_wwan"), ("08", "usb-storage")],
    )
    _usb_device(sys_root, "1-4", "046d", "c31c", "Keyboard", [("03", "usbhid")])
    _usb_device(sys_root, "1-5", "0bda", "8153", "USB Ethernet", [("ff", "r8152")])
    hints = usb_hints(sys_root)
    assert [(h.usb, h.kind, h.vendor, h.product_id) for h in hints] == [
        ("1-1", "mass-storage", "12d1", "1f01"),
        ("1-2", "hilink", "12d1", "14dc"),
    ]
    assert hints[1].drivers == ("cdc_ether",)
    result = ScanReport([], hints, None)
    text = render(result, "en", tmp_path / "dev")
    assert "CD-ROM / mass-storage mode" in text
    assert "usb_modeswitch -v 12d1 -p 1f01" in text
    assert "HiLink (network-only)" in text
    assert 'modem ("stick") mode' in text
    zh = render(result, "zh-CN", tmp_path / "dev")
    assert "大容量存储" in zh
    assert "HiLink" in zh
    assert "usb_modeswitch" in zh


def test_no_sys_tree_gives_no_hints(tmp_path: Path) -> None:
    assert usb_hints(tmp_path) == []


# -- the words ---------------------------------------------------------------------------------


def test_every_word_is_in_every_language_with_the_same_fields() -> None:
    import string

    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    keys = set(WORDS["en"])
    for language in LANGUAGES:
        assert set(WORDS[language]) == keys, language
        for key in keys:
            assert fields(WORDS[language][key]) == fields(WORDS["en"][key]), (language, key)
    assert "dialout" in say("en", "fix.unopenable", reason="Permission denied")


# -- the probe, against simulated modules ------------------------------------------------------


@contextlib.asynccontextmanager
async def _sim(tmp: Path, name: str, module: str) -> AsyncIterator[Simulator]:
    options = SimOptions(link=tmp / name, module=module, report_delay=0.1, sms_ready_after=0)
    async with running(options) as sim:
        yield sim


async def test_a_sim_without_sms_centre_gets_the_config_key_that_sets_one(tmp_path: Path) -> None:
    async with _sim(tmp_path, "m", "ec25") as sim:
        sim.engine.settings.csca = ("", 129)  # the SIM holds no SMS centre
        report = await probe_port(Port(str(sim.link), str(sim.link)), timeout=2, baudrate=115200)
    assert report.answers is True
    assert report.no_smsc
    assert report.smsc is None
    assert "no_smsc" in report.problems
    text = render(ScanReport([report], [], snippet([report])), "en", tmp_path)
    assert "SMS centre: none" in text
    assert "`modems[].smsc`" in text
    assert "AT+CSCA" in text
    assert report.health is not None
    assert report.health["model"] == "EC25"


async def test_an_sms_centre_in_ucs2_is_read_as_digits(tmp_path: Path) -> None:
    async with _sim(tmp_path, "m", "generic") as sim:
        sim.engine.settings.cscs = "UCS2"  # another program left the charset so
        report = await probe_port(Port(str(sim.link), str(sim.link)), timeout=2, baudrate=115200)
    assert report.smsc == "+8613800100500"
    assert not report.no_smsc


async def test_a_port_that_answers_nothing_and_one_that_cannot_open(tmp_path: Path) -> None:
    master, slave = os.openpty()
    name = os.ttyname(slave)
    os.close(slave)
    try:
        silent = await probe_port(Port(name, name), timeout=0.3, baudrate=115200)
    finally:
        os.close(master)
    assert (silent.answers, silent.problems) == (False, ["silent"])
    missing = str(tmp_path / "ttyUSB9")
    gone = await probe_port(Port(missing, missing), timeout=0.3, baudrate=115200)
    assert gone.answers is None
    assert gone.problems == ["unopenable"]
    assert gone.open_error
    assert missing not in say("en", "fix.silent")
    text = render(ScanReport([silent, gone], [], snippet([silent, gone])), "en", tmp_path)
    assert "answers nothing to AT" in text
    assert "cannot open this port" in text
    assert "No modem answered" in text


async def test_urcs_on_another_port_of_a_module_the_driver_does_not_know(tmp_path: Path) -> None:
    async with _sim(tmp_path, "m", "ec25") as sim:
        sim.engine.identity = replace(sim.engine.identity, model="RM500Q-GL")  # not in the table
        report = await probe_port(Port(str(sim.link), str(sim.link)), timeout=2, baudrate=115200)
    assert report.urc_port == "usbmodem"
    assert report.urc_moved is False
    assert report.problems == ["urc_elsewhere"]
    text = render(ScanReport([report], [], snippet([report])), "en", tmp_path)
    assert """quirks: {urc_port_command: 'AT+QURCCFG="urcport","usbat"'}""" in text


async def test_a_sim_asking_for_its_pin_points_to_the_pin_key(tmp_path: Path) -> None:
    options = SimOptions(link=tmp_path / "m", pin="1234", report_delay=0.1)
    async with running(options) as sim:
        report = await probe_port(Port(str(sim.link), str(sim.link)), timeout=2, baudrate=115200)
    assert report.health is not None
    assert report.health["sim"] == "SIM PIN"
    assert "sim" in report.problems
    text = render(ScanReport([report], [], snippet([report])), "en", tmp_path)
    assert "the SIM is not ready (SIM PIN)" in text
    assert "`modems[].pin`" in text


def test_the_snippet_has_one_entry_per_device() -> None:
    health: dict[str, object] = {"manufacturer": "Quectel", "model": "EC25", "revision": "R1"}
    a = PortReport("/dev/serial/by-id/x-if02-port0", "/dev/ttyUSB2", "x", "if02", answers=True)
    b = PortReport("/dev/serial/by-id/x-if03-port0", "/dev/ttyUSB3", "x", "if03", answers=True)
    c = PortReport("/dev/ttyACM0", "/dev/ttyACM0", answers=True)
    a.health = b.health = c.health = health
    assert snippet([a, b, c]) == (
        "modems:\n"
        "  # Quectel EC25 (R1)\n"
        "  - id: modem1\n"
        '    port: "/dev/serial/by-id/x-if02-port0"\n'
        "  # Quectel EC25 (R1)\n"
        "  - id: modem2\n"
        '    port: "/dev/ttyACM0"\n'
    )


# -- the command, end to end -------------------------------------------------------------------


async def test_scan_reports_two_modules_a_held_pty_and_a_snippet_check_config_takes(
    tmp_path: Path,
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    async with (
        sim_process(one, "--module", "ec25") as ec25,
        sim_process(two, "--module", "me909s") as me909s,
    ):
        with _pty_held_by_another_process() as (held, child):
            ports = ("--port", str(ec25.link), "--port", str(me909s.link), "--port", held)
            result = await asyncio.to_thread(_smscat, "modem", "scan", *ports, "--json")
            assert result.returncode == 0, result.stderr
            text = await asyncio.to_thread(_smscat, "--lang", "en", "modem", "scan", *ports)
            zh = await asyncio.to_thread(_smscat, "--lang", "zh-CN", "modem", "scan", *ports)
        report = json.loads(result.stdout)
        first, second, third = report["ports"]
        assert (first["health"]["manufacturer"], first["health"]["model"]) == ("Quectel", "EC25")
        assert first["urc_port"] == "usbmodem"
        assert first["urc_moved"] is True  # the driver's EC25 row moves them: no fix to make
        assert first["problems"] == []
        assert second["health"]["model"] == "ME909s-821"
        assert second["health"]["manufacturer"].startswith("Huawei")
        for answered in (first, second):
            assert answered["answers"] is True
            assert answered["health"]["sim"] == "READY"
            assert answered["smsc"] == "+8613800100500"
        assert third["port"] == held
        assert third["answers"] is None
        (holder,) = third["holders"]
        assert holder.startswith("python")
        assert holder.endswith(f" pid {child.pid}")
        assert third["problems"] == ["held"]
        assert text.returncode == 0, text.stderr
        assert "held by python" in text.stdout
        assert f"pid {child.pid}" in text.stdout
        assert "deploy/99-smscat.rules" in text.stdout
        assert "Quectel EC25" in text.stdout
        assert "ME909s-821" in text.stdout
        assert "被占用" in zh.stdout
        assert "粘贴到 config.yaml" in zh.stdout
        snippet_text = report["snippet"]
        assert snippet_text.count("- id: modem") == 2
        assert snippet_text in text.stdout

        # the snippet, pasted into the sample config in place of its modems, is a valid config
        sample = (ROOT / "config.yaml").read_text(encoding="utf-8")
        start = sample.index("modems:\n")
        end = sample.index("\nexperts:")
        config = tmp_path / "config.yaml"
        config.write_text(sample[:start] + snippet_text + sample[end:], encoding="utf-8")
        # (a real modem needs the web's secret key: the operator sets it; the test gives one)
        secret = {"SMSCAT_WEB__SECRET_KEY": "k" * 40}
        checked = await asyncio.to_thread(
            lambda: _smscat("check-config", "-c", str(config), "--strict", "--show", env=secret)
        )
        assert checked.returncode == 0, checked.stderr
        shown = json.loads(checked.stdout)
        assert [m["port"] for m in shown["modems"]] == [str(ec25.link), str(me909s.link)]


def test_the_command_exits_2_for_a_timeout_that_is_no_time() -> None:
    result = _smscat("modem", "scan", "--port", "/nonexistent", "--timeout", "0")
    assert result.returncode == 2
    assert "--timeout" in result.stderr


@pytest.mark.parametrize("language", LANGUAGES)
def test_nothing_found_is_said(tmp_path: Path, language: str) -> None:
    text = render(ScanReport([], [], None), language, tmp_path / "dev")
    assert str(tmp_path / "dev") in text
    assert say(language, "scan.no_snippet") in text


# -- the fix for "no SMS centre": modems[].smsc, written with AT+CSCA at start -----------------


async def test_the_smsc_from_config_is_written_at_start_and_the_scan_then_sees_it(
    tmp_path: Path,
) -> None:
    async with _sim(tmp_path, "m", "generic") as sim:
        sim.engine.settings.csca = ("", 129)
        sim.engine.settings.cscs = "UCS2"  # the number must still arrive as digits
        async with AtSession.open(str(sim.link)) as session:
            await Modem(session, smsc="+8613800755500").initialise()
        assert sim.engine.settings.csca == ("+8613800755500", 145)
        report = await probe_port(Port(str(sim.link), str(sim.link)), timeout=2, baudrate=115200)
    assert report.smsc == "+8613800755500"
    assert "no_smsc" not in report.problems


async def test_the_supervisor_hands_the_configured_smsc_to_the_driver(tmp_path: Path) -> None:
    """The daemon passes ``modems[].smsc`` to the supervisor, which writes it at each start."""
    async with _sim(tmp_path, "m", "generic") as sim:
        sim.engine.settings.csca = ("", 129)  # a SIM without an SMS centre
        supervisor = ModemSupervisor(str(sim.link), settings=FAST, smsc="+8613800755500")
        task = asyncio.create_task(supervisor.run())
        try:
            await until(lambda: supervisor.blocked() is None)
            assert sim.engine.settings.csca == ("+8613800755500", 145)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def test_the_smsc_key_takes_a_number_only() -> None:
    assert ModemConfig(id="m1", port="sim", smsc="+8613800755500").smsc == "+8613800755500"
    assert ModemConfig(id="m1", port="sim").smsc is None
    with pytest.raises(ValidationError):
        ModemConfig(id="m1", port="sim", smsc="CMCC")
