"""Host-side limit: a bare AT+CMGS loop against ``smscat sim`` at send latency 0.

Usage: python bench/cmgs_loop.py [--parts N]

Starts the simulator as its own process (as a real modem is another device), opens its pty
with pyserial-asyncio-fast, submits N single-part PDUs back to back (echo off, no other
command in between) and prints one JSON object: parts/s and AT commands per part. This is the
ceiling a driver can reach on this machine; the driver's own benchmark runs next to it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp
import serial_asyncio_fast
from simproc import sim_process  # bench/simproc.py, next to this script

from smscat.hwsim import pdu


async def run(parts: int) -> dict[str, object]:
    async with sim_process() as (link, control):
        reader, writer = await serial_asyncio_fast.open_serial_connection(url=link)
        writer.write(b"ATE0\r")
        await reader.readuntil(b"OK\r\n")
        tpdu = pdu.encode_submit("+8613800138000", "bench")
        line = b"AT+CMGS=%d\r" % len(tpdu)
        body = (pdu.encode_smsc(None) + tpdu).hex().upper().encode() + b"\x1a"
        start = time.perf_counter()
        for _ in range(parts):
            writer.write(line)
            await reader.readuntil(b"> ")
            writer.write(body)
            await reader.readuntil(b"OK\r\n")
        elapsed = time.perf_counter() - start
        writer.close()
        async with aiohttp.ClientSession() as http, http.get(f"{control}/state") as resp:
            state = await resp.json()
    commands = state["counters"]["commands"] - 1  # less the ATE0
    return {
        "benchmark": "bare AT+CMGS loop (host-side limit)",
        "parts": parts,
        "seconds": round(elapsed, 3),
        "parts_per_second": round(parts / elapsed, 1),
        "at_commands_per_part": commands / parts,
        "accepted": state["counters"]["cmgs_ok"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=2000)
    print(json.dumps(asyncio.run(run(parser.parse_args().parts))))


if __name__ == "__main__":
    main()
