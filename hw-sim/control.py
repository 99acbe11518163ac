"""The simulator's control API (loopback only): phones send SMS, tests read what was sent.

    POST /sms     {"from", "text", "order"?: "reverse" | [3,1,2], "drop"?: [2]} → 202 {parts, ref}
                  with "ref" (one an earlier call returned): parts of that message, delivered late
    GET  /sent    every SMS the modem submitted, decoded and reassembled
    GET  /state   registration, signal, storage, profile, counters
    POST /reset   a new device with an empty SIM
    POST /faults  {"profile": slug | "none", "count"?, "every"?, "seconds"?} → the active fault
    POST /unassigned {"numbers": ["+86…"]}  the network refuses these (+CMS ERROR: 1); [] clears
    GET  /phones  every number the modem talked to, with what it sent and received
    GET  /        the virtual-phones page (static HTML that calls the endpoints above)

Bad requests get a 400 with a reason; nothing here echoes a stack trace.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from smscat.hwsim.engine import Output, SimModem


class Simulator(Protocol):
    """What the control API needs of the running simulator (:class:`.service.Simulator`)."""

    engine: SimModem

    @property
    def link(self) -> Path: ...

    async def call(self, fn: Callable[[], tuple[Any, list[Output]]]) -> Any: ...


MAX_TEXT = 1530  # ten GSM-7 parts; a longer "phone" message is a test mistake
_NUMBER = re.compile(r"^\+?\d{3,20}$")
_SENDER = re.compile(r"^(\+?\d{1,20}|[A-Za-z0-9 ]{1,11})$")
SIM_KEY: web.AppKey[Simulator] = web.AppKey("simulator")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadRequest(ValueError):
    """The request cannot be done; the message says why (shown to the caller)."""


def _int_list(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(n, int) and not isinstance(n, bool) for n in value
    )


def _bad(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=400)


@web.middleware
async def _loopback_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    remote = request.remote or ""
    try:
        allowed = ipaddress.ip_address(remote).is_loopback
    except ValueError:
        allowed = False
    if not allowed:
        return web.json_response({"error": "the control API answers loopback only"}, status=403)
    try:
        return await handler(request)
    except BadRequest as exc:
        return _bad(str(exc))


async def _json_body(request: web.Request, fields: set[str]) -> dict[str, Any]:
    """The request's JSON object, refused if it has a field outside ``fields``."""
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    unknown = set(body) - fields
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(sorted(unknown))}")
    return body


async def post_sms(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    body = await _json_body(request, {"from", "text", "order", "drop", "ref"})
    sender, text = body.get("from"), body.get("text")
    if not isinstance(sender, str) or not _SENDER.match(sender):
        raise BadRequest('"from" is a phone number (+8613…), a short code or up to 11 letters')
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise BadRequest(f'"text" is a string of at most {MAX_TEXT} characters')
    order = body.get("order")
    if not (order is None or order == "reverse" or _int_list(order)):
        raise BadRequest('"order" is "reverse" or a list of part numbers')
    drop = body.get("drop", [])
    if not _int_list(drop):
        raise BadRequest('"drop" is a list of part numbers')
    late = body.get("ref")
    if late is not None and (isinstance(late, bool) or not isinstance(late, int)):
        raise BadRequest('"ref" is the reference an earlier POST /sms returned (0-255)')

    def deliver() -> tuple[tuple[int, int], list[Output]]:
        parts, ref, out = sim.engine.network_sms(sender, text, order=order, drop=drop, ref=late)
        return (parts, ref), out

    try:
        parts, ref = await sim.call(deliver)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return web.json_response({"parts": parts, "ref": ref}, status=202)


async def get_sent(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    return web.json_response([m.as_json() for m in sim.engine.sent])


async def get_state(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    state = sim.engine.state()
    return web.json_response({**state, "profile": sim.engine.fault.profile, "link": str(sim.link)})


async def post_faults(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    body = await _json_body(request, {"profile", "count", "every", "seconds", "code", "part"})
    profile = body.get("profile")
    if not isinstance(profile, str):
        raise BadRequest('"profile" is a fault profile name, or "none"')
    numbers: dict[str, Any] = {}
    for key, kind, limit in (
        ("count", int, 10_000),
        ("every", int, 10_000),
        ("seconds", float, 3600),
        ("code", int, 511),  # +CMS ERROR codes are 0-511 (27.005 §3.2.5)
        ("part", int, 255),
    ):
        value = body.get(key)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (kind is int and not isinstance(value, int))
        ):
            raise BadRequest(f'"{key}" is a number')
        if not (0 < value <= limit if key != "count" else 0 <= value <= limit):
            raise BadRequest(f'"{key}" is out of range (at most {limit})')
        numbers[key] = value

    def switch() -> tuple[dict[str, object], list[Output]]:
        out = sim.engine.set_fault(profile, **numbers)
        return sim.engine.fault.as_json(), out

    try:
        fault = await sim.call(switch)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return web.json_response(fault)


async def get_phones(request: web.Request) -> web.Response:
    """Messages per phone number, newest first; numbers ordered by their latest message."""
    engine = request.app[SIM_KEY].engine
    threads: dict[str, list[dict[str, Any]]] = {}
    for sent in engine.sent:
        threads.setdefault(sent.to, []).append(
            {
                "direction": "to_phone",
                "text": sent.text,
                "parts": sent.total,
                "complete": sent.complete,
                "at": sent.accepted_at.isoformat(),
            }
        )
    for got in engine.received:
        threads.setdefault(got.sender, []).append(
            {
                "direction": "from_phone",
                "text": got.text,
                "parts": got.parts,
                "complete": got.delivered == got.parts,
                "at": got.at.isoformat(),
            }
        )
    for messages in threads.values():
        messages.sort(key=lambda m: str(m["at"]), reverse=True)
    newest_first = sorted(threads.items(), key=lambda kv: str(kv[1][0]["at"]), reverse=True)
    return web.json_response([{"number": n, "messages": msgs} for n, msgs in newest_first])


async def get_page(request: web.Request) -> web.Response:
    page = resources.files("smscat.hwsim").joinpath("static/phones.html").read_text("utf-8")
    return web.Response(text=page, content_type="text/html", charset="utf-8")


async def post_reset(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]

    def reset() -> tuple[None, list[Output]]:
        sim.engine.reset()
        return None, []

    await sim.call(reset)
    return web.json_response({"reset": True})


async def post_unassigned(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    body = await _json_body(request, {"numbers"})
    numbers = body.get("numbers")
    if not isinstance(numbers, list) or len(numbers) > 100:
        raise BadRequest('"numbers" is a list of at most 100 phone numbers')
    digits = set()
    for number in numbers:
        if not isinstance(number, str) or not _NUMBER.match(number):
            raise BadRequest('"numbers" holds phone numbers like "+8613800138000"')
        digits.add(number.lstrip("+"))

    def refuse() -> tuple[list[str], list[Output]]:
        sim.engine.unassigned = digits
        return sorted(digits), []

    return web.json_response({"unassigned": await sim.call(refuse)})


def build_app(sim: Simulator) -> web.Application:
    app = web.Application(middlewares=[_loopback_only], client_max_size=64 * 1024)
    app[SIM_KEY] = sim
    app.router.add_post("/sms", post_sms)
    app.router.add_get("/sent", get_sent)
    app.router.add_get("/state", get_state)
    app.router.add_post("/reset", post_reset)
    app.router.add_post("/faults", post_faults)
    app.router.add_post("/unassigned", post_unassigned)
    app.router.add_get("/phones", get_phones)
    app.router.add_get("/", get_page)
    return app
