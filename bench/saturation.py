"""Modem saturation and host overhead: questions through the whole daemon onto simulated modems.

Usage: python bench/saturation.py [--quick] [--table] [--messages N] [--modems 1,2,4]
                                  [--latency S] [--skip-saturation] [--skip-overhead]
                                  [--profile FILE] [--report-delay S] [--db-dir DIR]

1. Saturation (issue 8, item 1). For 1, 2 and 4 modems: that many ``smscat sim`` processes
   with a send latency of 0.5 s each (``--latency``), a fresh database, the daemon in its own
   process (``bench/daemon.py``) with bench/config.yaml (every cap, guard and rate limit off;
   40 experts, so ≥ 40 distinct recipients). N questions (500; ``--quick``: 45), a third each
   ASCII, short Chinese and 200-character Chinese (1, 1 and 4 SMS parts: every SMS to an expert
   is UCS2, the template is Chinese), are posted as a patient posts them: ``POST /api/questions``
   over HTTP, 4 at a time. Wall time runs from the first POST to the last part the daemon
   recorded as accepted by a modem (``outbox_parts.sent_at``). The physical limit is
   parts × latency ÷ modems; the ratio is limit ÷ wall (goal ≥ 0.97).
2. Host overhead (item 2). The same questions (``--quick``: 150) at latency 0 through one
   modem, between two runs of the bare AT+CMGS loop (``bench/cmgs_loop.py``: the very PDUs
   the daemon sends, back to back, nothing parsed) on the same simulator process
   (``POST /reset`` before each phase).
   Reported: parts/s from the first POST to the last part (the whole pipeline: HTTP, database,
   codec, serial), parts/s over the sending span (first part to last part), the ratio of the
   pipeline's parts/s to the bare loop's (goal ≥ 0.5), AT commands per part (every command the
   simulator counted while the daemon ran, start-up included; and AT+CMGS/AT+CMMS only), and
   the daemon's CPU time per part, and parts/s after the last POST (the pump alone).

``--profile FILE`` runs the latency-0 pipeline once more under cProfile (daemon side: event
loop and SQLite threads), keeps the stats in FILE (``python -m pstats FILE``) and adds the top
15 functions by cumulative and by own time, idle waits left out (these numbers are not the
measured ones). ``--report-delay`` and ``--db-dir`` are diagnosis knobs (status reports out of
the measured window; the database on /dev/shm). Full run: about 18 minutes (each saturation run
takes at least parts × 0.5 s ÷ modems: 500 + 250 + 125 s); ``--quick``: about 3 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import common
from cmgs_loop import Pdus, bare_loop  # bench/cmgs_loop.py
from simproc import sim_process, sim_reset, sim_sent, sim_state  # bench/simproc.py

from smscat.modem import pdu

RATIO_GOAL = 0.97
OVERHEAD_GOAL = 0.5
POST_CONCURRENCY = 4
POLL = 0.25  # seconds between looks at the daemon's queue


def planned_pdus(questions: list[common.Question]) -> Pdus:
    """The parts the daemon will submit for these questions, for the bare loop to submit."""
    return [
        (part.tpdu_length, part.pdu_hex.encode())
        for i, (to, sms) in enumerate(common.rendered(questions))
        for part in pdu.plan_submit(to, sms, ref=i & 0xFF, report=True)
    ]


def _db_facts(path: Path, posted_at: datetime) -> dict[str, Any]:
    """What the daemon recorded: parts per modem, the first and last part, outbox statuses,
    and the parts sent after the last question was posted (the pump alone, no HTTP)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        per_modem = {
            str(m): int(n)
            for m, n in db.execute("SELECT modem_id, COUNT(*) FROM outbox_parts GROUP BY 1")
        }
        first, last = db.execute("SELECT MIN(sent_at), MAX(sent_at) FROM outbox_parts").fetchone()
        statuses = dict(db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY 1").fetchall())
        (after,) = db.execute(
            "SELECT COUNT(*) FROM outbox_parts WHERE sent_at > ?",
            (posted_at.isoformat(timespec="milliseconds"),),
        ).fetchone()
    return {
        "parts": sum(per_modem.values()),
        "parts_by_modem": per_modem,
        "first_part_at": datetime.fromisoformat(first) if first else None,
        "last_part_at": datetime.fromisoformat(last) if last else None,
        "parts_after_posting": int(after),
        "outbox": statuses,
    }


async def pipeline(
    links: list[str],
    questions: list[common.Question],
    *,
    profile: Path | None = None,
    db_dir: str | None = None,
) -> dict[str, Any]:
    """One daemon on ``links``: post every question, wait until the outbox is empty. The run's
    database, config and log live in a temporary directory (under ``db_dir`` if given)."""
    with tempfile.TemporaryDirectory(prefix="smscat-bench-", dir=db_dir) as tmp:
        config = common.write_config(
            Path(tmp), [{"id": f"m{i + 1}", "port": link} for i, link in enumerate(links)]
        )
        async with (
            aiohttp.ClientSession() as http,
            common.daemon(config, profile=profile) as daemon,
        ):
            await common.wait_registered(http, daemon.url, len(links))
            cpu_before = common.cpu_seconds(daemon.pid)
            started = datetime.now(UTC)
            t0 = time.perf_counter()
            posted: list[float] = []

            async def ask() -> list[tuple[int, str]]:
                asked = await common.ask_all(http, daemon.url, questions, POST_CONCURRENCY)
                posted.append(time.perf_counter() - t0)
                return asked

            async with asyncio.TaskGroup() as tasks:
                asking = tasks.create_task(ask())

                async def drained() -> bool:
                    return asking.done() and await common.queue_depth(http, daemon.url) == 0

                await common.poll_until(drained, POLL)
            asked = asking.result()
            cpu = common.cpu_seconds(daemon.pid) - cpu_before
            memory = common.rss_mb(daemon.pid)
        posted_at = started + timedelta(seconds=posted[0])
        facts = _db_facts(config.parent / "smscat.db", posted_at)
    last, first = facts.pop("last_part_at"), facts.pop("first_part_at")
    assert last is not None, "no part was sent"
    assert first is not None
    after = (last - posted_at).total_seconds()
    return {
        **facts,
        "parts_per_second_after_posting": (
            round(facts["parts_after_posting"] / after, 1) if after > 0 else None
        ),
        "questions": len(asked),
        "wall_s": round((last - started).total_seconds(), 3),
        "send_span_s": round((last - first).total_seconds(), 3),
        "first_part_after_s": round((first - started).total_seconds(), 3),
        "posting_s": round(posted[0], 3),
        "daemon_cpu_s": round(cpu, 3),
        "daemon_memory": memory,
    }


async def _recipients(http: aiohttp.ClientSession, controls: list[str]) -> dict[str, int]:
    sent = [m for control in controls for m in await sim_sent(http, control)]
    return {
        "messages_seen_by_modems": len(sent),
        "incomplete": sum(not m["complete"] for m in sent),
        "distinct_recipients": len({m["to"] for m in sent}),
    }


async def saturation(
    modems: int, latency: float, questions: list[common.Question], db_dir: str | None
) -> dict[str, Any]:
    async with contextlib.AsyncExitStack() as stack:
        sims = [
            await stack.enter_async_context(sim_process("--send-latency", str(latency)))
            for _ in range(modems)
        ]
        common.note(f"saturation: {modems} modem(s), latency {latency} s, {len(questions)} msgs")
        run = await pipeline([link for link, _ in sims], questions, db_dir=db_dir)
        async with aiohttp.ClientSession() as http:
            seen = await _recipients(http, [control for _, control in sims])
    limit = run["parts"] * latency / modems
    ratio = limit / run["wall_s"]
    return {
        "modems": modems,
        "latency_s": latency,
        **run,
        **seen,
        "parts_per_second": round(run["parts"] / run["wall_s"], 2),
        "physical_limit_s": round(limit, 3),
        "ratio_to_physical_limit": round(ratio, 4),
        "goal_met": {f"ratio_at_least_{RATIO_GOAL}": ratio >= RATIO_GOAL},
    }


async def overhead(
    questions: list[common.Question],
    profile: Path | None,
    report_delay: float,
    db_dir: str | None,
) -> dict[str, Any]:
    pdus = planned_pdus(questions)
    async with (
        sim_process("--send-latency", "0", "--report-delay", str(report_delay)) as (link, control),
        aiohttp.ClientSession() as http,
    ):
        common.note(f"host overhead: bare AT+CMGS loop, {len(pdus)} parts")
        await sim_reset(http, control)
        bare = [len(pdus) / await bare_loop(link, len(pdus), pdus)]
        await sim_reset(http, control)
        common.note(f"host overhead: the daemon at latency 0, {len(questions)} questions")
        run = await pipeline([link], questions, db_dir=db_dir)
        counters = (await sim_state(http, control))["counters"]
        seen = await _recipients(http, [control])
        await sim_reset(http, control)
        common.note("host overhead: bare AT+CMGS loop again")
        bare.append(len(pdus) / await bare_loop(link, len(pdus), pdus))
        profiled: dict[str, Any] | None = None
        if profile is not None:
            await sim_reset(http, control)
            common.note("host overhead: the daemon again, under cProfile")
            again = await pipeline([link], questions, profile=profile, db_dir=db_dir)
            profiled = {
                "parts_per_second_profiled": round(again["parts"] / again["wall_s"], 1),
                **common.profile_top(profile),
            }
    parts = run["parts"]
    by_command = counters["by_command"]
    sends = by_command.get("+CMGS", 0) + by_command.get("+CMMS", 0)
    pipeline_rate = parts / run["wall_s"]
    bare_rate = statistics.mean(bare)
    ratio = pipeline_rate / bare_rate
    result: dict[str, Any] = {
        "modems": 1,
        "latency_s": 0.0,
        **run,
        **seen,
        "parts_per_second": round(pipeline_rate, 1),
        "send_span_parts_per_second": round(parts / run["send_span_s"], 1),
        "bare_loop_parts_per_second": [round(b, 1) for b in bare],
        "ratio_to_bare_loop": round(ratio, 4),
        "planned_parts": len(pdus),
        "at_commands_per_part": round(counters["commands"] / parts, 3),
        "cmgs_cmms_per_part": round(sends / parts, 3),
        "at_commands_by_name": by_command,
        "daemon_cpu_ms_per_part": round(run["daemon_cpu_s"] * 1000 / parts, 3),
        "goal_met": {f"ratio_to_bare_loop_at_least_{OVERHEAD_GOAL}": ratio >= OVERHEAD_GOAL},
    }
    if profiled is not None:
        result["profile"] = profiled
    return result


async def run(args: argparse.Namespace) -> None:
    n = args.messages or (45 if args.quick else 500)
    n_overhead = args.messages or (150 if args.quick else 500)
    ids = list(common.experts())
    questions = common.workload(n, ids)
    modem_counts = [int(m) for m in args.modems.split(",")]
    runs = []
    if not args.skip_saturation:
        for modems in modem_counts:
            runs.append(await saturation(modems, args.latency, questions, args.db_dir))
    host = None
    if not args.skip_overhead:
        host = await overhead(
            common.workload(n_overhead, ids), args.profile, args.report_delay, args.db_dir
        )
    rows: list[list[object]] = [
        [
            f"saturation, {r['modems']} modem(s)",
            r["latency_s"],
            r["questions"],
            r["parts"],
            r["wall_s"],
            r["parts_per_second"],
            f"{r['physical_limit_s']:.1f} s",
            r["ratio_to_physical_limit"],
        ]
        for r in runs
    ]
    notes = (
        [
            "Parts per modem (a recipient stays on the SIM that first wrote to them): "
            + "; ".join(
                f"{r['modems']} modem(s): {', '.join(str(n) for n in r['parts_by_modem'].values())}"
                for r in runs
            )
        ]
        if runs
        else []
    )
    if host is not None:
        rows.append(
            [
                "pipeline, 1 modem",
                0.0,
                host["questions"],
                host["parts"],
                host["wall_s"],
                host["parts_per_second"],
                f"bare loop {round(statistics.mean(host['bare_loop_parts_per_second']))} parts/s",
                host["ratio_to_bare_loop"],
            ]
        )
        notes.append(
            f"Pipeline at latency 0: {host['send_span_parts_per_second']} parts/s over the"
            f" sending span; {host['at_commands_per_part']} AT commands per part (AT+CMGS and"
            f" AT+CMMS: {host['cmgs_cmms_per_part']}); daemon CPU"
            f" {host['daemon_cpu_ms_per_part']} ms per part; bare loop runs"
            f" {host['bare_loop_parts_per_second']} parts/s."
        )
        if "profile" in host:
            notes.append("```\n" + common.profile_text(host["profile"]) + "\n```")
    recipients = max([r["distinct_recipients"] for r in runs + ([host] if host else [])] or [0])
    common.emit(
        args,
        {
            "messages": n,
            "messages_at_latency_0": n_overhead,
            "mix": {
                k: sum(q.kind == k for q in questions) for k in ("ascii", "short_zh", "long_zh")
            },
            "saturation": runs,
            "host_overhead": host,
            "goals": {"ratio_to_physical_limit": RATIO_GOAL, "ratio_to_bare_loop": OVERHEAD_GOAL},
        },
        title="smscat saturation and host overhead (simulated modems)",
        n=f"{n} questions (⅓ ASCII, ⅓ short Chinese, ⅓ 200-character Chinese), "
        f"{recipients} distinct recipients",
        columns=[
            "run",
            "latency s",
            "questions",
            "parts",
            "wall s",
            "parts/s",
            "limit",
            "ratio",
        ],
        rows=rows,
        notes=notes,
    )


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument(
        "--messages", type=int, help="questions per run (500; --quick: 45, and 150 at latency 0)"
    )
    parser.add_argument("--modems", default="1,2,4", help="modem counts for the saturation runs")
    parser.add_argument("--latency", type=float, default=0.5, help="send latency, saturation")
    parser.add_argument(
        "--report-delay",
        type=float,
        default=1.0,
        metavar="S",
        help="simulator: seconds to each status report, latency-0 run (default 1; a diagnosis"
        " knob: 600 keeps report handling out of the measured window)",
    )
    parser.add_argument(
        "--db-dir",
        metavar="DIR",
        help="where each run's database lives (default: the system's temporary directory;"
        " /dev/shm shows what the disk's fsync costs)",
    )
    parser.add_argument("--skip-saturation", action="store_true")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument(
        "--profile", type=Path, metavar="FILE", help="cProfile the latency-0 daemon into FILE"
    )
    common.main(run, parser.parse_args())


if __name__ == "__main__":
    main()
