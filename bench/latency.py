"""Latency through the daemon: a question to the wire, a reply to the API, a fault to /healthz.

Usage: python bench/latency.py [--quick] [--table] [--samples N] [--faults N]

One ``smscat sim`` process (latency 0, status reports after 0.05 s) and the daemon
(``bench/daemon.py``, bench/config.yaml) in their own processes.

1. Question → wire. Between the daemon and the simulator sits a tap (a pty the daemon opens
   as its modem; every byte is copied on to the simulator's pty and back, and the tap notes the
   time it saw ``AT+CMGS`` go to the modem and ``+CMTI`` come from it). With the modem idle (no
   byte either way for 0.2 s), the bench posts a one-part question (``POST /api/questions``)
   and takes the time from just before the POST to the first byte of the ``AT+CMGS`` on the
   wire (the tap adds its own copy, some tens of µs). N samples (200; ``--quick``: 20), to the
   40 experts in turn.
2. Reply → API. The expert answers each question by SMS (``POST /sms`` on the simulator, the
   thread's code first, as an expert's phone would); the time runs from the ``+CMTI`` on the
   wire to the answer being visible in ``GET /api/questions/{id}`` (looked at every 5 ms).
3. Fault → status API. The daemon on the simulator directly (no tap): ``network-down`` (the
   simulator reports +CREG 2 for 1.5 s) and ``unplug`` (its pty vanishes for 1 s), F times each
   (10; ``--quick``: 3); the time runs from the fault request to ``GET /healthz`` showing the
   modem not registered (looked at every 5 ms), and on to it being registered again.

Reported: p50/p99/max of each. Full run: about 3 minutes; ``--quick``: about 40 seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import os
import re
import tempfile
import time
import tty
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import common
from simproc import sim_process, sim_sent  # bench/simproc.py

IDLE = 0.2  # seconds without a byte on the wire: the modem is idle
LOOK = 0.005  # seconds between looks at the API
TO_MODEM, FROM_MODEM = "to_modem", "from_modem"
WATCH = {TO_MODEM: (b"AT+CMGS",), FROM_MODEM: (b"+CMTI",)}


class PtyTap:
    """A pty for the daemon, copied byte for byte to and from the simulator's pty, with the
    time each watched pattern went by (``time.perf_counter``)."""

    def __init__(self, link: Path, device: str) -> None:
        self.link = link
        self.device = device
        self.seen: list[tuple[float, str, bytes]] = []
        self.last_byte = time.perf_counter()
        self._changed = asyncio.Event()
        self._tails = {TO_MODEM: b"", FROM_MODEM: b""}
        self._fds: list[int] = []

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[PtyTap]:
        loop = asyncio.get_running_loop()
        master, slave = os.openpty()
        self._fds += [master, slave]  # the slave stays open: the daemon may close and reopen
        tty.setraw(slave)
        os.set_blocking(master, False)
        modem = os.open(self.device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self._fds.append(modem)
        tty.setraw(modem)
        self.link.symlink_to(os.ttyname(slave))
        loop.add_reader(master, self._copy, master, modem, TO_MODEM)
        loop.add_reader(modem, self._copy, modem, master, FROM_MODEM)
        try:
            yield self
        finally:
            loop.remove_reader(master)
            loop.remove_reader(modem)
            self.link.unlink(missing_ok=True)
            for fd in self._fds:
                os.close(fd)

    def _copy(self, source: int, target: int, direction: str) -> None:
        try:
            data = os.read(source, 65536)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno == errno.EIO:  # nobody has the other end open: nothing to copy
                return
            raise
        now = time.perf_counter()
        self.last_byte = now
        view = memoryview(data)
        while view:  # a pty takes a few KB at once; the other side reads as fast as it can
            try:
                view = view[os.write(target, view) :]
            except BlockingIOError:
                time.sleep(0.0001)
        tail = self._tails[direction]
        window = tail + data
        for pattern in WATCH[direction]:
            at = window.find(pattern)
            while at != -1:
                if at + len(pattern) > len(tail):  # not already seen in the previous chunk
                    self.seen.append((now, direction, pattern))
                at = window.find(pattern, at + 1)
        self._tails[direction] = window[-16:]
        self._changed.set()

    async def first(self, direction: str, pattern: bytes, after: float, timeout: float) -> float:
        """The time ``pattern`` first went by in ``direction`` after ``after``."""
        async with asyncio.timeout(timeout):
            while True:
                for t, d, p in self.seen:
                    if t >= after and d == direction and p == pattern:
                        return t
                self._changed.clear()
                await self._changed.wait()

    async def idle(self, quiet: float = IDLE) -> None:
        """Until no byte has gone either way for ``quiet`` seconds."""
        while True:
            left = self.last_byte + quiet - time.perf_counter()
            if left <= 0:
                return
            await asyncio.sleep(left)


async def _visible(http: aiohttp.ClientSession, url: str, thread: int, token: str) -> None:
    """Until the thread's page shows an answer from the expert."""

    async def answered() -> bool:
        async with http.get(
            f"{url}/api/questions/{thread}", headers={"Authorization": f"Bearer {token}"}
        ) as resp:
            view = await resp.json()
        return any(m["from"] == "expert" for m in view["messages"])

    await common.poll_until(answered, LOOK)


async def _code(http: aiohttp.ClientSession, control: str, phone: str) -> str:
    """The thread code in the latest SMS to ``phone`` (as the expert reads it)."""
    sent = [m for m in await sim_sent(http, control) if m["to"] == phone]
    match = re.search(r"#(\d+)", sent[-1]["text"])
    assert match, "no thread code in the SMS to the expert"
    return match[1]


