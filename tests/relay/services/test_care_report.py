"""The 随访 figures on a database the relay itself filled, checked against a count by hand.

Seven patients go through two plans over October and November 2026 (Asia/Shanghai) on a real
database with a hand-moved clock: enrolled through :meth:`CarePlans.enrol`, their steps queued by
the planner, delivered as a modem and the network would report them (``storage.outbox``), their
replies arriving as SMS through inbound, red flags acknowledged on the dashboard, and the
hospital's events and a STOP ending some. What each column counts is
:mod:`smscat.relay.core.care_stats`' docstring; every expected number below says why.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from smscat.relay.services import care_report
from smscat.relay.services.care import EnrolRequest
from smscat.relay.services.care_record import CareConfig, PlanConfig
from smscat.relay.services.context import RelayOptions
from smscat.relay.services.reporting import FORMULA_START
from smscat.storage import outbox as outbox_db
from smscat.storage.db import ExpertRow, iso
from tests.support.cli import smscat
from tests.support.relay import World, world_on

ZONE = ZoneInfo("Asia/Shanghai")
NURSE = ExpertRow("wang", "王护士", "护士", "心内科", "+8613900000001", None, role="assistant")
LI = ExpertRow("li", "李医生", "主任医师", "心内科", "+8613900000003", None)
CHEN = ExpertRow("chen", "陈医生", "主治医师", "心内科", "+8613900000004", None)
PATIENTS = {n: f"+86138123400{n:02d}" for n in range(1, 9)}
NICKNAME = "张先生"
HEADER = [
    "随访计划", "科室", "医生", "入组数", "短信送达数", "有回复数", "预警数",
    "预警确认用时中位数（分钟）", "已完成数", "退出数", "提前结束数（再入院、死亡等）",
]  # fmt: skip


def local(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def plan(name: str, title: str, days: tuple[int, ...]) -> PlanConfig:
    steps = [
        {"key": f"d{d}", "day": d, "text": "【{dept}】{nickname}您好，恢复得怎样？",
         "menu": {"1": "好转", "2": "没变化", "3": "加重"}, "warn": ["3"]}
        for d in days
    ]  # fmt: skip
    return PlanConfig.model_validate(
        {"name": name, "title": title, "steps": steps, "keywords": ["胸痛"], "rota": ["wang"]}
    )


DISCHARGE = plan("discharge", "出院随访", (1, 7))  # config.yaml's default plan has this title
SURGERY = plan("surgery", "手术随访", (1,))


class CareWorld(World):
    async def run_until(self, end: datetime) -> None:
        """Move the clock to ``end``, stopping whenever the planner has something due."""
        while self.clock.now < end:
            due = await self.relay.care.next_look()
            at = end if due is None else max(due, self.clock.now + timedelta(seconds=1))
            self.clock.now = min(end, at)
            await self.relay.care.tick()
            await self.relay.care_replies.move_overdue()

    async def enrol(
        self,
        n: int,
        plan: str,
        doctor: str | None,
        dept: str | None = None,
        anchor: date | None = None,
    ) -> int:
        anchor = anchor or self.clock.now.astimezone(ZONE).date()  # (discharged today)
        request = EnrolRequest(
            phone=PATIENTS[n], nickname=NICKNAME, anchor=anchor, plan=plan, consent="verbal",
            doctor_id=doctor, department=dept,
        )  # fmt: skip
        return (await self.relay.care.enrol(request, "admin", "admin")).enrolment.id

    async def deliver(self, n: int) -> None:
        """Every plan SMS queued for patient ``n`` is sent and reported delivered, now."""
        rows = await self.db.fetchall(
            "SELECT id FROM outbox WHERE kind = 'care' AND status = 'queued' AND recipient = ?",
            (PATIENTS[n],),
        )
        now = iso(self.clock.now)
        async with self.db.transaction() as conn:
            for row in rows:
                await outbox_db.record_part(conn, row["id"], 1, 1, "m1", row["id"] % 256, now)
                await outbox_db.mark_sent(conn, row["id"], "m1", now)
                assert await outbox_db.mark_part_delivered(conn, row["id"], 1, 0, now)

    async def acknowledge(self, n: int, at: datetime) -> None:
        """Patient ``n``'s newest red flag is acknowledged on the dashboard at ``at``."""
        (row,) = await self.db.fetchall(
            "SELECT x.id FROM care_escalations x JOIN care_enrolments c ON c.id = x.enrolment_id"
            " JOIN phones p ON p.id = c.phone_id WHERE p.e164 = ? ORDER BY x.id DESC LIMIT 1",
            (PATIENTS[n],),
        )
        self.clock.now = at
        assert await self.relay.care_replies.acknowledge_on_page(row["id"], "admin")


