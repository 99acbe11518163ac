"""The 随访 statistics' reads: which enrolments a month holds and what each fact of one means.

Rows are written through the storage functions the relay uses (``storage.care``,
``storage.outbox``), with known UTC times, on a real database file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from smscat.relay.core.care_stats import EnrolmentFacts
from smscat.storage import care as care_db
from smscat.storage import care_stats
from smscat.storage import outbox as outbox_db
from smscat.storage import phones as phones_db
from smscat.storage.db import Database, ExpertRow, iso
from smscat.storage.sql import Conn

LI = ExpertRow("li", "李医生", "主任医师", "心内科", "+8613900000003", None)
# November 2026 in Shanghai, in UTC
START = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
END = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(tmp_path / "smscat.db") as db:
        await db.sync_experts([LI], at=datetime(2026, 10, 1, tzinfo=UTC))
        yield db


async def enrol(conn: Conn, n: int, created: datetime, doctor: str | None = "li") -> int:
    at = iso(created)
    phone = await phones_db.ensure_phone(conn, f"+86138123400{n:02d}", at)
    new = care_db.NewEnrolment(
        plan="discharge", phone_id=phone.id, nickname="张先生", anchor=date(2026, 11, 1),
        doctor_id=doctor, department="心内科", consent_by="admin", consent_at=at,
        consent_how="verbal", source="admin", now=at, created_by="admin",
    )  # fmt: skip
    enrolment, made = await care_db.enrol(conn, new)
    assert made
    return enrolment.id


async def send(conn: Conn, enrolment_id: int, step: str, status: str, at: datetime) -> int:
    """A plan SMS of the enrolment, moved on to ``status`` (queued, sent or delivered)."""
    phone = await care_db.phone_of(conn, enrolment_id)
    sms = outbox_db.NewSms("care", 3, phone, "【心内科】随访", None)
    outbox_id = await outbox_db.enqueue(conn, sms, iso(at))
    await care_db.add_send(conn, enrolment_id, step, "step", outbox_id, iso(at))
    if status in ("sent", "delivered"):
        await outbox_db.record_part(conn, outbox_id, 1, 1, "m1", outbox_id % 256, iso(at))
        await outbox_db.mark_sent(conn, outbox_id, "m1", iso(at))
    if status == "delivered":
        assert await outbox_db.mark_part_delivered(conn, outbox_id, 1, 0, iso(at))
    return outbox_id


async def reply(conn: Conn, enrolment_id: int, red: bool, at: datetime) -> int:
    return await care_db.add_reply(conn, enrolment_id, "d1", None, "3", "3", red, [], iso(at))


async def test_a_month_holds_the_enrolments_created_in_it_local_time(db: Database) -> None:
    async with db.transaction() as conn:  # those outside the month have no doctor
        await enrol(conn, 1, START - timedelta(milliseconds=1), None)  # 23:59:59.999, 31 October
        await enrol(conn, 2, START)  # 00:00 on 1 November in Shanghai
        await enrol(conn, 3, END - timedelta(milliseconds=1))
        await enrol(conn, 4, END, None)  # 1 December
    facts = await care_stats.enrolment_facts(db, START, END)
    assert [f.doctor_id for f in facts] == ["li", "li"]


async def test_the_facts_of_one_enrolment(db: Database) -> None:
    at = START + timedelta(days=2)
    async with db.transaction() as conn:
        quiet = await enrol(conn, 1, at, doctor=None)
        await send(conn, quiet, "d1", "sent", at)  # a modem took it; no report: not reached
        busy = await enrol(conn, 2, at)
        await send(conn, busy, "d1", "queued", at)
        await send(conn, busy, "d7", "delivered", at + timedelta(days=6))
        await reply(conn, busy, False, at)
        raised = at + timedelta(days=6)
        for minutes in (30, None, 90):  # acknowledged after 30, never, after 90 minutes
            reply_id = await reply(conn, busy, True, raised)
            later = iso(raised + timedelta(hours=2))
            x = await care_db.add_escalation(conn, busy, reply_id, "li", 5, 0, iso(raised), later)
            if minutes is not None:
                assert await care_db.ack_escalation(
                    conn, x, "li", iso(raised + timedelta(minutes=minutes))
                )
        assert await care_db.set_status(conn, busy, "cancelled", "readmitted", iso(raised))
    quiet_facts, busy_facts = await care_stats.enrolment_facts(db, START, END)
    assert quiet_facts == EnrolmentFacts(
        plan="discharge", department="心内科", doctor_id=None, doctor=None, status="active",
        ended_reason=None, reached=False, replied=False, red_flags=0, ack_delays=(),
    )  # fmt: skip
    assert busy_facts == EnrolmentFacts(
        plan="discharge", department="心内科", doctor_id="li", doctor="李医生",
        status="cancelled", ended_reason="readmitted", reached=True, replied=True, red_flags=3,
        ack_delays=(timedelta(minutes=30), timedelta(minutes=90)),
    )  # fmt: skip


async def test_another_enrolments_delivered_sms_does_not_reach_this_one(db: Database) -> None:
    at = START + timedelta(days=2)
    async with db.transaction() as conn:
        old = await enrol(conn, 1, START - timedelta(days=40))  # October's
        await send(conn, old, "d1", "delivered", at)
        await reply(conn, old, True, at)
        await enrol(conn, 2, at)
        # a plan SMS that is no step (the red-flag advice to the patient): in no care_sends row
        sms = outbox_db.NewSms("care", 3, "+8613812340002", "【心内科】请就医", None)
        outbox_id = await outbox_db.enqueue(conn, sms, iso(at))
        await outbox_db.record_part(conn, outbox_id, 1, 1, "m1", 9, iso(at))
        await outbox_db.mark_sent(conn, outbox_id, "m1", iso(at))
        assert await outbox_db.mark_part_delivered(conn, outbox_id, 1, 0, iso(at))
    (facts,) = await care_stats.enrolment_facts(db, START, END)
    assert (facts.reached, facts.replied, facts.red_flags) == (False, False, 0)
