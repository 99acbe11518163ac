"""Retention: an old patient's number leaves every table, the file and a backup; old private
threads go; public and young threads stay; erasure on request is audited without the number.

The relay runs on a real SQLite file with an injected clock. The patient's SMS come in as the
PDUs a modem hands over (built by the simulator's encoder), so the raw parts in the database
carry the number in semi-octets, as in production: +8613912345678 is "683119325476F8".
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from smscat.hwsim import pdu as simpdu
from smscat.modem import pdu
from smscat.modem.inbox import StoredPart
from smscat.relay.core.errors import Conflict, Invalid
from smscat.relay.services.context import RelayOptions
from smscat.relay.services.relay import Relay
from smscat.relay.services.retention import erase_phone, purge
from smscat.storage.db import Database, ExpertRow, backup, iso
from smscat.web.texts import render as web_render
from tests.support.cli import smscat
from tests.support.relay import Clock

ZHANG = ExpertRow("zhang", "张明", "主任医师", "心血管内科", "+8613800138001", "高血压")
LI = ExpertRow("li", "李华", "副主任医师", "心血管内科", "+8613800138002", None)
PATIENT = "+8613912345678"
NATIONAL = "13912345678"
YOUNG = "+8613711112222"  # a patient who asked recently
T0 = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=200)


def traces(number: str) -> list[bytes]:
    """How ``number`` (E.164) can sit in the file: ASCII digits, and the PDU's swapped BCD as
    hex text (either case) and as bytes. The national digits are inside the E.164 ones, and
    the BCD of the national number inside that of the international one (86 is one octet)."""
    digits = number.removeprefix("+86")
    padded = digits + "F" * (len(digits) % 2)
    swapped = "".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2))
    return [digits.encode(), swapped.encode(), swapped.lower().encode(), bytes.fromhex(swapped)]


def test_the_traces_are_the_pdu_encoding() -> None:
    assert traces(PATIENT)[1] == b"3119325476F8"
    tpdu = simpdu.deliver_parts(PATIENT, "hi", T0, 0)[0]
    assert b"683119325476F8" in tpdu.hex().upper().encode()
    assert traces(PATIENT)[3] in tpdu


@dataclass
class Hospital:
    relay: Relay
    db: Database
    clock: Clock
    path: Path
    refs: int = 0

    async def sms(self, sender: str, text: str, *, parts: int | None = None) -> None:
        """``sender`` texts the hospital's SIM; ``parts`` keeps only the first parts (pending)."""
        self.refs += 1
        tpdus = simpdu.deliver_parts(sender, text, self.clock.now, self.refs)
        for tpdu in tpdus[:parts]:
            pdu_hex = (simpdu.encode_smsc(None) + tpdu).hex().upper()
            await self.relay.inbound.store_part(
                "m1", StoredPart(None, pdu.decode_deliver(pdu_hex), pdu_hex)
            )
        await self.relay.inbound.process_inbound()

    async def ask(self, phone: str, text: str, *, public: bool, expert: str = "zhang") -> int:
        verification_id = await self.relay.asking.start_verification(phone)
        (row,) = await self.db.fetchall(
            "SELECT text FROM outbox WHERE recipient = ? ORDER BY id DESC LIMIT 1", (phone,)
        )
        code = re.findall(r"\d{6}", row["text"])[0]
        asked = await self.relay.asking.ask(
            expert_id=expert,
            nickname="小王",
            text=text,
            public=public,
            phone=phone,
            verification_id=verification_id,
            code=code,
        )
        return asked.id

    async def anonymous(self, text: str, *, public: bool) -> int:
        asked = await self.relay.asking.ask(
            expert_id="li", nickname="路人", text=text, public=public
        )
        return asked.id


