"""The smscat daemon in its own process, for the bench scripts (its CPU, memory and profile are
its own).

Usage: python bench/daemon.py -c CONFIG [--welcomed] [--profile FILE]

Runs exactly what ``smscat run`` runs (``smscat.relay.daemon.app.running_daemon``), then prints one
line ``READY {"url": …, "pid": …, "simulators": {…}}`` on stdout. It stops like ``smscat run``
(the part in flight finishes) on SIGTERM or SIGINT, and also when its stdin closes, so that it
never outlives the script that started it. The log goes to stderr at the config's log_level.

``--welcomed`` first marks every configured expert as already welcomed (they have used the
system before), so that no welcome SMS joins a measured queue. ``--profile FILE`` runs cProfile
in the event loop's thread and in each SQLite worker thread (aiosqlite runs every query in a
thread of its own) and writes the merged stats to FILE when the daemon stops.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import logging
import os
import pstats
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from smscat.relay.daemon.app import expert_rows, running_daemon
from smscat.relay.daemon.config import Settings
from smscat.relay.daemon.config_file import load_config
from smscat.storage.db import Database


async def _mark_welcomed(settings: Settings) -> None:
    async with Database.open(settings.storage.path) as db:
        await db.sync_experts(expert_rows(settings))
        async with db.transaction() as conn:
            await conn.execute(
                "UPDATE experts SET welcomed_at = ? WHERE welcomed_at IS NULL",
                (datetime.now(UTC).isoformat(timespec="milliseconds"),),
            )


async def _until_stopped() -> None:
    """SIGTERM, SIGINT, or the end of stdin (the bench script went away)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(sys.stdin.fileno(), "rb", 0)
    )

    async def eof() -> None:
        await reader.read()
        stop.set()

    try:
        async with asyncio.TaskGroup() as tasks:
            watcher = tasks.create_task(eof())
            await stop.wait()
            watcher.cancel()
    finally:
        transport.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _serve(settings: Settings, welcomed: bool) -> None:
    if welcomed:
        await _mark_welcomed(settings)
    async with running_daemon(settings) as daemon:
        ready = {"url": daemon.url, "pid": os.getpid(), "simulators": daemon.simulators}
        print("READY " + json.dumps(ready), flush=True)
        await _until_stopped()


def _profile_sqlite_threads(profiles: list[cProfile.Profile]) -> None:
    """Run each aiosqlite worker thread under its own profiler (bench only: for --profile)."""
    import aiosqlite.core

    worker: Callable[[Any], None] = aiosqlite.core._connection_worker_thread

    def profiled(tx: Any) -> None:
        profile = cProfile.Profile()
        profiles.append(profile)
        profile.enable()
        try:
            worker(tx)
        finally:
            profile.disable()

    aiosqlite.core._connection_worker_thread = profiled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-c", "--config", type=Path, required=True)
    parser.add_argument("--welcomed", action="store_true", help="no welcome SMS to the experts")
    parser.add_argument("--profile", type=Path, metavar="FILE", help="write cProfile stats here")
    args = parser.parse_args()
    settings = load_config(args.config)
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.profile is None:
        asyncio.run(_serve(settings, args.welcomed))
        return
    profiles = [cProfile.Profile()]
    _profile_sqlite_threads(profiles)
    profiles[0].enable()
    try:
        asyncio.run(_serve(settings, args.welcomed))
    finally:
        profiles[0].disable()
        stats = pstats.Stats(profiles[0])
        for profile in profiles[1:]:
            with contextlib.suppress(TypeError):  # a thread that never ran: no stats
                stats.add(profile)
        stats.dump_stats(str(args.profile))


if __name__ == "__main__":
    main()
