"""The monthly statistics report (a CSV Excel opens) and the experts' weekly SMS digest.

The figures come from ``relay.core.stats`` (pure) over rows that :mod:`smscat.storage.stats`
reads; this module picks the experts, renders the rows with the column names of
:mod:`smscat.relay.core.texts`, and queues the digest SMS.

* :func:`month_report` / :func:`write_csv`: one row per expert (every present expert, and any
  other with a question or a thanks in the month), then the department's total row. The file is
  UTF-8 with a byte-order mark: without it Excel on a Chinese Windows reads UTF-8 as GBK.
  :func:`csv_bytes` makes it, for ``smscat report`` and the admin's download alike; each cell
  goes through :func:`spreadsheet_text`, so that a name like ``=HYPERLINK(…)`` (an admin types
  the experts' names) stays text in Excel instead of becoming a formula. The rows become bytes
  in :func:`spreadsheet_bytes`, which the 随访 report (:mod:`.care_report`) uses too.
* :func:`queue_digests`: each present expert who has not opted out (``digest``) gets one SMS
  about the previous ISO week: questions received, answered (first answer in the week), thanks.
  Only for a week the expert was there for: one who joined after it ended (``created_at``, set
  when config or an admin adds them) gets nothing about it, so a daemon started in the daytime
  does not greet new experts with a report on a week before their time.
  At most one per expert per week, however often it is called: each digest is recorded in the
  audit log (``digest.queued``, ``{"week": "2026-W47"}``) in the transaction that queues it, and
  an expert who has one for that week is skipped. Only within the send window (local daytime),
  so a daemon may call it every hour. Queued through :meth:`Sender.enqueue`, like every SMS (the
  duplicate guard: the same text to one number once a day), for when the expert may be texted
  (:func:`.policy.send_time`: after their quiet hours, and after a pause, which 恢复 ends).

Outer ring of the relay. It must never: put a phone number in the report, a log line or an
audit entry (only the digest SMS's recipient holds one).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from smscat.relay.core import stats, texts
from smscat.relay.core.stats import Figures, Period
from smscat.relay.services.relay import Relay
from smscat.storage import stats as store
from smscat.storage.db import Database

log = logging.getLogger(__name__)

DIGEST_ACTION: Final = "digest.queued"
COLUMNS: Final = (
    "report.expert",
    "report.title",
    "report.department",
    "report.questions",
    "report.answered",
    "report.answered_percent",
    "report.median_first_answer",
    "report.thanks",
)


@dataclass(frozen=True, slots=True)
class ReportRow:
    expert: str
    title: str
    department: str
    figures: Figures


@dataclass(frozen=True, slots=True)
class MonthReport:
    period: Period
    experts: tuple[ReportRow, ...]
    total: ReportRow


async def month_report(db: Database, month: str, *, timezone: str, department: str) -> MonthReport:
    """The figures of ``month`` (``YYYY-MM``, ValueError otherwise) in ``timezone``."""
    period = stats.month_period(month, timezone)
    facts = await store.thread_facts(db, period.start, period.end)
    experts = await store.experts(db)
    computed = stats.month_stats(facts, period, [row["id"] for row in experts])
    rows = []
    for expert in experts:
        figures = computed.experts[expert["id"]]
        listed = expert["role"] == "expert" and expert["present"]  # (policy.is_present, in SQL)
        if listed or figures.questions or figures.thanks:
            rows.append(ReportRow(expert["name"], expert["title"], expert["department"], figures))
    total = ReportRow(texts.render("report.total"), "", department, computed.total)
    return MonthReport(period, tuple(rows), total)


def csv_rows(report: MonthReport, lang: str = texts.DEFAULT_LANG) -> list[list[str]]:
    """The header (in ``lang``), a row per expert, and the total row, as CSV cells."""
    out = [[texts.render(key, lang) for key in COLUMNS]]
    for row in (*report.experts, report.total):
        figures = row.figures
        percent = figures.answered_percent
        median = figures.median_first_answer_s
        out.append(
            [
                row.expert,
                row.title,
                row.department,
                str(figures.questions),
                str(figures.answered),
                "" if percent is None else f"{percent:.1f}",
                "" if median is None else f"{median:.0f}",
                str(figures.thanks),
            ]
        )
    return out


FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")  # OWASP's CSV injection list


def spreadsheet_text(cell: str) -> str:
    """``cell`` as a spreadsheet shows it as text: one that starts like a formula (``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading apostrophe."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def spreadsheet_bytes(rows: Iterable[Sequence[str]]) -> bytes:
    """``rows`` as CSV, UTF-8 with a BOM, CRLF line ends (as Excel writes CSV); every cell
    through :func:`spreadsheet_text`. Every report's file is made here (the 随访 one too)."""
    buffer = io.StringIO(newline="")
    safe = [[spreadsheet_text(cell) for cell in row] for row in rows]
    csv.writer(buffer).writerows(safe)
    return buffer.getvalue().encode("utf-8-sig")


def csv_bytes(report: MonthReport) -> bytes:
    """The report as :func:`spreadsheet_bytes` of its :func:`csv_rows`."""
    return spreadsheet_bytes(csv_rows(report))


def write_csv(report: MonthReport, path: Path) -> None:
    """Write :func:`csv_bytes` to ``path``."""
    path.write_bytes(csv_bytes(report))


# -- the weekly digest ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestOptions:
    department: str
    timezone: str = "Asia/Shanghai"
    send_from: time = time(9, 0)  # local; before this nothing is queued
    send_until: time = time(21, 0)  # local; from this on nothing is queued


async def queue_digests(relay: Relay, options: DigestOptions, now: datetime) -> int:
    """Queue last week's digest for every expert who wants one and has none yet; how many."""
    db = relay.db
    local = now.astimezone(ZoneInfo(options.timezone)).time()
    if not options.send_from <= local < options.send_until:
        return 0
    week = stats.previous_week(now, options.timezone)
    facts = await store.thread_facts(db, week.start, week.end)
    queued = 0
    async with db.transaction() as conn:
        for expert in await store.digest_recipients(conn, joined_before=week.end):
            if await store.audited_for_week(conn, DIGEST_ACTION, expert.id, week.label):
                continue
            figures = stats.week_figures([f for f in facts if f.expert_id == expert.id], week)
            text = texts.render(
                "weekly_digest",
                dept=options.department,
                name=expert.name,
                asked=figures.asked,
                answered=figures.answered,
                thanks=figures.thanks,
            )
            after = relay.sending.send_time(expert, now)  # (as it is now: paused, quiet)
            # (one the duplicate guard skips is done for the week too: the text went today)
            to = expert.phone
            if await relay.sending.enqueue(conn, "notice", to, text, None, now, not_before=after):
                queued += 1
            await db.audit(conn, "digest", DIGEST_ACTION, expert.id, {"week": week.label})
    if queued:
        log.info("weekly digest %s queued for %d expert(s)", week.label, queued)
    return queued