@pytest.fixture
async def hospital(tmp_path: Path) -> AsyncIterator[Hospital]:
    clock = Clock(T0)
    path = tmp_path / "smscat.db"
    async with Database.open(path) as db:
        # SQLite's default, unless built with SQLITE_SECURE_DELETE (as Debian's is): the purge
        # must not count on the build
        await db.fetchall("PRAGMA secure_delete = OFF")
        await db.sync_experts([ZHANG, LI])
        relay = Relay(db, RelayOptions(department="心内科"), clock=clock)
        yield Hospital(relay, db, clock, path)


@dataclass
class Threads:
    private_old: int
    public_old: int
    anonymous_private_old: int
    anonymous_public_old: int
    young: int


async def seed(h: Hospital) -> Threads:
    """Half a year of one patient's life in the database, and a young patient's question."""
    private_old = await h.ask(PATIENT, "胸闷怎么办？", public=False)  # #1
    public_old = await h.ask(PATIENT, f"心慌，方便请回电{PATIENT}", public=True)  # #2
    h.clock.now += timedelta(minutes=5)
    await h.sms(ZHANG.phone, "#1 多休息，少喝咖啡。")
    await h.sms(ZHANG.phone, "#2 建议门诊复查心电图。")
    h.clock.now += timedelta(minutes=5)
    await h.sms(PATIENT, f"#2 好的，我的手机{NATIONAL}，谢谢")  # a follow-up, number typed
    await h.sms(NATIONAL, "#1 收到")  # the network sent the national form of the sender
    await h.sms(PATIENT, "你好")  # two open threads and no code: unmatched
    async with h.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO recipient_modem (recipient, modem_id, at) VALUES (?, 'm1', ?)",
            (PATIENT, iso(h.clock.now)),
        )
    anonymous_private_old = await h.anonymous("血压高怎么办", public=False)
    anonymous_public_old = await h.anonymous("早搏要紧吗", public=True)
    h.clock.now = NOW - timedelta(days=30)
    young = await h.ask(YOUNG, "最近胸口疼", public=False, expert="li")
    # li's older threads are still open and keep their codes: the young one has its own
    (row,) = await h.db.fetchall("SELECT code FROM threads WHERE id = ?", (young,))
    await h.sms(LI.phone, f"#{row['code']} 请尽快来院检查。")
    h.clock.now = NOW
    await h.sms(PATIENT, "很长的一条追问。" * 20, parts=1)  # the first of 3 parts: pending
    return Threads(private_old, public_old, anonymous_private_old, anonymous_public_old, young)


async def every_cell(db: Database) -> list[tuple[str, str, Any]]:
    """(table, column, value) for every column of every row of every table."""
    tables = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    out: list[tuple[str, str, Any]] = []
    for table in tables:
        for row in await db.fetchall(f'SELECT * FROM "{table["name"]}"'):
            out.extend((table["name"], column, row[column]) for column in row.keys())  # noqa: SIM118
    return out


def database_files(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(folder.glob("smscat.db*")))


def holding(cells: list[tuple[str, str, Any]], number: str) -> set[str]:
    found = set()
    for table, column, value in cells:
        raw = value if isinstance(value, bytes) else str(value).encode()
        if any(trace in raw for trace in traces(number)):
            found.add(f"{table}.{column}")
    return found


async def test_the_seeded_number_is_everywhere_the_purge_must_reach(hospital: Hospital) -> None:
    await seed(hospital)
    places = holding(await every_cell(hospital.db), PATIENT)
    pending = await hospital.db.fetchall("SELECT id FROM inbound_parts WHERE inbound_id IS NULL")
    assert len(pending) == 1
    assert places == {
        "phones.e164",
        "outbox.recipient",
        "outbox.text",  # the question with the number, as sent to the expert
        "messages.text",
        "inbound.sender",
        "inbound.text",
        "inbound_parts.pdu",
        "inbound_parts.dedup_key",
        "recipient_modem.recipient",
    }


