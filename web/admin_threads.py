"""The admin's moderation page: threads by expert, status and number; hide a public one.

``/admin/threads`` lists threads, newest first, paged and filtered; a public thread can be hidden
from the board (and shown again). Thin: request →
:class:`~smscat.relay.services.oversight.Moderation` → a page in words from
:mod:`smscat.web.texts` (``admin.*``), or a 303 back to the same list.

It must never: show a phone number (the service masks nicknames and questions; the number
filter is a thread's, not a phone's), or show an exception's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from smscat.relay.core.errors import RelayError
from smscat.relay.core.lifecycle import Status
from smscat.relay.services.management import ExpertDirectory, FormInvalid
from smscat.relay.services.oversight import Moderation
from smscat.web import texts
from smscat.web.admin_pages import form_words, frame, paging, problems, query_page
from smscat.web.admin_session import ADMIN_KEY, Caller, admin_form, admin_page, admin_view
from smscat.web.site import form_value, href

THREAD = "{id:[1-9][0-9]{0,17}}"
STATUSES = tuple(str(s) for s in Status)


def _thread_filters(source: Mapping[str, Any]) -> dict[str, str]:
    return {
        "expert": form_value(source, "expert", 64).strip(),
        "status": form_value(source, "status", 32).strip(),
        "q": form_value(source, "q", 32).strip(),
    }


async def _threads_page(
    request: web.Request,
    caller: Caller,
    *,
    status: int = 200,
    error: str | None = None,
) -> web.Response:
    relay = request.app[ADMIN_KEY].relay
    filters = _thread_filters(request.query)
    page = query_page(request)
    errors: dict[str, str] = {}
    try:
        found = await Moderation(relay).threads(
            expert_id=filters["expert"], status=filters["status"], search=filters["q"], page=page
        )
        threads, total, page, pages = found.threads, found.total, found.page, found.pages
    except RelayError as exc:
        status, error, errors = exc.status, form_words(exc, caller.lang), problems(exc)
        threads, total, pages = [], 0, 1
    experts = await ExpertDirectory(relay).entries()

    return admin_view(
        request,
        "threads.html",
        status,
        threads=threads,
        total=total,
        page=page,
        pages=pages,
        **paging(caller.pinned, "/admin/threads", filters, page, pages),
        filters=filters,
        experts=[{"id": e.id, "name": e.name} for e in experts if e.role == "expert"],
        statuses=STATUSES,
        error=error,
        errors=errors,
        back=href(caller.pinned, "/admin/threads", **filters, page=page),
        **frame(request, caller, "threads"),
    )


@admin_page
async def threads_page(request: web.Request, caller: Caller) -> web.Response:
    return await _threads_page(request, caller)


@admin_form
async def hide_thread(request: web.Request, caller: Caller) -> web.Response:
    thread_id = int(request.match_info["id"])
    hidden = form_value(caller.form, "hidden", 4)
    back = form_value(caller.form, "back", 400)
    if not back.startswith("/admin/threads"):
        back = href(caller.pinned, "/admin/threads")
    try:
        if hidden not in ("0", "1"):
            raise FormInvalid({"hidden": "bad_form"})
        await Moderation(request.app[ADMIN_KEY].relay).set_hidden(
            thread_id, hidden == "1", caller.actor
        )
    except RelayError as exc:
        error = form_words(exc, caller.lang)
        return await _threads_page(request, caller, status=exc.status, error=error)
    key = "admin.threads.hidden_done" if hidden == "1" else "admin.threads.shown_done"
    caller.session.flash = texts.render(key, caller.lang, id=thread_id)
    raise web.HTTPSeeOther(back)


def add_routes(app: web.Application) -> None:
    """The moderation routes; call from :func:`smscat.web.admin.add_routes` (its state)."""
    app.router.add_get("/admin/threads", threads_page)
    app.router.add_post(f"/admin/threads/{THREAD}/hide", hide_thread)
