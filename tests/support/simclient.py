"""The simulator's two clients in tests: a DTE on its AT port and the network on its control API.

What a DTE types (``submit_body``) needs no simulator, so the pure engine tests use it too.
Stored SMS are decoded with the simulator's own PDU codec, never with modem/.
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from smscat.hwsim import pdu
from smscat.hwsim.engine import Identity
from tests.support.atport import AtPort

SENDER = "+8613800138000"
RECIPIENT = "+8613912345678"
SMSC = Identity().smsc
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=5)
URC_WAIT = 0.3  # how long to listen for an unsolicited line
STORED = re.compile(rb"\+CMG[LR]: [^\r]*\r\n([0-9A-F]+)\r\n")
# What SimModem.state() reports after start or reset (GET /state adds link and profile).
FRESH_STATE: dict[str, Any] = {
    "registration": "registered",
    "csq": 20,
    "storage": {"used": 0, "total": 30, "read": 0},
    "prompt": False,
    "pending": 0,
    "fault": {
        "profile": "generic",
        "count": None,
        "every": None,
        "seconds": None,
        "code": None,
        "part": None,
        "active": False,
    },
    "counters": {"commands": 0, "cmgs_ok": 0, "cmgs_error": 0, "by_command": {}},
}


def submit_body(
    text: str, *, da: str = RECIPIENT, concat: pdu.Concat | None = None
) -> tuple[int, bytes]:
    """(TPDU length for AT+CMGS=<n>, the hex the DTE types at the ``> `` prompt)."""
    tpdu = pdu.encode_submit(da, text, concat=concat)
    return len(tpdu), (pdu.encode_smsc(None) + tpdu).hex().upper().encode()


async def submit(port: AtPort, text: str, *, concat: pdu.Concat | None = None) -> bytes:
    """Run one AT+CMGS with echo on; return what the modem answered after Ctrl-Z."""
    length, body = submit_body(text, concat=concat)
    assert await port.command(b"AT+CMGS=%d\r" % length) == b"AT+CMGS=%d\r\r\n> " % length
    reply = await port.command(body + b"\x1a")
    assert reply.startswith(body)
    return reply[len(body) :]


def decode_stored(reply: bytes, entry: re.Pattern[bytes] = STORED) -> list[pdu.Deliver]:
    """The SMS-DELIVERs in a +CMGL/+CMGR answer; each carries the SIM's SMSC.

    ``entry`` finds each stored PDU (its hex in group 1); a test may pass a stricter one.
    """
    delivers = []
    for hex_pdu in entry.findall(reply):
        smsc, tpdu = pdu.split_smsc(bytes.fromhex(hex_pdu.decode()))
        assert smsc == SMSC
        delivers.append(pdu.decode_deliver(tpdu))
    return delivers


async def get_json(control: aiohttp.ClientSession, path: str) -> Any:
    async with control.get(path, timeout=HTTP_TIMEOUT) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        return await resp.json()


async def post_sms(control: aiohttp.ClientSession, body: dict[str, Any]) -> dict[str, Any]:
    """POST /sms: a phone sends ``body`` (``from``, ``text``, …); the answer of a 202."""
    async with control.post("/sms", json=body, timeout=HTTP_TIMEOUT) as resp:
        assert resp.status == 202, await resp.text()
        answer: dict[str, Any] = await resp.json()
        return answer
