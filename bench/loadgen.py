"""A closed-loop HTTP load generator (aiohttp client), run as its own process by bench/web.py.

Usage: python bench/loadgen.py --targets FILE [--seconds S] [--warmup S] [--concurrency C]

FILE is a JSON list of requests ``{"method", "url", "body"?, "headers"?, "expect"?}``; the
workers take them in turn, round and round. In a body, ``__N__`` becomes a number unique to the
request (distinct questions). C workers (keep-alive connections) each send a request, read the
whole answer, and send the next; ``--warmup`` seconds are not counted. A request is an error
when it raises or its status is not ``expect`` (default 200).

Prints one JSON object: requests, errors (and the statuses seen), req/s, p50/p99/max in ms.
The generator is Python too: on a small machine it can be the bottleneck, which is why
bench/web.py runs it against an aiohttp hello-world in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import common


async def load(
    targets: list[dict[str, Any]], seconds: float, warmup: float, concurrency: int
) -> dict[str, Any]:
    turn = itertools.cycle(targets)
    serial = itertools.count()
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    errors = 0
    start = time.perf_counter()
    measure_from = start + warmup
    end = measure_from + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal errors
        while True:
            now = time.perf_counter()
            if now >= end:
                return
            target = next(turn)
            body = target.get("body")
            data = body.replace("__N__", str(next(serial))).encode() if body else None
            t0 = time.perf_counter()
            try:
                async with http.request(
                    target["method"], target["url"], data=data, headers=target.get("headers")
                ) as resp:
                    await resp.read()
                    status = str(resp.status)
                    ok = resp.status == target.get("expect", 200)
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, ok = type(exc).__name__, False
            t1 = time.perf_counter()
            if t0 >= measure_from and t1 <= end:
                latencies.append(t1 - t0)
                statuses[status] += 1
                errors += not ok

    async with (
        aiohttp.ClientSession(connector=connector, timeout=timeout) as http,
        asyncio.TaskGroup() as tasks,
    ):
        for _ in range(concurrency):
            tasks.create_task(worker(http))
    return {
        "requests": len(latencies),
        "errors": errors,
        "statuses": dict(statuses),
        "seconds": seconds,
        "concurrency": concurrency,
        "requests_per_second": round(len(latencies) / seconds, 1),
        **common.summary_ms(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--targets", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    targets = json.loads(args.targets.read_text(encoding="utf-8"))
    result = asyncio.run(load(targets, args.seconds, args.warmup, args.concurrency))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