async def test_after_the_purge_the_number_is_in_no_table_file_or_backup(
    hospital: Hospital, tmp_path: Path
) -> None:
    await seed(hospital)
    report = await purge(hospital.db, phone_days=90, thread_days=180, now=NOW)
    assert report.erased.phones == 1
    assert report.checkpointed
    cells = await every_cell(hospital.db)
    assert holding(cells, PATIENT) == set()
    assert holding(cells, YOUNG) == {"phones.e164", "outbox.recipient"}  # the scan does see
    copy = tmp_path / "backup.db"
    await asyncio.to_thread(backup, hospital.path, copy)
    raw = copy.read_bytes()
    assert [trace for trace in traces(PATIENT) if trace in raw] == []
    assert traces(YOUNG)[0] in raw
    live = database_files(tmp_path)  # the database and its WAL, if any
    assert [trace for trace in traces(PATIENT) if trace in live] == []


async def test_the_phone_row_stays_as_a_placeholder_and_its_threads_lose_the_link(
    hospital: Hospital,
) -> None:
    threads = await seed(hospital)
    (before,) = await hospital.db.fetchall("SELECT id FROM phones WHERE e164 = ?", (PATIENT,))
    await purge(hospital.db, phone_days=90, thread_days=None, now=NOW)
    (phone,) = await hospital.db.fetchall(
        "SELECT e164, erased_at FROM phones WHERE id = ?", (before["id"],)
    )
    assert tuple(phone) == (f"erased:{before['id']}", iso(NOW))
    rows = await hospital.db.fetchall("SELECT id, phone_id FROM threads ORDER BY id")
    links = {r["id"]: r["phone_id"] for r in rows}
    assert links[threads.private_old] is None
    assert links[threads.public_old] is None
    assert links[threads.young] is not None
    assert (
        await hospital.db.fetchall(
            "SELECT 1 FROM verifications WHERE phone_id = ?", (before["id"],)
        )
        == []
    )
    # the SMS queued to the number (no pump runs here) will not go to "erased"
    outbox = await hospital.db.fetchall(
        "SELECT DISTINCT status FROM outbox WHERE recipient = 'erased'"
    )
    assert {r["status"] for r in outbox} == {"cancelled"}
    # the number the patient typed is replaced; the rest of what they wrote stays
    texts = await hospital.db.fetchall(
        "SELECT text FROM messages WHERE thread_id = ? AND sender = 'patient' ORDER BY id",
        (threads.public_old,),
    )
    assert [r["text"] for r in texts] == [
        "心慌，方便请回电[号码已删除]",
        "好的，我的手机[号码已删除]，谢谢",
    ]


async def test_old_private_threads_go_public_and_young_ones_stay(hospital: Hospital) -> None:
    threads = await seed(hospital)
    report = await purge(hospital.db, phone_days=90, thread_days=180, now=NOW)
    rows = await hospital.db.fetchall("SELECT id FROM threads ORDER BY id")
    assert [r["id"] for r in rows] == [
        threads.public_old,
        threads.anonymous_public_old,
        threads.young,
    ]
    assert report.deleted.threads == 2
    gone = (threads.private_old, threads.anonymous_private_old)
    for table in ("messages", "outbox", "inbound"):
        leftovers = await hospital.db.fetchall(
            f"SELECT COUNT(*) FROM {table} WHERE thread_id IN (?, ?)", gone
        )
        assert leftovers[0][0] == 0, table
    # the patient's "#1 收到" and the expert's "#1 …" to the deleted thread went with it
    texts = [r["text"] for r in await hospital.db.fetchall("SELECT text FROM inbound")]
    assert "收到" not in texts
    assert "#1 多休息，少喝咖啡。" not in texts
    kept = await hospital.db.fetchall(
        "SELECT sender FROM messages WHERE thread_id = ? ORDER BY id", (threads.public_old,)
    )
    assert [r["sender"] for r in kept] == ["patient", "expert", "patient"]
    assert await hospital.db.fetchall("PRAGMA foreign_key_check") == []


