"""The driver's send path against ``smscat sim``, next to the host-side limit of the same run.

Usage: python bench/modem_send.py [--parts N]

Starts the simulator as its own process (send latency 0), opens the driver on its pty
(``AtSession.open`` + ``Modem.initialise``) and sends two workloads of about N parts each
through ``Modem.send``: single-part ASCII messages, then long Chinese messages (300 characters,
5 UCS2 parts each, so AT+CMMS=1 + 5 × AT+CMGS per message). Wall time is taken around the sends
only; the simulator's command counters (``GET /state``) are read before and after each workload,
so the AT commands per part are the driver's own during the send phase. In the same run the
bare AT+CMGS loop (``bench/cmgs_loop.py``, its own simulator process) gives the host-side limit.
Prints one JSON object. The issue's goals — driver ≥ 80 % of the bare loop's parts/s and
≤ 3 AT commands per part — are reported as ``goal_met`` booleans, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from typing import Any

import aiohttp
from cmgs_loop import run as bare_loop  # bench/cmgs_loop.py, next to this script
from simproc import sim_process  # bench/simproc.py, next to this script

from smscat.modem import pdu
from smscat.modem.device import Modem
from smscat.modem.session import AtSession

TO = "+8613800138000"
RATIO_GOAL = 0.8
COMMANDS_GOAL = 3.0
LONG_CHINESE = ("短信猫基准测试长中文消息" * 30)[:300]  # 300 UCS2 characters → 5 parts


async def _state(http: aiohttp.ClientSession, control: str) -> dict[str, Any]:
    async with http.get(f"{control}/state") as resp:
        resp.raise_for_status()
        return dict((await resp.json())["counters"])


async def _workload(
    modem: Modem,
    http: aiohttp.ClientSession,
    control: str,
    name: str,
    text: str,
    parts: int,
) -> dict[str, Any]:
    per_message = len(pdu.plan_submit(TO, text, ref=0))
    messages = math.ceil(parts / per_message)
    before = await _state(http, control)
    sent = 0
    start = time.perf_counter()
    for i in range(messages):
        sent += len(await modem.send(TO, text, ref=i & 0xFF))
    elapsed = time.perf_counter() - start
    after = await _state(http, control)
    commands = after["commands"] - before["commands"]
    by_command = {
        k: v - before["by_command"].get(k, 0)
        for k, v in after["by_command"].items()
        if v != before["by_command"].get(k, 0)
    }
    return {
        "workload": name,
        "messages": messages,
        "parts_per_message": per_message,
        "parts": sent,
        "seconds": round(elapsed, 3),
        "parts_per_second": round(sent / elapsed, 1),
        "at_commands_per_part": round(commands / sent, 3),
        "at_commands_by_name": by_command,
        "accepted": after["cmgs_ok"] - before["cmgs_ok"],
        "rejected": after["cmgs_error"] - before["cmgs_error"],
    }


async def _driver(parts: int) -> list[dict[str, Any]]:
    async with (
        sim_process("--send-latency", "0") as (link, control),
        aiohttp.ClientSession() as http,
        AtSession.open(link) as session,
    ):
        modem = Modem(session)
        await modem.initialise()
        return [
            await _workload(modem, http, control, "single-part ASCII", "bench", parts),
            await _workload(
                modem, http, control, "300-character Chinese (UCS2)", LONG_CHINESE, parts
            ),
        ]


async def run(parts: int) -> dict[str, Any]:
    bare = await bare_loop(parts)
    workloads = await _driver(parts)
    bare_rate = float(bare["parts_per_second"])  # type: ignore[arg-type]
    for w in workloads:
        ratio = w["parts_per_second"] / bare_rate
        w["ratio_to_bare_loop"] = round(ratio, 3)
        w["goal_met"] = {
            f"ratio_at_least_{RATIO_GOAL}": ratio >= RATIO_GOAL,
            f"at_commands_per_part_at_most_{COMMANDS_GOAL:g}": (
                w["at_commands_per_part"] <= COMMANDS_GOAL
            ),
        }
    return {
        "benchmark": "driver send path (Modem.send) vs bare AT+CMGS loop, smscat sim latency 0",
        "parts_requested": parts,
        "driver": workloads,
        "bare_loop": bare,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=2000, help="parts per workload")
    print(json.dumps(asyncio.run(run(parser.parse_args().parts)), ensure_ascii=False))


if __name__ == "__main__":
    main()
