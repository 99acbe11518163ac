"""The driver's send path against ``smscat sim``, next to the host-side limit of the same run.

Usage: python bench/modem_send.py [--quick] [--table] [--parts N] [--rounds R]

Starts the simulator as its own process (send latency 0) and, for each workload — single-part
ASCII messages, then long Chinese messages (300 characters, 5 UCS2 parts each, so AT+CMMS=1 +
5 × AT+CMGS per message) — runs R rounds of about N/R parts each. A round is the bare AT+CMGS
loop (``bench/cmgs_loop.py``: the very PDUs the driver will send, back to back, nothing parsed)
and then the driver (``AtSession.open`` + ``Modem.initialise`` + ``Modem.send``), on the same
simulator, one after the other, each after a ``POST /reset``: interleaving keeps the machine's
drift out of the ratio, and both phases meet the same simulator state. Wall
time is taken around the sends only; the simulator's command counters (``GET /state``) are read
around the driver's sends, so the AT commands per part are the driver's own.

Prints one JSON object with every round and the medians, and a table (bench/common.py);
``--quick``: 1,600 parts in 4 rounds. The issue's goals — driver ≥ 80 % of
the bare loop's parts/s, ≤ 3 AT commands per part — are reported as ``goal_met``, never asserted.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from typing import Any

import aiohttp
import common  # bench/common.py
from cmgs_loop import Pdus, bare_loop  # bench/cmgs_loop.py, next to this script
from simproc import sim_process  # bench/simproc.py, next to this script

from smscat.modem import pdu
from smscat.modem.device import Modem
from smscat.modem.session import AtSession

TO = "+8613800138000"
RATIO_GOAL = 0.8
COMMANDS_GOAL = 3.0
LONG_CHINESE = ("短信猫基准测试长中文消息" * 30)[:300]  # 300 UCS2 characters → 5 parts
WORKLOADS = (("single-part ASCII", "bench"), ("300-character Chinese (UCS2)", LONG_CHINESE))


async def _counters(http: aiohttp.ClientSession, control: str) -> dict[str, Any]:
    async with http.get(f"{control}/state") as resp:
        resp.raise_for_status()
        return dict((await resp.json())["counters"])


def _pdus(text: str, messages: int) -> Pdus:
    """The parts the driver will submit, for the bare loop to submit as they are."""
    return [
        (p.tpdu_length, p.pdu_hex.encode())
        for i in range(messages)
        for p in pdu.plan_submit(TO, text, ref=i & 0xFF)
    ]


async def _reset(http: aiohttp.ClientSession, control: str) -> None:
    """A fresh simulator state before each phase, so both see the same (empty) history."""
    async with http.post(f"{control}/reset") as resp:
        resp.raise_for_status()


async def _driver(link: str, text: str, messages: int) -> tuple[int, float]:
    """(parts sent, seconds) for ``messages`` sends of ``text`` through the driver."""
    async with AtSession.open(link) as session:
        modem = Modem(session)
        await modem.initialise()
        sent = 0
        start = time.perf_counter()
        for i in range(messages):
            sent += len(await modem.send(TO, text, ref=i & 0xFF))
        return sent, time.perf_counter() - start


async def _workload(
    link: str,
    control: str,
    http: aiohttp.ClientSession,
    name: str,
    text: str,
    parts: int,
    rounds: int,
) -> dict[str, Any]:
    per_message = len(pdu.plan_submit(TO, text, ref=0))
    messages = max(1, math.ceil(parts / rounds / per_message))
    rows = []
    commands = sent_total = 0
    for _ in range(rounds):
        await _reset(http, control)
        bare_seconds = await bare_loop(link, messages * per_message, _pdus(text, messages))
        await _reset(http, control)
        before = await _counters(http, control)
        sent, seconds = await _driver(link, text, messages)
        after = await _counters(http, control)
        # the driver's commands during its sends: less its start-up (initialise) commands
        commands += after["by_command"].get("+CMGS", 0) - before["by_command"].get("+CMGS", 0)
        commands += after["by_command"].get("+CMMS", 0) - before["by_command"].get("+CMMS", 0)
        sent_total += sent
        bare_rate = messages * per_message / bare_seconds
        rows.append(
            {
                "parts": sent,
                "driver_parts_per_second": round(sent / seconds, 1),
                "bare_parts_per_second": round(bare_rate, 1),
                "ratio": round(sent / seconds / bare_rate, 3),
            }
        )
    ratio = statistics.median(r["ratio"] for r in rows)
    per_part = commands / sent_total
    return {
        "workload": name,
        "parts_per_message": per_message,
        "rounds": rows,
        "driver_parts_per_second": statistics.median(r["driver_parts_per_second"] for r in rows),
        "bare_parts_per_second": statistics.median(r["bare_parts_per_second"] for r in rows),
        "ratio_to_bare_loop": ratio,
        "at_commands_per_part": round(per_part, 3),
        "goal_met": {
            f"ratio_at_least_{RATIO_GOAL}": ratio >= RATIO_GOAL,
            f"at_commands_per_part_at_most_{COMMANDS_GOAL:g}": per_part <= COMMANDS_GOAL,
        },
    }


async def run(parts: int, rounds: int) -> dict[str, Any]:
    async with (
        sim_process("--send-latency", "0") as (link, control),
        aiohttp.ClientSession() as http,
    ):
        workloads = [
            await _workload(link, control, http, name, text, parts, rounds)
            for name, text in WORKLOADS
        ]
    return {"parts_per_workload": parts, "workloads": workloads}


async def _main(args: argparse.Namespace) -> None:
    parts = args.parts or (1600 if args.quick else 8000)
    rounds = args.rounds or (4 if args.quick else 8)
    result = await run(parts, rounds)
    common.emit(
        args,
        result,
        title="driver send path (Modem.send) vs bare AT+CMGS loop, smscat sim latency 0",
        n=f"{parts:,} parts per workload in {rounds} rounds",
        columns=[
            "workload",
            "driver parts/s",
            "bare loop parts/s",
            "ratio (median of rounds)",
            "AT commands/part",
        ],
        rows=[
            [
                w["workload"],
                w["driver_parts_per_second"],
                w["bare_parts_per_second"],
                w["ratio_to_bare_loop"],
                w["at_commands_per_part"],
            ]
            for w in result["workloads"]
        ],
    )


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--parts", type=int, help="parts per workload (8000; --quick: 1600)")
    parser.add_argument("--rounds", type=int, help="bare/driver pairs per workload (8; --quick: 4)")
    common.main(_main, parser.parse_args())


if __name__ == "__main__":
    main()
