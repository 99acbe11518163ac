"""One daemon per database: ``smscat run`` twice on one config, and on a web port in use.

Real processes (``smscat run``), as an operator starts them: the second is
refused with one line and exit status 2 before it touches anything, and the first one goes on
as if nothing happened — its simulated modem's link is the same pty, its web server answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from smscat.relay.daemon import cli, daemonlock
from smscat.relay.daemon.daemonlock import AlreadyRunning, hold, lock_path

ROOT = Path(__file__).resolve().parents[3]
START_SECONDS = 30.0  # a daemon's start-up, its modem registered (two shared cores in CI)


def write_config(folder: Path, port: int) -> Path:
    """The shipped config with its web port set; the database (var/) and links under ``folder``."""
    folder.mkdir(exist_ok=True)
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert "  port: 8080" in text
    (folder / "config.yaml").write_text(text.replace("  port: 8080", f"  port: {port}"), "utf-8")
    return folder / "config.yaml"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def spawn(folder: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smscat.relay.daemon.cli", "run", "-c", "config.yaml",
        cwd=folder,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def stop(proc: asyncio.subprocess.Process) -> bytes:
    """SIGTERM, then SIGKILL if it does not go; whatever it still had to say."""
    if proc.returncode is not None:
        return await proc.stdout.read() if proc.stdout else b""
    proc.terminate()
    try:
        async with asyncio.timeout(15):
            rest, _ = await proc.communicate()
    except TimeoutError:
        proc.kill()
        rest, _ = await proc.communicate()
    return rest


@dataclass
class Running:
    proc: asyncio.subprocess.Process
    url: str
    link: Path  # the simulated modem's pty link
    pty: str  # where the link points


async def healthy(url: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as resp:
        return resp.status


@contextlib.asynccontextmanager
async def daemon_in(folder: Path) -> AsyncIterator[Running]:
    """``smscat run`` in ``folder``, up with its modem registered; stopped (exit 0) after."""
    proc = await spawn(folder)
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(START_SECONDS):
            while not any("web on http://" in line for line in lines):
                line = (await proc.stdout.readline()).decode()
                assert line, f"smscat run exited early: {lines}"
                lines.append(line)
            url = lines[-1].split("web on ")[1].split()[0]
            while await healthy(url) != 200:  # noqa: ASYNC110 (503 until the modem registers)
                await asyncio.sleep(0.1)
        link = folder / "var" / "sim1.tty"
        yield Running(proc, url, link, os.readlink(link))
    finally:
        rest = await stop(proc)
    assert proc.returncode == 0, "".join(lines) + rest.decode()


async def refused(folder: Path) -> tuple[int | None, list[str]]:
    """A second ``smscat run`` in ``folder``: its exit status and every line it printed.

    One that does not stop by itself within the start-up bound is stopped (status None).
    """
    proc = await spawn(folder)
    try:
        async with asyncio.timeout(START_SECONDS):
            out, _ = await proc.communicate()
    except TimeoutError:
        out = await stop(proc)
        return None, out.decode().splitlines()
    return proc.returncode, out.decode().splitlines()


async def test_a_second_run_on_the_same_config_names_the_first_and_touches_nothing(
    tmp_path: Path,
) -> None:
    write_config(tmp_path, free_port())
    async with daemon_in(tmp_path) as first:
        status, lines = await refused(tmp_path)
        assert status == 2, lines
        assert len(lines) == 1, lines
        assert f"pid {first.proc.pid} on {socket.gethostname()}" in lines[0]
        assert "var/smscat.db" in lines[0]
        # the first daemon goes on: the same link to the same pty, its web server answers
        assert first.link.is_symlink()
        assert os.readlink(first.link) == first.pty
        assert os.path.exists(first.pty)  # noqa: ASYNC240 (a look, not I/O that waits)
        assert await healthy(first.url) == 200
        assert first.proc.returncode is None


async def test_a_web_port_in_use_is_one_line_and_nothing_is_touched(tmp_path: Path) -> None:
    port = free_port()
    write_config(tmp_path / "a", port)
    write_config(tmp_path / "b", port)  # another database, the same web port
    async with daemon_in(tmp_path / "a") as first:
        status, lines = await refused(tmp_path / "b")
        assert status == 2, lines
        assert lines == [
            f"smscat run: the web address 127.0.0.1:{port} is already in use (web.host, web.port)"
        ]
        assert not (tmp_path / "b" / "var" / "smscat.db").exists()
        assert not (tmp_path / "b" / "var" / "sim1.tty").exists()
        assert await healthy(first.url) == 200
        assert os.readlink(first.link) == first.pty


def test_a_port_taken_between_the_look_and_the_bind_is_one_line_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path, port)
        # another process binds the port just after the daemon looked: the bind itself fails
        monkeypatch.setattr(daemonlock, "check_web_port", lambda host, port: None)
        assert cli.main(["run", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        f"smscat run: the web address 127.0.0.1:{port} is already in use (web.host, web.port)"
    )
    assert "Traceback" not in err
    assert not (tmp_path / "var" / "sim1.tty").exists()  # the simulator's link went with it


def test_a_second_holder_in_the_same_process_is_refused_and_the_lock_is_released(
    tmp_path: Path,
) -> None:
    database = tmp_path / "var" / "smscat.db"
    with hold(database) as path:
        assert path == lock_path(database) == tmp_path / "var" / "smscat.db.lock"
        assert path.read_text().split()[0] == str(os.getpid())
        with pytest.raises(AlreadyRunning, match=f"pid {os.getpid()} on "), hold(database):
            pass
    assert path.read_text() == ""  # no stale pid left behind
    with hold(database):  # released at the end of the block
        pass


def test_the_lock_of_a_killed_daemon_blocks_nobody(tmp_path: Path) -> None:
    database = tmp_path / "smscat.db"
    holder = subprocess.Popen(
        [
            sys.executable, "-c",
            "import sys, time; from pathlib import Path;"
            " from smscat.relay.daemon.daemonlock import hold\n"
            "with hold(Path(sys.argv[1])):\n print('held', flush=True); time.sleep(60)",
            str(database),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(AlreadyRunning, match=f"pid {holder.pid} "), hold(database):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=15)
        holder.stdout.close()  # type: ignore[union-attr]
    assert lock_path(database).read_text().split()[0] == str(holder.pid)  # the stale file
    with hold(database) as path:
        assert path.read_text().split()[0] == str(os.getpid())
