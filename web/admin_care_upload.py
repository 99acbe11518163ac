"""The 随访 discharge list: a CSV from the HIS uploaded, previewed line by line, then enrolled.

* ``GET /admin/care/upload``: the form (the file, the plan for rows that name none), the
  columns a list needs, and a template to download (``…/template.csv``: UTF-8 with a BOM, so
  that Excel opens it as such).
* ``POST /admin/care/upload``: the list read and enrolled in a dry run
  (:meth:`~smscat.relay.services.care.CarePlans.preview_csv`): the counts and each line's
  outcome or the words for what is wrong with it. With someone new to enrol, a confirm form
  carries the file itself (base64) and the plan: nothing is kept here between the two.
* ``POST /admin/care/upload/confirm``: :meth:`~smscat.relay.services.care.CarePlans.enrol_csv`
  with what the preview read; the counts, each line not enrolled, and each line that came out
  otherwise than the preview said (a patient may have sent STOP in between); audited as
  ``care.upload`` with the counts.

The app's body limit (:data:`smscat.web.api.MAX_BODY`) is an API request's, too small for a
list: :func:`upload_bodies` gives the two POSTs their own, and a bigger body is a 413 page in
words, never a 500.

It must never: show a patient's whole number (the last four digits, as the 随访 page), keep an
upload, or show a cell's content in an error or an exception's text.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web
from aiohttp.typedefs import Handler

from smscat.relay.core import care_csv
from smscat.relay.core.care import Plan
from smscat.relay.core.masking import mask_numbers
from smscat.relay.services.care import CsvPreview, Enrolled
from smscat.relay.services.care_pages import CarePages, phone_tail
from smscat.relay.services.care_record import DEFAULT_PLAN
from smscat.web import texts
from smscat.web.admin_pages import frame
from smscat.web.admin_session import ADMIN_KEY, Caller, admin_form, admin_page, admin_view, refusal
from smscat.web.site import form_value, href

PATH = "/admin/care/upload"
CONFIRM = f"{PATH}/confirm"
TEMPLATE = f"{PATH}/template.csv"
BACK = "/admin/care"
MAX_FILE: Final = care_csv.MAX_BYTES  # bytes: the reader's limit
_FORM_ROOM: Final = 64 * 1024  # the other fields and multipart's boundaries
# the body each POST may have: the file as sent, or as base64 (4 characters for 3 bytes)
BODY_LIMITS: Final = {PATH: MAX_FILE + _FORM_ROOM, CONFIRM: -(-MAX_FILE // 3) * 4 + _FORM_ROOM}
COLUMNS: Final[tuple[care_csv.Column, ...]] = (
    "phone", "nickname", "anchor", "plan", "doctor", "consent",
)  # fmt: skip
# the template's header: names the reader knows (care_csv.ALIASES), in the admin's language
TEMPLATE_HEADERS: Final = {
    "zh-CN": ("手机号", "称呼", "出院日期", "随访计划", "主治医生", "知情同意"),
    "en": ("phone", "nickname", "discharge_date", "plan", "doctor", "consent"),
}
# one example row (a fictional number); the plan and doctor left empty: the page's plan, nobody
TEMPLATE_ROWS: Final = {
    "zh-CN": ("13800000000", "张先生", "2026-12-01", "", "", "口头"),
    "en": ("13800000000", "Mr Zhang", "2026-12-01", "", "", "verbal"),
}


# -- the body limit -------------------------------------------------------------------------------


@web.middleware
async def upload_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The upload's POSTs with their own body limit (:data:`BODY_LIMITS`), and over it a 413
    page that says the file's limit. Outermost of the body's readers: added before
    :func:`smscat.web.deadlines.body_deadline`, which reads the body with the request's limit."""
    limit = BODY_LIMITS.get(request.path) if request.method == "POST" else None
    if limit is None:
        return await handler(request)
    larger = request.clone(client_max_size=limit)
    try:
        response = await handler(larger)
    except web.HTTPRequestEntityTooLarge:
        return _too_big(request)
    finally:  # what the handler left for the answer's hooks (a session's new cookie)
        for key in larger:
            request[key] = larger[key]
    for value in (await larger.post()).values():  # read by now: its files' temporary copies
        if isinstance(value, web.FileField):
            value.file.close()
    return response


def _too_big(request: web.Request) -> web.Response:
    return refusal(
        request, 413, "admin.care_upload.too_big_title", "admin.care_upload.error.csv_too_big",
        limit=MAX_FILE,
    )  # fmt: skip


