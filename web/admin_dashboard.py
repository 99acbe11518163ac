"""The admin's dashboard: modems, the queue, unmatched and unknown SMS, alerts, and its forms.

``GET /admin`` is the dashboard (or the login page); ``/admin/live`` streams its live part again
whenever it changes (server-sent events; :func:`~smscat.web.dashboard.snapshot` gathers it). Its
forms assign an unmatched reply to a thread, send a failed SMS again, mark the operators' and
unknown numbers' SMS read, and hand an expert's open threads to another: request → a
:class:`Relay` call → a 303 with a word for the next dashboard, or the dashboard again with the
refusal in words (:mod:`smscat.web.texts`, ``admin.*``).

It must never: show a full phone number (:mod:`.dashboard` shows the last four digits), or an
exception's text.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from smscat.relay.core.errors import RelayError
from smscat.relay.services.care_pages import CarePages
from smscat.web import texts
from smscat.web.admin_pages import error_words, positive
from smscat.web.admin_session import (
    ADMIN_KEY,
    Admin,
    Caller,
    Session,
    admin_form,
    admin_page,
    admin_stream,
    admin_view,
    expired,
)
from smscat.web.dashboard import snapshot
from smscat.web.site import form_value, page_context, template

LIVE_EVERY = 2.0  # seconds between looks for the live dashboard
LIVE_HEARTBEAT = 15.0  # seconds: a comment line keeps proxies from closing an idle stream
CARE_ALERTS_SHOWN = 5  # 随访预警 listed on the dashboard (the oldest; /admin/care has them all)
ROW = "{id:[1-9][0-9]{0,17}}"


async def _live_context(request: web.Request, lang: str) -> dict[str, Any]:
    admin = request.app[ADMIN_KEY]
    context = await snapshot(admin.relay, admin.supervisors, admin.board, lang)
    unmatched = context.get("unmatched") or []
    options = await admin.relay.admin.assign_options([int(sms["id"]) for sms in unmatched])
    for sms in unmatched:  # whom from, in words, and the threads to pick from
        found = options.get(int(sms["id"]))
        sms["expert"] = found.expert_name if found else None
        sms["choices"] = [
            {"id": c.thread_id, "label": f"{c.code} {c.words}".strip()}
            for c in (found.threads if found else [])
        ]
    return context


async def _dashboard(
    request: web.Request, caller: Caller, status: int = 200, error: str | None = None
) -> web.Response:
    admin = request.app[ADMIN_KEY]
    session = caller.session
    flash, session.flash = session.flash, None
    care = await CarePages(admin.relay).open_items(CARE_ALERTS_SHOWN)
    return admin_view(
        request,
        "dashboard.html",
        status,
        here="/admin",
        nav=True,
        username=session.username,
        csrf=session.csrf,
        experts=[{"id": e["id"], "name": e["name"]} for e in await admin.relay.read.experts_view()],
        notice=flash,
        error=error,
        live_every=int(LIVE_EVERY * 1000),
        care_alerts=care.escalations,
        care_alerts_total=care.escalations_total,
        **await _live_context(request, caller.lang),
    )


@admin_page
async def dashboard_page(request: web.Request, caller: Caller) -> web.Response:
    return await _dashboard(request, caller)


async def _send(response: web.StreamResponse, data: bytes) -> bool:
    """Write to a live stream; False once the browser has gone."""
    try:
        await response.write(data)
    except ConnectionResetError:
        return False
    return True


def _still_live(admin: Admin, session_id: str) -> Session | None:
    """The session a stream was opened in, while it lives (logged out or expired: None)."""
    session = admin.sessions.get(session_id)
    return None if session is None or expired(session, admin.clock()) else session


@admin_stream
async def live(request: web.Request, caller: Caller) -> web.StreamResponse:
    """Server-sent events: the dashboard's live part, again whenever it changes.

    Each event carries ``admin/live.html`` rendered; the page swaps in the sections that
    changed. Looking does not keep a session alive: when it ends, an ``ended`` event says so.
    """
    admin = request.app[ADMIN_KEY]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # nginx: pass each event on at once
        }
    )
    await response.prepare(request)
    shown = template(request, "admin/live.html")
    loop = asyncio.get_running_loop()
    last: dict[str, Any] | None = None
    quiet_since = loop.time()
    await response.write(b"retry: 5000\n\n")
    while not admin.closing.is_set():
        session = _still_live(admin, caller.session.sid)
        if session is None:
            await _send(response, b"event: ended\ndata: \n\n")
            break
        context = await _live_context(request, caller.lang)
        seen = {k: v for k, v in context.items() if k != "updated"}  # the clock alone is no news
        if seen != last:
            last = seen
            quiet_since = loop.time()
            html = shown.render(
                {**page_context(request, "/admin"), "csrf": session.csrf, **context}
            )
            data = "".join(f"data: {line}\n" for line in html.splitlines())
            if not await _send(response, f"event: dashboard\n{data}\n".encode()):
                break
        elif loop.time() - quiet_since >= LIVE_HEARTBEAT:
            quiet_since = loop.time()
            if not await _send(response, b": still here\n\n"):
                break
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LIVE_EVERY):
                await admin.closing.wait()
    return response


@admin_form
async def assign(request: web.Request, caller: Caller) -> web.Response:
    thread_id = positive(form_value(caller.form, "thread_id", 32))
    if thread_id is None:
        error = texts.render("admin.error.bad_form", caller.lang)
        return await _dashboard(request, caller, 422, error)
    inbound_id = int(request.match_info["id"])
    try:
        done = await request.app[ADMIN_KEY].relay.admin.assign_inbound(
            inbound_id, thread_id, caller.actor
        )
    except RelayError as exc:
        return await _dashboard(request, caller, exc.status, error_words(exc, caller.lang))
    key = "admin.assigned" if done.answer else "admin.assigned_followup"
    caller.session.flash = texts.render(key, caller.lang, thread=done.code)
    raise web.HTTPSeeOther("/admin")


@admin_form
async def retry(request: web.Request, caller: Caller) -> web.Response:
    outbox_id = int(request.match_info["id"])
    try:
        await request.app[ADMIN_KEY].relay.admin.retry_outbox(outbox_id, caller.actor)
    except RelayError as exc:
        return await _dashboard(request, caller, exc.status, error_words(exc, caller.lang))
    caller.session.flash = texts.render("admin.retried", caller.lang)
    raise web.HTTPSeeOther("/admin")


@admin_form
async def notices_handled(request: web.Request, caller: Caller) -> web.Response:
    """The operators' and unknown numbers' SMS read: their alert clears."""
    count = await request.app[ADMIN_KEY].relay.admin.mark_notices_handled(caller.actor)
    caller.session.flash = texts.render("admin.notices_handled", caller.lang, count=count)
    raise web.HTTPSeeOther("/admin")


@admin_form
async def handoff(request: web.Request, caller: Caller) -> web.Response:
    from_id = form_value(caller.form, "from", 64)
    to_id = form_value(caller.form, "to", 64)
    if not from_id or not to_id:
        error = texts.render("admin.error.bad_form", caller.lang)
        return await _dashboard(request, caller, 422, error)
    try:
        moved = await request.app[ADMIN_KEY].relay.experts.handoff(from_id, to_id, caller.actor)
    except RelayError as exc:
        return await _dashboard(request, caller, exc.status, error_words(exc, caller.lang))
    caller.session.flash = texts.render("admin.handoff_done", caller.lang, count=moved)
    raise web.HTTPSeeOther("/admin")


def add_routes(app: web.Application) -> None:
    """The dashboard's routes; call from :func:`smscat.web.admin.add_routes` (its state)."""
    app.router.add_get("/admin", dashboard_page)
    app.router.add_get("/admin/live", live)
    app.router.add_post(f"/admin/inbound/{ROW}/assign", assign)
    app.router.add_post("/admin/handoff", handoff)
    app.router.add_post("/admin/notices/handled", notices_handled)
    app.router.add_post(f"/admin/outbox/{ROW}/retry", retry)
