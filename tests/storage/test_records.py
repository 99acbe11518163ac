"""Storage reads the traffic tables into the core's records: every column (a new migration's
column cannot be dropped on the way), each as its type, on a real SQLite file."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smscat.relay.core.outbox_states import OutboxStatus
from smscat.relay.core.records import (
    Alert,
    InboundPart,
    InboundSms,
    Message,
    OutboxPart,
    OutboxSms,
)
from smscat.relay.core.types import Expert, Phone, Thread, Verification
from smscat.storage import alerts as alerts_db
from smscat.storage import inbound as inbound_db
from smscat.storage import monitoring
from smscat.storage import outbox as outbox_db
from smscat.storage import threads as threads_db
from smscat.storage.db import Database
from tests.support.storage import LATER, NOW, with_a_thread

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
PATIENT = "+8613900139001"

# table -> its record or fact, the columns it leaves out on purpose and the fields a read joins in
RECORDS: dict[str, tuple[type, set[str], set[str]]] = {
    "outbox": (OutboxSms, set(), set()),
    "outbox_parts": (OutboxPart, set(), set()),
    "inbound": (InboundSms, set(), set()),
    "inbound_parts": (InboundPart, {"dedup_key"}, set()),  # the modem and the PDU: a lookup key
    "messages": (Message, set(), set()),
    "alerts": (Alert, set(), set()),
    "experts": (Expert, set(), set()),
    "phones": (Phone, set(), {"staff"}),  # whether the number is an expert's too
    "threads": (Thread, set(), set()),
    "verifications": (Verification, set(), {"e164"}),  # the phone's number, for the check
}


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with with_a_thread(tmp_path) as opened:
        yield opened


@pytest.mark.parametrize("table", sorted(RECORDS))
async def test_every_column_is_a_field_of_its_record(db: Database, table: str) -> None:
    record, left_out, joined = RECORDS[table]
    columns = {str(r["name"]) for r in await db.fetchall(f"PRAGMA table_info({table})")}
    fields = {f.name for f in dataclasses.fields(record)}
    assert fields == (columns - left_out) | joined


async def test_an_outbox_sms_and_its_part_read_back_typed(db: Database) -> None:
    async with db.transaction() as conn:
        outbox_id = await outbox_db.enqueue(
            conn, outbox_db.NewSms("to_expert", 2, PATIENT, "问题", 1, ref=9), NOW
        )
        assert await outbox_db.outbox_row(conn, outbox_id) == OutboxSms(
            id=outbox_id, kind="to_expert", priority=2, recipient=PATIENT, text="问题",
            thread_id=1, ref=9, status=OutboxStatus.QUEUED, attempts=0, next_attempt_at=AT,
            created_at=AT,
        )  # fmt: skip
        await outbox_db.record_part(conn, outbox_id, 1, 1, "m1", 7, NOW)
        await outbox_db.mark_sent(conn, outbox_id, "m1", LATER)
        part = await outbox_db.match_report(conn, "m1", 7, PATIENT, NOW)
        assert part == OutboxPart(outbox_id=outbox_id, seq=1, total=1, modem_id="m1", mr=7,
                                  sent_at=AT)  # fmt: skip
        assert await outbox_db.mark_part_delivered(conn, outbox_id, 1, 0, LATER)
        sms = await outbox_db.outbox_row(conn, outbox_id)
    assert sms is not None
    assert sms.status is OutboxStatus.DELIVERED
    assert (sms.modem_id, sms.sent_at) == ("m1", datetime(2026, 11, 23, 2, 5, tzinfo=UTC))
    assert await outbox_db.outbox_counts(db) == {OutboxStatus.DELIVERED: 1}
    assert await outbox_db.next_due_at(db) is None


async def test_due_sms_and_their_next_time(db: Database) -> None:
    async with db.transaction() as conn:
        first = await outbox_db.enqueue(
            conn, outbox_db.NewSms("notice", 3, PATIENT, "a", None), NOW
        )
        code = await outbox_db.enqueue(
            conn, outbox_db.NewSms("verification", 0, PATIENT, "b", None), LATER
        )
    assert await outbox_db.next_due_at(db) == AT
    assert [sms.id for sms in await outbox_db.due(db, LATER, 10)] == [code, first]
    assert await outbox_db.due_of_kinds(db, LATER, ["verification"], 10) == [code]


async def test_a_received_sms_its_parts_and_its_post_read_back_typed(db: Database) -> None:
    async with db.transaction() as conn:
        assert await inbound_db.store_part(conn, "sim1:00AB", "sim1", "00AB", NOW)
        (pending,) = await inbound_db.pending_parts(db)
        assert pending == InboundPart(id=pending.id, modem_id="sim1", pdu="00AB", received_at=AT)
        new = inbound_db.NewInbound(
            "sim1", PATIENT, "第一段", 2, False, NOW, "unmatched", None, concat_ref=5, missing=(2,)
        )
        inbound_id = await inbound_db.insert_inbound(conn, new, [pending.id])
        sms = await inbound_db.inbound_row(conn, inbound_id)
        assert sms == InboundSms(
            id=inbound_id, modem_id="sim1", sender=PATIENT, text="第一段", parts=2,
            complete=False, received_at=AT, outcome="unmatched", concat_ref=5, missing=(2,),
        )  # fmt: skip
        assert await inbound_db.unresolved_unmatched(conn, inbound_id) == sms
        assert await inbound_db.inbound_parts_of(conn, inbound_id) == [
            dataclasses.replace(pending, inbound_id=inbound_id)
        ]
        message_id = await threads_db.insert_message(
            conn, threads_db.NewMessage(1, "patient", "第一段", "第一段", NOW, inbound_id)
        )
        posted = await threads_db.posted_message(conn, inbound_id)
        assert posted == Message(
            id=message_id, thread_id=1, sender="patient", text="第一段", public_text="第一段",
            at=AT, inbound_id=inbound_id,
        )  # fmt: skip
        assert await threads_db.thread_messages(conn, 1) == [posted]
    assert await threads_db.messages(db, 1) == [posted]
    assert await inbound_db.unmatched(db, 10) == [sms]
    assert await monitoring.incomplete_sms(db, NOW, 10) == [sms]
    assert await inbound_db.pending_parts(db) == []


async def test_an_open_alert_reads_back_typed(db: Database) -> None:
    async with db.transaction() as conn:
        await alerts_db.open_alert(conn, ("modem_down", "sim1"), {"state": "no_sim"}, NOW)
    (alert,) = (await alerts_db.open_alerts(db)).values()
    assert (alert.kind, alert.subject, alert.opened_at, alert.notified_at) == (
        "modem_down", "sim1", AT, AT
    )  # fmt: skip
    assert alert.cleared_at is None
    assert alert.detail == '{"state": "no_sim"}'