async def seed(w: CareWorld) -> None:
    """October: patients 1–3; November (Shanghai time): patients 4–7."""
    await w.relay.care.save_plan(SURGERY.model_copy(update={"title": "术后随访"}), "admin")
    october = date(2026, 10, 21)
    w.clock.now = local(date(2026, 10, 20), 10)  # a Tuesday
    await w.enrol(1, "discharge", "li")
    await w.enrol(2, "surgery", "chen")
    await w.run_until(local(october, 10))  # both day-1 SMS went at 09:00
    await w.deliver(1)
    await w.deliver(2)
    await w.sms(PATIENTS[1], "1")
    await w.sms(PATIENTS[2], "3")  # a warning answer: a red flag
    await w.acknowledge(2, local(october, 10, 20))  # 20 minutes
    await w.run_until(local(date(2026, 10, 27), 10))  # patient 1's day 7 went at 09:00
    await w.deliver(1)
    await w.sms(PATIENTS[1], "2")
    await w.run_until(local(date(2026, 10, 31), 23, 30))
    await w.enrol(3, "discharge", "li")  # 15:30 UTC on 31 October: October
    await w.run_until(local(date(2026, 11, 1), 0, 30))
    # 16:30 UTC on 31 October, but November in Shanghai; discharged the evening before
    await w.enrol(4, "discharge", "li", anchor=date(2026, 10, 31))
    await w.run_until(local(date(2026, 11, 1), 10))  # both day-1 SMS went at 09:00
    await w.deliver(4)  # (patient 3's is still waiting for a modem)
    await w.relay.care.event(PATIENTS[3], "opted_out", "his")
    await w.sms(PATIENTS[4], "昨晚有点胸痛")  # a red-flag word: a red flag
    await w.acknowledge(4, local(date(2026, 11, 1), 10, 30))  # 30 minutes
    await w.run_until(local(date(2026, 11, 7), 10))  # patient 4's day 7 went at 09:00
    await w.deliver(4)
    await w.sms(PATIENTS[4], "3")
    await w.acknowledge(4, local(date(2026, 11, 7), 11, 30))  # 90 minutes
    await w.relay.care.event(PATIENTS[4], "readmitted", "his")
    await w.run_until(local(date(2026, 11, 10), 10))
    await w.enrol(5, "surgery", None, "心外科")
    await w.run_until(local(date(2026, 11, 11), 10))
    await w.deliver(5)  # and no answer, to it or to its reminder: listed for a call, complete
    await w.run_until(local(date(2026, 11, 12), 10))
    await w.enrol(6, "surgery", "chen")
    await w.enrol(7, "surgery", "chen")
    await w.run_until(local(date(2026, 11, 13), 10))
    await w.deliver(7)  # (patient 6's is still waiting)
    await w.sms(PATIENTS[6], "TD")  # STOP
    await w.sms(PATIENTS[7], "3")
    await w.acknowledge(7, local(date(2026, 11, 13), 10, 45))  # 45 minutes
    await w.run_until(local(date(2026, 11, 20), 10))


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[CareWorld]:
    care = CareConfig(plans=[DISCHARGE, SURGERY]).options(ZONE)
    options = RelayOptions(department="心内科", zone=ZONE, care=care)
    async with world_on(tmp_path, [NURSE, LI, CHEN], options, kind=CareWorld) as w:
        yield w


# Rows: plan title (the admin's saved 术后随访 wins over config's 手术随访), department, doctor,
# then enrolled, reached, replied, red flags, median minutes to acknowledge, completed, opted
# out, ended early.
OCTOBER = [
    HEADER,
    # patients 1 (delivered, answered both steps: completed) and 3 (enrolled at 23:30 on
    # 31 October; its SMS never delivered, no reply; the hospital said opted out)
    ["出院随访", "心内科", "李医生", "2", "1", "1", "0", "", "1", "1", "0"],
    # patient 2: delivered, answered 3 (one red flag, acknowledged after 20 minutes): completed
    ["术后随访", "心内科", "陈医生", "1", "1", "1", "1", "20.0", "1", "0", "0"],
    ["合计", "", "", "3", "2", "2", "1", "20.0", "2", "1", "0"],
]
NOVEMBER = [
    HEADER,
    # patient 4 (enrolled at 00:30 on 1 November in Shanghai): delivered, two red flags (a word,
    # then a 3) acknowledged after 30 and 90 minutes (median 60), then readmitted: ended early
    ["出院随访", "心内科", "李医生", "1", "1", "1", "2", "60.0", "0", "0", "1"],
    # patients 6 (never delivered, sent STOP: opted out) and 7 (delivered, answered 3, its red
    # flag acknowledged after 45 minutes: completed)
    ["术后随访", "心内科", "陈医生", "2", "1", "1", "1", "45.0", "1", "1", "0"],
    # patient 5, no doctor, another department: delivered, never answered, listed for a call
    ["术后随访", "心外科", "—", "1", "1", "0", "0", "", "1", "0", "0"],
    # the median pools 30, 45 and 90 minutes: 45, not the median of the rows' medians (52.5)
    ["合计", "", "", "4", "3", "2", "3", "45.0", "2", "1", "1"],
]


