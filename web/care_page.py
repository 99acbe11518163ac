"""A 随访 plan's page, behind the link a step's SMS carries (``/f/<token>``).

The plan's ``page`` may name the condition and say what to do, which an SMS never does: it is
shown here, filled in with the patient's nickname, department, doctor and date (escaped by
Jinja), under the plan's title, with a reminder that answers go by SMS. An unknown token, or
one of a patient whose number was erased, is a 404 page in words.

It must never: show the patient's number, put the token (it is the path) into a log line, or let
the page be cached, indexed or sent as a Referer.
"""

from __future__ import annotations

from aiohttp import web

from smscat.relay.services.care_links import care_page
from smscat.web.site import PAGES_KEY, render_page

PAGE = "/f/{token:[A-Za-z0-9_-]{1,64}}"
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


async def plan_page(request: web.Request) -> web.Response:
    relay = request.app[PAGES_KEY].relay
    page = await care_page(relay.care, request.match_info["token"])
    if page is None:
        response = render_page(
            request, "error.html", 404, noindex=True,
            title_key="page.care.gone_title", body_key="page.care.gone",
        )  # fmt: skip
    else:
        paragraphs = [line.strip() for line in page.text.splitlines() if line.strip()]
        response = render_page(
            request, "care_page.html", noindex=True, title=page.title, paragraphs=paragraphs
        )
    response.headers.update(HEADERS)
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get(PAGE, plan_page)
