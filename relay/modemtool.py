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
from typing import Any

from smscat.modem.address import AddressError
from smscat.modem.device import Modem
from smscat.modem.errors import EncodeError, ModemError
from smscat.modem.session import AtSession

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def run_tool(args: argparse.Namespace) -> int:
    try:
        result = asyncio.run(_tool(args))
    except (AddressError, EncodeError) as exc:
        print(f"smscat modem {args.tool}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ModemError as exc:
        print(f"smscat modem {args.tool}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return EXIT_OK


async def _tool(args: argparse.Namespace) -> dict[str, Any]:
    async with AtSession.open(args.port, baudrate=args.baudrate) as session:
        modem = Modem(session)
        await modem.initialise(reports=getattr(args, "report", False))
        if args.tool == "probe":
            return (await modem.probe()).as_json()
        sent = await modem.send(args.to, args.text, ref=random.randrange(256), report=args.report)
        return {"parts": len(sent), "mr": [part.mr for part in sent]}
