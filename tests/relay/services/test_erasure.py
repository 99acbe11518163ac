"""Erasure reaches a number in every form it was written in: ``smscat erase --phone`` leaves no
trace of it in any table, raw PDU, the database file or its write-ahead log.

One patient's number is written in every form of the corpus (``data/number_formats.json``)
into every field that holds text: questions, follow-ups on the page and by SMS, nicknames, the
expert's answers by SMS, SMS from numbers nobody knows (one still waiting for its other parts),
the SMS queued to the expert and to the patient, an SMS's error, an audit entry. The erasure
runs through the command line, as an administrator runs it. Then the files are read as bytes,
like ``strings``: printable runs decoded and read with this suite's own reading of digits
(:func:`~tests.support.numbers.own_digit_runs`), the number's semi-octets (how a PDU carries
an address), its UCS2, and every hex run that decodes as an SMS.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smscat.hwsim import pdu as simpdu
from smscat.modem import pdu
from smscat.modem.errors import PduError
from smscat.modem.inbox import StoredPart
from smscat.relay.services.context import RelayOptions
from smscat.relay.services.relay import Relay
from smscat.relay.services.retention import purge
from smscat.storage import retention as retention_store
from smscat.storage.db import Database, ExpertRow
from tests.support.cli import smscat
from tests.support.numbers import FORMATS, own_digit_runs
from tests.support.relay import Clock

ZHANG = ExpertRow("zhang", "张明", "主任医师", "心血管内科", "+8613800138001", "高血压")
LI = ExpertRow("li", "李华", "副主任医师", "心血管内科", "+8613800138002", None)
PATIENT = "+8613905172486"
NATIONAL = PATIENT.removeprefix("+86")
STRANGER = "+8613655556666"  # texts the hospital, is nobody's
T0 = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)
FORMS = [row["text"] for row in FORMATS if row["digits"] == NATIONAL]


def packed(forms: list[str], limit: int) -> list[str]:
    """The forms joined into texts of at most ``limit`` characters."""
    texts, current = [], ""
    for form in forms:
        if current and len(current) + 1 + len(form) > limit:
            texts.append(current)
            current = ""
        current = f"{current}；{form}" if current else form
    texts.append(current)
    return texts


# -- what a scan of the files finds --------------------------------------------------------------


def semi_octets(digits: str) -> str:
    padded = digits + "F" * (len(digits) % 2)
    return "".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2))


def traces(raw: bytes) -> set[str]:
    """How the number can still be read in ``raw`` (the bytes of the files), by kind."""
    found: set[str] = set()
    text = raw.decode("utf-8", errors="replace")
    for run in re.split(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]+", text):
        if any(NATIONAL in digits for digits in own_digit_runs(run)):
            found.add("text")
    bcd = semi_octets(NATIONAL)
    if bcd.encode() in raw or bcd.lower().encode() in raw or bytes.fromhex(bcd[:-2]) in raw:
        found.add("semi-octets")
    for form in [NATIONAL, *FORMS]:
        ucs2 = form.encode("utf-16-be").hex()
        if ucs2.upper().encode() in raw or ucs2.encode() in raw:
            found.add("ucs2")
    for run in re.findall(rb"[0-9A-Fa-f]{40,}", raw):
        for deliver in _decoded(run.decode()):
            if _holds(deliver.sender) or _holds(deliver.text):
                found.add("pdu")
    return found


def _decoded(run: str) -> Iterator[pdu.Deliver]:
    """The SMS a hex run decodes as (what follows a PDU in a row may be hex digits too)."""
    for end in range(len(run) - len(run) % 2, max(len(run) - 40, 0), -2):
        try:
            yield pdu.decode_deliver(run[:end])
        except PduError:
            continue
        return


def _holds(text: str) -> bool:
    return any(NATIONAL in digits for digits in own_digit_runs(text))


def database_bytes(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(folder.glob("smscat.db*")))


# -- the hospital's history with the number in it ----------------------------------------------


@dataclass
class Seeded:
    threads: int
    inbound: int


async def seed(path: Path) -> Seeded:
    clock = Clock(T0)
    async with Database.open(path) as db:
        # SQLite's default unless built with SQLITE_SECURE_DELETE: erasure must not count on it
        await db.fetchall("PRAGMA secure_delete = OFF")
        await db.sync_experts([ZHANG, LI])
        relay = Relay(db, RelayOptions(department="心内科"), clock=clock)
        refs = 0

        async def sms(sender: str, text: str, *, parts: int | None = None) -> None:
            nonlocal refs
            refs += 1
            for tpdu in simpdu.deliver_parts(sender, text, clock.now, refs)[:parts]:
                pdu_hex = (simpdu.encode_smsc(None) + tpdu).hex().upper()
                deliver = pdu.decode_deliver(pdu_hex)
                await relay.inbound.store_part("m1", StoredPart(None, deliver, pdu_hex))
            await relay.inbound.process_inbound()

        questions = packed(FORMS, 480)
        nicknames = [form.strip() for form in FORMS if len(form.strip()) <= 20]
        verification = await relay.asking.start_verification(PATIENT)
        (row,) = await db.fetchall(
            "SELECT text FROM outbox WHERE recipient = ? ORDER BY id DESC", (PATIENT,)
        )
        code = re.findall(r"\d{6}", row["text"])[0]
        own = await relay.asking.ask(
            expert_id="zhang",
            nickname=nicknames[0],
            text=questions[0],
            public=True,
            phone=PATIENT,
            verification_id=verification,
            code=code,
        )
        threads = [own]
        for i, question in enumerate(questions[1:], start=1):
            threads.append(
                await relay.asking.ask(
                    expert_id="zhang",
                    nickname=nicknames[i % len(nicknames)],
                    text=question,
                    public=i % 2 == 0,
                )
            )
        clock.now += timedelta(minutes=5)
        for asked, text in zip(threads, packed(FORMS[::-1], 480), strict=False):
            await relay.patient_page.follow_up(asked.id, asked.token, text)
        clock.now += timedelta(minutes=5)
        codes = {
            int(r["id"]): int(r["code"]) for r in await db.fetchall("SELECT id, code FROM threads")
        }
        for asked, text in zip(threads, packed(FORMS, 300), strict=False):
            await sms(ZHANG.phone, f"#{codes[asked.id]} 请联系：{text}")  # answered by SMS
        clock.now += timedelta(minutes=5)
        await sms(PATIENT, f"#{codes[own.id]} 好的，{packed(FORMS, 300)[-1]}")  # by SMS too
        await sms(STRANGER, f"请转告：{packed(FORMS, 300)[1]}")  # never posted, kept for admins
        await sms(STRANGER, "第二条：" + "".join(FORMS[:8]) * 3, parts=1)  # a part still waiting
        async with db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET error = ? WHERE id = (SELECT MIN(id) FROM outbox)",
                (f"+CMS ERROR: 500 (to {FORMS[1]})",),
            )
            await db.audit(
                conn, "admin", "thread.note", FORMS[2], {"note": FORMS[3], "n": int(NATIONAL)}
            )
        (inbound,) = await db.fetchall("SELECT COUNT(*) FROM inbound")
        return Seeded(len(threads), int(inbound[0]))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("storage: {path: smscat.db}\n", encoding="utf-8")
    return path


def test_erase_leaves_no_form_of_the_number_in_any_table_pdu_or_file(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded = asyncio.run(seed(tmp_path / "smscat.db"))
    assert seeded.inbound == seeded.threads + 2  # answers, the patient's SMS, the stranger's
    # the scan sees the number in every way it can sit in the files
    assert traces(database_bytes(tmp_path)) == {"text", "semi-octets", "ucs2", "pdu"}

    assert smscat("erase", "--phone", "139 0517 2486", "-c", str(config)) == 0
    out, err = capsys.readouterr()
    assert not re.search(r"\d{4}", out + err.replace(str(tmp_path), ""))

    assert traces(database_bytes(tmp_path)) == set()
    cells = asyncio.run(every_cell(tmp_path / "smscat.db"))
    assert [place for place, value in cells if _holds(value)] == []
    # what was around the number stays: the questions, the answers, the SMS
    placeholder = ("[号码已删除]", json.dumps("[号码已删除]")[1:-1])  # as typed, as in JSON
    erased = {place for place, value in cells if any(p in value for p in placeholder)}
    assert erased == {
        *("messages.text", "inbound.text", "outbox.text", "outbox.error", "threads.nickname"),
        *("audit_log.subject", "audit_log.detail"),
    }  # (public_text never showed it: masked when written)
    (threads,) = asyncio.run(rows(tmp_path / "smscat.db", "SELECT COUNT(*) FROM threads"))
    assert threads[0] == seeded.threads


async def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    async with Database.open(path) as db:
        return [tuple(row) for row in await db.fetchall(sql)]


async def every_cell(path: Path) -> list[tuple[str, str]]:
    """("table.column", value as text) for every cell of every table."""
    async with Database.open(path) as db:
        out: list[tuple[str, str]] = []
        for (table,) in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for row in await db.fetchall(f'SELECT * FROM "{table}"'):
                for column in row.keys():  # noqa: SIM118
                    value = row[column]
                    text = value.hex() if isinstance(value, bytes) else str(value)
                    out.append((f"{table}.{column}", text))
        return out


def test_the_retention_purge_erases_every_form_too(tmp_path: Path) -> None:
    """The daily purge erases a number gone stale the same way, raw PDUs included."""

    async def run() -> list[str]:
        await seed(tmp_path / "smscat.db")
        async with Database.open(tmp_path / "smscat.db") as db:
            await purge(db, phone_days=90, thread_days=None, now=T0 + timedelta(days=200))
        return [place for place, value in await every_cell(tmp_path / "smscat.db") if _holds(value)]

    assert asyncio.run(run()) == []
    assert traces(database_bytes(tmp_path)) == set()


def test_every_text_column_is_known_to_erasure(tmp_path: Path) -> None:
    """A new TEXT column must be placed: scanned for numbers, a number itself, or neither."""
    known = {
        *(f"{t}.{c}" for t, c in retention_store.TEXT_COLUMNS),
        *(f"{t}.{c}" for t, c in retention_store.JSON_COLUMNS),
        *(f"{t}.{c}" for t, c in retention_store.NUMBER_COLUMNS),
        *(f"{t}.{c}" for t, cs in retention_store.NO_PATIENT_TEXT.items() for c in cs),
    }

    async def text_columns() -> set[str]:
        async with Database.open(tmp_path / "schema.db") as db:
            found = set()
            for (table,) in await db.fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            ):
                for column in await db.fetchall(f'PRAGMA table_info("{table}")'):
                    if column["type"].upper() == "TEXT":
                        found.add(f"{table}.{column['name']}")
            return found

    columns = asyncio.run(text_columns())
    assert columns - known == set()
    assert known - columns == set()


def test_the_corpus_for_erasure_is_one_number_in_many_forms() -> None:
    assert len(FORMS) >= 60
    assert json.dumps(FORMS, ensure_ascii=False).count(NATIONAL) < len(FORMS) // 4