async def test_the_figures_equal_a_count_by_hand(world: CareWorld) -> None:
    await seed(world)
    for month, expected in (("2026-10", OCTOBER), ("2026-11", NOVEMBER)):
        report = await care_report.relay_month_report(world.relay, month)
        assert care_report.csv_rows(report) == expected, month
    empty = await care_report.relay_month_report(world.relay, "2026-12")
    assert care_report.csv_rows(empty) == [
        HEADER,
        ["合计", "", "", "0", "0", "0", "0", "", "0", "0", "0"],
    ]


async def test_the_statuses_the_seed_meant_are_the_ones_stored(world: CareWorld) -> None:
    """The hand count above rests on these: each patient ended the way its comment says."""
    await seed(world)
    rows = await world.db.fetchall(
        "SELECT p.e164, c.status, c.ended_reason FROM care_enrolments c"
        " JOIN phones p ON p.id = c.phone_id ORDER BY c.id"
    )
    assert [(r[1], r[2]) for r in rows] == [
        ("completed", None),
        ("completed", None),
        ("cancelled", "opted_out"),
        ("cancelled", "readmitted"),
        ("completed", None),
        ("cancelled", "stop"),
        ("completed", None),
    ]
    assert [r[0] for r in rows] == [PATIENTS[n] for n in range(1, 8)]


def cells(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


async def test_the_csv_opens_in_excel_escaped_and_parses_back_to_the_rows(
    world: CareWorld,
) -> None:
    await seed(world)
    async with world.db.transaction() as conn:  # an admin typed these
        await conn.execute("UPDATE experts SET name = '=HYPERLINK(\"x\")' WHERE id = 'chen'")
    await world.relay.care.save_plan(DISCHARGE.model_copy(update={"title": "@出院"}), "admin")
    report = await care_report.relay_month_report(world.relay, "2026-11")
    data = care_report.csv_bytes(report)
    assert data.count(b"\r\n") == len(NOVEMBER)
    assert data.endswith(b"\r\n")
    rows = cells(data)
    assert rows[1][:3] == ["'@出院", "心内科", "李医生"]
    assert rows[2][:3] == ["术后随访", "心内科", '\'=HYPERLINK("x")']
    escaped = [[("'" + c if c.startswith(FORMULA_START) else c) for c in row] for row in
               care_report.csv_rows(report)]  # fmt: skip
    assert rows == escaped
    assert [r[3:] for r in rows] == [r[3:] for r in NOVEMBER]
    for number in PATIENTS.values():  # nobody's number, nor nickname, anywhere in it
        assert number[3:].encode() not in data
    assert NICKNAME.encode() not in data


async def test_the_columns_in_english(world: CareWorld) -> None:
    report = await care_report.relay_month_report(world.relay, "2026-11")
    header, total = care_report.csv_rows(report, "en")
    assert header[:4] == ["Follow-up plan", "Department", "Doctor", "Enrolled"]
    assert total[0] == "Total"


async def test_smscat_report_writes_the_care_file_next_to_the_thread_report(
    world: CareWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(world)
    config = tmp_path / "config.yaml"  # the default care plan is config.yaml's 出院随访
    config.write_text("department: {name: 心内科}\nstorage: {path: smscat.db}\n", encoding="utf-8")
    out = tmp_path / "nov.csv"
    argv = ("report", "--month", "2026-11", "-c", str(config), "--out", str(out))
    assert await asyncio.to_thread(smscat, *argv) == 0  # (it runs its own event loop)
    care_file = tmp_path / "nov-care.csv"
    assert cells(care_file.read_bytes()) == NOVEMBER
    said = capsys.readouterr().out
    assert "nov.csv" in said
    assert "nov-care.csv" in said
