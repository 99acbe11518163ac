"""``smscat sim`` as its own process for the bench scripts (as a real modem is another device).

Imported as ``from simproc import sim_process``: the scripts run as ``python bench/x.py``, so
bench/ is on sys.path and tests/ is not.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

READY = re.compile(r"^READY link=(\S+) control=(\S+)$")


@contextlib.asynccontextmanager
async def sim_process(*extra: str) -> AsyncIterator[tuple[str, str]]:
    """Start ``smscat sim`` on a link in a temporary directory; yield (link, control URL).

    ``extra`` is passed on to ``smscat sim``; the process is terminated at the end.
    """
    with tempfile.TemporaryDirectory() as tmp:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "smscat.relay.cli",
            "sim",
            "--link",
            str(Path(tmp) / "m"),
            *extra,
            stdout=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
        )
        try:
            assert proc.stdout is not None
            match = READY.match((await proc.stdout.readline()).decode().strip())
            assert match, "the simulator did not start"
            yield match[1], match[2]
        finally:
            proc.terminate()
            await proc.wait()
