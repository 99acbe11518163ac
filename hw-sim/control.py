"""The simulator's control API (loopback only): phones send SMS, tests read what was sent.

    POST /sms     {"from", "text", "order"?: "reverse" | [3,1,2], "drop"?: [2]} → 202 {parts, ref}
                  with "ref" (one an earlier call returned): parts of that message, delivered late
    GET  /sent    every SMS the modem submitted, decoded and reassembled
    GET  /state   registration, signal, storage, profile, counters
    GET  /module  which real module this pretends to be, and its SMS-ready / URC-port state
    POST /reset   a new device with an empty SIM
    POST /faults  {"profile": slug | "none", "count"?, "every"?, "seconds"?} → the active fault
    POST /unassigned {"numbers": ["+86…"]}  the network refuses these (+CMS ERROR: 1); [] clears
    GET  /phones  every number the modem talked to, with what it sent and received
    GET  /        the virtual-phones page (static HTML that calls the endpoints above, by
                  relative URL), with its style and script at /phones.css and /phones.js

Bad requests get a 400 with a reason; nothing here echoes a stack trace.

:func:`build_app` serves one simulator on its own port (``smscat sim``); :func:`add_pages` puts
each simulator's page and API under a path of another server (the daemon's web port, ``/sim/``),
so that a person finds the phones at one address that does not move. Either way the page runs no
inline script or style: a site whose Content-Security-Policy forbids them can serve it.
"""

from __future__ import annotations

import html
import ipaddress
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

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
_INLINE = re.compile(r"<(style|script)>(.*?)</\1>", re.DOTALL)  # the page's own, attribute-less
_OUTLINE = {
    "style": ('<link rel="stylesheet" href="phones.css">', "phones.css", "text/css"),
    "script": ('<script src="phones.js"></script>', "phones.js", "text/javascript"),
}
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


def _refused(request: web.Request) -> web.Response | None:
    """A 403 for a caller that is not on this machine, else None."""
    try:
        if ipaddress.ip_address(request.remote or "").is_loopback:
            return None
    except ValueError:
        pass
    return web.json_response({"error": "the control API answers loopback only"}, status=403)


@web.middleware
async def _loopback_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    refused = _refused(request)
    if refused is not None:
        return refused
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


async def get_module(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIM_KEY].engine.module_state())


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


def page_files() -> dict[str, tuple[str, str]]:
    """The page, its style and its script as three files (name → text, content type).

    phones.html is one file to read and edit; served, its inline ``<style>`` and ``<script>``
    become links to files of their own, which a CSP without 'unsafe-inline' allows.
    """
    page = resources.files("smscat.hwsim").joinpath("static/phones.html").read_text("utf-8")
    pulled = {kind: "" for kind in _OUTLINE}

    def outline(match: re.Match[str]) -> str:
        pulled[match.group(1)] += match.group(2)
        return _OUTLINE[match.group(1)][0]

    files = {"": (_INLINE.sub(outline, page), "text/html")}
    for kind, (_tag, name, content_type) in _OUTLINE.items():
        files[name] = (pulled[kind], content_type)
    return files


async def get_page(request: web.Request) -> web.Response:
    """``/``, ``/phones.css`` or ``/phones.js``: read each time, so an edited page shows at once."""
    text, content_type = page_files()[request.path.rpartition("/")[2]]
    return web.Response(text=text, content_type=content_type, charset="utf-8")


async def post_reset(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]

    def reset() -> tuple[None, list[Output]]:
        sim.engine.reset()
        return None, sim.engine.start()  # a new device powers up as its module does

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
    app.router.add_get("/module", get_module)
    app.router.add_post("/reset", post_reset)
    app.router.add_post("/faults", post_faults)
    app.router.add_post("/unassigned", post_unassigned)
    app.router.add_get("/phones", get_phones)
    app.router.add_get("/", get_page)
    app.router.add_get("/phones.css", get_page)
    app.router.add_get("/phones.js", get_page)
    return app


def add_pages(app: web.Application, prefix: str, sims: Mapping[str, Simulator]) -> None:
    """Serve each simulator (id → simulator) at ``prefix/<id>/`` of ``app``, before it starts.

    ``prefix/`` itself leads to the phones: the page of the only simulator, else a list of
    them. Paths without their last slash are redirected to it, since the page calls the API by
    relative URL. Loopback only, as on the simulator's own port.
    """
    base = prefix.rstrip("/")
    ids = list(sims)

    async def index(request: web.Request) -> web.Response:
        refused = _refused(request)
        if refused is not None:
            return refused
        if len(ids) == 1:
            raise web.HTTPFound(f"{quote(ids[0])}/")  # relative: right behind a proxy too
        links = "".join(
            f'<li><a href="{html.escape(quote(i))}/">{html.escape(i)}</a></li>' for i in ids
        )
        page = (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>虚拟手机</title>'
            f"</head><body><h1>虚拟手机</h1><ul>{links}</ul></body></html>"
        )
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def to_slash(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{request.path.rpartition('/')[2]}/")

    app.router.add_get(f"{base}/", index)
    app.router.add_get(base, to_slash)
    for sim_id, sim in sims.items():
        app.router.add_get(f"{base}/{sim_id}", to_slash)  # (before the sub-app that would 404)
        app.add_subapp(f"{base}/{sim_id}/", build_app(sim))
