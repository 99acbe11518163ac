"""``GET /healthz``: can smscat do its job right now. No personal data.

200 only when the database answers and at least one modem can send now (``can_send``: ready,
SIM ready, registered, not barred); 503 otherwise (a load balancer or a monitor takes it out,
or pages someone). The body says what is wrong: ``database`` false, or each modem's
``blocked`` (no-network, barred, sim-puk…): why the queued SMS wait.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

StatusProvider = Callable[[], dict[str, Any]]
DatabaseCheck = Callable[[], Awaitable[object]]
STATUS_KEY: web.AppKey[StatusProvider] = web.AppKey("status_provider")
DB_KEY: web.AppKey[DatabaseCheck | None] = web.AppKey("database_check")


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
    body = {"status": "ok" if healthy else "unavailable", "database": database, **status}
    return web.json_response(body, status=200 if healthy else 503)


def build_app(status: StatusProvider) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    add_routes(app, status)
    return app


def add_routes(
    app: web.Application, status: StatusProvider, database: DatabaseCheck | None = None
) -> None:
    app[STATUS_KEY] = status
    app[DB_KEY] = database
    app.router.add_get("/healthz", healthz)
