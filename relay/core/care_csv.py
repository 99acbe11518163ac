"""The hospital's discharge list (CSV) read into the patients a 随访 plan would enrol.

Lists come from an HIS or Excel: UTF-8 with or without a BOM, GB18030 (Excel's "CSV" in China)
or UTF-16 with a BOM (Excel's "Unicode text"); commas, tabs or semicolons; columns named in
Chinese or English, in any order, among many we do not use. An admin sees a preview before
anything is sent, so the reader never stops at the first problem: it returns the good rows and
an error key (:data:`ERROR_KEYS`; words in the catalogue) per bad cell. The phone check is
injected (the modem's E.164 normaliser and mobile check), and only form is judged here: a date
too far away, an unknown plan or doctor are for the service, which has a clock and storage.

It must never: raise on any input, put a cell's content into an error, a repr or a log (a
:class:`CareRow` repr masks the number and leaves the nickname out), do I/O, or import anything
outside the standard library and :mod:`smscat.relay.core`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final, Literal, TypeVar

from smscat.relay.core.numbers import find_numbers
from smscat.relay.core.numerals import SEPARATORS, flatten
from smscat.relay.core.types import masked_repr

_T = TypeVar("_T")

Consent = Literal["verbal", "written", "electronic"]
Column = Literal["phone", "nickname", "anchor", "plan", "doctor", "consent"]

# Header names per column, the preferred first: with both 称呼 and 姓名 in a file, 称呼 is used.
# Compared after :func:`_header_key` (NFKC, case, spaces, "_", "-" and "*" ignored).
ALIASES: Final[dict[Column, tuple[str, ...]]] = {
    "phone": ("手机号", "手机", "联系电话", "电话", "phone", "mobile"),
    "nickname": ("称呼", "nickname", "姓名", "患者", "name"),
    "anchor": ("出院日期", "手术日期", "就诊日期", "日期", "discharge_date", "anchor", "date"),
    "plan": ("随访计划", "计划", "plan"),
    "doctor": ("主治医生", "医生", "doctor"),
    "consent": ("知情同意", "同意", "consent"),
}
REQUIRED: Final[tuple[Column, ...]] = ("phone", "nickname", "anchor", "consent")
DELIMITERS: Final = (",", "\t", ";")
MAX_BYTES: Final = 2_000_000  # an upload larger than this is refused whole (csv_too_big)

# How consent is written in the list; "no" and an empty cell mean no consent: never enrolled.
_CONSENT_WORDS: Final[dict[Consent, tuple[str, ...]]] = {
    "verbal": ("是", "同意", "口头", "口头同意", "y", "yes", "true", "1", "verbal"),
    "written": ("书面", "书面同意", "written"),
    "electronic": ("电子", "电子同意", "短信", "electronic"),
}
CONSENT: Final[dict[str, Consent]] = {w: how for how, ws in _CONSENT_WORDS.items() for w in ws}
NO_CONSENT: Final = frozenset({"", "否", "不同意", "无", "n", "no", "false", "0"})

# Whole-file problems: too big (detail: the limit in bytes), neither UTF-8, GB18030 nor UTF-16
# with a BOM, not CSV, nothing in it, a required column missing (detail: "phone,consent"), too
# many rows (detail: the limit). A row's: one key per bad cell; a duplicate is the same phone and
# plan as on an earlier line (one enrolment).
FILE_ERROR_KEYS: Final = (
    "csv_too_big", "csv_encoding", "csv_unreadable", "csv_empty", "csv_header", "csv_too_many_rows",
)  # fmt: skip
ROW_ERROR_KEYS: Final = (
    "csv_phone_missing", "csv_phone_invalid", "csv_duplicate",
    "csv_nickname_missing", "csv_nickname_long", "csv_nickname_number",
    "csv_date_missing", "csv_date_invalid", "csv_consent_missing", "csv_consent_invalid",
)  # fmt: skip
ERROR_KEYS: Final = FILE_ERROR_KEYS + ROW_ERROR_KEYS

# 2026-12-01, 2026/12/1, 2026.12.01, 2026年12月1日, 20261201, with a time of day an HIS may add
# (dropped). Day-month order is never guessed: 12/1/2026 is refused, not read as either.
_TIME: Final = r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DATES: Final = (
    re.compile(r"(?P<y>\d{4})\s*(?P<s>[-/.])\s*(?P<m>\d{1,2})\s*(?P=s)\s*(?P<d>\d{1,2})" + _TIME),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?" + _TIME),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
)
# An Excel serial date (46357 is 2026-12-01), as a cell formatted as a number shows it: serial 61
# is 1900-03-01 (ECMA-376 Part 4, "Date Representation": 1900 counts as a leap year), so day 0 is
# 1899-12-30 from then on. Five digits only (1927-05-18 to 2173-10-13): four would be a year.
# A workbook in the 1904 date system (old Mac Excel) reads 1462 days early: a CSV cannot tell.
_SERIAL, _EXCEL_DAY_ZERO = re.compile(r"(\d{5})(?:\.\d+)?"), date(1899, 12, 30)
_EXCEL_TEXT: Final = re.compile(r"'(.*)|=\"(.*)\"", re.DOTALL)


@dataclass(frozen=True, slots=True, repr=False)
class CareRow:
    """One patient to enrol, as the list gives them; the service checks plan and doctor."""

    line: int  # 1-based line in the file where the row starts (the header's is 1)
    phone: str  # E.164, as the injected check read it; masked in the repr
    nickname: str = field(repr=False)  # 称呼, e.g. "张先生"; never shown in a repr
    anchor: date  # the discharge, visit or surgery date the plan's days count from
    plan: str | None  # None: the caller's default plan
    doctor: str | None  # a staff id, or None
    consent: Consent

    def __repr__(self) -> str:
        return masked_repr(self, ("phone",))


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong with one cell: a key, never the content."""

    line: int
    column: Column
    key: str  # one of ROW_ERROR_KEYS


