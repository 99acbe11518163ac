"""The admin's management pages: experts, moderation, monthly statistics, the audit log.

Thin like :mod:`.admin`, whose sessions, CSRF check, pages and refusals it uses: request → a call
to :mod:`smscat.relay.services.management` → a page in words from :mod:`smscat.relay.core.texts`
(``admin.*``), or a 303 with a word for the next page. A form with wrong fields comes back with
each field's error (422), nothing changed; a page asked for without a session is the login.

* ``/admin/experts``: everyone, with their controls; ``/admin/experts/new`` adds one;
  ``/admin/experts/{id}/edit`` edits, and holds the pause, resume and leave-with-hand-off forms.
* ``/admin/threads``: threads by expert, status and number; hide a public one from the board.
* ``/admin/stats?month=YYYY-MM``: ``smscat report``'s figures; ``/admin/stats.csv`` its file.
* ``/admin/audit``: the log, newest first, 50 to a page, filtered.

It must never: show a phone number (an expert's is shown by its last four digits; a number
typed into a form is not shown again), or show an exception's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from smscat.relay.core import texts
from smscat.relay.core.errors import RelayError
from smscat.relay.core.lifecycle import Status
from smscat.relay.services.management import (
    AuditLog,
    ExpertDirectory,
    ExpertEntry,
    ExpertForm,
    FormInvalid,
    Moderation,
    Statistics,
    month_csv,
    neighbour_months,
)
from smscat.relay.services.reporting import csv_rows
from smscat.web.admin import (
    ADMIN_KEY,
    Session,
    _error_words,
    _forbidden,
    _login_page,
    _page,
    _positive,
    _posted,
    _session,
)
from smscat.web.dashboard import mask_number
from smscat.web.pages import _DIGITS, _form_value, _href, _lang

EXPERT = "{id:[a-z0-9][a-z0-9_-]{0,31}}"
THREAD = "{id:[1-9][0-9]{0,17}}"
STATUSES = tuple(str(s) for s in Status)
FIELD_LIMIT = 400  # characters kept of a form field: above every field's own maximum
FIELD_LABELS = {"assistant_id": "assistant"}  # a stored column → its label (admin.expert.*)


def _paging(
    pinned: str | None, path: str, filters: dict[str, str], page: int, pages: int
) -> dict[str, str | None]:
    """Links to the page before and after (None at either end), keeping the filters."""

    def at(number: int) -> str:
        return _href(pinned, path, **filters, page=number)

    return {
        "prev_href": at(page - 1) if page > 1 else None,
        "next_href": at(page + 1) if page < pages else None,
    }


# -- what every management page needs -----------------------------------------------------------


def _context(request: web.Request, session: Session, section: str) -> dict[str, Any]:
    flash, session.flash = session.flash, None
    return {
        "here": request.path,
        "nav": True,
        "section": section,
        "username": session.username,
        "csrf": session.csrf,
        "notice": flash,
        "lang_param": _lang(request)[1] or "",
    }


def _words(exc: RelayError, lang: str) -> str:
    if isinstance(exc, FormInvalid):
        return texts.render("admin.error.form_invalid", lang)
    return _error_words(exc, lang)


def _problems(exc: RelayError) -> dict[str, str]:
    return exc.problems if isinstance(exc, FormInvalid) else {}


def _query_page(request: web.Request) -> int:
    raw = request.query.get("page", "")
    return int(raw) if _DIGITS.fullmatch(raw) else 1


def _after(
    request: web.Request, session: Session, path: str, key: str, **params: Any
) -> web.HTTPSeeOther:
    """Done: a word for the next page, and a 303 to ``path`` (for the caller to raise)."""
    lang, pinned = _lang(request)
    session.flash = texts.render(key, lang, **params)
    return web.HTTPSeeOther(_href(pinned, path))


# -- experts --------------------------------------------------------------------------------------


def _directory(request: web.Request) -> ExpertDirectory:
    return ExpertDirectory(request.app[ADMIN_KEY].relay)


def _expert_view(entry: ExpertEntry, lang: str) -> dict[str, Any]:
    if entry.left:
        state = texts.render("admin.expert.left", lang, at=entry.left_at)
    elif entry.paused_forever:
        state = texts.render("admin.expert.paused_forever", lang)
    elif entry.paused:
        state = texts.render("admin.expert.paused_until", lang, until=entry.paused_until)
    else:
        state = texts.render("admin.expert.active", lang)
    return {
        "id": entry.id,
        "name": entry.name,
        "title": entry.title,
        "department": entry.department,
        "specialty": entry.specialty or "",
        "role": entry.role,
        "assistant": entry.assistant_name or "",
        "quiet_hours": ", ".join(entry.quiet_hours),
        "daily_cap": entry.daily_cap,
        "confirm_replies": entry.confirm_replies,
        "digest": entry.digest,
        "state": state,
        "paused": entry.paused,
        "left": entry.left,
        "open_threads": entry.open_threads,
        "phone": mask_number(entry.phone),
        "config_owned": ("、" if lang == texts.DEFAULT_LANG else ", ").join(
            texts.render(f"admin.expert.{FIELD_LABELS.get(name, name)}", lang)
            for name in entry.config_owned
            if f"admin.expert.{FIELD_LABELS.get(name, name)}" in texts.TEXTS
        ),
    }


async def experts_page(request: web.Request) -> web.Response:
    found = _session(request)
    if found is None:
        return _login_page(request)
    lang, _ = _lang(request)
    entries = await _directory(request).entries()
    return _page(
        request,
        "experts.html",
        experts=[_expert_view(e, lang) for e in entries],
        **_context(request, found[1], "experts"),
    )


def _form(posted: Mapping[str, Any]) -> ExpertForm:
    def value(name: str) -> str:
        return _form_value(posted, name, FIELD_LIMIT)

    return ExpertForm(
        id=value("id"),
        name=value("name"),
        title=value("title"),
        department=value("department"),
        phone=value("phone"),
        specialty=value("specialty"),
        role=value("role"),
        assistant=value("assistant"),
        quiet_hours=value("quiet_hours"),
        daily_cap=value("daily_cap"),
        confirm_replies=value("confirm_replies") == "1",
        digest=value("digest") == "1",
    )


async def _form_page(
    request: web.Request,
    session: Session,
    *,
    entry: ExpertEntry | None,
    form: ExpertForm | None = None,
    status: int = 200,
    error: str | None = None,
    errors: Mapping[str, str] | None = None,
    retype_phone: bool = False,
) -> web.Response:
    """The add form (``entry`` None) or an expert's page: the edit form and the controls."""
    lang, _ = _lang(request)
    everyone = await _directory(request).entries()
    expert_id = entry.id if entry else None
    assistants = [
        {"id": e.id, "name": e.name}
        for e in everyone
        if e.role == "assistant" and not e.left and e.id != expert_id
    ]
    colleagues = [
        {"id": e.id, "name": e.name}
        for e in everyone
        if e.role == "expert" and not e.left and e.id != expert_id
    ]
    shown = form or (entry.form() if entry else ExpertForm("", "", "", ""))
    return _page(
        request,
        "expert_form.html",
        status,
        entry=_expert_view(entry, lang) if entry else None,
        form=shown,
        assistants=assistants,
        colleagues=colleagues,
        error=error,
        errors=dict(errors or {}),
        retype_phone=retype_phone,
        **_context(request, session, "experts"),
    )


