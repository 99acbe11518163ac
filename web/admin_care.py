"""The admin's 随访 page: red flags to acknowledge, patients to call, the enrolment form, the
enrolments, and a plan's edit.

* ``/admin/care``: the open escalations (预警; the oldest first, overdue ones marked) with
  "已处理"; the calls to make with "已致电"; "登记一位患者" (consent must be chosen: there is no
  default); the enrolments, 50 a page, each running one with "取消随访".
* ``POST …/escalations/{id}/number``, ``…/calls/{id}/number``: the patient's whole number, in
  that answer only, audited with the admin (the list shows the last four digits).
* ``/admin/care/plans/{name}``: the plan as JSON in a textarea; saved through the very model
  config.yaml's plans go through, its first problem shown in words.

Thin: request → :mod:`smscat.relay.services.care` / :mod:`~smscat.relay.services.care_replies`
/ :class:`~smscat.relay.services.care_pages.CarePages` → a page in words from
:mod:`smscat.web.texts` (``admin.care.*``), or a 303 with a word for the next page.

It must never: show a patient's whole number except in the audited answer that asked for it, put
a typed number back into a form, or show an exception's text.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from smscat.relay.core.care import CONSENT_WAYS
from smscat.relay.core.errors import RelayError
from smscat.relay.services.care import EnrolRequest
from smscat.relay.services.care_pages import CarePages, PlanInvalid
from smscat.web import texts
from smscat.web.admin_pages import done, error_words, frame, paging, query_page
from smscat.web.admin_session import ADMIN_KEY, Caller, admin_form, admin_page, admin_view
from smscat.web.site import form_value, href

PATH = "/admin/care"
ROW = "{id:[1-9][0-9]{0,17}}"
PLAN = "{name:[a-z0-9][a-z0-9_-]{0,31}}"
PLAN_BODY_LIMIT = 60_000  # characters of a plan's JSON (the request's size limit comes first)
ENROL_FIELDS = ("nickname", "anchor", "plan", "doctor", "consent")  # shown again after a refusal
# why an enrolment ended or paused (care_enrolments.ended_reason): an event, STOP, the planner's
REASONS = (
    "readmitted",
    "deceased",
    "opted_out",
    "returned",
    "stop",
    "refused",
    "plan_gone",
    "erased",
)


def _pages(request: web.Request) -> CarePages:
    return CarePages(request.app[ADMIN_KEY].relay)


async def _care_page(
    request: web.Request,
    caller: Caller,
    *,
    status: int = 200,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    shown: dict[str, Any] | None = None,
) -> web.Response:
    """The page; ``typed``: the enrol form as sent (never its number), ``shown``: the one
    number asked for (``{"escalation" | "call": id, "number": …}``)."""
    pages = _pages(request)
    found = await pages.open_items()
    enrolled = await pages.enrolments(query_page(request))
    plans = await pages.plans()
    return admin_view(
        request,
        "care.html",
        status,
        escalations=found.escalations,
        escalations_total=found.escalations_total,
        calls=found.calls,
        calls_total=found.calls_total,
        enrolments=enrolled.enrolments,
        total=enrolled.total,
        page=enrolled.page,
        pages=enrolled.pages,
        **paging(caller.pinned, PATH, {}, enrolled.page, enrolled.pages),
        plans=[{"name": name, "title": plan.title} for name, plan in plans.items()],
        doctors=[{"id": i, "name": name} for i, name in await pages.doctors()],
        consents=CONSENT_WAYS,
        reasons={r: texts.render(f"admin.care.reason.{r}", caller.lang) for r in REASONS},
        typed=typed or {},
        retype_phone=bool(typed),  # a refused form: its number is never shown again
        shown=shown or {},
        error=error,
        errors=errors or {},
        **frame(request, caller, "care"),
    )


@admin_page
async def care_page(request: web.Request, caller: Caller) -> web.Response:
    return await _care_page(request, caller)


@admin_form
async def enrol(request: web.Request, caller: Caller) -> web.Response:
    typed = {name: form_value(caller.form, name, 64).strip() for name in ENROL_FIELDS}
    try:
        anchor = date.fromisoformat(typed["anchor"])
    except ValueError:
        error = texts.render("admin.error.form_invalid", caller.lang)
        return await _care_page(
            request, caller, status=422, error=error, errors={"anchor": "care_anchor"}, typed=typed
        )
    wanted = EnrolRequest(
        phone=form_value(caller.form, "phone", 64),
        nickname=typed["nickname"],
        anchor=anchor,
        plan=typed["plan"],
        consent=typed["consent"],
        doctor_id=typed["doctor"] or None,
    )
    try:
        enrolled = await request.app[ADMIN_KEY].relay.care.enrol(wanted, caller.actor, "admin")
    except RelayError as exc:
        return await _care_page(
            request, caller, status=exc.status, error=error_words(exc, caller.lang),
            errors={exc.field: exc.key} if exc.field else {}, typed=typed,
        )  # fmt: skip
    key = "admin.care.enrolled" if enrolled.created else "admin.care.already_enrolled"
    raise done(caller, PATH, key, nickname=enrolled.enrolment.nickname)


def _row(request: web.Request) -> int:
    return int(request.match_info["id"])


@admin_form
async def acknowledge(request: web.Request, caller: Caller) -> web.Response:
    relay = request.app[ADMIN_KEY].relay
    acked = await relay.care_replies.acknowledge_on_page(_row(request), caller.actor)
    raise done(caller, PATH, "admin.care.acked" if acked else "admin.care.ack_gone")


@admin_form
async def call_done(request: web.Request, caller: Caller) -> web.Response:
    relay = request.app[ADMIN_KEY].relay
    called = await relay.care_replies.call_done(_row(request), caller.actor)
    raise done(caller, PATH, "admin.care.called" if called else "admin.care.call_gone")


@admin_form
async def escalation_number(request: web.Request, caller: Caller) -> web.Response:
    return await _number(request, caller, "escalation")


@admin_form
async def call_number(request: web.Request, caller: Caller) -> web.Response:
    return await _number(request, caller, "call")


async def _number(request: web.Request, caller: Caller, what: str) -> web.Response:
    """The page again, with the whole number of one red flag's or call's patient (audited)."""
    row = _row(request)
    pages = _pages(request)
    read = pages.escalation_number if what == "escalation" else pages.call_number
    try:
        number = await read(row, caller.actor)
    except RelayError as exc:
        return await _care_page(
            request, caller, status=exc.status, error=error_words(exc, caller.lang)
        )
    return await _care_page(request, caller, shown={what: row, "number": number})


@admin_form
async def cancel(request: web.Request, caller: Caller) -> web.Response:
    try:
        ended = await _pages(request).cancel(_row(request), caller.actor)
    except RelayError as exc:
        return await _care_page(
            request, caller, status=exc.status, error=error_words(exc, caller.lang)
        )
    raise done(caller, PATH, "admin.care.cancelled" if ended else "admin.care.cancel_gone")


async def _plan_page(
    request: web.Request,
    caller: Caller,
    name: str,
    *,
    body: str | None = None,
    status: int = 200,
    error: str | None = None,
) -> web.Response:
    try:
        shown = body if body is not None else await _pages(request).plan_json(name)
    except RelayError:
        raise web.HTTPNotFound() from None
    return admin_view(
        request,
        "care_plan.html",
        status,
        name=name,
        body=shown,
        error=error,
        back=href(caller.pinned, PATH),
        **frame(request, caller, "care"),
    )


@admin_page
async def plan_page(request: web.Request, caller: Caller) -> web.Response:
    return await _plan_page(request, caller, request.match_info["name"])


@admin_form
async def save_plan(request: web.Request, caller: Caller) -> web.Response:
    name = request.match_info["name"]
    body = form_value(caller.form, "body", PLAN_BODY_LIMIT)
    try:
        await _pages(request).save_plan(name, body, caller.actor)
    except PlanInvalid as exc:
        words = texts.render(
            "admin.care.plan_invalid", caller.lang, where=exc.where or "-", problem=exc.problem
        )
        return await _plan_page(request, caller, name, body=body, status=422, error=words)
    except RelayError as exc:
        if exc.status == 404:
            raise web.HTTPNotFound() from None
        words = error_words(exc, caller.lang)
        return await _plan_page(request, caller, name, body=body, status=exc.status, error=words)
    raise done(caller, f"{PATH}/plans/{name}", "admin.care.plan_saved")


def add_routes(app: web.Application) -> None:
    """The 随访 routes; call from :func:`smscat.web.admin.add_routes` (its state)."""
    app.router.add_get(PATH, care_page)
    app.router.add_post(f"{PATH}/enrol", enrol)
    app.router.add_post(f"{PATH}/escalations/{ROW}/ack", acknowledge)
    app.router.add_post(f"{PATH}/escalations/{ROW}/number", escalation_number)
    app.router.add_post(f"{PATH}/calls/{ROW}/done", call_done)
    app.router.add_post(f"{PATH}/calls/{ROW}/number", call_number)
    app.router.add_post(f"{PATH}/enrolments/{ROW}/cancel", cancel)
    app.router.add_get(f"{PATH}/plans/{PLAN}", plan_page)
    app.router.add_post(f"{PATH}/plans/{PLAN}", save_plan)
