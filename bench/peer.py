"""smscat next to Debian's gammu-smsd, on the same simulator profile and the same workload.

Usage: python bench/peer.py [--quick] [--table] [--messages N] [--latency S]

Each system gets a fresh ``smscat sim`` process (profile ``generic``, send latency ``--latency``,
default 0: the host-side cost of each system is what differs) and the same SMS: the texts
smscat sends for N questions (500; ``--quick``: 60) of the saturation workload (⅓ ASCII, ⅓ short
Chinese, ⅓ 200-character Chinese, all UCS2 in the Chinese template, 1/1/4 parts), to the same
40 expert phones.

* smscat: the daemon (``bench/daemon.py``, bench/config.yaml), questions posted over HTTP as
  in ``bench/saturation.py`` (the SMS are what the daemon makes of them).
* gammu-smsd (``apt-get install gammu-smsd``): the files backend, ``TransmitFormat = auto``,
  every other setting Debian's default; the SMS texts are written to its outbox folder (UTF-8,
  ``LC_ALL=C.UTF-8``) before it starts, the most favourable case for it (a full queue, no
  injection during the run).

Measured by one ruler for both, the simulator: its count of accepted parts (``GET /state``,
looked at every 50 ms), from the system's start (smscat: the first POST; gammu-smsd: the
process start, its modem start-up included) and from the first accepted part, to the last.
The ratio is smscat's parts/s over gammu-smsd's, on the sending span. Full run: about 10
minutes at latency 0 (gammu-smsd sends about 2 parts/s here); ``--quick``: about 1.5 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import common
from simproc import sim_process, sim_sent, sim_state  # bench/simproc.py

SAMPLE = 0.05  # seconds between looks at the simulator's part count
GAMMU_SETTINGS = {"service": "files", "TransmitFormat": "auto"}


class PartClock:
    """The simulator's accepted-part count over time, sampled from its control API."""

    def __init__(self, http: aiohttp.ClientSession, control: str) -> None:
        self.http = http
        self.control = control
        self.samples: list[tuple[float, int]] = []

    async def sample(self) -> int:
        count = int((await sim_state(self.http, self.control))["counters"]["cmgs_ok"])
        self.samples.append((time.perf_counter(), count))
        return count

    async def run_until(self, done: Callable[[], Awaitable[bool]]) -> None:
        async def finished() -> bool:
            await self.sample()
            return await done()

        await common.poll_until(finished, SAMPLE)

    def spans(self, start: float) -> dict[str, float]:
        """Seconds from ``start`` and from the first part to the sample that saw the last part."""
        final = self.samples[-1][1]
        first = next(t for t, n in self.samples if n > 0)
        last = next(t for t, n in self.samples if n == final)
        return {
            "parts": final,
            "start_to_last_part_s": round(last - start, 3),
            "first_to_last_part_s": round(last - first, 3),
        }


async def _check(http: aiohttp.ClientSession, control: str) -> dict[str, Any]:
    state, sent = await sim_state(http, control), await sim_sent(http, control)
    parts = state["counters"]["cmgs_ok"]
    return {
        "messages_seen_by_modem": len(sent),
        "incomplete": sum(not m["complete"] for m in sent),
        "distinct_recipients": len({m["to"] for m in sent}),
        "at_commands_per_part": round(state["counters"]["commands"] / max(parts, 1), 3),
    }


async def run_smscat(questions: list[common.Question], latency: float) -> dict[str, Any]:
    async with (
        sim_process("--send-latency", str(latency)) as (link, control),
        aiohttp.ClientSession() as http,
        contextlib.AsyncExitStack() as stack,
    ):
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="smscat-bench-")))
        config = common.write_config(tmp, [{"id": "m1", "port": link}])
        daemon = await stack.enter_async_context(common.daemon(config))
        await common.wait_registered(http, daemon.url, 1)
        clock = PartClock(http, control)
        await clock.sample()
        start = time.perf_counter()
        async with asyncio.TaskGroup() as tasks:
            asking = tasks.create_task(common.ask_all(http, daemon.url, questions, 4))

            async def drained() -> bool:
                return asking.done() and await common.queue_depth(http, daemon.url) == 0

            await clock.run_until(drained)
        await clock.sample()
        return {**clock.spans(start), **await _check(http, control)}