@dataclass(frozen=True, slots=True)
class CsvReading:
    """A whole list read: the rows to enrol and the errors of the others, or why none were."""

    rows: tuple[CareRow, ...] = ()
    errors: tuple[RowError, ...] = ()
    file_error: str | None = None  # one of FILE_ERROR_KEYS: then rows and errors are empty
    file_detail: str | None = None  # the missing columns ("phone,consent") or the limit passed


class _Refused(Exception):
    """A cell that cannot be read: its one argument is the error key, never the content."""


def read_discharge_list(
    data: bytes,
    *,
    phone: Callable[[str], str],
    max_rows: int = 5000,
    max_bytes: int = MAX_BYTES,
    max_nickname: int = 20,
) -> CsvReading:
    """Read ``data`` (a discharge list as uploaded); ``phone`` turns a number's digits into
    E.164 or raises ValueError. Never raises: every problem is a key in the result."""
    if len(data) > max_bytes:
        return CsvReading(file_error="csv_too_big", file_detail=str(max_bytes))
    text = _decoded(data)
    if text is None:
        return CsvReading(file_error="csv_encoding")
    try:
        return _read(text, phone, max_rows, max_nickname)
    except csv.Error:  # the message may quote the file: dropped
        return CsvReading(file_error="csv_unreadable")


def _decoded(data: bytes) -> str | None:
    """The text of ``data``: UTF-8 (with or without a BOM), UTF-16 with a BOM, or GB18030."""
    encodings = ("utf-16",) if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig", "gb18030")
    for encoding in encodings:
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode(encoding)
    return None


