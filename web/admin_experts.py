"""The admin's experts: everyone with their controls, the add form, the edit form.

* ``/admin/experts``: everyone, with their state (active, paused, left);
* ``/admin/experts/new``: add one;
* ``/admin/experts/{id}/edit``: edit, and the pause, resume and leave-with-hand-off forms.

Thin: request → :class:`~smscat.relay.services.management.ExpertDirectory` → a page in words from
:mod:`smscat.web.texts` (``admin.*``), or a 303 with a word for the next page. A form with wrong
fields comes back with each field's error (422), nothing changed.

It must never: show a phone number (an expert's is shown by its last four digits; a number typed
into a form is not shown again), or show an exception's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from smscat.relay.core.errors import RelayError
from smscat.relay.services.management import (
    ExpertDirectory,
    ExpertEntry,
    ExpertForm,
    FormInvalid,
)
from smscat.web import texts
from smscat.web.admin_pages import done, form_words, frame, positive, problems
from smscat.web.admin_session import ADMIN_KEY, Caller, admin_form, admin_page, admin_view
from smscat.web.dashboard import mask_number
from smscat.web.site import form_value

EXPERT = "{id:[a-z0-9][a-z0-9_-]{0,31}}"
FIELD_LIMIT = 400  # characters kept of a form field: above every field's own maximum
FIELD_LABELS = {"assistant_id": "assistant"}  # a stored column → its label (admin.expert.*)


def _directory(request: web.Request) -> ExpertDirectory:
    return ExpertDirectory(request.app[ADMIN_KEY].relay)


def _label_key(name: str) -> str:
    return f"admin.expert.{FIELD_LABELS.get(name, name)}"


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
        "config_owned": texts.join(
            (
                texts.render(_label_key(name), lang)
                for name in entry.config_owned
                if _label_key(name) in texts.TEXTS
            ),
            lang,
        ),
    }


@admin_page
async def experts_page(request: web.Request, caller: Caller) -> web.Response:
    entries = await _directory(request).entries()
    return admin_view(
        request,
        "experts.html",
        experts=[_expert_view(e, caller.lang) for e in entries],
        **frame(request, caller, "experts"),
    )


def _form(posted: Mapping[str, Any]) -> ExpertForm:
    def value(name: str) -> str:
        return form_value(posted, name, FIELD_LIMIT)

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
    caller: Caller,
    *,
    entry: ExpertEntry | None,
    form: ExpertForm | None = None,
    status: int = 200,
    refused: RelayError | None = None,
    retype_phone: bool = False,
) -> web.Response:
    """The add form (``entry`` None) or an expert's page: the edit form and the controls;
    ``refused``: why the form came back (its words on top, each field's beside it)."""
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
    return admin_view(
        request,
        "expert_form.html",
        status,
        entry=_expert_view(entry, caller.lang) if entry else None,
        form=shown,
        assistants=assistants,
        colleagues=colleagues,
        error=form_words(refused, caller.lang) if refused is not None else None,
        errors=problems(refused) if refused is not None else {},
        retype_phone=retype_phone,
        **frame(request, caller, "experts"),
    )


@admin_page
async def new_expert_page(request: web.Request, caller: Caller) -> web.Response:
    return await _form_page(request, caller, entry=None)


@admin_form
async def add_expert(request: web.Request, caller: Caller) -> web.Response:
    form = _form(caller.form)
    try:
        await _directory(request).add(form, caller.actor)
    except RelayError as exc:
        return await _form_page(
            request, caller, entry=None, form=form, status=exc.status, refused=exc,
            retype_phone=bool(form.phone),
        )  # fmt: skip
    raise done(caller, "/admin/experts", "admin.expert_added", name=form.name.strip())


async def _entry(request: web.Request) -> ExpertEntry:
    try:
        return await _directory(request).entry(request.match_info["id"])
    except RelayError:
        raise web.HTTPNotFound() from None


@admin_page
async def expert_page(request: web.Request, caller: Caller) -> web.Response:
    return await _form_page(request, caller, entry=await _entry(request))


@admin_form
async def edit_expert(request: web.Request, caller: Caller) -> web.Response:
    entry = await _entry(request)
    form = _form(caller.form)
    try:
        changed = await _directory(request).edit(entry.id, form, caller.actor)
    except RelayError as exc:
        return await _form_page(
            request, caller, entry=entry, form=form, status=exc.status, refused=exc,
            retype_phone=bool(form.phone),
        )  # fmt: skip
    key = "admin.expert_saved" if changed else "admin.expert_unchanged"
    raise done(caller, f"/admin/experts/{entry.id}/edit", key)


@admin_form
async def pause_expert(request: web.Request, caller: Caller) -> web.Response:
    entry = await _entry(request)
    raw = form_value(caller.form, "hours", 32).strip()
    hours = positive(raw) if raw else None
    try:
        if raw and hours is None:
            raise FormInvalid({"hours": "pause_hours"})
        await _directory(request).pause(entry.id, hours, caller.actor)
    except RelayError as exc:
        return await _form_page(request, caller, entry=entry, status=exc.status, refused=exc)
    raise done(caller, f"/admin/experts/{entry.id}/edit", "admin.paused_done")


@admin_form
async def resume_expert(request: web.Request, caller: Caller) -> web.Response:
    entry = await _entry(request)
    try:
        await _directory(request).resume(entry.id, caller.actor)
    except RelayError as exc:
        return await _form_page(request, caller, entry=entry, status=exc.status, refused=exc)
    raise done(caller, f"/admin/experts/{entry.id}/edit", "admin.resumed_done")


@admin_form
async def leave_expert(request: web.Request, caller: Caller) -> web.Response:
    entry = await _entry(request)
    to = form_value(caller.form, "to", 64).strip()
    try:
        moved = await _directory(request).leave(entry.id, to, caller.actor)
    except RelayError as exc:
        return await _form_page(request, caller, entry=entry, status=exc.status, refused=exc)
    raise done(caller, "/admin/experts", "admin.left_done", name=entry.name, count=moved)


def add_routes(app: web.Application) -> None:
    """The experts' routes; call from :func:`smscat.web.admin.add_routes` (its state)."""
    app.router.add_get("/admin/experts", experts_page)
    app.router.add_get("/admin/experts/new", new_expert_page)
    app.router.add_post("/admin/experts/new", add_expert)
    app.router.add_get(f"/admin/experts/{EXPERT}/edit", expert_page)
    app.router.add_post(f"/admin/experts/{EXPERT}/edit", edit_expert)
    app.router.add_post(f"/admin/experts/{EXPERT}/pause", pause_expert)
    app.router.add_post(f"/admin/experts/{EXPERT}/resume", resume_expert)
    app.router.add_post(f"/admin/experts/{EXPERT}/leave", leave_expert)
