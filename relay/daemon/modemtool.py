"""``smscat modem …``: the driver used directly, one JSON object per answer (outer ring).

Exit codes: 0 success, 1 the modem failed (port, timeout, error result), 2 usage (a number
that cannot be one). Errors go to stderr as one line; phone numbers never appear in them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from smscat.modem import pdu
from smscat.modem.address import AddressError
from smscat.modem.device import Modem
from smscat.modem.errors import EncodeError, ModemError, PduError
from smscat.modem.inbox import Inbox, StoredPart
from smscat.modem.reassembly import Message, Reassembler
from smscat.modem.reports import Matched, ReportMatcher
from smscat.modem.session import AtSession

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def run_tool(args: argparse.Namespace) -> int:
    if args.tool == "scan":  # many ports, a report of its own (scan.py)
        from smscat.relay.daemon.scan import run_scan

        return run_scan(args)
    try:
        result = asyncio.run(_tool(args))
    except (AddressError, EncodeError) as exc:
        print(f"smscat modem {args.tool}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ModemError as exc:
        print(f"smscat modem {args.tool}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    if result is not None:
        print(json.dumps(result, ensure_ascii=False), flush=True)
    return EXIT_OK


async def _tool(args: argparse.Namespace) -> dict[str, Any] | None:
    async with AtSession.open(args.port, baudrate=args.baudrate) as session:
        modem = Modem(session)
        await modem.initialise(reports=getattr(args, "report", False))
        if args.tool == "probe":
            return (await modem.probe()).as_json()
        if args.tool == "send":
            return await _send(modem, args)
        await _listen(modem, args.seconds, keep=args.keep, sweep_every=args.sweep_every)
        return None


async def _send(modem: Modem, args: argparse.Namespace) -> dict[str, Any]:
    submitted = datetime.now(UTC)
    sent = await modem.send(args.to, args.text, ref=random.randrange(256), report=args.report)
    result: dict[str, Any] = {"parts": len(sent), "mr": [part.mr for part in sent]}
    if not args.report:
        return result
    matcher: ReportMatcher[int] = ReportMatcher()
    for part in sent:
        matcher.record("cli", part.mr, args.to, submitted, part.seq)
    reports: dict[int, dict[str, Any]] = {}
    try:
        async with asyncio.timeout(args.report_timeout):
            while len(reports) < len(sent):
                urc = await modem.session.urcs.get()
                if urc.name != "+CDS" or urc.pdu is None:
                    continue
                try:
                    report = pdu.decode_status_report(urc.pdu)
                except PduError:
                    continue
                placed = matcher.match("cli", report, datetime.now(UTC))
                if isinstance(placed, Matched) and placed.final:
                    reports[placed.entry.key] = {
                        "seq": placed.entry.key,
                        "mr": report.mr,
                        "status": report.status,
                        "delivered": report.delivered,
                    }
    except TimeoutError:
        pass  # parts without a report show as null: the caller sees which
    result["reports"] = [reports.get(part.seq) for part in sent]
    return result


def _line(message: Message) -> str:
    when = message.scts or message.first_received
    return json.dumps(
        {
            "from": message.sender,
            "text": message.text,
            "parts": message.total,
            "complete": message.complete,
            "received_at": when.isoformat(),
        },
        ensure_ascii=False,
    )


async def _listen(modem: Modem, seconds: float, *, keep: bool, sweep_every: float) -> None:
    """Print each received, reassembled SMS once (a JSON line), then delete it unless keep."""
    inbox = Inbox(modem.session)
    inbox.quirks = modem.quirks
    reassembler = Reassembler()
    seen: set[tuple[int | None, str]] = set()
    # (memory, index) of each stored part, by message: deleted where it was read
    indexes: dict[tuple[str, int | None, int], list[tuple[str | None, int]]] = defaultdict(list)

    async def take(part: StoredPart) -> None:
        if part.key in seen:
            return
        seen.add(part.key)
        concat = part.deliver.concat
        group = (part.deliver.sender, concat.ref if concat else None, concat.total if concat else 1)
        if part.index is not None:
            indexes[group].append((part.memory, part.index))
        message = reassembler.add(part.deliver, datetime.now(UTC))
        if message is None:
            return
        print(_line(message), flush=True)  # printed (the CLI's "stored") before deleted
        for memory, index in indexes.pop(group, []):
            if not keep:
                await inbox.delete(index, memory)

    async def sweep() -> None:
        """Every memory that can hold SMS (the one selected, where the modem does not say)."""
        for memory in await inbox.memories() or (None,):
            for part in await inbox.sweep(memory):
                await take(part)

    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    await sweep()
    next_sweep = loop.time() + sweep_every
    while (left := deadline - loop.time()) > 0:
        try:
            async with asyncio.timeout(min(left, max(next_sweep - loop.time(), 0.01))):
                urc = await modem.session.urcs.get()
        except TimeoutError:
            if loop.time() >= next_sweep:
                await sweep()
                next_sweep = loop.time() + sweep_every
            continue
        location = inbox.notified_location(urc)
        if location is not None:
            memory, index = location
            stored = await inbox.read(index, memory)
            if stored is not None:
                await take(stored)
        elif (routed := inbox.routed(urc)) is not None:
            await take(routed)
    # Whatever is still missing parts is reported as incomplete, and left on the SIM.
    for message in reassembler.expire(datetime.now(UTC) + timedelta(days=3650)):
        print(_line(message), flush=True)
