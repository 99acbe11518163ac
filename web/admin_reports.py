"""The admin's records: a month's statistics (and its CSV file) and the audit log.

* ``/admin/stats?month=YYYY-MM``: ``smscat report``'s figures, the threads' and under them the
  随访 figures (:mod:`smscat.relay.services.care_report`); ``/admin/stats.csv`` and
  ``/admin/stats-care.csv`` their files, as ``smscat report`` writes them.
* ``/admin/audit``: the log, newest first, 50 to a page, filtered by action, actor, subject and
  dates (local to the department).

Thin: request → :mod:`smscat.relay.services.oversight` → a page in words from
:mod:`smscat.web.texts` (``admin.*``; the report's columns are the relay's words).

It must never: show a phone number (the service masks subjects and details), or show an
exception's text.
"""

from __future__ import annotations

from aiohttp import web

from smscat.relay.core.errors import RelayError
from smscat.relay.services import care_report
from smscat.relay.services.oversight import (
    AuditEntry,
    AuditLog,
    Party,
    Statistics,
    month_csv,
    neighbour_months,
)
from smscat.relay.services.reporting import csv_rows
from smscat.web import texts
from smscat.web.admin_pages import form_words, frame, paging, problems, query_page
from smscat.web.admin_session import ADMIN_KEY, Caller, admin_page, admin_view
from smscat.web.site import form_value, href

AUDIT_FILTERS = ("action", "actor", "subject", "from", "to")


# -- statistics -----------------------------------------------------------------------------------


async def _stats(request: web.Request, caller: Caller, *, download: str | None) -> web.Response:
    """The page, or with ``download`` (``threads``, ``care``) one of its two CSV files."""
    relay = request.app[ADMIN_KEY].relay
    statistics = Statistics(relay)
    lang, pinned = caller.lang, caller.pinned
    month = request.query.get("month", "").strip()[:16] or statistics.current_month()
    try:
        report = await statistics.month(month)
    except RelayError as exc:
        return admin_view(
            request, "stats.html", exc.status, month=month, rows=[], error=form_words(exc, lang),
            errors=problems(exc), zone=statistics.timezone, prev_href=None, next_href=None,
            csv_href=None, care_rows=[], care_csv_href=None, **frame(request, caller, "stats"),
        )  # fmt: skip
    if download == "threads":
        return _csv_file(month_csv(report), f"report-{month}.csv")
    care = await care_report.relay_month_report(relay, month)
    if download == "care":
        return _csv_file(care_report.csv_bytes(care), f"report-{month}-care.csv")
    before, after = neighbour_months(month)
    return admin_view(
        request,
        "stats.html",
        month=month,
        rows=csv_rows(report, lang),
        care_rows=care_report.csv_rows(care, lang),
        error=None,
        errors={},
        zone=statistics.timezone,
        prev_href=href(pinned, "/admin/stats", month=before),
        next_href=href(pinned, "/admin/stats", month=after),
        csv_href=href(pinned, "/admin/stats.csv", month=month),
        care_csv_href=href(pinned, "/admin/stats-care.csv", month=month),
        **frame(request, caller, "stats"),
    )


def _csv_file(body: bytes, name: str) -> web.Response:
    return web.Response(
        body=body,
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@admin_page
async def stats_page(request: web.Request, caller: Caller) -> web.Response:
    return await _stats(request, caller, download=None)


@admin_page
async def stats_csv(request: web.Request, caller: Caller) -> web.Response:
    return await _stats(request, caller, download="threads")


@admin_page
async def stats_care_csv(request: web.Request, caller: Caller) -> web.Response:
    return await _stats(request, caller, download="care")


# -- the audit log --------------------------------------------------------------------------------


@admin_page
async def audit_page(request: web.Request, caller: Caller) -> web.Response:
    relay = request.app[ADMIN_KEY].relay
    filters = {name: form_value(request.query, name, 64).strip() for name in AUDIT_FILTERS}
    status, error, errors = 200, None, {}
    try:
        got = await AuditLog(relay).page(
            action=filters["action"],
            actor=filters["actor"],
            subject=filters["subject"],
            date_from=filters["from"],
            date_to=filters["to"],
            page=query_page(request),
        )
        entries, total, page, pages, actions = (
            got.entries, got.total, got.page, got.pages, got.actions,
        )  # fmt: skip
    except RelayError as exc:
        status, error, errors = exc.status, form_words(exc, caller.lang), problems(exc)
        entries, total, page, pages, actions = [], 0, 1, 1, []

    lang = caller.lang
    return admin_view(
        request,
        "audit.html",
        status,
        entries=[audit_row(e, lang) for e in entries],
        action_words={a: action_words(a, lang) for a in actions},
        total=total,
        page=page,
        pages=pages,
        **paging(caller.pinned, "/admin/audit", filters, page, pages),
        filters=filters,
        actions=actions,
        zone=Statistics(relay).timezone,
        error=error,
        errors=errors,
        **frame(request, caller, "audit"),
    )


def action_words(action: str, lang: str) -> str:
    """An audit action in words (``admin.audit.action.<action>``; the key itself if it has
    none yet, which tests/web/test_audit_words.py keeps from happening)."""
    return texts.render_or(f"admin.audit.action.{action}", action, lang)


def party_words(party: Party, lang: str, *, actor: bool) -> str:
    """Who acted (``admin.audit.who.*``) or what was acted on (``admin.audit.what.*``)."""
    if party.kind == "none":
        return ""
    if party.kind == "kind":  # an SMS's kind: the dashboard's words for it
        return texts.render_or(f"admin.kind.{party.id}", party.id, lang)
    key = f"admin.audit.{'who' if actor else 'what'}.{party.kind}"
    shown = party.name or party.id  # an expert, a subject the log keeps as it is: its name
    return texts.render_or(key, shown, lang, name=shown, code=party.code, id=party.id)


def audit_row(entry: AuditEntry, lang: str) -> dict[str, object]:
    """One entry of the log as the page shows it: words, and the stored keys for the filter."""
    return {
        "id": entry.id,
        "at": entry.at,
        "action": entry.action,
        "action_words": action_words(entry.action, lang),
        "actor": entry.actor,
        "actor_words": party_words(entry.who, lang, actor=True),
        "subject": entry.subject,
        "subject_words": party_words(entry.what, lang, actor=False),
        "detail": entry.detail,
    }


def add_routes(app: web.Application) -> None:
    """The records' routes; call from :func:`smscat.web.admin.add_routes` (its state)."""
    app.router.add_get("/admin/stats", stats_page)
    app.router.add_get("/admin/stats.csv", stats_csv)
    app.router.add_get("/admin/stats-care.csv", stats_care_csv)
    app.router.add_get("/admin/audit", audit_page)
