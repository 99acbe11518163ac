"""``GET /healthz``: can smscat do its job right now. No personal data.

200 only when the database answers and at least one modem can send now (``can_send``: ready,
SIM ready, registered, not barred); 503 otherwise (a load balancer or a monitor takes it out,
or pages someone). Everyone gets that and ``{"status": "ok"}`` or ``{"status": "degraded"}``.
The details — ``database`` false, or each modem's ``blocked`` (no-network, barred, sim-puk…):
why the queued SMS wait, with its port, state, last errors and counters, and a simulator's
control address — go only to loopback and the networks in ``web.metrics_allow`` (the real
client: behind a trusted proxy, the address it forwarded), and to a logged-in admin, who reads
them at ``/admin/healthz`` (where the session cookie goes).

It must never show the details to anyone else.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from smscat.web.admin_session import logged_in
from smscat.web.clients import Networks, allowed, client_ip

StatusProvider = Callable[[], dict[str, Any]]
DatabaseCheck = Callable[[], Awaitable[object]]
STATUS_KEY: web.AppKey[StatusProvider] = web.AppKey("status_provider")
DB_KEY: web.AppKey[DatabaseCheck | None] = web.AppKey("database_check")
ALLOW_KEY: web.AppKey[Networks] = web.AppKey("health_allow")
NO_STORE = {"Cache-Control": "no-store"}


def _insider(request: web.Request) -> bool:
    """May this client see the details: loopback, an allowed network, a logged-in admin."""
    return allowed(client_ip(request), request.app[ALLOW_KEY]) or logged_in(request)


async def healthz(request: web.Request) -> web.Response:
    status = request.app[STATUS_KEY]()
    check = request.app[DB_KEY]
    database = True
    if check is not None:
        try:
            await check()
        except Exception:
            database = False
    can_send = any(m.get("can_send") for m in status.get("modems", []))
    healthy = database and can_send
    code = 200 if healthy else 503
    word = "ok" if healthy else "degraded"
    if not _insider(request):
        return web.json_response({"status": word}, status=code, headers=NO_STORE)
    body = {"status": word, "database": database, **status}
    return web.json_response(body, status=code, headers=NO_STORE)


def build_app(status: StatusProvider) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    add_routes(app, status)
    return app


def add_routes(
    app: web.Application,
    status: StatusProvider,
    database: DatabaseCheck | None = None,
    *,
    allow: Iterable[str] = (),
) -> None:
    """``/healthz`` (details for loopback and ``allow``) and ``/admin/healthz`` (the same, and
    details for a logged-in admin too)."""
    app[STATUS_KEY] = status
    app[DB_KEY] = database
    app[ALLOW_KEY] = tuple(ipaddress.ip_network(n, strict=False) for n in allow)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/admin/healthz", healthz)
