"""The installed ``smscat`` command, run as a process."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import aiohttp

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
    shown = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    assert {e["phone"] for e in shown["experts"]} == {"(hidden)"}
    assert "13800138001" not in result.stdout


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
