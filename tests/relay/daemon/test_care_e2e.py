"""随访 end to end (issue 17, must-show 1): the whole daemon on the simulated modem, its clock
injected and moved by hand through 35 days.

A discharge list of 50 patients (and a few bad rows) is read and previewed, the good rows are
enrolled, and the planner's SMS really go through the outbox pump and the AT driver on a pty to
hw-sim; the patients' and the nurses' answers come back from hw-sim's virtual phones (+CMTI, read,
the relay's inbound). What a phone received is asserted at the phone, each SMS stamped with the
relay's time at which the pump sent it: the clock moves an hour at a time, and after each move the
planner looks and the queue drains before the next.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from smscat.modem.address import normalise
from smscat.relay.core.care_csv import CsvReading, read_discharge_list
from smscat.relay.core.errors import RelayError
from smscat.relay.daemon.app import Daemon, running_daemon
from smscat.relay.daemon.config import Settings
from smscat.relay.services.care import Enrolled, EnrolRequest
from smscat.relay.services.care_record import CareConfig, PlanConfig
from smscat.relay.services.expert_record import ExpertConfig
from smscat.storage.db import iso
from tests.support.daemon import TIMEOUT, Client, settings
from tests.support.relay import Clock

ZONE = ZoneInfo("Asia/Shanghai")
WANG = "+8613900000101"  # the nurses on the plan's rota, in order
ZHAO = "+8613900000102"
DISCHARGED = date(2026, 11, 23)  # a Monday
GAP = timedelta(hours=20)
MENU = "回复1 好转"  # in every step and reminder of the plan


def local(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=ZONE).astimezone(UTC)


START = local(DISCHARGED, 10)
PATIENTS = [f"+86139100000{n:02d}" for n in range(50)]
# who answers what (the others never answer)
BETTER, SAME = PATIENTS[0:10], PATIENTS[10:15]
WORSE_ACKED, WORSE_IGNORED = PATIENTS[15], PATIENTS[16]  # both answer "3" to day 1
READMITTED, STOPPED = PATIENTS[17], PATIENTS[18]
SILENT = PATIENTS[19:]
# rows the preview must show as errors: never enrolled, never texted
NO_CONSENT = "+8613910000150"
BAD_ROWS = [
    "13910000150,孙女士,2026-11-23,否",  # no consent
    "12345,周先生,2026-11-23,是",  # not a mobile number
    "13910000152,吴13910000152,2026-11-23,是",  # a number in the nickname
    "13910000153,郑女士,11/23/2026,是",  # a date whose order cannot be told
]


SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张"


def discharge_list() -> bytes:
    """The HIS's export: Chinese headers, GB18030 as Excel writes it, the bad rows among them."""
    lines = ["手机号,称呼,出院日期,知情同意"]
    for n, phone in enumerate(PATIENTS):
        nickname = SURNAMES[n % len(SURNAMES)] + ("先生" if n % 2 else "女士")
        lines.append(f"{phone.removeprefix('+86')},{nickname},2026-11-23,是")
        if n % 12 == 5:
            lines.append(BAD_ROWS[n // 12])
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")


def nurse(staff_id: str, name: str, phone: str) -> ExpertConfig:
    return ExpertConfig(
        id=staff_id, name=name, title="护士", department="心内科", phone=phone, role="assistant"
    )


def config(tmp_path: Path) -> Settings:
    """The test daemon's settings, with two nurses and the built-in plan on their rota."""
    base = settings(tmp_path)
    plan = CareConfig().plans[0]
    plan = PlanConfig.model_validate(plan.model_dump() | {"rota": ["wang", "zhao"]})
    staff = [*base.experts, nurse("wang", "王护士", WANG), nurse("zhao", "赵护士", ZHAO)]
    return base.model_copy(update={"experts": staff, "care": CareConfig(plans=[plan])})


@dataclass(frozen=True)
class Received:
    at: datetime  # the relay's clock when the pump sent it
    to: str
    text: str


@dataclass
class Hospital:
    """The running daemon, its phones, and the hand that moves its clock."""

    running: Daemon
    client: Client
    clock: Clock
    received: list[Received] = field(default_factory=list)
    accepted: int = 0  # SMS the outbox says a modem took

    async def drain(self) -> None:
        """Until nothing due is queued, then what the SIM sent since, stamped with now."""
        db = self.running.relay.db
        self.running.relay.outbox_changed.set()  # the pump looks at the queue at the new time
        async with asyncio.timeout(30):
            while await db.fetchall(  # noqa: ASYNC110  (the pump's work, seen in the db)
                "SELECT 1 FROM outbox WHERE status = 'queued' AND next_attempt_at <= ? LIMIT 1",
                (iso(self.clock.now),),
            ):
                await asyncio.sleep(0.005)
        (accepted,) = await db.fetchall("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL")
        if accepted[0] == self.accepted:
            return  # (the SIM sent nothing new: no need to ask it)
        self.accepted = accepted[0]
        sent = await self.client.simulator("/sent")
        for message in sent[len(self.received) :]:
            assert message["complete"]
            self.received.append(Received(self.clock.now, message["to"], message["text"]))

    async def look(self) -> None:
        """What the daemon's care task does: the planner, then the escalations' deadlines."""
        relay = self.running.relay
        await relay.care.tick()
        await relay.care_replies.move_overdue()
        await self.drain()

    async def run_until(self, end: datetime) -> None:
        """Move the clock to ``end`` by whole hours, the planner looking at each."""
        while self.clock.now < end:
            hour = self.clock.now.replace(minute=0, second=0, microsecond=0)
            self.clock.now = min(end, hour + timedelta(hours=1))
            await self.look()

    async def sends(self, phone: str, text: str) -> None:
        """``phone`` texts the hospital's SIM; until the relay has routed it."""
        db = self.running.relay.db
        before = await db.fetchall("SELECT count(*) FROM inbound WHERE sender = ?", (phone,))
        await self.client.phone_sends(phone, text)
        async with asyncio.timeout(15):
            while not await db.fetchall(  # noqa: ASYNC110  (+CMTI, the read, the router)
                "SELECT 1 FROM inbound WHERE sender = ? AND outcome IS NOT NULL"
                " ORDER BY id LIMIT 1 OFFSET ?",
                (phone, before[0][0]),
            ):
                await asyncio.sleep(0.01)
        await self.look()  # what the answer queued goes now

    def to(self, phone: str) -> list[Received]:
        return [r for r in self.received if r.to == phone]


@pytest.fixture
async def hospital(tmp_path: Path) -> AsyncIterator[Hospital]:
    clock = Clock(START)
    async with (
        running_daemon(config(tmp_path), clock=clock) as running,
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
    ):
        found = Hospital(running, Client(http, running.url, running.simulators["sim1"]), clock)
        await found.drain()  # the staff's welcome SMS
        yield found


def mainland(digits: str) -> str:
    """The upload's phone check: the modem's normaliser, a mobile only."""
    number = normalise(digits)
    if not re.fullmatch(r"\+861[3-9]\d{9}", number):
        raise ValueError("not a mainland mobile")
    return number


def preview(data: bytes) -> CsvReading:
    return read_discharge_list(data, phone=mainland)


async def enrol(hospital: Hospital, reading: CsvReading) -> list[Enrolled | RelayError]:
    requests = [
        EnrolRequest(
            phone=row.phone,
            nickname=row.nickname,
            anchor=row.anchor,
            plan=row.plan or "discharge",
            consent=row.consent,
        )
        for row in reading.rows
    ]
    return await hospital.running.relay.care.enrol_many(requests, "admin", "csv")


def code_in(text: str) -> str:
    found = re.search(r"#\d+", text)
    assert found, "an escalation SMS carries the code to answer with"
    return found.group(0)


def forms(e164: str) -> list[str]:
    national = e164.removeprefix("+86")
    return [national, national[-8:], f"{national[:3]} {national[3:7]} {national[7:]}"]


async def test_fifty_discharged_patients_through_thirty_five_days(hospital: Hospital) -> None:
    db = hospital.running.relay.db
    # -- the list, its preview, the enrolment ------------------------------------------------
    reading = preview(discharge_list())
    assert reading.file_error is None
    assert [r.phone for r in reading.rows] == PATIENTS
    assert sorted(e.key for e in reading.errors) == sorted(
        ["csv_consent_missing", "csv_phone_invalid", "csv_nickname_number", "csv_date_invalid"]
    )
    done = await enrol(hospital, reading)
    assert all(isinstance(d, Enrolled) and d.created for d in done)
    rows = await db.fetchall("SELECT consent_how, source FROM care_enrolments")
    assert [tuple(r) for r in rows] == [("verbal", "csv")] * 50

    # -- day 1: every patient's first SMS, at 09:00 the next morning ---------------------------
    await hospital.run_until(local(DISCHARGED + timedelta(days=1), 10))
    for phone in PATIENTS:
        (first,) = hospital.to(phone)
        assert first.at == local(DISCHARGED + timedelta(days=1), 9)
        assert re.match(r"【心内科咨询】.(先生|女士)您好，您11月23日出院已1天", first.text)
        assert MENU in first.text

    # -- answers: 1, 2 and 3 recorded; a 3 goes to the first nurse with a code -----------------
    for phone in BETTER:
        await hospital.sends(phone, "1")
    for phone in SAME:
        await hospital.sends(phone, "２。")  # (a full-width digit, a full stop: still "2")
    await hospital.sends(WORSE_ACKED, "3")
    await hospital.sends(WORSE_IGNORED, "3")
    choices = await db.fetchall(
        "SELECT choice, count(*) FROM care_replies WHERE step = 'd1' GROUP BY choice"
    )
    assert {r[0]: r[1] for r in choices} == {"1": 10, "2": 5, "3": 2}
    to_wang = hospital.to(WANG)[-2:]  # (after the welcome)
    assert len(to_wang) == 2
    for r in to_wang:
        assert not any(form in r.text for p in PATIENTS for form in forms(p))
    acked_code, ignored_code = code_in(to_wang[0].text), code_in(to_wang[1].text)
    assert acked_code != ignored_code
    for phone in (WORSE_ACKED, WORSE_IGNORED):
        assert "120" in hospital.to(phone)[-1].text  # what to do now, at once

    # the nurse acknowledges the first by SMS with its code
    hospital.clock.now += timedelta(minutes=20)
    await hospital.sends(WANG, f"{acked_code} 收到，马上联系")
    assert "已确认" in hospital.to(WANG)[-1].text
    escalations = await db.fetchall("SELECT person_id, acked_by FROM care_escalations ORDER BY id")
    assert [tuple(r) for r in escalations] == [("wang", "wang"), ("wang", None)]

    # nobody acknowledges the second: after 2 working hours it is the next nurse's
    await hospital.run_until(local(DISCHARGED + timedelta(days=1), 13))
    (to_zhao,) = [r for r in hospital.to(ZHAO) if "#" in r.text]
    assert to_zhao.at == local(DISCHARGED + timedelta(days=1), 12)
    assert not any(form in to_zhao.text for p in PATIENTS for form in forms(p))
    moved = await db.fetchall("SELECT person_id, acked_at FROM care_escalations ORDER BY id")
    assert tuple(moved[1]) == ("zhao", None)

    # -- the hospital's events: one readmitted, one patient sends TD --------------------------
    hospital.clock.now = local(DISCHARGED + timedelta(days=2), 11)
    assert await hospital.running.relay.care.event(READMITTED, "readmitted", "his")
    await hospital.sends(STOPPED, "TD")
    texted = {phone: len(hospital.to(phone)) for phone in (READMITTED, STOPPED)}

    # -- the rest of the plan ------------------------------------------------------------------
    await hospital.run_until(START + timedelta(days=35))

    for phone in (READMITTED, STOPPED):  # nothing more, counted at the phone
        assert len(hospital.to(phone)) == texted[phone], phone
    assert hospital.to(NO_CONSENT) == []  # a row without consent is never texted

    for phone in PATIENTS:
        got = hospital.to(phone)
        for r in got:  # every SMS to a patient inside the window, in local time
            assert 9 <= r.at.astimezone(ZONE).hour < 20, (phone, r.at)
        planned = [r.at for r in got if MENU in r.text]
        assert all(b - a >= GAP for a, b in pairwise(planned)), phone

    # the day-7 and day-30 steps went on their days to everyone still enrolled
    for phone in [*BETTER, *SAME, WORSE_ACKED, WORSE_IGNORED, *SILENT]:
        steps = [r for r in hospital.to(phone) if MENU in r.text and "温馨提醒" not in r.text]
        assert [r.at for r in steps] == [
            local(DISCHARGED + timedelta(days=d), 9) for d in (1, 7, 30)
        ], phone
        assert "出院已一周" in steps[1].text
        assert "出院已一个月" in steps[2].text

    # a patient who never answers: one reminder per step, then listed for a call
    for phone in SILENT:
        reminders = [r for r in hospital.to(phone) if "温馨提醒" in r.text]
        assert len(reminders) == 3, phone
    calls: dict[str, list[str]] = defaultdict(list)
    for row in await db.fetchall(
        "SELECT p.e164, c.step FROM care_calls c JOIN care_enrolments e ON e.id = c.enrolment_id"
        " JOIN phones p ON p.id = e.phone_id ORDER BY c.id"
    ):
        calls[row[0]].append(row[1])
    for phone in SILENT:
        assert calls[phone] == ["d1", "d7", "d30"], phone
    for phone in BETTER:  # answered day 1: chased for day 7 and day 30 only
        reminders = [r for r in hospital.to(phone) if "温馨提醒" in r.text]
        assert len(reminders) == 2, phone
        assert calls[phone] == ["d7", "d30"], phone

    statuses = await db.fetchall(
        "SELECT p.e164, e.status, e.ended_reason FROM care_enrolments e"
        " JOIN phones p ON p.id = e.phone_id"
    )
    ended = {r[0]: (r[1], r[2]) for r in statuses}
    assert ended[READMITTED] == ("cancelled", "readmitted")
    assert ended[STOPPED] == ("cancelled", "stop")
    assert {ended[p] for p in SILENT} == {("completed", None)}
