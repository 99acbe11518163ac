"""Slow clients: how long a connection may take to say what it wants (``web.timeouts``).

A client that opens a connection and sends half a request header, or nothing, or that sends a
body a byte a minute, must not hold a connection (and its memory) for as long as it likes.

* The header and the idle time between requests: aiohttp's ``keepalive_timeout`` already closes
  a connection that has no whole request header so long after it opened or after the last
  answer; :func:`server_options` sets it to ``idle_seconds`` (aiohttp's own default is an hour).
* The body: :func:`body_deadline` reads a request's body before its handler runs, within
  ``body_seconds``; else 408, and the connection is closed (after aiohttp's lingering read of
  at most 10 s, which discards what still comes). An answer that streams for long (the
  admin's live dashboard) is not limited: only what the client sends is.

It must never cut an answer the server is still writing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def server_options(idle_seconds: float) -> dict[str, Any]:
    """Keyword arguments for :class:`aiohttp.web.AppRunner` (its request handler's)."""
    return {"keepalive_timeout": idle_seconds}


def body_deadline(seconds: float) -> Middleware:
    """Middleware: a request's whole body within ``seconds`` (kept for the handler), or 408."""

    @web.middleware
    async def deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists:
            try:
                async with asyncio.timeout(seconds):
                    if request.content_type in FORMS:
                        await request.post()  # multipart is read by post(), not read()
                    else:
                        await request.read()
            except TimeoutError:
                raise web.HTTPRequestTimeout() from None
        return await handler(request)

    return deadline
