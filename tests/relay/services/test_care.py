"""随访 through the relay on a real database with a hand-moved clock: enrolment, the planner,
replies, red flags and their acknowledgement, events, and whom a plan may never text."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from smscat.relay.core.errors import Invalid
from smscat.relay.services import retention
from smscat.relay.services.care import EnrolRequest
from smscat.relay.services.care_record import CareConfig, PlanConfig
from smscat.relay.services.context import RelayOptions
from smscat.storage.db import ExpertRow
from tests.support.relay import World, world_on

ZONE = ZoneInfo("Asia/Shanghai")
NURSE = ExpertRow("wang", "王护士", "护士", "心内科", "+8613900000001", None, role="assistant")
NURSE2 = ExpertRow("zhao", "赵护士", "护士", "心内科", "+8613900000002", None, role="assistant")
DOCTOR = ExpertRow("li", "李医生", "主任医师", "心内科", "+8613900000003", None)
PATIENT = "+8613812345678"
# Monday 2026-11-23, 10:00 in Shanghai; discharged the same day
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
DISCHARGED = date(2026, 11, 23)


def local(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def plan_config(**extra: object) -> PlanConfig:
    menu = {"1": "好转", "2": "没变化", "3": "加重"}
    steps = [
        {
            "key": f"d{d}",
            "day": d,
            "text": "【{dept}】{nickname}您好，{date}出院后恢复得怎样？",
            "menu": menu,
            "warn": ["3"],
        }
        for d in (1, 7, 30)
    ]
    body: dict[str, object] = {
        "name": "discharge", "title": "出院随访", "steps": steps,
        "keywords": ["胸痛", "出血"], "rota": ["wang", "zhao"],
    }  # fmt: skip
    return PlanConfig.model_validate(body | extra)


class CareWorld(World):
    async def sms_to(self, number: str) -> list[str]:
        rows = await self.db.fetchall(
            "SELECT text FROM outbox WHERE recipient = ? AND status != 'cancelled' ORDER BY id",
            (number,),
        )
        return [r["text"] for r in rows]

    async def care_sms(self) -> list[datetime]:
        rows = await self.db.fetchall(
            "SELECT next_attempt_at FROM outbox WHERE kind = 'care' AND status != 'cancelled'"
            " ORDER BY id"
        )
        return [datetime.fromisoformat(r[0]) for r in rows]

    async def run_until(self, end: datetime, step: timedelta = timedelta(minutes=30)) -> None:
        """Move the clock to ``end`` by ``step``, letting the planner and escalations look."""
        while self.clock.now < end:
            self.clock.now = min(end, self.clock.now + step)
            await self.relay.care.tick()
            await self.relay.care_replies.move_overdue()

    async def enrol(self, phone: str = PATIENT, **kw: object) -> int:
        request = EnrolRequest(
            **({"phone": phone, "nickname": "张先生", "anchor": DISCHARGED, "plan": "discharge",
                "consent": "verbal", "doctor_id": "li"} | kw)  # type: ignore[arg-type]
        )  # fmt: skip
        done = await self.relay.care.enrol(request, "admin", "admin")
        return done.enrolment.id


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[CareWorld]:
    care = CareConfig(plans=[plan_config()]).options(ZONE)
    options = RelayOptions(department="心内科", zone=ZONE, care=care)
    async with world_on(tmp_path, [NURSE, NURSE2, DOCTOR], options, now=START, kind=CareWorld) as w:
        yield w


async def test_steps_go_on_their_days_inside_the_window_and_the_gap(world: CareWorld) -> None:
    await world.enrol()
    await world.run_until(START + timedelta(days=36))
    sent = await world.care_sms()
    # day 1, its reminder (no answer), day 7, its reminder, day 30 and its reminder
    assert len(sent) == 6
    for at in sent:
        assert 9 <= at.astimezone(ZONE).hour < 20
    assert all(b - a >= timedelta(hours=20) for a, b in itertools.pairwise(sent))
    assert sent[0] == local(date(2026, 11, 24), 9)
    assert sent[2] == local(date(2026, 11, 30), 9)
    texts = await world.sms_to(PATIENT)
    assert texts[0].startswith(
        "【心内科】张先生您好，11月23日出院后恢复得怎样？\n回复1 好转，2 没变化，3 加重"
    )
    assert "温馨提醒" in texts[1]
    calls = await world.db.fetchall("SELECT step FROM care_calls ORDER BY id")
    assert [r[0] for r in calls] == ["d1", "d7", "d30"]
    (status,) = await world.db.fetchall("SELECT status FROM care_enrolments")
    assert status[0] == "completed"


async def test_replies_are_recorded_and_a_3_escalates_to_the_nurse(world: CareWorld) -> None:
    await world.enrol()
    await world.run_until(local(date(2026, 11, 24), 10))
    await world.sms(PATIENT, "１。")
    replies = await world.db.fetchall("SELECT step, choice, red_flag FROM care_replies")
    assert [tuple(r) for r in replies] == [("d1", "1", 0)]
    await world.run_until(local(date(2026, 11, 30), 10))
    await world.sms(PATIENT, "3")
    (esc,) = await world.db.fetchall("SELECT * FROM care_escalations")
    assert esc["person_id"] == "wang"
    assert esc["acked_at"] is None
    (to_nurse,) = await world.sms_to(NURSE.phone)
    assert f"#{esc['code']}" in to_nurse
    assert "张先生" in to_nurse
    assert PATIENT not in to_nurse
    assert PATIENT[3:] not in to_nurse
    assert "120" in (await world.sms_to(PATIENT))[-1]
    await world.sms(NURSE.phone, f"#{esc['code']} 收到")
    (acked,) = await world.db.fetchall("SELECT acked_by FROM care_escalations")
    assert acked[0] == "wang"
    assert "已确认" in (await world.sms_to(NURSE.phone))[-1]
    (outcome,) = await world.db.fetchall(
        "SELECT outcome FROM inbound WHERE sender = ? ORDER BY id DESC LIMIT 1", (NURSE.phone,)
    )
    assert outcome[0] == "care_ack"


async def test_a_red_flag_word_in_free_text_escalates(world: CareWorld) -> None:
    await world.enrol()
    await world.run_until(local(date(2026, 11, 24), 10))
    await world.sms(PATIENT, "昨晚有点胸痛，还要吃药吗")
    (reply,) = await world.db.fetchall("SELECT choice, red_flag, keywords FROM care_replies")
    assert reply["choice"] is None
    assert reply["red_flag"] == 1
    assert "胸痛" in reply["keywords"]
    assert len(await world.db.fetchall("SELECT id FROM care_escalations")) == 1


async def test_an_unacknowledged_escalation_moves_to_the_next_on_the_rota(
    world: CareWorld,
) -> None:
    await world.enrol()
    await world.run_until(local(date(2026, 11, 24), 10))
    await world.sms(PATIENT, "3")
    (first,) = await world.db.fetchall("SELECT deadline_at FROM care_escalations")
    # 2 working hours from Tuesday 10:00
    assert datetime.fromisoformat(first[0]) == local(date(2026, 11, 24), 12)
    await world.run_until(local(date(2026, 11, 24), 12, 30))
    (moved,) = await world.db.fetchall("SELECT person_id, code FROM care_escalations")
    assert moved["person_id"] == "zhao"
    assert f"#{moved['code']}" in (await world.sms_to(NURSE2.phone))[-1]
    await world.run_until(local(date(2026, 11, 24), 15))
    (last,) = await world.db.fetchall("SELECT person_id, acked_at FROM care_escalations")
    assert last["person_id"] is None
    assert last["acked_at"] is None


async def test_readmitted_cancels_the_remaining_steps(world: CareWorld) -> None:
    await world.enrol()
    await world.run_until(local(date(2026, 11, 24), 9))
    queued = await world.db.fetchall("SELECT status FROM outbox WHERE kind = 'care'")
    assert [r[0] for r in queued] == ["queued"]  # day 1, not sent yet (no modem here)
    await world.relay.care.event(PATIENT, "readmitted", "his")
    assert [r[0] for r in await world.db.fetchall("SELECT status FROM outbox")] == ["cancelled"]
    await world.run_until(START + timedelta(days=31), step=timedelta(hours=6))
    assert await world.care_sms() == []
    (row,) = await world.db.fetchall("SELECT status, ended_reason FROM care_enrolments")
    assert tuple(row) == ("cancelled", "readmitted")


async def test_enrolling_twice_is_one_enrolment_and_consent_is_audited(world: CareWorld) -> None:
    first = await world.enrol()
    assert await world.enrol(phone="138 1234 5678") == first
    actions = await world.db.fetchall("SELECT action FROM audit_log WHERE action LIKE 'care.%'")
    assert sorted(r[0] for r in actions) == ["care.consent", "care.enrol"]


async def test_a_stopped_number_is_never_enrolled(world: CareWorld) -> None:
    await world.enrol()
    await world.run_until(local(date(2026, 11, 24), 10))
    await world.sms(PATIENT, "TD")
    (row,) = await world.db.fetchall("SELECT status, ended_reason FROM care_enrolments")
    assert tuple(row) == ("cancelled", "stop")
    with pytest.raises(Invalid) as refused:
        await world.enrol(anchor=date(2026, 12, 1))
    assert refused.value.key == "phone_stopped"


async def test_no_consent_no_enrolment_and_no_care_sms(world: CareWorld) -> None:
    with pytest.raises(Invalid) as refused:
        await world.enrol(consent="")
    assert refused.value.key == "consent_missing"
    async with world.db.transaction() as conn:
        queued = await world.relay.sending.enqueue(
            conn, "care", "+8613812340000", "【心内科】随访", None, world.clock.now
        )
    assert queued is None  # no running enrolment: no recorded consent
    (refusal,) = await world.db.fetchall(
        "SELECT detail FROM audit_log WHERE action = 'sms.refused'"
    )
    assert "no_consent" in refusal[0]


async def test_a_patient_enrolled_late_gets_no_past_step(world: CareWorld) -> None:
    await world.enrol(anchor=DISCHARGED - timedelta(days=3))  # day 1 was two days ago
    await world.run_until(START + timedelta(days=3))
    assert await world.sms_to(PATIENT) == []  # day 7 is 2026-11-27, 09:00
    await world.run_until(local(date(2026, 11, 27), 10))
    assert len(await world.sms_to(PATIENT)) == 1


async def test_two_open_escalations_need_the_code(world: CareWorld) -> None:
    other = "+8613812340001"
    await world.enrol()
    await world.enrol(phone=other, nickname="李女士")
    await world.run_until(local(date(2026, 11, 24), 10))
    await world.sms(PATIENT, "3")
    await world.sms(other, "3")
    codes = [r[0] for r in await world.db.fetchall("SELECT code FROM care_escalations")]
    assert len(set(codes)) == 2
    await world.sms(NURSE.phone, "收到")
    listing = (await world.sms_to(NURSE.phone))[-1]
    assert all(f"#{c} 随访预警" in listing for c in codes)
    assert [r[0] for r in await world.db.fetchall("SELECT acked_at FROM care_escalations")] == [
        None,
        None,
    ]
    await world.sms(NURSE.phone, f"#{codes[1]}")
    acked = await world.db.fetchall("SELECT code FROM care_escalations WHERE acked_at IS NOT NULL")
    assert [r[0] for r in acked] == [codes[1]]


async def test_a_dry_run_says_what_enrolment_would_do_and_keeps_nothing(world: CareWorld) -> None:
    await world.enrol()
    rows = [
        EnrolRequest(phone=PATIENT, nickname="张先生", anchor=DISCHARGED, plan="discharge",
                     consent="verbal"),
        EnrolRequest(phone="+8613812340002", nickname="王女士", anchor=DISCHARGED,
                     plan="discharge", consent="written", doctor_id="nobody"),
        EnrolRequest(phone="+8613812340003", nickname="刘先生", anchor=DISCHARGED,
                     plan="discharge", consent="written"),
    ]  # fmt: skip
    before = await world.db.fetchall("SELECT COUNT(*) FROM care_enrolments")
    audits = await world.db.fetchall("SELECT COUNT(*) FROM audit_log")
    results = await world.relay.care.dry_run(rows, "admin", "csv")
    assert [getattr(r, "created", getattr(r, "key", None)) for r in results] == [
        False,
        "doctor_unknown",
        True,
    ]
    assert await world.db.fetchall("SELECT COUNT(*) FROM care_enrolments") == before
    assert await world.db.fetchall("SELECT COUNT(*) FROM audit_log") == audits


async def test_a_discharge_list_previews_line_by_line_then_enrols_the_good_rows(
    world: CareWorld,
) -> None:
    await world.enrol()
    data = (
        "手机号,称呼,出院日期,知情同意,医生\r\n"
        "13812345678,张先生,2026-11-23,是,\r\n"  # enrolled already
        "一三九一二三四五六七八,李女士,2026/11/23,书面,li\r\n"
        "12345,王先生,2026-11-23,是,\r\n"  # no mobile
        "13912340000,赵女士,2026-11-23,否,\r\n"  # no consent
        "13912340001,钱先生,2026-11-23,是,nobody\r\n"  # the relay refuses the doctor
    ).encode("gbk")
    preview = await world.relay.care.preview_csv(data, "admin", "discharge")
    assert [(ln.line, ln.outcome, ln.errors) for ln in preview.lines] == [
        (2, "already", ()),
        (3, "new", ()),
        (4, "refused", ("csv_phone_invalid",)),
        (5, "refused", ("csv_consent_missing",)),
        (6, "refused", ("doctor_unknown",)),
    ]
    assert (await world.db.fetchall("SELECT COUNT(*) FROM care_enrolments"))[0][0] == 1
    done = await world.relay.care.enrol_csv(data, "admin", "discharge")
    assert [getattr(r, "created", getattr(r, "key", None)) for r in done.results] == [
        False,
        True,
        "doctor_unknown",
    ]
    rows = await world.db.fetchall("SELECT source, consent_how FROM care_enrolments ORDER BY id")
    assert [tuple(r) for r in rows] == [("admin", "verbal"), ("csv", "written")]
    (audit,) = await world.db.fetchall("SELECT detail FROM audit_log WHERE action = 'care.upload'")
    assert json.loads(audit[0]) == {"enrolled": 1, "already": 1, "refused": 1, "unreadable": 2}


async def test_one_broken_enrolment_does_not_hold_up_the_others(
    world: CareWorld, caplog: pytest.LogCaptureFixture
) -> None:
    broken = await world.enrol()
    await world.enrol(phone="+8613812340001", nickname="李女士")
    async with world.db.transaction() as conn:  # a row gone bad: a time nobody can read
        await conn.execute(
            "INSERT INTO care_sends (enrolment_id, step, kind, at) VALUES (?, 'd0', 'step', 'x')",
            (broken,),
        )
    world.clock.now = local(date(2026, 11, 24), 9)
    with caplog.at_level("ERROR"):
        assert await world.relay.care.tick() == 2
    assert len(await world.sms_to("+8613812340001")) == 1
    assert await world.sms_to(PATIENT) == []
    (row,) = await world.db.fetchall("SELECT next_at FROM care_enrolments WHERE id = ?", (broken,))
    assert datetime.fromisoformat(row[0]) == world.clock.now + timedelta(hours=1)
    assert f"care enrolment {broken} cannot be planned" in caplog.text


async def test_erasing_a_number_blanks_its_enrolments_and_ends_them(world: CareWorld) -> None:
    await world.enrol()
    await world.run_until(local(date(2026, 11, 24), 10))
    await world.sms(PATIENT, "有点出血")
    await retention.erase_phone(world.db, PATIENT, "admin", world.clock.now)
    (row,) = await world.db.fetchall("SELECT nickname, status, ended_reason FROM care_enrolments")
    assert tuple(row) == ("", "cancelled", "erased")
    assert [r[0] for r in await world.db.fetchall("SELECT text FROM care_replies")] == [""]
    await world.run_until(START + timedelta(days=10), step=timedelta(hours=6))
    sent = await world.db.fetchall("SELECT COUNT(*) FROM outbox WHERE kind = 'care'")
    assert sent[0][0] == 2  # day 1 and the reply's answer, before the erasure


async def test_a_running_enrolment_keeps_its_number_from_the_retention_purge(
    world: CareWorld,
) -> None:
    await world.enrol()
    await world.relay.care.event(PATIENT, "returned", "his")  # paused: still running
    later = START + timedelta(days=90)
    await retention.purge(world.db, phone_days=30, thread_days=None, now=later)
    assert await world.db.fetchall("SELECT id FROM phones WHERE erased_at IS NOT NULL") == []
    world.clock.now = later
    await world.relay.care.event(PATIENT, "readmitted", "his")  # ended on day 90
    await retention.purge(world.db, phone_days=30, thread_days=None, now=later + timedelta(days=29))
    assert await world.db.fetchall("SELECT id FROM phones WHERE erased_at IS NOT NULL") == []
    await retention.purge(world.db, phone_days=30, thread_days=None, now=later + timedelta(days=31))
    assert len(await world.db.fetchall("SELECT id FROM phones WHERE erased_at IS NOT NULL")) == 1