async def new_expert_page(request: web.Request) -> web.Response:
    found = _session(request)
    if found is None:
        return _login_page(request)
    return await _form_page(request, found[1], entry=None)


async def add_expert(request: web.Request) -> web.Response:
    got = await _posted(request)
    if got is None:
        return _forbidden(request)
    _, session, posted = got
    lang, _ = _lang(request)
    form = _form(posted)
    try:
        await _directory(request).add(form, f"admin:{session.username}")
    except RelayError as exc:
        return await _form_page(
            request, session, entry=None, form=form, status=exc.status,
            error=_words(exc, lang), errors=_problems(exc), retype_phone=bool(form.phone),
        )  # fmt: skip
    raise _after(request, session, "/admin/experts", "admin.expert_added", name=form.name.strip())


async def _entry(request: web.Request) -> ExpertEntry:
    try:
        return await _directory(request).entry(request.match_info["id"])
    except RelayError:
        raise web.HTTPNotFound() from None


async def expert_page(request: web.Request) -> web.Response:
    found = _session(request)
    if found is None:
        return _login_page(request)
    return await _form_page(request, found[1], entry=await _entry(request))


async def edit_expert(request: web.Request) -> web.Response:
    got = await _posted(request)
    if got is None:
        return _forbidden(request)
    _, session, posted = got
    lang, _ = _lang(request)
    entry = await _entry(request)
    form = _form(posted)
    try:
        changed = await _directory(request).edit(entry.id, form, f"admin:{session.username}")
    except RelayError as exc:
        return await _form_page(
            request, session, entry=entry, form=form, status=exc.status,
            error=_words(exc, lang), errors=_problems(exc), retype_phone=bool(form.phone),
        )  # fmt: skip
    key = "admin.expert_saved" if changed else "admin.expert_unchanged"
    raise _after(request, session, f"/admin/experts/{entry.id}/edit", key)