async def test_young_data_and_disabled_retention_are_left_alone(hospital: Hospital) -> None:
    await seed(hospital)
    before = await every_cell(hospital.db)
    report = await purge(hospital.db, phone_days=None, thread_days=None, now=NOW)
    assert report.erased.phones == report.deleted.threads == 0
    after = [cell for cell in await every_cell(hospital.db) if cell[0] != "audit_log"]
    assert after == [cell for cell in before if cell[0] != "audit_log"]
    report = await purge(hospital.db, phone_days=365, thread_days=365, now=NOW)
    assert report.erased.phones == report.deleted.threads == 0
    assert holding(await every_cell(hospital.db), PATIENT)


async def test_the_purge_is_audited_with_counts_and_no_number(hospital: Hospital) -> None:
    await seed(hospital)
    await purge(hospital.db, phone_days=90, thread_days=180, now=NOW)
    rows = await hospital.db.fetchall(
        "SELECT actor, subject, detail FROM audit_log WHERE action = 'retention.purge'"
    )
    (entry,) = rows
    detail = json.loads(entry["detail"])
    assert (entry["actor"], entry["subject"]) == ("retention", None)
    assert detail["erased"]["phones"] == 1
    assert detail["deleted"]["threads"] == 2
    assert holding([("audit_log", "*", tuple(r)) for r in rows], PATIENT) == set()


async def test_erase_on_request_is_immediate_and_audited_without_the_number(
    hospital: Hospital, tmp_path: Path
) -> None:
    threads = await seed(hospital)
    (young,) = await hospital.db.fetchall("SELECT id FROM phones WHERE e164 = ?", (YOUNG,))
    # asked 30 days ago: far from any retention limit, erased because the patient asks
    report = await erase_phone(hospital.db, "137 1111 2222", "admin", NOW)
    assert (report.erased.phones, report.deleted.threads) == (1, 0)
    cells = await every_cell(hospital.db)
    assert holding(cells, YOUNG) == set()
    assert holding(cells, PATIENT)  # nobody else's number
    copy = tmp_path / "after-erase.db"
    await asyncio.to_thread(backup, hospital.path, copy)
    assert [trace for trace in traces(YOUNG) if trace in copy.read_bytes()] == []
    rows = await hospital.db.fetchall(
        "SELECT actor, subject, detail FROM audit_log WHERE action = 'retention.erase'"
    )
    (entry,) = rows
    assert (entry["actor"], entry["subject"]) == ("admin", str(young["id"]))
    assert json.loads(entry["detail"])["erased"]["phones"] == 1
    assert holding([("audit_log", "*", tuple(r)) for r in rows], YOUNG) == set()
    (thread,) = await hospital.db.fetchall(
        "SELECT phone_id FROM threads WHERE id = ?", (threads.young,)
    )
    assert thread["phone_id"] is None  # the question and its answer stay


async def test_erase_counts_every_kind_of_row_it_changed(hospital: Hospital) -> None:
    await seed(hospital)
    report = await erase_phone(hospital.db, "139 1234 5678", "admin", NOW)
    # SMS from it: "#2 …" (E.164 sender), "#1 收到" (national sender), "你好"; their 3 raw
    # parts are blanked and the pending first part of the long one is deleted
    assert (report.erased.inbound, report.erased.inbound_parts) == (3, 4)
    assert (report.erased.phones, report.erased.verifications) == (1, 2)  # one per question
    assert report.erased.threads_unlinked == 2
    assert report.erased.recipient_modem == 1
    assert holding(await every_cell(hospital.db), PATIENT) == set()


async def test_erase_refuses_an_experts_number_and_a_malformed_one(hospital: Hospital) -> None:
    with pytest.raises(Conflict, match="expert_phone"):
        await erase_phone(hospital.db, ZHANG.phone, "admin", NOW)
    with pytest.raises(Invalid, match="phone_invalid"):
        await erase_phone(hospital.db, "139-abc", "admin", NOW)
    with pytest.raises(Invalid, match="phone_invalid"):
        await erase_phone(hospital.db, "10086", "admin", NOW)  # a short code
    assert (
        await hospital.db.fetchall("SELECT 1 FROM audit_log WHERE action = 'retention.erase'") == []
    )


