"""The monthly 随访 figures: a row per plan, department and doctor, the total, and their CSV.

What each column counts is :mod:`smscat.relay.core.care_stats`' (in short: the enrolments
*created* in the month, in the department's time zone, and everything that happened to them
since); :mod:`smscat.storage.care_stats` reads the rows. This module names the groups as staff
know them — a plan by its title (an admin's saved edit wins over config.yaml's, as in
:meth:`.care.CarePlans.plans`), a doctor by name, or :data:`NO_DOCTOR` — and renders the rows with
the column names of :mod:`smscat.relay.core.texts` (``report.care.*``).

The file is made by :func:`smscat.relay.services.reporting.spreadsheet_bytes`, as the thread
report's is: UTF-8 with a BOM, CRLF, a cell that starts like a formula escaped. ``smscat report``
writes it next to the thread report, the admin's statistics page offers it for download.

It must never: put a phone number or a patient's nickname into a row, a log line or an error
(a row holds a plan, a department, a doctor's name and counts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydantic import ValidationError

from smscat.relay.core import care_stats, stats, texts
from smscat.relay.core.care_stats import CareFigures
from smscat.relay.core.stats import Period
from smscat.relay.services.care_record import parse_plan
from smscat.relay.services.relay import Relay
from smscat.relay.services.reporting import spreadsheet_bytes
from smscat.storage import care as care_db
from smscat.storage import care_stats as store
from smscat.storage.db import Database

NO_DOCTOR: Final = "—"  # an enrolment without a doctor (a dash in both languages, not a word)
COLUMNS: Final = (
    "report.care.plan",
    "report.department",
    "report.care.doctor",
    "report.care.enrolled",
    "report.care.reached",
    "report.care.replied",
    "report.care.red_flags",
    "report.care.median_ack",
    "report.care.completed",
    "report.care.opted_out",
    "report.care.ended_early",
)


@dataclass(frozen=True, slots=True)
class CareRow:
    plan: str  # the plan's title (its name when no title is known: it left the configuration)
    department: str
    doctor: str  # the doctor's name, or NO_DOCTOR
    figures: CareFigures


@dataclass(frozen=True, slots=True)
class CareReport:
    period: Period
    rows: tuple[CareRow, ...]  # by plan, department, doctor
    total: CareFigures


async def plan_titles(db: Database, configured: Mapping[str, str]) -> dict[str, str]:
    """Each plan's title: ``configured``'s (name → title, config.yaml), replaced by the title of
    an admin's saved edit."""
    titles = dict(configured)
    async with db.reading() as conn:
        bodies = await care_db.plan_bodies(conn)
    for name, body in bodies.items():
        try:
            titles[name] = parse_plan(body).title
        except ValidationError:  # (the planner uses config's plan then; so does the report)
            continue
    return titles


async def month_report(
    db: Database, month: str, *, timezone: str, titles: Mapping[str, str]
) -> CareReport:
    """The 随访 figures of ``month`` (``YYYY-MM``, ValueError otherwise) in ``timezone``;
    ``titles`` names the plans (:func:`plan_titles`)."""
    period = stats.month_period(month, timezone)
    facts = await store.enrolment_facts(db, period.start, period.end)
    doctors = {f.doctor_id: f.doctor for f in facts}
    rows = [
        CareRow(titles.get(plan, plan), department, doctors[doctor_id] or NO_DOCTOR, figures)
        for (plan, department, doctor_id), figures in care_stats.by_group(facts).items()
    ]
    rows.sort(key=lambda r: (r.plan, r.department, r.doctor))
    return CareReport(period, tuple(rows), care_stats.figures(facts))


async def relay_month_report(relay: Relay, month: str) -> CareReport:
    """:func:`month_report` of the running relay (the admin's statistics page)."""
    configured = {name: plan.title for name, plan in relay.options.care.plans.items()}
    return await month_report(
        relay.db,
        month,
        timezone=relay.options.zone_name,
        titles=await plan_titles(relay.db, configured),
    )


def _cells(figures: CareFigures) -> list[str]:
    median = figures.median_ack_minutes
    return [
        str(figures.enrolled),
        str(figures.reached),
        str(figures.replied),
        str(figures.red_flags),
        "" if median is None else f"{median:.1f}",
        str(figures.completed),
        str(figures.opted_out),
        str(figures.ended_early),
    ]


def csv_rows(report: CareReport, lang: str = texts.DEFAULT_LANG) -> list[list[str]]:
    """The header (in ``lang``), a row per plan, department and doctor, and the total row."""
    out = [[texts.render(key, lang) for key in COLUMNS]]
    for row in report.rows:
        out.append([row.plan, row.department, row.doctor, *_cells(row.figures)])
    out.append([texts.render("report.total", lang), "", "", *_cells(report.total)])
    return out


def csv_bytes(report: CareReport, lang: str = texts.DEFAULT_LANG) -> bytes:
    """The report as a file Excel opens (:func:`.reporting.spreadsheet_bytes`)."""
    return spreadsheet_bytes(csv_rows(report, lang))


def write_csv(report: CareReport, path: Path) -> None:
    """Write :func:`csv_bytes` to ``path``."""
    path.write_bytes(csv_bytes(report))
