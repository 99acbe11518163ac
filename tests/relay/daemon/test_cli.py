"""The installed ``smscat`` command, run as a process."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import subprocess
import sys
import sysconfig
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from smscat.relay.core.errors import Conflict
from smscat.relay.daemon.admin_cli import refusal_in_words
from smscat.relay.daemon.app import expert_rows
from smscat.relay.daemon.cli import build_parser, main
from smscat.relay.daemon.config_file import load_config
from smscat.storage.db import Database
from smscat.web.texts import render
from tests.support.atport import AtPort
from tests.support.simproc import sim_process

ROOT = Path(__file__).resolve().parents[3]


def smscat(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    # The console script pip installed next to this interpreter (a PATH shim may lag behind).
    exe = Path(sysconfig.get_path("scripts")) / "smscat"
    assert exe.exists(), "the smscat console script is not installed"
    return subprocess.run(
        [str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_help_lists_the_commands() -> None:
    result = smscat("--help")
    assert result.returncode == 0
    for command in ("run", "check-config", "sim"):
        assert command in result.stdout


def test_check_config_accepts_the_embedded_default() -> None:
    result = smscat("check-config", "-c", "config.yaml")
    assert result.returncode == 0, result.stderr
    assert "ok (1 modem(s), 2 expert(s)" in result.stdout


def test_check_config_names_an_unknown_key_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    config.write_text(text.replace("  port: 8080", "  port: 8080\n  colour: blue"), "utf-8")
    result = smscat("check-config", "-c", str(config))
    assert result.returncode == 2
    assert "web.colour: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_config_show_hides_phone_numbers() -> None:
    result = smscat("check-config", "-c", "config.yaml", "--show")
    assert result.returncode == 0
    shown = json.loads(result.stdout)  # stdout is the JSON alone: it pipes into jq
    assert {e["phone"] for e in shown["experts"]} == {"(hidden)"}
    assert "13800138001" not in result.stdout
    assert "ok (1 modem(s), 2 expert(s)" in result.stderr  # the summary goes to stderr


def test_version_comes_from_the_package_metadata() -> None:
    result = smscat("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"smscat {importlib.metadata.version('smscat')}\n"


def _undocumented(parser: argparse.ArgumentParser, path: str) -> list[str]:
    """Every option, argument and subcommand under ``parser`` that ``--help`` leaves bare."""
    bare: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helped = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                if not helped.get(name):
                    bare.append(f"{path} {name}")
                bare += _undocumented(child, f"{path} {name}")
        elif not action.help:  # argparse.SUPPRESS (a hidden test seam) is a choice, not a gap
            bare.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    return bare


def test_every_command_and_argument_has_help() -> None:
    assert _undocumented(build_parser(), "smscat") == []


def test_the_help_walk_finds_a_bare_argument() -> None:
    parser = build_parser()
    parser.add_argument("--bare")
    assert _undocumented(parser, "smscat") == ["smscat --bare"]


MISSING_DEVICE = "/dev/serial/by-id/usb-Quectel_EC25-not-plugged-in-if02-port0"


def real_modem_config(tmp_path: Path, *ports: str) -> Path:
    modems = "\n".join(f"  - {{id: m{n}, port: {port!r}}}" for n, port in enumerate(ports))
    config = tmp_path / "config.yaml"
    config.write_text(
        f"modems:\n{modems}\nstorage: {{path: {tmp_path / 'smscat.db'}}}\n"
        'web: {secret_key: "a-test-key-of-more-than-32-bytes!"}\n',
        encoding="utf-8",
    )
    return config


def test_check_config_warns_of_a_port_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = real_modem_config(tmp_path, "sim", "socket://127.0.0.1:7000", MISSING_DEVICE)
    assert main(["check-config", "-c", str(config)]) == 0  # a modem may be plugged in later
    out, err = capsys.readouterr()
    assert "ok (3 modem(s)" in out
    (warning,) = err.splitlines()
    assert "modems[2].port" in warning
    assert MISSING_DEVICE in warning
    assert "does not exist" in warning
    assert main(["check-config", "--strict", "-c", str(config)]) == 2
    assert "modems[2].port" in capsys.readouterr().err


def test_check_config_is_quiet_about_a_port_that_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    device = tmp_path / "ttyUSB2"
    device.write_bytes(b"")
    assert (
        main(["check-config", "--strict", "-c", str(real_modem_config(tmp_path, str(device)))]) == 0
    )
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("environment", "lang"),
    [({}, "zh-CN"), ({"LANG": "en_GB.UTF-8"}, "en"), ({"LANG": "zh_CN.UTF-8"}, "zh-CN")],
)
def test_handoff_refusal_is_in_words(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    lang: str,
) -> None:
    for name in ("LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    config = real_modem_config(tmp_path, "sim")
    assert main(["handoff", "-c", str(config), "--from", "nobody", "--to", "li"]) == 2
    err = capsys.readouterr().err
    assert err == f"smscat handoff: {render('error.expert', lang)}\n"


def test_handoff_language_can_be_chosen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    config = real_modem_config(tmp_path, "sim")
    assert main(["--lang", "en", "handoff", "-c", str(config), "--from", "a", "--to", "b"]) == 2
    assert capsys.readouterr().err == f"smscat handoff: {render('error.expert', 'en')}\n"


JOINED = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def test_refusals_of_known_experts_are_in_words_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``handoff`` to the leaving expert themself, ``erase`` of an expert's number: words."""
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")  # LC_ALL wins, as in setlocale(3)
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(text, encoding="utf-8")
    settings = load_config(config)

    async def seed() -> None:
        async with Database.open(settings.storage.path) as db:
            await db.sync_experts(expert_rows(settings), at=JOINED)

    asyncio.run(seed())
    assert main(["handoff", "-c", str(config), "--from", "zhang", "--to", "zhang"]) == 2
    assert capsys.readouterr().err == f"smscat handoff: {render('error.handoff_target', 'en')}\n"
    assert main(["erase", "-c", str(config), "--phone", "+8613800138001"]) == 2
    err = capsys.readouterr().err
    assert err == f"smscat erase: {render('error.expert_phone', 'en')}\n"
    assert "13800138001" not in err


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("expert", "error.expert"),
        ("handoff_target", "error.handoff_target"),
        ("no_such_key_anywhere", "error.status_409"),  # no words of its own: its status's
    ],
)
def test_a_refusal_is_never_shown_as_its_key(key: str, text: str) -> None:
    for lang in ("zh-CN", "en"):
        words = refusal_in_words(Conflict(key), lang)
        assert words != key
        assert words == render(text, lang)