# -- words ----------------------------------------------------------------------------------------


def error_words(key: str, lang: str, detail: str | None = None) -> str:
    """A line's or the file's problem in words: the upload's own (``admin.care_upload.error.*``:
    the reader's keys, a row's plan or doctor), else the admin form's (``admin.error.*``: the
    relay's refusals), else "cannot be enrolled"."""
    for candidate in (f"admin.care_upload.error.{key}", f"admin.error.{key}"):
        if candidate in texts.TEXTS:
            columns = [
                texts.render(f"admin.care_upload.column.{name}", lang)
                for name in (detail or "").split(",")
                if name in COLUMNS
            ]
            return texts.render(
                candidate, lang, limit=detail or "", columns=texts.join(columns, lang)
            )
    return texts.render("admin.care_upload.error.other", lang)


@dataclass(frozen=True, slots=True)
class LineView:
    """A line of the list as the page shows it: the number's last four digits only."""

    line: int
    outcome: str  # new, already, refused (the preview); enrolled, already, refused (the result)
    phone: str = field(default="", repr=False)  # the last four digits
    nickname: str = field(default="", repr=False)
    anchor: str = ""
    plan: str = ""
    consent: str = ""
    problems: tuple[str, ...] = ()  # in words
    changed: bool = False  # the result differs from what the preview said


def _line(
    line: int,
    row: care_csv.CareRow | None,
    outcome: str,
    plan: str,
    plans: Mapping[str, Plan],
    lang: str,
    problems: tuple[str, ...] = (),
    changed: bool = False,
) -> LineView:
    if row is None:
        return LineView(line, outcome, problems=problems, changed=changed)
    name = row.plan or plan
    shown = plans.get(name)
    return LineView(
        line,
        outcome,
        phone=phone_tail(row.phone),
        nickname=mask_numbers(row.nickname),
        anchor=row.anchor.isoformat(),
        plan=shown.title if shown is not None else name,
        consent=texts.render(f"admin.care.consent.{row.consent}", lang),
        problems=problems,
        changed=changed,
    )


# -- the pages ------------------------------------------------------------------------------------


async def _plans(request: web.Request) -> dict[str, Plan]:
    return await CarePages(request.app[ADMIN_KEY].relay).plans()


def _page(request: web.Request, caller: Caller, status: int = 200, **shown: Any) -> web.Response:
    return admin_view(
        request, "care_upload.html", status, **shown, back=href(caller.pinned, BACK),
        template_href=href(caller.pinned, TEMPLATE), **frame(request, caller, "care"),
    )  # fmt: skip


async def _form(
    request: web.Request,
    caller: Caller,
    *,
    status: int = 200,
    error: str | None = None,
    chosen: str = "",
) -> web.Response:
    plans = await _plans(request)
    if chosen not in plans:
        chosen = DEFAULT_PLAN if DEFAULT_PLAN in plans else next(iter(plans), "")
    lang = caller.lang
    labels = {name: texts.render(f"admin.care_upload.column.{name}", lang) for name in COLUMNS}
    return _page(
        request, caller, status, mode="form", error=error, chosen=chosen,
        plans=[{"name": name, "title": plan.title} for name, plan in plans.items()],
        required=texts.join([labels[c] for c in care_csv.REQUIRED], lang),
        optional=texts.join([labels[c] for c in COLUMNS if c not in care_csv.REQUIRED], lang),
    )  # fmt: skip


@admin_page
async def upload_page(request: web.Request, caller: Caller) -> web.Response:
    return await _form(request, caller)


