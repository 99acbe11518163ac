"""The admin's records: a month's statistics (and its CSV file) and the audit log.

* ``/admin/stats?month=YYYY-MM``: ``smscat report``'s figures; ``/admin/stats.csv`` its file.
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
from smscat.relay.services.oversight import AuditLog, Statistics, month_csv, neighbour_months
from smscat.relay.services.reporting import csv_rows
from smscat.web.admin_pages import form_words, frame, paging, problems, query_page
from smscat.web.admin_session import ADMIN_KEY, Caller, admin_page, admin_view
from smscat.web.site import form_value, href

AUDIT_FILTERS = ("action", "actor", "subject", "from", "to")


# -- statistics -----------------------------------------------------------------------------------


async def _stats(request: web.Request, caller: Caller, *, csv: bool) -> web.Response:
    statistics = Statistics(request.app[ADMIN_KEY].relay)
    lang, pinned = caller.lang, caller.pinned
    month = request.query.get("month", "").strip()[:16] or statistics.current_month()
    try:
        report = await statistics.month(month)
    except RelayError as exc:
        return admin_view(
            request, "stats.html", exc.status, month=month, rows=[], error=form_words(exc, lang),
            errors=problems(exc), zone=statistics.timezone, prev_href=None, next_href=None,
            csv_href=None, **frame(request, caller, "stats"),
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
    return admin_view(
        request,
        "stats.html",
        month=month,
        rows=csv_rows(report, lang),
        error=None,
        errors={},
        zone=statistics.timezone,
        prev_href=href(pinned, "/admin/stats", month=before),
        next_href=href(pinned, "/admin/stats", month=after),
        csv_href=href(pinned, "/admin/stats.csv", month=month),
        **frame(request, caller, "stats"),
    )


@admin_page
async def stats_page(request: web.Request, caller: Caller) -> web.Response:
    return await _stats(request, caller, csv=False)


@admin_page
async def stats_csv(request: web.Request, caller: Caller) -> web.Response:
    return await _stats(request, caller, csv=True)


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

    return admin_view(
        request,
        "audit.html",
        status,
        entries=entries,
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


def add_routes(app: web.Application) -> None:
    """The records' routes; call from :func:`smscat.web.admin.add_routes` (its state)."""
    app.router.add_get("/admin/stats", stats_page)
    app.router.add_get("/admin/stats.csv", stats_csv)
    app.router.add_get("/admin/audit", audit_page)