async def wire(samples: int) -> dict[str, Any]:
    """Question → AT+CMGS, and +CMTI → answer visible, through the tap."""
    phones = common.experts()
    questions = [q for q in common.workload(samples * 3, list(phones)) if q.kind != "long_zh"]
    to_wire, to_api, post_to_api, http_201 = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="smscat-bench-") as name:
        tmp = Path(name)
        async with (
            sim_process("--send-latency", "0", "--report-delay", "0.05") as (link, control),
            PtyTap(tmp / "tap", link).running() as tap,
            aiohttp.ClientSession() as http,
        ):
            config = common.write_config(tmp, [{"id": "m1", "port": str(tap.link)}])
            async with common.daemon(config) as daemon:
                await common.wait_registered(http, daemon.url, 1)
                common.note(f"question → wire and reply → API, {samples} samples")
                for q in questions[:samples]:
                    await tap.idle()
                    t0 = time.perf_counter()
                    async with http.post(f"{daemon.url}/api/questions", json=q.body()) as resp:
                        assert resp.status == 201, await resp.text()
                        asked = await resp.json()
                    http_201.append(time.perf_counter() - t0)
                    t1 = await tap.first(TO_MODEM, b"AT+CMGS", t0, timeout=10)
                    to_wire.append(t1 - t0)
                    await tap.idle()
                    phone = phones[q.expert_id]
                    reply = {
                        "from": phone,
                        "text": f"#{await _code(http, control, phone)} 按时服药",
                    }
                    t2 = time.perf_counter()
                    async with http.post(f"{control}/sms", json=reply) as resp:
                        assert resp.status == 202, await resp.text()
                    t3 = await tap.first(FROM_MODEM, b"+CMTI", t2, timeout=10)
                    async with asyncio.timeout(10):
                        await _visible(http, daemon.url, asked["id"], asked["token"])
                    t4 = time.perf_counter()
                    to_api.append(t4 - t3)
                    post_to_api.append(t4 - t2)
    return {
        "question_post_to_cmgs": common.summary_ms(to_wire),
        "question_post_to_201": common.summary_ms(http_201),
        "cmti_to_answer_visible": common.summary_ms(to_api),
        "reply_sms_to_answer_visible": common.summary_ms(post_to_api),
        "api_poll_interval_ms": LOOK * 1000,
    }


async def _registered(http: aiohttp.ClientSession, url: str) -> bool:
    async with http.get(f"{url}/healthz") as resp:
        body = await resp.json()
    return bool(body["modems"][0]["registered"])


async def faults(count: int) -> dict[str, Any]:
    """Fault → /healthz says so, and back."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="smscat-bench-") as name:
        async with (
            sim_process("--send-latency", "0") as (link, control),
            aiohttp.ClientSession() as http,
        ):
            config = common.write_config(Path(name), [{"id": "m1", "port": link}])
            async with common.daemon(config) as daemon:
                await common.wait_registered(http, daemon.url, 1)
                for profile, seconds in (("network-down", 1.5), ("unplug", 1.0)):
                    common.note(f"fault → /healthz: {profile}, {count} times")
                    detect, recover = [], []
                    for _ in range(count):
                        await common.wait_registered(http, daemon.url, 1)
                        await asyncio.sleep(0.5)
                        t0 = time.perf_counter()
                        fault = {"profile": profile, "seconds": seconds}
                        async with http.post(f"{control}/faults", json=fault) as resp:
                            resp.raise_for_status()

                        async def down() -> bool:
                            return not await _registered(http, daemon.url)

                        async with asyncio.timeout(60):
                            await common.poll_until(down, LOOK)
                        detect.append(time.perf_counter() - t0)
                        async with asyncio.timeout(120):
                            await common.poll_until(lambda: _registered(http, daemon.url), LOOK)
                        recover.append(time.perf_counter() - t0 - seconds)
                    out[profile] = {
                        "fault_seconds": seconds,
                        "to_reported": common.summary_ms(detect),
                        "fault_end_to_registered": common.summary_ms(recover),
                    }
    return out


async def run(args: argparse.Namespace) -> None:
    samples = args.samples or (20 if args.quick else 200)
    count = args.faults or (3 if args.quick else 10)
    paths = await wire(samples)
    fault_times = await faults(count)
    rows: list[list[object]] = [
        [
            "question POST → first byte of AT+CMGS (idle modem)",
            *_cells(paths["question_post_to_cmgs"]),
        ],
        ["question POST → 201", *_cells(paths["question_post_to_201"])],
        [
            "+CMTI of the expert's reply → answer in the API",
            *_cells(paths["cmti_to_answer_visible"]),
        ],
    ]
    for profile, r in fault_times.items():
        rows.append([f"{profile} → /healthz reports it", *_cells(r["to_reported"])])
        rows.append(
            [f"end of {profile} → /healthz registered", *_cells(r["fault_end_to_registered"])]
        )
    common.emit(
        args,
        {**paths, "faults": fault_times},
        title="smscat latency (simulated modem, latency 0)",
        n=f"{samples} questions and replies, {count} faults of each kind",
        columns=["path", "n", "p50 ms", "p99 ms", "max ms"],
        rows=rows,
        notes=[f"The API and /healthz were looked at every {LOOK * 1000:g} ms."],
    )


def _cells(summary: dict[str, float | int]) -> list[object]:
    return [summary["n"], summary["p50_ms"], summary["p99_ms"], summary["max_ms"]]


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--samples", type=int, help="questions and replies (200; --quick: 20)")
    parser.add_argument("--faults", type=int, help="faults of each kind (10; --quick: 3)")
    common.main(run, parser.parse_args())


if __name__ == "__main__":
    main()
