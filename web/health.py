"""``GET /healthz``: is the daemon up, and what is it running. No personal data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

StatusProvider = Callable[[], dict[str, Any]]
STATUS_KEY: web.AppKey[StatusProvider] = web.AppKey("status_provider")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", **request.app[STATUS_KEY]()})


def build_app(status: StatusProvider) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    add_routes(app, status)
    return app


def add_routes(app: web.Application, status: StatusProvider) -> None:
    app[STATUS_KEY] = status
    app.router.add_get("/healthz", healthz)
