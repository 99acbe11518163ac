"""Host-side limit: a bare AT+CMGS loop against ``smscat sim`` at send latency 0.

Usage: python bench/cmgs_loop.py [--quick] [--table] [--parts N]

Opens the simulator's pty with pyserial-asyncio-fast and submits PDUs back to back (echo off,
no other command in between, nothing parsed beyond waiting for ``> `` and ``OK``): the ceiling
any driver can reach on this machine. ``bench/modem_send.py`` runs it next to the driver, on the
same simulator and the same PDUs (and ``bench/saturation.py`` next to the whole daemon). Alone,
it starts its own simulator and prints one JSON object and a table (bench/common.py).
"""

from __future__ import annotations

import argparse
import time

import common  # bench/common.py
import serial_asyncio_fast
from simproc import sim_process  # bench/simproc.py, next to this script

from smscat.hwsim import pdu

Pdus = list[tuple[int, bytes]]  # (TPDU length, SMSC field + TPDU in hex)


def single_part_pdus() -> Pdus:
    """The default workload: one short single-part PDU."""
    tpdu = pdu.encode_submit("+8613800138000", "bench")
    return [(len(tpdu), (pdu.encode_smsc(None) + tpdu).hex().upper().encode())]


async def bare_loop(link: str, parts: int, pdus: Pdus) -> float:
    """Submit ``parts`` PDUs cycling through ``pdus``; return the seconds it took."""
    lines = [(b"AT+CMGS=%d\r" % length, body + b"\x1a") for length, body in pdus]
    reader, writer = await serial_asyncio_fast.open_serial_connection(url=link)
    try:
        writer.write(b"ATE0\r")
        await reader.readuntil(b"OK\r\n")
        start = time.perf_counter()
        for i in range(parts):
            line, body = lines[i % len(lines)]
            writer.write(line)
            await reader.readuntil(b"> ")
            writer.write(body)
            await reader.readuntil(b"OK\r\n")
        return time.perf_counter() - start
    finally:
        writer.close()


async def run(parts: int) -> dict[str, object]:
    async with sim_process() as (link, _control):
        elapsed = await bare_loop(link, parts, single_part_pdus())
    return {
        "parts": parts,
        "seconds": round(elapsed, 3),
        "parts_per_second": round(parts / elapsed, 1),
    }


async def _main(args: argparse.Namespace) -> None:
    parts = args.parts or (500 if args.quick else 2000)
    result = await run(parts)
    common.emit(
        args,
        result,
        title="bare AT+CMGS loop (host-side limit)",
        n=f"{parts:,} single-part PDUs",
        columns=["parts", "seconds", "parts/s"],
        rows=[[result["parts"], result["seconds"], result["parts_per_second"]]],
    )


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--parts", type=int, help="parts to submit (2000; --quick: 500)")
    common.main(_main, parser.parse_args())


if __name__ == "__main__":
    main()
