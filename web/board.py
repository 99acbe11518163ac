"""The patient board: the department page, an expert's page and the ask form, "find my links".

Thin like the API (:mod:`.api`): request → a :class:`Relay` call → a page (:mod:`.site`). The
page's script asks through the JSON API; without the script every form still works by a plain
POST to a route here that answers 303, or the form again with the error in words
(:mod:`smscat.web.texts`). "Find my links" is posted by the script too, and answers JSON when
it asks for it.

It must never: show a phone number (the board is masked already; a number typed into a form is
not shown back, not even in the form, nor logged), or show an exception's text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from smscat.relay.core.errors import RelayError
from smscat.web import language, texts
from smscat.web.page_views import board_thread, expert_card
from smscat.web.site import (
    PAGES_KEY,
    base_url,
    error_text,
    form_value,
    href,
    page_number,
    render_page,
    same_origin,
    wants_json,
)

PER_PAGE = 10
RECENT = 5  # public threads on the department page
RESEND_SECONDS = 60  # the "send code" button rests this long after a code went out
EXPERT = "/experts/{expert_id:[a-z0-9_-]{1,32}}"


# -- the department page --------------------------------------------------------------------------


async def _department_page(
    request: web.Request, *, status: int = 200, links_error: str | None = None
) -> web.Response:
    relay = request.app[PAGES_KEY].relay
    chosen = language.of_request(request)
    lang, pinned = chosen.lang, chosen.pinned
    experts, recent = await relay.read.front_page(RECENT)
    names = {e["id"]: e["name"] for e in experts}
    zone = relay.options.zone
    return render_page(
        request,
        "department.html",
        status,
        here="/",
        experts=[expert_card(e, lang, pinned) for e in experts],
        threads=[board_thread(t, lang, zone, names) for t in recent["threads"]],
        action_links=href(pinned, "/links"),
        links_sent=request.query.get("links") == "sent",
        links_error=links_error,
        links_per_day=relay.options.links_per_day,
    )


async def department_page(request: web.Request) -> web.Response:
    return await _department_page(request)


async def links_form(request: web.Request) -> web.Response:
    """The department page's "find my question links": one SMS of new links, when the number
    has threads here.

    The answer is the same for every number, known or not, within its limits or not; only
    something that is no mobile number at all is refused, which says nothing about anyone.
    The number is never shown back (not even in the form) nor logged.
    """
    same_origin(request)
    relay = request.app[PAGES_KEY].relay
    chosen = language.of_request(request)
    posted = await request.post()
    try:
        await relay.links.send_links_to(form_value(posted, "phone", 64), base_url(request))
    except RelayError as exc:
        error = error_text(exc.key, exc.status, chosen.lang)
        if wants_json(request):
            return web.json_response({"detail": error}, status=exc.status)
        return await _department_page(request, status=exc.status, links_error=error)
    if wants_json(request):
        return web.json_response({"notice": texts.render("page.links_sent", chosen.lang)})
    raise web.HTTPSeeOther(href(chosen.pinned, "/", links="sent") + "#find-links")


# -- an expert's page and the ask form ------------------------------------------------------------


async def _expert(request: web.Request) -> Mapping[str, Any]:
    expert_id = request.match_info["expert_id"]
    for expert in await request.app[PAGES_KEY].relay.read.experts_view():
        if expert["id"] == expert_id:
            return expert
    raise web.HTTPNotFound()


async def _expert_page(
    request: web.Request,
    expert: Mapping[str, Any],
    *,
    status: int = 200,
    form: Mapping[str, str] | None = None,
    error: str | None = None,
    error_field: str | None = None,
    notice: str | None = None,
) -> web.Response:
    relay = request.app[PAGES_KEY].relay
    chosen = language.of_request(request)
    lang, pinned = chosen.lang, chosen.pinned
    q = (request.query.get("q") or "").strip()[:50]
    page = page_number(request.query.get("page"))
    found = await relay.read.board(expert["id"], q or None, page, PER_PAGE)
    pages = max(1, math.ceil(found["total"] / PER_PAGE))
    path = f"/experts/{expert['id']}"
    names = {expert["id"]: expert["name"]}
    zone = relay.options.zone
    return render_page(
        request,
        "expert.html",
        status,
        here=path,
        expert=expert_card(expert, lang, pinned),
        threads=[board_thread(t, lang, zone, names) for t in found["threads"]],
        total=found["total"],
        q=q,
        page=page,
        pages=pages,
        prev_href=href(pinned, path, q=q, page=page - 1) if page > 1 else None,
        next_href=href(pinned, path, q=q, page=page + 1) if page < pages else None,
        form=form or {},
        error=error,
        error_field="code" if error_field == "verification_id" else error_field,
        notice=notice,
        max_text=relay.options.max_text,
        max_nickname=relay.options.max_nickname,
        resend_seconds=RESEND_SECONDS,
        lang_param=pinned or "",
    )


async def expert_page(request: web.Request) -> web.Response:
    return await _expert_page(request, await _expert(request))


async def ask_form(request: web.Request) -> web.Response:
    """The ask form without JavaScript: "send code" or "submit", then 303 or the form again."""
    same_origin(request)
    relay = request.app[PAGES_KEY].relay
    expert = await _expert(request)
    posted = await request.post()  # over the app's client_max_size: 413
    form = {
        name: form_value(posted, name)
        for name in ("nickname", "text", "phone", "verification_id", "code", "public")
    }
    chosen = language.of_request(request)
    try:
        if form_value(posted, "action") == "send_code":
            form["verification_id"] = await relay.asking.start_verification(form["phone"])
            form["code"] = ""
            notice = texts.render("page.code_sent", chosen.lang)
            return await _expert_page(request, expert, form=form, notice=notice)
        if form["public"] not in ("0", "1"):
            raise RelayError("visibility_required", field="public")
        phone = form["phone"].strip() or None
        asked = await relay.asking.ask(
            expert_id=expert["id"],
            nickname=form["nickname"],
            text=form["text"],
            public=form["public"] == "1",
            phone=phone,
            verification_id=(form["verification_id"] or None) if phone else None,
            code=(form["code"] or None) if phone else None,
        )
    except RelayError as exc:
        status = 422 if exc.key == "visibility_required" else exc.status
        return await _expert_page(
            request,
            expert,
            status=status,
            form=form,
            error=error_text(exc.key, exc.status, chosen.lang),
            error_field=exc.field,
        )
    raise web.HTTPSeeOther(href(chosen.pinned, f"/t/{asked.id}/{asked.token}", new="1"))


def add_routes(app: web.Application) -> None:
    """The board's routes; call after :func:`smscat.web.site.setup`."""
    app.router.add_get("/", department_page)
    app.router.add_post("/links", links_form)
    app.router.add_get(EXPERT, expert_page)
    app.router.add_post(EXPERT + "/ask", ask_form)
