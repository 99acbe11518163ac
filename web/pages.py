"""The patient's pages, wired: the board (:mod:`.board`), a thread's page (:mod:`.thread_page`)
and a 随访 plan's page behind a step's link (:mod:`.care_page`).

They share :mod:`.site`: Jinja2 with autoescape on for every template, words from
:mod:`smscat.web.texts` in the visitor's language (:mod:`.language`: Chinese by default, English
with ``?lang=en`` or Accept-Language), a Content-Security-Policy without inline script or style
on every answer, and a friendly HTML page for every error on a page route.

It must never: show a phone number on a public page, put a thread's token into a log line, or
show an exception's text (each module says how it keeps to that).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from smscat.web import board, care_page, site, thread_page
from smscat.web.site import set_public_url

if TYPE_CHECKING:
    from smscat.relay.services.relay import Relay

__all__ = ["add_routes", "set_public_url"]


def add_routes(
    app: web.Application, relay: Relay, department: str, *, public_url: str | None = None
) -> None:
    """The patient's pages, their templates (which the admin pages use too) and ``/static/``."""
    site.setup(app, relay, department, public_url=public_url)
    board.add_routes(app)
    thread_page.add_routes(app)
    care_page.add_routes(app)
