"""`smscat report` on a seeded database, checked against figures worked out by hand; the digest.

The database is a real SQLite file; threads and messages are inserted with known timestamps
(UTC, as the relay stores them) around the Beijing month boundaries, so that a question asked at
00:30 on 1 November in Beijing (16:30 on 31 October in UTC) is a November question.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smscat.relay.core.texts import render
from smscat.relay.services.context import RelayOptions
from smscat.relay.services.relay import Relay
from smscat.relay.services.reporting import DigestOptions, queue_digests
from smscat.storage import experts as experts_db
from smscat.storage import threads as threads_db
from smscat.storage.db import Database, ExpertRow, iso
from tests.support.cli import smscat

ZHAO = ExpertRow("zhao", "赵敏", "护士长", "心血管内科", "+8613800138009", None, role="assistant")
ZHANG = ExpertRow(
    "zhang", "张明", "主任医师", "心血管内科", "+8613800138001", "高血压", assistant_id="zhao"
)
LI = ExpertRow("li", "李华", "副主任医师", "心血管内科", "+8613800138002", None, digest=0)
WANG = ExpertRow("wang", "王芳", "主治医师", "心血管内科", "+8613800138003", None)
QIAN = ExpertRow("qian", "钱进", "主治医师", "心血管内科", "+8613800138004", None)  # inactive
DEPARTMENT = "心血管内科专家咨询"
HEADER = [
    "专家",
    "职称",
    "科室",
    "提问数",
    "已回复数",
    "回复率（%）",
    "首次回复用时中位数（秒）",
    "收到感谢数",
]
_codes = itertools.count(1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def seed_thread(
    db: Database,
    expert: str,
    created: datetime,
    posts: Sequence[tuple[str, int]] = (),
    thanked: datetime | None = None,
) -> int:
    """A thread asked at ``created``, then ``(sender, seconds after created)`` posts."""
    code = next(_codes)
    async with db.transaction() as conn:
        thread_id = await threads_db.insert_thread(
            conn,
            threads_db.NewThread(
                expert, code, f"t{code}", "小王", False, None, "sent", iso(created)
            ),
        )
        for sender, after in [("patient", 0), *posts]:
            at = iso(created + timedelta(seconds=after))
            await threads_db.insert_message(
                conn, threads_db.NewMessage(thread_id, sender, "……", "……", at)
            )
        if thanked is not None:
            await conn.execute(
                "UPDATE threads SET thanked_at = ? WHERE id = ?", (iso(thanked), thread_id)
            )
    return thread_id


JOINED = datetime(2026, 10, 1, tzinfo=UTC)  # every expert here was there for every week tested


async def add_experts(db: Database) -> None:
    await db.sync_experts([ZHAO, ZHANG, LI, WANG, QIAN], at=JOINED)
    await db.admin_edit_expert("qian", "test", active=0)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(tmp_path / "smscat.db") as opened:
        await add_experts(opened)
        yield opened


async def seed_two_months(db: Database) -> None:
    # zhang, October (Beijing): asked 31 Oct 23:30, answered after 60 s, thanked 5 Nov
    await seed_thread(db, "zhang", utc(2026, 10, 31, 15, 30), [("expert", 60)], utc(2026, 11, 5))
    # zhang, November: asked 1 Nov 00:30 Beijing; a patient follow-up does not answer it;
    # first answer after 600 s, a second one later; thanked 1 Nov
    await seed_thread(
        db,
        "zhang",
        utc(2026, 10, 31, 16, 30),
        [("patient", 300), ("expert", 600), ("expert", 4000)],
        utc(2026, 11, 1, 3),
    )
    # a system notice does not answer it; the assistant does, after 1800 s;
    # thanked 1 Dec 00:30 Beijing (16:30 UTC on 30 Nov): a December thanks
    await seed_thread(
        db,
        "zhang",
        utc(2026, 11, 10, 2),
        [("system", 100), ("assistant", 1800)],
        utc(2026, 11, 30, 16, 30),
    )
    await seed_thread(db, "zhang", utc(2026, 11, 20, 3))  # never answered
    # li, November: answered after 300 s (thanked), 900 s and 7200 s
    await seed_thread(db, "li", utc(2026, 11, 15, 4), [("expert", 300)], utc(2026, 11, 15, 6))
    await seed_thread(db, "li", utc(2026, 11, 16, 4), [("expert", 900)])
    await seed_thread(db, "li", utc(2026, 11, 17, 4), [("expert", 7200)])
    # li, asked 1 Dec 00:00 Beijing exactly: December
    await seed_thread(db, "li", utc(2026, 11, 30, 16), [("expert", 60)])


# November by hand:
#   zhang: 3 questions (1 Nov 00:30, 10 Nov, 20 Nov), 2 answered → 66.7 %;
#          first answers after 600 s and 1800 s → median 1200 s;
#          thanks in November: the October question (5 Nov) and the 1 Nov one → 2
#   li:    3 questions, 3 answered → 100.0 %; 300, 900, 7200 s → median 900 s; 1 thanks
#   wang:  nothing; qian is inactive and zhao is an assistant: no rows
#   total: 6 questions, 5 answered → 83.3 %; 300, 600, 900, 1800, 7200 s → median 900 s;
#          3 thanks
NOVEMBER = [
    HEADER,
    ["张明", "主任医师", "心血管内科", "3", "2", "66.7", "1200", "2"],
    ["李华", "副主任医师", "心血管内科", "3", "3", "100.0", "900", "1"],
    ["王芳", "主治医师", "心血管内科", "0", "0", "", "", "0"],
    ["合计", "", DEPARTMENT, "6", "5", "83.3", "900", "3"],
]
# October by hand: zhang's 31 Oct 23:30 question, answered after 60 s, thanked in November
OCTOBER = [
    HEADER,
    ["张明", "主任医师", "心血管内科", "1", "1", "100.0", "60", "0"],
    ["李华", "副主任医师", "心血管内科", "0", "0", "", "", "0"],
    ["王芳", "主治医师", "心血管内科", "0", "0", "", "", "0"],
    ["合计", "", DEPARTMENT, "1", "1", "100.0", "60", "0"],
]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    async def seed() -> None:
        async with Database.open(tmp_path / "smscat.db") as db:
            await add_experts(db)
            await seed_two_months(db)

    asyncio.run(seed())
    path = tmp_path / "config.yaml"
    path.write_text(
        f"department: {{name: {DEPARTMENT}}}\nstorage: {{path: smscat.db}}\n", encoding="utf-8"
    )
    return path


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))


def test_the_november_report_matches_the_figures_worked_out_by_hand(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "nov.csv"
    assert smscat("report", "--month", "2026-11", "-c", str(config), "--out", str(out)) == 0
    assert read_csv(out) == NOVEMBER
    assert "nov.csv" in capsys.readouterr().out


def test_the_october_report_counts_only_october_questions(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "oct.csv"
    assert smscat("report", "--month", "2026-10", "-c", str(config), "--out", str(out)) == 0
    assert read_csv(out) == OCTOBER


def test_the_csv_starts_with_the_bom_and_chinese_headers_in_excel_form(
    config: Path, tmp_path: Path
) -> None:
    out = tmp_path / "nov.csv"
    assert smscat("report", "--month", "2026-11", "-c", str(config), "--out", str(out)) == 0
    raw = out.read_bytes()
    assert raw.startswith("\ufeff专家,职称,科室,提问数".encode())
    assert raw.count(b"\r\n") == len(NOVEMBER)  # CRLF rows, as Excel writes CSV
    assert b"138001" not in raw  # no phone number in the report


def test_the_default_file_is_report_month_csv_in_the_current_folder(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert smscat("report", "--month", "2026-11", "-c", str(config)) == 0
    assert read_csv(work / "report-2026-11.csv") == NOVEMBER


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "11/2026", "last month"])
def test_a_bad_month_exits_2_with_a_clear_message(
    config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    month: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert smscat("report", "--month", month, "-c", str(config)) == 2
    err = capsys.readouterr().err
    assert "YYYY-MM" in err
    assert "Traceback" not in err
    assert not list(tmp_path.glob("report-*.csv"))


def test_no_database_exits_1_and_creates_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("storage: {path: missing.db}\n", encoding="utf-8")
    assert smscat("report", "--month", "2026-11", "-c", str(config)) == 1
    assert "no database" in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()


def test_a_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("storage: {colour: blue}\n", encoding="utf-8")
    assert smscat("report", "--month", "2026-11", "-c", str(config)) == 2
    assert "storage.colour" in capsys.readouterr().err


# -- the weekly digest ---------------------------------------------------------------------------


def _relay(db: Database) -> Relay:
    return Relay(db, RelayOptions("心内科"), clock=lambda: MONDAY_10)


MONDAY_10 = utc(2026, 11, 23, 2)  # Monday 23 Nov, 10:00 in Beijing: last week is 2026-W47


async def seed_week(db: Database) -> None:
    # W47 in Beijing is 15 Nov 16:00 to 22 Nov 16:00 UTC.
    await seed_thread(db, "zhang", utc(2026, 11, 16, 2), [("expert", 600)], utc(2026, 11, 17))
    await seed_thread(db, "zhang", utc(2026, 11, 14), [("assistant", 2 * 86400)])  # answered
    await seed_thread(db, "zhang", utc(2026, 11, 20))  # asked, not answered
    await seed_thread(db, "zhang", utc(2026, 11, 23, 1), [("expert", 60)])  # this week
    await seed_thread(db, "li", utc(2026, 11, 16), [("expert", 60)], utc(2026, 11, 17))


async def digests(db: Database) -> list[tuple[str, str, int, str]]:
    rows = await db.fetchall(
        "SELECT recipient, kind, priority, text FROM outbox WHERE kind = 'notice' ORDER BY id"
    )
    return [(r["recipient"], r["kind"], r["priority"], r["text"]) for r in rows]


async def test_the_digest_is_queued_once_a_week_and_only_for_who_wants_it(db: Database) -> None:
    await seed_week(db)
    options = DigestOptions("心内科")
    # zhang, W47 by hand: asked 16 Nov and 20 Nov → 2 (14 Nov and 23 Nov are other weeks);
    # first answers in the week: the 16 Nov one and the 14 Nov one (on 16 Nov) → 2; thanks 1
    expected = "【心内科】张明医生，上周您收到2个问题，回复2个，收到1次感谢。谢谢您！"
    assert render("weekly_digest", dept="心内科", name="张明", asked=2, answered=2, thanks=1) == (
        expected
    )
    quiet_week = render("weekly_digest", dept="心内科", name="王芳", asked=0, answered=0, thanks=0)
    assert await queue_digests(_relay(db), options, MONDAY_10) == 2
    # li opted out, zhao is an assistant, qian is inactive: wang (a quiet week) and zhang
    assert await digests(db) == [
        (WANG.phone, "notice", 3, quiet_week),
        (ZHANG.phone, "notice", 3, expected),
    ]
    assert await queue_digests(_relay(db), options, MONDAY_10 + timedelta(hours=3)) == 0
    assert await queue_digests(_relay(db), options, utc(2026, 11, 27, 5)) == 0  # Friday, same week
    assert len(await digests(db)) == 2
    next_monday = MONDAY_10 + timedelta(days=7)  # W48: only the 23 Nov question, answered
    assert await queue_digests(_relay(db), options, next_monday) == 2
    assert (await digests(db))[-1] == (
        ZHANG.phone,
        "notice",
        3,
        render("weekly_digest", dept="心内科", name="张明", asked=1, answered=1, thanks=0),
    )


async def test_the_digest_is_recorded_in_the_audit_log_without_a_number(db: Database) -> None:
    await queue_digests(_relay(db), DigestOptions("心内科"), MONDAY_10)
    rows = await db.fetchall("SELECT actor, action, subject, detail FROM audit_log")
    digest = [dict(r) for r in rows if r["action"] == "digest.queued"]
    assert digest == [
        {
            "actor": "digest",
            "action": "digest.queued",
            "subject": subject,
            "detail": json.dumps({"week": "2026-W47"}),
        }
        for subject in ("wang", "zhang")
    ]
    assert all("1380013800" not in str(value) for r in rows for value in tuple(r))


@pytest.mark.parametrize(
    "now",
    [utc(2026, 11, 23, 0, 59), utc(2026, 11, 23, 13), utc(2026, 11, 22, 20)],
    ids=["08:59 local", "21:00 local", "04:00 local"],
)
async def test_no_digest_outside_local_daytime(db: Database, now: datetime) -> None:
    assert await queue_digests(_relay(db), DigestOptions("心内科"), now) == 0
    assert await digests(db) == []


async def test_no_digest_for_a_week_that_ended_before_the_expert_joined(db: Database) -> None:
    # W47 ends Monday 23 Nov 00:00 in Beijing (22 Nov 16:00 UTC)
    sun = ExpertRow("sun", "孙立", "主治医师", "心血管内科", "+8613800138005", None)
    zhou = ExpertRow("zhou", "周雪", "主治医师", "心血管内科", "+8613800138006", None)
    await db.sync_experts([sun], at=utc(2026, 11, 22, 15, 59))  # the week's last minute
    await db.sync_experts([zhou], at=utc(2026, 11, 22, 16))  # the next week's first
    assert await queue_digests(_relay(db), DigestOptions("心内科"), MONDAY_10) == 3
    assert [recipient for recipient, *_ in await digests(db)] == [
        sun.phone,
        WANG.phone,
        ZHANG.phone,
    ]
    # the week after, zhou was there: a digest for W48 too
    assert (
        await queue_digests(_relay(db), DigestOptions("心内科"), MONDAY_10 + timedelta(days=7)) == 4
    )
    assert zhou.phone in [recipient for recipient, *_ in await digests(db)]


async def test_an_expert_who_joins_minutes_before_a_daytime_check_gets_nothing(
    db: Database,
) -> None:
    sun = ExpertRow("sun", "孙立", "主治医师", "心血管内科", "+8613800138005", None)
    await queue_digests(_relay(db), DigestOptions("心内科"), MONDAY_10)  # the others' W47 digests
    before = await digests(db)
    await db.sync_experts([sun], at=MONDAY_10 + timedelta(hours=1))
    assert (
        await queue_digests(
            _relay(db), DigestOptions("心内科"), MONDAY_10 + timedelta(hours=1, minutes=1)
        )
        == 0
    )
    assert await digests(db) == before


async def test_an_expert_who_opts_out_later_gets_no_more_digests(db: Database) -> None:
    assert await queue_digests(_relay(db), DigestOptions("心内科"), MONDAY_10) == 2
    await db.admin_edit_expert("zhang", "admin", digest=0)
    assert (
        await queue_digests(_relay(db), DigestOptions("心内科"), MONDAY_10 + timedelta(days=7)) == 1
    )
    assert [recipient for recipient, *_ in await digests(db)] == [
        WANG.phone,
        ZHANG.phone,
        WANG.phone,
    ]


async def digest_due(db: Database, phone: str) -> list[str]:
    rows = await db.fetchall(
        "SELECT next_attempt_at FROM outbox WHERE kind = 'notice' AND recipient = ? ORDER BY id",
        (phone,),
    )
    return [r["next_attempt_at"] for r in rows]


async def test_a_digest_due_in_the_experts_quiet_hours_waits_for_their_end(db: Database) -> None:
    await db.admin_edit_expert("zhang", "test", quiet_hours=json.dumps(["09:30-12:00"]))
    assert await queue_digests(_relay(db), DigestOptions("心内科"), MONDAY_10) == 2
    assert await digest_due(db, ZHANG.phone) == [iso(utc(2026, 11, 23, 4))]  # 12:00 in Beijing
    assert await digest_due(db, WANG.phone) == [iso(MONDAY_10)]


async def test_a_paused_experts_digest_waits_for_the_pause_like_a_question(db: Database) -> None:
    relay = _relay(db)
    async with db.transaction() as conn:
        for expert_id, hours in (("zhang", 5), ("wang", None)):  # 5 hours; until 恢复
            person = await experts_db.expert(conn, expert_id)
            assert person is not None
            await relay.experts.pause_expert(conn, person, hours, "test", MONDAY_10)
    assert await queue_digests(relay, DigestOptions("心内科"), MONDAY_10) == 2
    assert await digest_due(db, ZHANG.phone) == [iso(MONDAY_10 + timedelta(hours=5))]
    [held] = await digest_due(db, WANG.phone)
    assert held > iso(MONDAY_10 + timedelta(days=365))
    resumed_at = MONDAY_10 + timedelta(hours=1)
    async with db.transaction() as conn:
        person = await experts_db.expert(conn, "wang")
        assert person is not None
        await relay.experts.resume_expert(conn, person, "test", resumed_at)
    assert await digest_due(db, WANG.phone) == [iso(resumed_at)]  # 恢复 lets it go


async def test_the_same_digest_text_goes_to_a_number_once_a_day(db: Database) -> None:
    # Sunday 29 Nov 20:00 in Beijing: W47's digest; Monday 30 Nov 09:30: W48's, 13.5 hours
    # later, with the same figures (two quiet weeks): the duplicate guard keeps it back
    sunday, monday = utc(2026, 11, 29, 12), utc(2026, 11, 30, 1, 30)
    assert await queue_digests(_relay(db), DigestOptions("心内科"), sunday) == 2
    assert await queue_digests(_relay(db), DigestOptions("心内科"), monday) == 0
    assert [recipient for recipient, *_ in await digests(db)] == [WANG.phone, ZHANG.phone]
    assert (
        await queue_digests(_relay(db), DigestOptions("心内科"), monday + timedelta(hours=2)) == 0
    )
    assert len(await digests(db)) == 2
