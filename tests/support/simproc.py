"""``smscat sim`` as a separate process, the way other programs (gammu) meet it."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

READY = re.compile(r"^READY link=(?P<link>\S+) control=(?P<control>http://\S+)$")


@dataclass(frozen=True)
class SimProcess:
    link: Path
    control_url: str
    process: asyncio.subprocess.Process


@contextlib.asynccontextmanager
async def sim_process(tmp: Path, *extra: str) -> AsyncIterator[SimProcess]:
    """Start ``smscat sim`` on a link under ``tmp``; SIGTERM it at the end."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "smscat.relay.daemon.cli",
        "sim",
        "--link",
        str(tmp / "modem"),
        "--control",
        "127.0.0.1:0",
        "--port-file",
        str(tmp / "control.port"),
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(20):
            first = (await proc.stdout.readline()).decode().strip()
        match = READY.match(first)
        if not match:
            assert proc.stderr is not None
            err = await proc.stderr.read()
            raise AssertionError(f"no READY line: {first!r} {err.decode()!r}")
        yield SimProcess(Path(match["link"]), match["control"], proc)
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                async with asyncio.timeout(10):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