def _smsdrc(tmp: Path, link: str) -> Path:
    folders = {name: tmp / name for name in ("inbox", "outbox", "sent", "error")}
    for folder in folders.values():
        folder.mkdir()
    lines = [
        "[gammu]",
        f"device = {link}",
        "connection = at",
        "[smsd]",
        *(f"{key} = {value}" for key, value in GAMMU_SETTINGS.items()),
        f"inboxpath = {folders['inbox']}/",
        f"outboxpath = {folders['outbox']}/",
        f"sentsmspath = {folders['sent']}/",
        f"errorsmspath = {folders['error']}/",
        f"logfile = {tmp / 'smsd.log'}",
        "debuglevel = 0",
    ]
    path = tmp / "smsdrc"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def run_gammu(questions: list[common.Question], latency: float) -> dict[str, Any]:
    binary = shutil.which("gammu-smsd")
    if binary is None:
        raise SystemExit("gammu-smsd is not installed: apt-get install -y gammu-smsd")
    async with (
        sim_process("--send-latency", str(latency)) as (link, control),
        aiohttp.ClientSession() as http,
        contextlib.AsyncExitStack() as stack,
    ):
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="smscat-gammu-")))
        rc = _smsdrc(tmp, link)
        for serial, (to, text) in enumerate(common.rendered(questions)):
            # OUT<priority>_<recipient>_<serial>.txt; sent in file-name order
            (tmp / "outbox" / f"OUTA_{to}_{serial:05d}.txt").write_text(text, encoding="utf-8")
        clock = PartClock(http, control)
        await clock.sample()
        start = time.perf_counter()
        log = stack.enter_context((tmp / "smsd.stderr").open("wb"))
        proc = await common.start(
            binary, "-c", str(rc), stdout=log, stderr=log, env={"LC_ALL": "C.UTF-8"}
        )
        try:

            async def drained() -> bool:
                if proc.returncode is not None:
                    raise RuntimeError(f"gammu-smsd exited with {proc.returncode}")
                left = [*(tmp / "outbox").iterdir()]
                return not left

            await clock.run_until(drained)
            # the file moves to sent/ after its last part: one more look for that part's count
            await asyncio.sleep(SAMPLE)
            await clock.sample()
        finally:
            await common.stop(proc)
        errors = len([*(tmp / "error").iterdir()])
        return {**clock.spans(start), **await _check(http, control), "error_files": errors}


async def run(args: argparse.Namespace) -> None:
    n = args.messages or (60 if args.quick else 500)
    questions = common.workload(n, list(common.experts()))
    common.note(f"smscat: {n} questions, latency {args.latency} s")
    ours = await run_smscat(questions, args.latency)
    common.note(f"gammu-smsd: {n} SMS, latency {args.latency} s")
    peer = await run_gammu(questions, args.latency)
    rows = []
    for name, r in (("smscat", ours), ("gammu-smsd (files)", peer)):
        r["parts_per_second"] = round(r["parts"] / r["first_to_last_part_s"], 2)
        r["parts_per_second_from_start"] = round(r["parts"] / r["start_to_last_part_s"], 2)
        rows.append(
            [
                name,
                n,
                r["parts"],
                r["start_to_last_part_s"],
                r["first_to_last_part_s"],
                r["parts_per_second"],
                r["at_commands_per_part"],
            ]
        )
    ratio = ours["parts_per_second"] / peer["parts_per_second"]
    common.emit(
        args,
        {
            "messages": n,
            "latency_s": args.latency,
            "smscat": ours,
            "gammu_smsd": {**peer, "settings": GAMMU_SETTINGS},
            "ratio_smscat_to_gammu": round(ratio, 2),
        },
        title="smscat vs gammu-smsd on the same simulated modem",
        n=f"{n} SMS (⅓ ASCII, ⅓ short Chinese, ⅓ 200-character Chinese; UCS2), "
        f"{ours['distinct_recipients']} recipients, send latency {args.latency} s",
        columns=[
            "system",
            "messages",
            "parts",
            "start → last part s",
            "first → last part s",
            "parts/s",
            "AT commands/part",
        ],
        rows=rows,
        notes=[f"smscat ÷ gammu-smsd, parts/s while sending: **{ratio:.2f}×**."],
    )


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--messages", type=int, help="SMS per system (500; --quick: 60)")
    parser.add_argument("--latency", type=float, default=0.0, help="simulated send latency, s")
    common.main(run, parser.parse_args())


if __name__ == "__main__":
    main()