def test_sim_refuses_a_non_loopback_control_address(tmp_path: Path) -> None:
    result = smscat("sim", "--link", str(tmp_path / "m"), "--control", "0.0.0.0:0")
    assert result.returncode == 2
    assert "loopback" in result.stderr


async def test_sim_prints_ready_writes_the_port_file_and_answers(tmp_path: Path) -> None:
    async with sim_process(tmp_path) as sim:
        port = int((tmp_path / "control.port").read_text())
        assert sim.control_url == f"http://127.0.0.1:{port}"
        assert sim.link == tmp_path / "modem"
        assert sim.link.is_symlink()
        async with AtPort(sim.link) as at:
            assert await at.command(b"AT+CSQ\r") == b"AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
        async with aiohttp.ClientSession() as http, http.get(f"{sim.control_url}/state") as r:
            assert (await r.json())["counters"]["commands"] == 1
    assert not (tmp_path / "modem").exists()  # the link goes when the simulator stops


async def test_run_starts_database_simulator_and_web(tmp_path: Path) -> None:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8").replace("port: 8080", "port: 0")
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "smscat.relay.daemon.cli",
        "run",
        "-c",
        "config.yaml",
        cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(30):
            while not any("web on http://" in line for line in lines):
                line = (await proc.stdout.readline()).decode()
                assert line, f"smscat run exited early: {lines}"
                lines.append(line)
        url = lines[-1].split("web on ")[1].split()[0]
        async with aiohttp.ClientSession() as http, asyncio.timeout(15):
            health = {"status": "starting"}
            while health["status"] != "ok":  # 503 until the simulated modem has registered
                async with http.get(f"{url}/healthz") as resp:
                    health = await resp.json()
                await asyncio.sleep(0.1)
    finally:
        proc.terminate()
        async with asyncio.timeout(15):
            rest, _ = await proc.communicate()
    assert proc.returncode == 0, rest
    assert health["status"] == "ok"
    assert health["modems"][0]["id"] == "sim1"
    assert (tmp_path / "var" / "smscat.db").exists()
    log = "".join(lines) + rest.decode()
    assert "13800138001" not in log
    assert "Traceback" not in log