@admin_page
async def template_csv(request: web.Request, caller: Caller) -> web.Response:
    """The header and an example row, UTF-8 with a BOM (Excel then reads it as UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    lang = caller.lang if caller.lang in TEMPLATE_HEADERS else "zh-CN"
    writer.writerow(TEMPLATE_HEADERS[lang])
    writer.writerow(TEMPLATE_ROWS[lang])
    return web.Response(
        body=out.getvalue().encode("utf-8-sig"),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="care-list.csv"',
            "Cache-Control": "no-store",
        },
    )


async def _uploaded(form: Mapping[str, Any]) -> bytes | None:
    """The file posted (at most one byte over the reader's limit, which it then refuses), or
    None when none was chosen (a browser sends an empty part without a name)."""
    part = form.get("file")
    if not isinstance(part, web.FileField):
        return None
    data = await asyncio.to_thread(part.file.read, MAX_FILE + 1)
    return None if not data and not part.filename else data


@admin_form
async def preview(request: web.Request, caller: Caller) -> web.Response:
    plan = form_value(caller.form, "plan", 64)
    data = await _uploaded(caller.form)
    if data is None:
        words = texts.render("admin.care_upload.no_file", caller.lang)
        return await _form(request, caller, status=400, error=words, chosen=plan)
    plans = await _plans(request)
    if plan not in plans:
        words = texts.render("admin.error.plan_unknown", caller.lang)
        return await _form(request, caller, status=422, error=words, chosen=plan)
    care = request.app[ADMIN_KEY].relay.care
    found = await care.preview_csv(data, caller.actor, plan)
    if found.file_error is not None:
        status = 413 if found.file_error == "csv_too_big" else 422
        words = error_words(found.file_error, caller.lang, found.file_detail)
        return await _form(request, caller, status=status, error=words, chosen=plan)
    lines = _preview_lines(found, plan, plans, caller.lang)
    return _page(
        request, caller, mode="preview", plan=plan, lines=lines,
        lines_total=len(found.lines), new=found.count("new"), already=found.count("already"),
        refused=found.count("refused"),
        data=base64.urlsafe_b64encode(data).decode("ascii"),
        new_lines=",".join(str(x.line) for x in found.lines if x.outcome == "new"),
    )  # fmt: skip


def _preview_lines(
    found: CsvPreview, plan: str, plans: Mapping[str, Plan], lang: str
) -> list[LineView]:
    lines = []
    for x in found.lines:
        problems = tuple(error_words(key, lang) for key in x.errors)
        lines.append(_line(x.line, x.row, x.outcome, plan, plans, lang, problems))
    return lines


def _carried(form: Mapping[str, Any]) -> bytes | None:
    """The list the preview put in its confirm form, or None when it is not one."""
    text = form_value(form, "data", BODY_LIMITS[CONFIRM])
    try:
        data = base64.urlsafe_b64decode(text.encode("ascii"))
    except (binascii.Error, ValueError):
        return None
    return data or None


def _line_numbers(text: str) -> set[int]:
    return {int(part) for part in text.split(",") if part.isascii() and part.isdigit()}


@admin_form
async def confirm(request: web.Request, caller: Caller) -> web.Response:
    plan = form_value(caller.form, "plan", 64)
    data = _carried(caller.form)
    plans = await _plans(request)
    if data is None or plan not in plans:
        words = texts.render("admin.care_upload.data_invalid", caller.lang)
        return await _form(request, caller, status=400, error=words, chosen=plan)
    relay = request.app[ADMIN_KEY].relay
    done = await relay.care.enrol_csv(data, caller.actor, plan)  # (it audits the upload)
    reading, results = done.reading, done.results
    if reading.file_error is not None:  # not what a preview carries: nothing to enrol
        words = error_words(reading.file_error, caller.lang, reading.file_detail)
        return await _form(request, caller, status=422, error=words, chosen=plan)
    previewed = _line_numbers(form_value(caller.form, "new", BODY_LIMITS[CONFIRM]))
    lang = caller.lang
    shown: list[LineView] = []
    counts = {"enrolled": 0, "already": 0, "refused": 0}
    for row, result in zip(reading.rows, results, strict=True):
        if isinstance(result, Enrolled):
            outcome = "enrolled" if result.created else "already"
            problems: tuple[str, ...] = ()
        else:
            outcome, problems = "refused", (error_words(result.key, lang),)
        counts[outcome] += 1
        changed = (outcome == "enrolled") != (row.line in previewed)
        if changed or outcome == "refused":
            shown.append(_line(row.line, row, outcome, plan, plans, lang, problems, changed))
    unread = len({e.line for e in reading.errors})
    return _page(
        request, caller, mode="result", lines=shown, unreadable=unread, **counts,
        skipped=unread + counts["refused"],
    )  # fmt: skip


def add_routes(app: web.Application) -> None:
    """The upload's routes and its body limit; call from :func:`smscat.web.admin.add_routes`,
    before the daemon adds its body deadline (:func:`upload_bodies` must come first)."""
    app.middlewares.append(upload_bodies)
    app.router.add_get(PATH, upload_page)
    app.router.add_post(PATH, preview)
    app.router.add_post(CONFIRM, confirm)
    app.router.add_get(TEMPLATE, template_csv)
