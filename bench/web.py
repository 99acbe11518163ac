"""The web side under load: the board, a thread page and POST question, next to a hello-world.

Usage: python bench/web.py [--quick] [--table] [--seconds S] [--concurrency C] [--threads N]
                           [--endpoints board,thread,post] [--profile FILE]

The daemon (``bench/daemon.py``, bench/config.yaml: no rate limit; one ``smscat sim`` process
as its modem, send latency 0.5 s) starts on a fresh database, and N questions (200) are posted
first, so that the board has content and there are thread pages to read. Then a load generator
(``bench/loadgen.py``, its own process, closed loop, C keep-alive connections (8), S seconds
each (20; ``--quick``: 3) after a 1-second warm-up) runs on loopback against:

* ``GET /`` on an aiohttp hello-world (``bench/hello.py``): the ceiling, generator included;
* ``GET /`` — the department board (experts, whether they take questions, the latest threads);
* ``GET /t/{id}/{token}`` — a thread page, round-robin over the N threads;
* ``POST /api/questions`` — a new question (JSON, as the board's script posts it), to the 40
  experts in turn, each text distinct;
* the hello-world again (the machine's drift across the run).

Reported per endpoint: req/s, p50/p99/max latency, errors (a status other than 200, 201 for the
POST). The questions posted during the POST phase stay queued for the modem (it sends 2 parts
a second); the read phases run before it. ``--profile FILE`` runs the daemon under cProfile
(event loop and SQLite threads; with ``--endpoints`` one phase can be profiled alone) and adds
its top functions (those numbers are not the measured ones). Full run: about 2.5 minutes;
``--quick``: 40 seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import common
from simproc import sim_process  # bench/simproc.py

_SERIAL = itertools.count()


async def _loadgen(
    tmp: Path, name: str, targets: list[dict[str, Any]], args: argparse.Namespace
) -> dict[str, Any]:
    path = tmp / f"targets-{next(_SERIAL)}.json"
    path.write_text(json.dumps(targets, ensure_ascii=False), encoding="utf-8")
    common.note(f"load: {name}, {args.seconds} s, {args.concurrency} connections")
    proc = await common.start(
        sys.executable,
        str(common.BENCH / "loadgen.py"),
        "--targets",
        str(path),
        "--seconds",
        str(args.seconds),
        "--concurrency",
        str(args.concurrency),
    )
    try:
        out, _ = await proc.communicate()
    finally:
        await common.stop(proc)
    if proc.returncode != 0:
        raise RuntimeError(f"the load generator failed on {name}")
    return {"endpoint": name, **json.loads(out)}


async def _hello(tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    proc = await common.start(
        sys.executable, str(common.BENCH / "hello.py"), stdin=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        url = (await proc.stdout.readline()).decode().removeprefix("READY ").strip()
        return await _loadgen(tmp, "hello-world GET /", [{"method": "GET", "url": url}], args)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        await common.stop(proc)


async def run(args: argparse.Namespace) -> None:
    args.seconds = args.seconds or (3.0 if args.quick else 20.0)
    ids = list(common.experts())
    results = []
    with tempfile.TemporaryDirectory(prefix="smscat-bench-") as name:
        tmp = Path(name)
        results.append(await _hello(tmp, args))
        async with (
            sim_process("--send-latency", "0.5") as (link, _control),
            aiohttp.ClientSession() as http,
        ):
            config = common.write_config(tmp, [{"id": "m1", "port": link}])
            async with common.daemon(config, profile=args.profile) as daemon:
                await common.wait_registered(http, daemon.url, 1)
                common.note(f"posting {args.threads} questions for the board and thread pages")
                threads = await common.ask_all(
                    http, daemon.url, common.workload(args.threads, ids), 4
                )
                url = daemon.url
                board = [{"method": "GET", "url": f"{url}/"}]
                pages = [{"method": "GET", "url": f"{url}/t/{i}/{token}"} for i, token in threads]
                asks = [
                    {
                        "method": "POST",
                        "url": f"{url}/api/questions",
                        "headers": {"Content-Type": "application/json"},
                        "body": json.dumps(
                            {
                                "expert_id": expert,
                                "nickname": "压测",
                                "text": "头晕三天需要复查吗？__N__",
                                "public": True,
                            },
                            ensure_ascii=False,
                        ),
                        "expect": 201,
                    }
                    for expert in ids
                ]
                phases: dict[str, tuple[str, list[dict[str, Any]]]] = {
                    "board": ("board GET /", board),
                    "thread": ("thread GET /t/{id}/{token}", pages),
                    "post": ("POST /api/questions", asks),
                }
                for key in args.endpoints.split(","):
                    label, targets = phases[key]
                    results.append(await _loadgen(tmp, label, targets, args))
                memory = common.rss_mb(daemon.pid)
        results.append(await _hello(tmp, args))
    hello = statistics.mean([results[0]["requests_per_second"], results[-1]["requests_per_second"]])
    for r in results:
        r["share_of_hello_world"] = round(r["requests_per_second"] / hello, 3)
    result: dict[str, Any] = {
        "seconds_per_endpoint": args.seconds,
        "endpoints": results,
        "daemon_memory": memory,
    }
    notes = [
        "The load generator (Python, aiohttp client) shares the 2 cores with the server;"
        " the hello-world rows show its ceiling on this machine."
    ]
    if args.profile is not None:
        result["profile"] = common.profile_top(args.profile)
        notes.append("```\n" + common.profile_text(result["profile"]) + "\n```")
    common.emit(
        args,
        result,
        title="smscat web under load (loopback)",
        n=f"{args.seconds:g} s per endpoint, {args.concurrency} connections, "
        f"{args.threads} threads stored before the run",
        columns=["endpoint", "req/s", "p50 ms", "p99 ms", "errors", "share of hello-world"],
        rows=[
            [
                r["endpoint"],
                r["requests_per_second"],
                r["p50_ms"],
                r["p99_ms"],
                r["errors"],
                r["share_of_hello_world"],
            ]
            for r in results
        ],
        notes=notes,
    )


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--seconds", type=float, help="per endpoint (20; --quick: 3)")
    parser.add_argument("--concurrency", type=int, default=8, help="connections (8)")
    parser.add_argument("--threads", type=int, default=200, help="questions posted first (200)")
    parser.add_argument(
        "--endpoints", default="board,thread,post", help="which daemon phases, in order"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="run the daemon under cProfile (stats in FILE; top functions in the output)",
    )
    common.main(run, parser.parse_args())


if __name__ == "__main__":
    main()