async def pause_expert(request: web.Request) -> web.Response:
    got = await _posted(request)
    if got is None:
        return _forbidden(request)
    _, session, posted = got
    lang, _ = _lang(request)
    entry = await _entry(request)
    raw = _form_value(posted, "hours", 32).strip()
    hours = _positive(raw) if raw else None
    try:
        if raw and hours is None:
            raise FormInvalid({"hours": "pause_hours"})
        await _directory(request).pause(entry.id, hours, f"admin:{session.username}")
    except RelayError as exc:
        return await _form_page(
            request, session, entry=entry, status=exc.status, error=_words(exc, lang),
            errors=_problems(exc),
        )  # fmt: skip
    raise _after(request, session, f"/admin/experts/{entry.id}/edit", "admin.paused_done")


async def resume_expert(request: web.Request) -> web.Response:
    got = await _posted(request)
    if got is None:
        return _forbidden(request)
    _, session, _ = got
    lang, _ = _lang(request)
    entry = await _entry(request)
    try:
        await _directory(request).resume(entry.id, f"admin:{session.username}")
    except RelayError as exc:
        return await _form_page(
            request, session, entry=entry, status=exc.status, error=_words(exc, lang)
        )
    raise _after(request, session, f"/admin/experts/{entry.id}/edit", "admin.resumed_done")


async def leave_expert(request: web.Request) -> web.Response:
    got = await _posted(request)
    if got is None:
        return _forbidden(request)
    _, session, posted = got
    lang, _ = _lang(request)
    entry = await _entry(request)
    to = _form_value(posted, "to", 64).strip()
    try:
        moved = await _directory(request).leave(entry.id, to, f"admin:{session.username}")
    except RelayError as exc:
        return await _form_page(
            request, session, entry=entry, status=exc.status, error=_words(exc, lang),
            errors=_problems(exc),
        )  # fmt: skip
    done = "admin.left_done"
    raise _after(request, session, "/admin/experts", done, name=entry.name, count=moved)


# -- moderation -----------------------------------------------------------------------------------


def _thread_filters(source: Mapping[str, Any]) -> dict[str, str]:
    return {
        "expert": _form_value(source, "expert", 64).strip(),
        "status": _form_value(source, "status", 32).strip(),
        "q": _form_value(source, "q", 32).strip(),
    }


async def _threads_page(
    request: web.Request,
    session: Session,
    *,
    status: int = 200,
    error: str | None = None,
) -> web.Response:
    relay = request.app[ADMIN_KEY].relay
    lang, pinned = _lang(request)
    filters = _thread_filters(request.query)
    page = _query_page(request)
    errors: dict[str, str] = {}
    try:
        found = await Moderation(relay).threads(
            expert_id=filters["expert"], status=filters["status"], search=filters["q"], page=page
        )
        threads, total, page, pages = found.threads, found.total, found.page, found.pages
    except RelayError as exc:
        status, error, errors = exc.status, _words(exc, lang), _problems(exc)
        threads, total, pages = [], 0, 1
    experts = await _directory(request).entries()

    return _page(
        request,
        "threads.html",
        status,
        threads=threads,
        total=total,
        page=page,
        pages=pages,
        **_paging(pinned, "/admin/threads", filters, page, pages),
        filters=filters,
        experts=[{"id": e.id, "name": e.name} for e in experts if e.role == "expert"],
        statuses=STATUSES,
        error=error,
        errors=errors,
        back=_href(pinned, "/admin/threads", **filters, page=page),
        **_context(request, session, "threads"),
    )


async def threads_page(request: web.Request) -> web.Response:
    found = _session(request)
    if found is None:
        return _login_page(request)
    return await _threads_page(request, found[1])


async def hide_thread(request: web.Request) -> web.Response:
    got = await _posted(request)
    if got is None:
        return _forbidden(request)
    _, session, posted = got
    lang, pinned = _lang(request)
    thread_id = int(request.match_info["id"])
    hidden = _form_value(posted, "hidden", 4)
    back = _form_value(posted, "back", 400)
    if not back.startswith("/admin/threads"):
        back = _href(pinned, "/admin/threads")
    try:
        if hidden not in ("0", "1"):
            raise FormInvalid({"hidden": "bad_form"})
        await Moderation(request.app[ADMIN_KEY].relay).set_hidden(
            thread_id, hidden == "1", f"admin:{session.username}"
        )
    except RelayError as exc:
        return await _threads_page(request, session, status=exc.status, error=_words(exc, lang))
    key = "admin.threads.hidden_done" if hidden == "1" else "admin.threads.shown_done"
    session.flash = texts.render(key, lang, id=thread_id)
    raise web.HTTPSeeOther(back)


