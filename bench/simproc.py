"""``smscat sim`` as its own process for the bench scripts (as a real modem is another device).

Imported as ``from simproc import sim_process``: the scripts run as ``python bench/x.py``, so
bench/ is on sys.path and tests/ is not.
"""

from __future__ import annotations

import contextlib
import re
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import common  # bench/common.py: children that die with the script

READY = re.compile(r"^READY link=(\S+) control=(\S+)$")


@contextlib.asynccontextmanager
async def sim_process(*extra: str) -> AsyncIterator[tuple[str, str]]:
    """Start ``smscat sim`` on a link in a temporary directory; yield (link, control URL).

    ``extra`` is passed on to ``smscat sim``; the process is terminated at the end (and
    also if the bench script dies).
    """
    with tempfile.TemporaryDirectory(prefix="smscat-sim-") as tmp:
        proc = await common.start(
            sys.executable,
            "-m",
            "smscat.relay.daemon.cli",
            "sim",
            "--link",
            str(Path(tmp) / "m"),
            *extra,
        )
        try:
            assert proc.stdout is not None
            match = READY.match((await proc.stdout.readline()).decode().strip())
            assert match, "the simulator did not start"
            yield match[1], match[2]
        finally:
            await common.stop(proc)


async def sim_state(http: aiohttp.ClientSession, control: str) -> dict[str, Any]:
    """The simulator's ``GET /state`` (registration, counters …)."""
    async with http.get(f"{control}/state") as resp:
        resp.raise_for_status()
        return dict(await resp.json())


async def sim_sent(http: aiohttp.ClientSession, control: str) -> list[dict[str, Any]]:
    """Every SMS the simulated modem accepted (``GET /sent``)."""
    async with http.get(f"{control}/sent") as resp:
        resp.raise_for_status()
        return list(await resp.json())


async def sim_reset(http: aiohttp.ClientSession, control: str) -> None:
    """A new device with an empty SIM and zeroed counters (``POST /reset``)."""
    async with http.post(f"{control}/reset") as resp:
        resp.raise_for_status()