async def test_erasing_a_number_never_verified_scrubs_its_sms(hospital: Hospital) -> None:
    stranger = "+8613655556666"
    await hospital.sms(stranger, "请问怎么挂号")
    assert holding(await every_cell(hospital.db), stranger) == {
        "inbound.sender",
        "inbound_parts.pdu",
        "inbound_parts.dedup_key",
    }
    report = await erase_phone(hospital.db, stranger, "admin", NOW)
    assert (report.erased.phones, report.erased.inbound) == (0, 1)
    assert holding(await every_cell(hospital.db), stranger) == set()
    (entry,) = await hospital.db.fetchall(
        "SELECT subject FROM audit_log WHERE action = 'retention.erase'"
    )
    assert entry["subject"] is None


async def test_sms_from_unknown_numbers_go_with_their_pdus_on_the_phone_schedule(
    hospital: Hospital,
) -> None:
    old, young = "+8613655556666", "+8613644445555"  # nobody's: not an expert, not verified
    await hospital.sms(old, "请问怎么挂号")
    hospital.clock.now = NOW - timedelta(days=10)
    await hospital.sms(young, "你们几点下班")
    assert holding(await every_cell(hospital.db), old) == {
        "inbound.sender",
        "inbound_parts.pdu",
        "inbound_parts.dedup_key",
    }
    report = await purge(hospital.db, phone_days=None, thread_days=365, now=NOW)
    assert report.erased.unknown_sms == 0  # phone numbers are kept: so are theirs
    report = await purge(hospital.db, phone_days=90, thread_days=None, now=NOW)
    assert (report.erased.unknown_sms, report.erased.unknown_parts) == (1, 1)
    cells = await every_cell(hospital.db)
    assert holding(cells, old) == set()
    assert holding(cells, young) == {
        "inbound.sender",
        "inbound_parts.pdu",
        "inbound_parts.dedup_key",
    }
    texts = [r["text"] for r in await hospital.db.fetchall("SELECT text FROM inbound")]
    assert texts == ["你们几点下班"]
    assert [trace for trace in traces(old) if trace in database_files(hospital.path.parent)] == []


# -- smscat erase --------------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path) -> Path:
    async def create() -> None:
        async with Database.open(tmp_path / "smscat.db") as db:
            await db.sync_experts([ZHANG, LI])
            relay = Relay(db, RelayOptions(department="心内科"), clock=Clock(T0))
            await relay.asking.start_verification(PATIENT)

    asyncio.run(create())
    path = tmp_path / "config.yaml"
    path.write_text("storage: {path: smscat.db}\n", encoding="utf-8")
    return path


def test_smscat_erase_prints_counts_and_never_the_number(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert smscat("erase", "--phone", "139 1234 5678", "-c", str(config)) == 0
    out, err = capsys.readouterr()
    assert "phone rows 1" in out
    assert "verifications 1" in out
    assert "SMS to it 1" in out
    assert not re.search(r"\d{4}", out + err.replace(str(tmp_path), ""))
    assert traces(PATIENT)[0] not in (tmp_path / "smscat.db").read_bytes()


@pytest.mark.parametrize("phone", ["139-abc-5678", "", "10086"])
def test_smscat_erase_exits_2_for_a_malformed_number(
    config: Path, capsys: pytest.CaptureFixture[str], phone: str
) -> None:
    assert smscat("erase", "--phone", phone, "-c", str(config)) == 2
    assert "not a mobile number" in capsys.readouterr().err


@pytest.mark.parametrize("locale", ["zh_CN.UTF-8", "en_US.UTF-8"])
def test_smscat_erase_exits_2_for_an_experts_number(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, locale: str
) -> None:
    monkeypatch.setenv("LC_ALL", locale)
    assert smscat("erase", "--phone", ZHANG.phone, "-c", str(config)) == 2
    err = capsys.readouterr().err
    assert web_render("error.expert_phone", "en" if locale.startswith("en") else "zh-CN") in err
    assert "138" not in err
