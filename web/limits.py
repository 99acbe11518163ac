"""Per-client limits on everything a visitor can make the hospital send an SMS for.

A question, a follow-up (the API and the thread page's form), an SMS code (the API and the
board's "send code"), an SMS of thread links (the department page's "find my links" and the
thread page's "send the link to my phone"): each is counted per client and hour, and over its
limit answered 429 with Retry-After and the reason (:class:`~smscat.relay.core.errors.TooMany`, so
problem+json on the API and the friendly page on the board).

A client is its network (:func:`~smscat.web.clients.client_network`, the one the admin login
counts by too): the IPv4 /24 or the IPv6 /64 of its address,
or, behind a trusted proxy (``web.trusted_proxies``), of the last address in X-Forwarded-For
that is not a proxy. One household, office or phone gets a /64 of IPv6 to rotate through at
will; a /24 is the smallest IPv4 block anyone hands out.

Codes are also limited for everyone together (``codes_all_per_hour``, counted by the relay per
number it texts): the per-network limit is at most 1/50 of it (relay/config.py checks), so fewer
than 50 client networks can never use up every code. Per-number limits on codes and links live
in the relay (they hold whichever way a request came in), as does the cap on how many of a
thread's follow-ups reach the expert's phone before an answer.

It must never: read the body of a request it does not count, or put an address in a log line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Middleware

from smscat.relay.core.errors import TooMany
from smscat.relay.core.limits import RateLimit
from smscat.web.clients import client_network

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Clock = Callable[[], datetime]

KEYS: Final = {  # what is counted → the error.<key> that says so
    "ask": "too_many_asks",
    "followup": "too_many_followups",
    "code": "too_many_codes",
    "link": "too_many_links",
}


async def _kind(request: web.Request) -> str | None:
    """What an SMS-causing request is (a key of :data:`KEYS`), or None for everything else."""
    if request.method != "POST":
        return None
    path = request.path
    if path == "/api/verifications":
        return "code"
    if path == "/links" or (path.startswith("/t/") and path.endswith("/link")):
        return "link"
    if path == "/api/questions":
        return "ask"
    if path.startswith("/experts/") and path.endswith("/ask"):
        # the board's ask form: "send code" or "submit" (its body is in: web/deadlines.py)
        form = await request.post()
        return "code" if form.get("action") == "send_code" else "ask"
    if path.endswith("/messages") and path.startswith(("/api/questions/", "/t/")):
        return "followup"
    return None


def rate_limits(
    *,
    asks_per_hour: int | None = 5,
    followups_per_hour: int | None = 5,
    codes_per_hour: int | None = 2,
    links_per_hour: int | None = 5,
    clock: Clock = lambda: datetime.now(UTC),
) -> Middleware:
    """Middleware: per client network and hour, each kind of request within its cap (None:
    no cap), else :class:`TooMany` with the seconds until one more is allowed."""
    caps = {
        "ask": asks_per_hour,
        "followup": followups_per_hour,
        "code": codes_per_hour,
        "link": links_per_hour,
    }
    limits = {kind: RateLimit(cap, timedelta(hours=1)) for kind, cap in caps.items() if cap}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        kind = await _kind(request)
        limit = limits.get(kind) if kind is not None else None
        if kind is not None and limit is not None:
            client, now = client_network(request), clock()
            if not limit.allow(client, now):
                raise TooMany(KEYS[kind], retry_after=limit.retry_after(client, now))
        return await handler(request)

    return middleware
