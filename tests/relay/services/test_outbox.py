"""The outbox pump: priorities, retries by failure class, a failure the patient and admins see.

The modem is a fake that behaves (it takes parts and hands out TP-MRs, or refuses the way a
real modem's +CMS ERROR does); the database is a real SQLite file.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smscat.modem import pdu
from smscat.modem.device import SentPart
from smscat.modem.errors import CmsError, ModemTimeout
from smscat.modem.supervisor import ModemSupervisor
from smscat.relay.core import routing
from smscat.relay.core.errors import Conflict
from smscat.relay.core.retry import MAX_ATTEMPTS
from smscat.relay.services.context import RelayOptions
from smscat.relay.services.outbox import OutboxPump
from smscat.relay.services.relay import Relay
from smscat.storage import outbox as outbox_db
from smscat.storage import phones as phones_db
from smscat.storage.db import Database, ExpertRow
from tests.support.outbox import FakeModem, pump
from tests.support.relay import Clock

ZHANG = ExpertRow("zhang", "张明", "主任医师", "心血管内科", "+8613800138001", None)
PATIENT = "+8613912345678"


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[Relay]:
    async with Database.open(tmp_path / "smscat.db") as db:
        await db.sync_experts([ZHANG])
        yield Relay(
            db,
            RelayOptions(department="心内科"),
            clock=Clock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC)),
        )


async def status_of(relay: Relay, outbox_id: int = 1) -> tuple[str, int, str | None]:
    (row,) = await relay.db.fetchall(
        "SELECT status, attempts, error FROM outbox WHERE id = ?", (outbox_id,)
    )
    return row["status"], row["attempts"], row["error"]


async def test_verification_codes_go_before_questions(relay: Relay) -> None:
    await relay.asking.ask(expert_id="zhang", nickname="小王", text="问题", public=False)
    await relay.asking.start_verification(PATIENT)
    modem = FakeModem()
    p = pump(relay, modem)
    row = await relay.db.fetchall("SELECT * FROM outbox WHERE status = 'queued'")
    assert len(row) == 2
    await p.send_due()
    texts = [part.text for part in modem.accepted]
    assert "验证码" in texts[0]
    assert "问题" in "".join(texts[1:])


async def test_a_transient_error_is_retried_later_and_then_sent(relay: Relay) -> None:
    asked = await relay.asking.ask(expert_id="zhang", nickname="小王", text="问题", public=False)
    modem = FakeModem()
    modem.refusals.append(CmsError("AT+CMGS=30", "+CMS ERROR: 42", 42))  # congestion
    p = pump(relay, modem)
    await p.send_due()
    status, attempts, error = await status_of(relay)
    assert (status, attempts, error) == ("queued", 1, "+CMS ERROR 42")
    (row,) = await relay.db.fetchall("SELECT next_attempt_at FROM outbox")
    assert datetime.fromisoformat(row["next_attempt_at"]) > relay.clock()
    relay.clock.now += timedelta(hours=1)  # type: ignore[attr-defined]
    await p.send_due()
    assert (await status_of(relay))[0] == "sent"
    view = await relay.patient_page.thread_view(asked.id, asked.token)
    assert view["status"] == "sent"


async def test_a_permanent_error_fails_at_once_and_the_patient_page_says_so(
    relay: Relay,
) -> None:
    asked = await relay.asking.ask(expert_id="zhang", nickname="小王", text="问题", public=False)
    modem = FakeModem()
    modem.refusals.append(CmsError("AT+CMGS=30", "+CMS ERROR: 1", 1))  # unassigned number
    await pump(relay, modem).send_due()
    assert await status_of(relay) == ("failed", 1, "+CMS ERROR 1")
    view = await relay.patient_page.thread_view(asked.id, asked.token)
    assert view["status"] == "failed"
    assert "未能送达" in view["notice"]
    alerts = await relay.db.fetchall("SELECT action FROM audit_log WHERE action = 'alert'")
    assert len(alerts) == 1  # admins see it


async def test_transient_errors_give_up_after_the_attempts_run_out(relay: Relay) -> None:
    await relay.asking.ask(expert_id="zhang", nickname="小王", text="问题", public=False)
    modem = FakeModem()
    modem.refusals.extend(ModemTimeout("AT+CMGS=30", 120) for _ in range(MAX_ATTEMPTS))
    p = pump(relay, modem)
    for _ in range(MAX_ATTEMPTS):
        await p.send_due()
        relay.clock.now += timedelta(hours=2)  # type: ignore[attr-defined]
    assert await status_of(relay) == ("failed", MAX_ATTEMPTS, "no answer")
    assert modem.accepted == []


async def test_a_multipart_sms_resumes_after_the_last_part_that_went(relay: Relay) -> None:
    long_question = "请问" + "心悸胸闷气短，" * 30
    await relay.asking.ask(expert_id="zhang", nickname="小王", text=long_question, public=False)
    modem = FakeModem()
    p = pump(relay, modem)
    (row,) = await relay.db.fetchall("SELECT * FROM outbox")
    total = len(pdu.plan_submit(row["recipient"], row["text"], ref=row["ref"]))
    assert total >= 3
    modem.refusals = []
    # part 1 goes, part 2 meets a busy network: only parts 2.. are sent again later
    original = modem.submit
    calls = 0

    async def second_refused(part: pdu.SubmitPart) -> SentPart:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise CmsError("AT+CMGS=140", "+CMS ERROR: 42", 42)
        return await original(part)

    modem.submit = second_refused  # type: ignore[method-assign]
    await p.send_due()
    relay.clock.now += timedelta(hours=1)  # type: ignore[attr-defined]
    await p.send_due()
    assert [part.seq for part in modem.accepted] == list(range(1, total + 1))
    assert (await status_of(relay))[0] == "sent"


async def test_a_follow_up_that_goes_through_lifts_a_failed_thread(relay: Relay) -> None:
    asked = await relay.asking.ask(expert_id="zhang", nickname="小王", text="问题", public=False)
    modem = FakeModem()
    modem.refusals.append(CmsError("AT+CMGS=30", "+CMS ERROR: 21", 21))  # rejected
    p = pump(relay, modem)
    await p.send_due()
    assert (await relay.patient_page.thread_view(asked.id, asked.token))["status"] == "failed"
    await relay.patient_page.follow_up(asked.id, asked.token, "请问收到了吗？")
    await p.send_due()
    view = await relay.patient_page.thread_view(asked.id, asked.token)
    assert view["status"] == "sent"
    assert "notice" not in view
    assert "请问收到了吗？" in "".join(part.text for part in modem.accepted)


async def test_an_sms_for_a_withdrawn_thread_still_records_its_parts(relay: Relay) -> None:
    asked = await relay.asking.ask(expert_id="zhang", nickname="小王", text="问题", public=False)
    modem = FakeModem()
    p = pump(relay, modem)
    original = modem.submit

    async def withdrawn_meanwhile(part: pdu.SubmitPart) -> SentPart:
        await relay.patient_page.withdraw(asked.id, asked.token)  # the patient withdraws mid-send
        return await original(part)

    modem.submit = withdrawn_meanwhile  # type: ignore[method-assign]
    await p.send_due()
    assert (await relay.patient_page.thread_view(asked.id, asked.token))["status"] == "closed"
    assert (await status_of(relay))[0] == "sent"  # the part went: recorded, not retried


async def _half_sent_on_a(relay: Relay) -> tuple[FakeModem, FakeModem, OutboxPump]:
    """A long question whose first part went through modem a, which then stopped answering."""
    await relay.asking.ask(expert_id="zhang", nickname="小王", text="心悸胸闷，" * 40, public=False)
    a, b = FakeModem(), FakeModem()
    calls = 0
    original = a.submit

    async def first_then_down(part: pdu.SubmitPart) -> SentPart:
        nonlocal calls
        calls += 1
        if calls == 2:
            a.block = "down"  # unplugged after the first part
            raise ModemTimeout("AT+CMGS=140", 120)
        return await original(part)

    a.submit = first_then_down  # type: ignore[method-assign]
    fake: dict[str, ModemSupervisor] = {"a": a, "b": b}  # type: ignore[dict-item]
    p = OutboxPump(relay, fake, rng=random.Random(3))
    await p.send_due()
    assert len(a.accepted) == 1
    return a, b, p


async def test_the_rest_of_a_long_sms_waits_for_its_modem_through_a_blip(relay: Relay) -> None:
    a, b, p = await _half_sent_on_a(relay)
    a.down_for = routing.MOVE_AFTER - 1  # reconnecting: worth waiting for
    relay.clock.now += timedelta(hours=1)  # type: ignore[attr-defined]
    await p.send_due()
    assert b.accepted == []  # the handset joins parts from one sender: b must not finish it
    assert (await status_of(relay))[0] == "queued"
    a.block = None
    await p.send_due()
    assert (await status_of(relay))[0] == "sent"
    assert [part.seq for part in a.accepted] == list(range(1, len(a.accepted) + 1))


async def test_a_long_sms_whose_modem_vanished_goes_again_whole_from_another(
    relay: Relay,
) -> None:
    a, b, p = await _half_sent_on_a(relay)
    a.down_for = routing.MOVE_AFTER  # gone, and staying gone
    relay.clock.now += timedelta(hours=1)  # type: ignore[attr-defined]
    await p.send_due()
    assert (await status_of(relay))[0] == "sent"
    total = a.accepted[0].total
    assert [part.seq for part in b.accepted] == list(range(1, total + 1))  # whole, from b
    # a new concatenation reference: the phone cannot join a's part with b's
    first_a, first_b = (pdu.decode_submit(m.accepted[0].pdu_hex) for m in (a, b))
    assert first_a.concat is not None
    assert first_b.concat is not None
    assert first_b.concat.ref != first_a.concat.ref
    (spent,) = await relay.db.fetchall("SELECT modem_id, seq FROM outbox_parts_spent")
    assert (spent["modem_id"], spent["seq"]) == ("a", 1)  # a's part still counts against a
    assert await outbox_db.parts_sent_since(relay.db, "a", ["2000-01-01"]) == [1]
    assert await outbox_db.parts_sent_since(relay.db, "b", ["2000-01-01"]) == [total]


async def test_an_sms_longer_than_a_cap_allows_fails_instead_of_waiting_forever(
    relay: Relay,
) -> None:
    asked = await relay.asking.ask(
        expert_id="zhang", nickname="小王", text="心悸胸闷，" * 40, public=False
    )
    modem = FakeModem()
    fake: dict[str, ModemSupervisor] = {"m1": modem}  # type: ignore[dict-item]
    p = OutboxPump(relay, fake, limits={"m1": routing.Limits(per_minute=2)})
    await p.send_due()
    assert (await status_of(relay))[0] == "failed"
    assert (await relay.patient_page.thread_view(asked.id, asked.token))["status"] == "failed"


async def test_a_verification_code_goes_to_a_number_that_sent_stop_once_it_sent_start(
    relay: Relay,
) -> None:
    async with relay.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO phones (e164, created_at, stopped_at)"
            " VALUES (?, '2026-01-01', '2026-01-02')",
            (PATIENT,),
        )
    with pytest.raises(Conflict):  # STOP stops codes too (issue 14) ...
        await relay.asking.start_verification(PATIENT)
    async with relay.db.transaction() as conn:
        phone = await phones_db.phone(conn, PATIENT)
        assert phone is not None
        assert await phones_db.start_phone(conn, phone.id)  # ... until 开通/START
    await relay.asking.start_verification(PATIENT)
    modem = FakeModem()
    await pump(relay, modem).send_due()
    assert ["验证码" in part.text for part in modem.accepted] == [True]


async def test_a_code_that_waited_past_its_lifetime_is_not_sent_but_a_question_waits_on(
    relay: Relay,
) -> None:
    """With no modem able to send, a question waits as long as it takes; a code expires."""
    await relay.asking.start_verification(PATIENT)
    await relay.asking.ask(expert_id="zhang", nickname="小王", text="问题", public=False)
    modem = FakeModem()
    modem.block = "no-network"
    p = pump(relay, modem)
    await p.send_due()
    assert modem.accepted == []
    relay.clock.now += relay.options.code_ttl  # type: ignore[attr-defined]
    relay.clock.now += timedelta(days=3)  # type: ignore[attr-defined]
    modem.block = None
    await p.send_due()
    assert await status_of(relay, 1) == ("cancelled", 0, None)  # the code: useless by now
    assert (await status_of(relay, 2))[0] == "sent"  # the question, three days late
    assert [("问题" in part.text) for part in modem.accepted] == [True]


async def test_a_code_goes_between_the_parts_of_a_long_question(relay: Relay) -> None:
    """Lanes: a patient waiting for a code does not wait for a 5-part question to finish."""
    await relay.asking.ask(expert_id="zhang", nickname="小王", text="心悸胸闷，" * 40, public=False)
    modem = FakeModem()
    original = modem.submit

    async def code_asked_during_part_1(part: pdu.SubmitPart) -> SentPart:
        sent = await original(part)
        if len(modem.accepted) == 1:
            await relay.asking.start_verification(PATIENT)
        return sent

    modem.submit = code_asked_during_part_1  # type: ignore[method-assign]
    await pump(relay, modem).send_due()
    kinds = ["验证码" in part.text for part in modem.accepted]
    assert kinds.index(True) == 1  # right after the part in flight
    assert kinds.count(True) == 1
    question = [p for p in modem.accepted if "验证码" not in p.text]
    assert [p.seq for p in question] == list(range(1, question[0].total + 1))  # then the rest
    assert (await status_of(relay, 1))[0] == "sent"


async def test_an_sms_that_cannot_be_encoded_fails_and_the_queue_moves_on(relay: Relay) -> None:
    now = relay.clock()
    async with relay.db.transaction() as conn:  # a row no modem can take: a recipient erased
        sms = outbox_db.NewSms("notice", 3, "erased", "您的咨询链接：…", None, 7)
        await outbox_db.enqueue(conn, sms, now.isoformat())
    await relay.asking.ask(expert_id="zhang", nickname="小王", text="问题", public=False)
    modem = FakeModem()
    await pump(relay, modem).send_due()
    assert await status_of(relay, 1) == ("failed", 0, "message cannot be encoded")
    assert (await status_of(relay, 2))[0] == "sent"  # the question after it went
    assert any("问题" in part.text for part in modem.accepted)
