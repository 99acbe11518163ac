"""Per-client rate limits on asking a question and on asking for an SMS code (or links by SMS).

The client is the connection's address, or, behind a trusted proxy (``web.trusted_proxies``),
the last address in X-Forwarded-For that is not a proxy. Over the limit: 429 with Retry-After
(problem+json on the API, the friendly page on the board). Per-phone limits on codes live in
the relay (they hold whichever way a request came in).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web
from aiohttp.typedefs import Middleware

from smscat.relay.limits import RateLimit
from smscat.web.admin import client_ip

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Clock = Callable[[], datetime]


def _kind(request: web.Request) -> str | None:
    if request.method != "POST":
        return None
    path = request.path
    if path in ("/api/verifications", "/links"):  # an SMS to a number someone typed
        return "code"
    if path == "/api/questions" or (path.startswith("/experts/") and path.endswith("/ask")):
        return "ask"
    return None


def rate_limits(
    *,
    asks_per_hour: int | None = 10,
    codes_per_hour: int | None = 10,
    clock: Clock = lambda: datetime.now(UTC),
) -> Middleware:
    caps = {"ask": asks_per_hour, "code": codes_per_hour}
    limits = {kind: RateLimit(cap, timedelta(hours=1)) for kind, cap in caps.items() if cap}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        kind = _kind(request)
        if kind is not None and kind in limits:
            client, now = client_ip(request), clock()
            if not limits[kind].allow(client, now):
                retry = limits[kind].retry_after(client, now)
                raise web.HTTPTooManyRequests(headers={"Retry-After": str(retry)})
        return await handler(request)

    return middleware