# -- statistics -----------------------------------------------------------------------------------


async def _stats(request: web.Request, session: Session, *, csv: bool) -> web.Response:
    statistics = Statistics(request.app[ADMIN_KEY].relay)
    lang, pinned = _lang(request)
    month = request.query.get("month", "").strip()[:16] or statistics.current_month()
    try:
        report = await statistics.month(month)
    except RelayError as exc:
        return _page(
            request, "stats.html", exc.status, month=month, rows=[], error=_words(exc, lang),
            errors=_problems(exc), zone=statistics.timezone, prev_href=None, next_href=None,
            csv_href=None, **_context(request, session, "stats"),
        )  # fmt: skip
    if csv:
        return web.Response(
            body=month_csv(report),
            content_type="text/csv",
            charset="utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="report-{month}.csv"',
                "Cache-Control": "no-store",
            },
        )
    before, after = neighbour_months(month)
    return _page(
        request,
        "stats.html",
        month=month,
        rows=csv_rows(report, lang),
        error=None,
        errors={},
        zone=statistics.timezone,
        prev_href=_href(pinned, "/admin/stats", month=before),
        next_href=_href(pinned, "/admin/stats", month=after),
        csv_href=_href(pinned, "/admin/stats.csv", month=month),
        **_context(request, session, "stats"),
    )


async def stats_page(request: web.Request) -> web.Response:
    found = _session(request)
    if found is None:
        return _login_page(request)
    return await _stats(request, found[1], csv=False)


async def stats_csv(request: web.Request) -> web.Response:
    found = _session(request)
    if found is None:
        return _login_page(request)
    return await _stats(request, found[1], csv=True)


# -- the audit log --------------------------------------------------------------------------------


async def audit_page(request: web.Request) -> web.Response:
    found = _session(request)
    if found is None:
        return _login_page(request)
    session = found[1]
    relay = request.app[ADMIN_KEY].relay
    lang, pinned = _lang(request)
    filters = {
        name: _form_value(request.query, name, 64).strip()
        for name in ("action", "actor", "subject", "from", "to")
    }
    status, error, errors = 200, None, {}
    try:
        got = await AuditLog(relay).page(
            action=filters["action"],
            actor=filters["actor"],
            subject=filters["subject"],
            date_from=filters["from"],
            date_to=filters["to"],
            page=_query_page(request),
        )
        entries, total, page, pages, actions = (
            got.entries, got.total, got.page, got.pages, got.actions,
        )  # fmt: skip
    except RelayError as exc:
        status, error, errors = exc.status, _words(exc, lang), _problems(exc)
        entries, total, page, pages, actions = [], 0, 1, 1, []

    return _page(
        request,
        "audit.html",
        status,
        entries=entries,
        total=total,
        page=page,
        pages=pages,
        **_paging(pinned, "/admin/audit", filters, page, pages),
        filters=filters,
        actions=actions,
        zone=Statistics(relay).timezone,
        error=error,
        errors=errors,
        **_context(request, session, "audit"),
    )


# -- wiring ---------------------------------------------------------------------------------------


def add_routes(app: web.Application) -> None:
    """The management routes; call from :func:`smscat.web.admin.add_routes` (its ``ADMIN_KEY``)."""
    app.router.add_get("/admin/experts", experts_page)
    app.router.add_get("/admin/experts/new", new_expert_page)
    app.router.add_post("/admin/experts/new", add_expert)
    app.router.add_get(f"/admin/experts/{EXPERT}/edit", expert_page)
    app.router.add_post(f"/admin/experts/{EXPERT}/edit", edit_expert)
    app.router.add_post(f"/admin/experts/{EXPERT}/pause", pause_expert)
    app.router.add_post(f"/admin/experts/{EXPERT}/resume", resume_expert)
    app.router.add_post(f"/admin/experts/{EXPERT}/leave", leave_expert)
    app.router.add_get("/admin/threads", threads_page)
    app.router.add_post(f"/admin/threads/{THREAD}/hide", hide_thread)
    app.router.add_get("/admin/stats", stats_page)
    app.router.add_get("/admin/stats.csv", stats_csv)
    app.router.add_get("/admin/audit", audit_page)