def _read(text: str, phone: Callable[[str], str], max_rows: int, max_nickname: int) -> CsvReading:
    # The delimiter that finds the most known columns in the first record (ties: the comma).
    headers = {d: next(_records(text, d), (0, [])) for d in DELIMITERS}
    delimiter = max(DELIMITERS, key=lambda d: len(_columns(headers[d][1])))
    if not headers[delimiter][1]:
        return CsvReading(file_error="csv_empty")
    columns = _columns(headers[delimiter][1])
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        return CsvReading(file_error="csv_header", file_detail=",".join(missing))
    rows: list[CareRow] = []
    errors: list[RowError] = []
    seen: set[tuple[str, str | None]] = set()
    for count, (line, cells) in enumerate(_records(text, delimiter)):
        if count == 0:
            continue  # the header
        if count > max_rows:
            return CsvReading(file_error="csv_too_many_rows", file_detail=str(max_rows))
        cell = {name: cells[i].strip() if i < len(cells) else "" for name, i in columns.items()}
        key, row, row_errors = _row(line, cell, phone, max_nickname)
        if key is not None and key in seen:
            row_errors.append(RowError(line, "phone", "csv_duplicate"))
            row = None
        elif key is not None:
            seen.add(key)
        errors.extend(row_errors)
        if row is not None:
            rows.append(row)
    return CsvReading(tuple(rows), tuple(errors))


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """The non-blank records of ``text``, each with the line it starts on (quoted line breaks
    make a record span lines; a line of empty cells, as Excel writes, is blank)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    end = 0
    for cells in reader:
        start, end = end + 1, reader.line_num
        if any(cell.strip() for cell in cells):
            yield start, cells


def _header_key(name: str) -> str:
    return re.sub(r"[\s_*-]+", "", unicodedata.normalize("NFKC", name)).casefold()


_ALIAS_RANK: Final[dict[str, tuple[Column, int]]] = {
    _header_key(alias): (column, rank)
    for column, aliases in ALIASES.items()
    for rank, alias in enumerate(aliases)
}


def _columns(header: list[str]) -> dict[Column, int]:
    """Which cell holds each known column: the preferred alias, then the leftmost cell."""
    best: dict[Column, tuple[int, int]] = {}
    for index, name in enumerate(header):
        found = _ALIAS_RANK.get(_header_key(name))
        if found is not None and (found[0] not in best or found[1] < best[found[0]][0]):
            best[found[0]] = (found[1], index)
    return {column: index for column, (_rank, index) in best.items()}


def _row(
    line: int, cell: dict[Column, str], phone: Callable[[str], str], max_nickname: int
) -> tuple[tuple[str, str | None] | None, CareRow | None, list[RowError]]:
    """The row, or its errors; and its (phone, plan) whenever the number was read, so that a
    later line with the same pair is a duplicate even when this one has other errors."""
    errors: list[RowError] = []

    def attempt(column: Column, read: Callable[[str], _T]) -> _T | None:
        try:
            return read(cell[column])
        except _Refused as refused:
            errors.append(RowError(line, column, refused.args[0]))
            return None

    number = attempt("phone", lambda value: _phone(value, phone))
    nickname = attempt("nickname", lambda value: _nickname(value, max_nickname))
    anchor = attempt("anchor", _anchor)
    consent = attempt("consent", _consent)
    plan = cell.get("plan") or None
    key = None if number is None else (number, plan)
    if number is None or nickname is None or anchor is None or consent is None:
        return key, None, errors
    doctor = cell.get("doctor") or None
    return key, CareRow(line, number, nickname, anchor, plan, doctor, consent), errors


def _phone(value: str, check: Callable[[str], str]) -> str:
    """E.164 from a cell: Excel's text marks ('139…, ="139…") and separators (not "+")
    dropped, any script's digits (全角, 一三九…) made ASCII, then the injected check."""
    excel = _EXCEL_TEXT.fullmatch(value)
    if excel:
        value = (excel[1] if excel[1] is not None else excel[2]).strip()
    digits = "".join(ch for ch in flatten(value) if ch == "+" or ch not in SEPARATORS)
    if not digits:
        raise _Refused("csv_phone_missing")
    try:
        return check(digits)
    except ValueError:
        raise _Refused("csv_phone_invalid") from None


def _nickname(value: str, longest: int) -> str:
    """称呼 with runs of spaces made one and control and format characters dropped."""
    text = "".join(
        ch for ch in " ".join(value.split()) if unicodedata.category(ch) not in ("Cc", "Cf")
    ).strip()
    if not text:
        raise _Refused("csv_nickname_missing")
    if find_numbers(text):  # a number would go into every SMS text that greets them
        raise _Refused("csv_nickname_number")
    if len(text) > longest:
        raise _Refused("csv_nickname_long")
    return text


def _anchor(value: str) -> date:  # the forms are at _DATES and _SERIAL
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        raise _Refused("csv_date_missing")
    serial = _SERIAL.fullmatch(text)
    if serial:
        return _EXCEL_DAY_ZERO + timedelta(days=int(serial[1]))
    for pattern in _DATES:
        found = pattern.fullmatch(text)
        if found:
            try:
                return date(int(found["y"]), int(found["m"]), int(found["d"]))
            except ValueError:
                break
    raise _Refused("csv_date_invalid")


def _consent(value: str) -> Consent:
    word = unicodedata.normalize("NFKC", value).strip().casefold()
    if word in NO_CONSENT:
        raise _Refused("csv_consent_missing")
    if word not in CONSENT:
        raise _Refused("csv_consent_invalid")
    return CONSENT[word]
