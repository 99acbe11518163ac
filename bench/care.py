"""随访 at scale: the planner's cost, the database's growth, the board while a morning's steps go.

Usage: python bench/care.py [--quick] [--table] [--enrolments N] [--requests K]

1. Planner. A migrated database (bench/config.yaml's experts and settings, the built-in
   ``discharge`` plan: day 1, 7 and 30, each reminded once, then listed for a call) gets N
   enrolments (10,000; ``--quick``: 1,000) through ``relay.care.enrol_many`` in batches of 500,
   as discharge lists are uploaded, their anchors (discharge days) spread evenly over 30 days.
   Nobody answers. A hand clock then walks from the first anchor to 36 days after the last, an
   hour at a time, and at each hour the planner runs as the daemon's care task runs it
   (``tick(200)`` until a tick looks at fewer than 200, then ``move_overdue``). There is no
   modem: the SMS stay in the outbox as the planner wrote them. Reported: each tick's time per
   enrolment it looked at (p50/p95 over the ticks that looked at any), the p50/p95 of a tick of
   200, the database (file and WAL) after the enrolments and at the end, SMS written.
2. Board. A copy of that database taken on the busiest morning, 30 days after the first
   anchor at 08:30 (the first cohort's day-30 step, later cohorts' day-7 and day-1 steps, and
   the reminders of steps two days old all fall due at 09:00), with what was queued before
   marked as sent. The whole daemon (``running_daemon``: one built-in simulator at latency 0,
   every cap off) runs on it, its clock in this script's hand. ``GET /`` (the public board), one
   request at a time, K times (200; ``--quick``: 50) at 08:30 with nothing to send; then the
   clock goes to 09:00 and the care task is woken, and the board is asked again while the
   morning's SMS go through the pump to the modem, until none is left (at least K requests).
   Reported: p50/p95 of both, and the SMS sent and their rate. Then the same morning with the
   simulator at a real modem's pace (:data:`PACE` seconds an SMS): the board asked while the
   planner queues the whole morning, and K requests after.

The daemon, the simulator and this HTTP client share one process and event loop: both board
figures carry the same client overhead, and their difference is what the steps going out cost.
Full run: about 10 minutes; ``--quick``: about a minute. No goal is set: the numbers are a record.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import common

from smscat.relay.daemon.app import expert_rows, relay_options, running_daemon
from smscat.relay.daemon.config import Settings
from smscat.relay.daemon.config_file import load_config
from smscat.relay.services.care import EnrolRequest
from smscat.relay.services.relay import Relay
from smscat.storage.db import Database, iso

ANCHOR_DAYS = 30  # the anchors are spread over this many days
BATCH = 500  # enrolments per upload
TICK = 200  # enrolments per planner tick, as the daemon's care task asks
BUSY_DAY = 30  # days after the first anchor: the busiest morning (see the docstring)
PACE = 3.0  # seconds an SMS at a real modem's pace (NOTES.md: 8–20 SMS a minute a modem)
FIRST_ANCHOR = date(2026, 11, 2)  # a Monday
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
ZONE = ZoneInfo(load_config(common.CONFIG).timezone)


@dataclass
class Clock:
    """The relay's clock, moved by this script."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


def local(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def settings_for(directory: Path, database: Path, latency: float = 0.0) -> Settings:
    """bench/config.yaml on ``database``: one built-in simulator (``latency`` seconds an
    AT+CMGS), caps off."""
    modem = {"id": "m1", "port": "sim", "sim": {"send_latency": latency}}
    return load_config(common.write_config(directory, [modem], database=database))


def requests_for(n: int) -> list[EnrolRequest]:
    """N patients (fictional mobiles), their discharges spread over ANCHOR_DAYS days."""
    return [
        EnrolRequest(
            phone=f"+86137{i:08d}",
            nickname=SURNAMES[i % len(SURNAMES)] + ("先生" if i % 2 else "女士"),
            anchor=FIRST_ANCHOR + timedelta(days=i % ANCHOR_DAYS),
            plan="discharge",
            consent="written",
        )
        for i in range(n)
    ]


def size_mb(database: Path) -> float:
    files = [database, database.with_name(database.name + "-wal")]
    return round(sum(f.stat().st_size for f in files if f.exists()) / 2**20, 2)


def busy_copy(database: Path, copy: Path) -> None:
    """The database as it stands, with what was queued marked as gone (the daemon had a modem),
    and every expert already welcomed (no welcome SMS joins the measured queue)."""
    with (
        contextlib.closing(sqlite3.connect(database)) as source,
        contextlib.closing(sqlite3.connect(copy)) as target,
    ):
        source.backup(target)
        target.execute(
            "UPDATE outbox SET status = 'delivered', sent_at = next_attempt_at"
            " WHERE status = 'queued'"
        )
        target.execute("UPDATE experts SET welcomed_at = created_at")
        target.commit()


async def plan(directory: Path, n: int) -> tuple[dict[str, Any], Path]:
    """Part 1: enrol, walk the clock, time every tick; the busy morning's copy."""
    database = directory / "care.db"
    settings = settings_for(directory, database)
    clock = Clock(local(FIRST_ANCHOR, 8))
    copy = directory / "busy.db"
    ticks: list[tuple[float, int]] = []  # (seconds, enrolments looked at)
    async with Database.open(database) as db:
        await db.sync_experts(expert_rows(settings), at=clock())
        relay = Relay(db, relay_options(settings), clock=clock)
        requests = requests_for(n)
        started = time.perf_counter()
        for first in range(0, n, BATCH):
            await relay.care.enrol_many(requests[first : first + BATCH], "bench", "csv")
        enrol_s = time.perf_counter() - started
        common.note(f"{n:,} enrolled in {enrol_s:.1f} s")
        before = size_mb(database)
        end = local(FIRST_ANCHOR + timedelta(days=ANCHOR_DAYS + 36), 8)
        busy = local(FIRST_ANCHOR + timedelta(days=BUSY_DAY), 8, 30)
        while clock.now < end:
            clock.now += timedelta(hours=1)
            if clock.now == busy + timedelta(minutes=30):
                busy_copy(database, copy)  # as the 08:00 look left it: 09:00's is next
            while True:
                started = time.perf_counter()
                looked = await relay.care.tick(TICK)
                if looked:
                    ticks.append((time.perf_counter() - started, looked))
                if looked < TICK:
                    break
            await relay.care_replies.move_overdue()
            if clock.now.astimezone(ZONE).hour == 9:
                day = (clock.now - local(FIRST_ANCHOR, 9)).days
                if day % 10 == 0:
                    common.note(f"day {day}: {len(ticks):,} ticks so far")
        counts = await db.fetchall("SELECT status, count(*) FROM care_enrolments GROUP BY status")
        (written,) = await db.fetchall("SELECT count(*) FROM outbox WHERE kind = 'care'")
        (calls,) = await db.fetchall("SELECT count(*) FROM care_calls")
    per_enrolment = [s / looked for s, looked in ticks]
    full = [s for s, looked in ticks if looked == TICK]
    result = {
        "enrolments": n,
        "enrol_seconds": round(enrol_s, 2),
        "ticks": len(ticks),
        "looks": sum(looked for _, looked in ticks),
        "ms_per_enrolment_looked_at": {
            "p50": common.ms(common.percentile(per_enrolment, 50)),
            "p95": common.ms(common.percentile(per_enrolment, 95)),
        },
        "tick_of_200_ms": {
            "n": len(full),
            "p50": common.ms(common.percentile(full, 50)),
            "p95": common.ms(common.percentile(full, 95)),
        },
        "database_mb": {"after_enrolment": before, "at_the_end": size_mb(database)},
        "care_sms_written": written[0],
        "calls_listed": calls[0],
        "enrolments_by_status": {r[0]: r[1] for r in counts},
    }
    return result, copy


async def board_times(
    http: aiohttp.ClientSession, url: str, k: int, until: asyncio.Event | None = None
) -> list[float]:
    """``GET /`` one at a time, K times (and, with ``until``, on until it is set)."""
    times: list[float] = []
    while len(times) < k or (until is not None and not until.is_set()):
        started = time.perf_counter()
        async with http.get(url + "/") as resp:
            await resp.read()
            assert resp.status == 200, resp.status
        times.append(time.perf_counter() - started)
    return times


async def board(directory: Path, copy: Path, k: int, pace: float = 0.0) -> dict[str, Any]:
    """Part 2: the board with nothing to send, then while the busy morning's SMS go out
    (``k`` 0: the board is not asked, the morning's SMS go out alone). ``pace``: seconds an
    AT+CMGS takes; above 0 (a real modem's pace), the board is asked while the planner queues
    the morning and K requests after, not until the queue is empty (that takes hours)."""
    morning = FIRST_ANCHOR + timedelta(days=BUSY_DAY)
    clock = Clock(local(morning, 8, 30))
    async with (
        running_daemon(settings_for(directory, copy, pace), clock=clock) as running,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
    ):
        db = running.relay.db
        await common.wait_registered(http, running.url, 1)
        idle = await board_times(http, running.url, k)
        (sent_before,) = await db.fetchall("SELECT count(*) FROM outbox WHERE status != 'queued'")
        clock.now = local(morning, 9)
        running.relay.care.changed.set()  # the care task looks at the new time
        done = asyncio.Event()

        async def drained() -> bool:
            now = iso(clock.now)
            due = await db.fetchall(
                "SELECT 1 FROM care_enrolments WHERE status = 'active' AND next_at <= ? LIMIT 1",
                (now,),
            )
            queued = await db.fetchall(
                "SELECT 1 FROM outbox WHERE status = 'queued' AND next_attempt_at <= ? LIMIT 1",
                (now,),
            )
            return not due and (pace > 0 or not queued)

        started = time.perf_counter()
        async with asyncio.TaskGroup() as tasks:
            busy = tasks.create_task(board_times(http, running.url, k, done if k else None))
            await common.poll_until(drained, 0.1)
            if pace > 0:  # as many requests again once the planner is done
                await board_times(http, running.url, k)
            sending_s = time.perf_counter() - started
            done.set()
        (sent_after,) = await db.fetchall("SELECT count(*) FROM outbox WHERE status != 'queued'")
    sent = sent_after[0] - sent_before[0]
    return {
        "board_idle": _p(idle),
        "board_while_sending": _p(busy.result()),
        "sms_sent": sent,
        "sending_seconds": round(sending_s, 2),
        "sms_per_second": round(sent / sending_s, 1) if sending_s else None,
    }


def _p(seconds: list[float]) -> dict[str, float | int] | None:
    if not seconds:
        return None
    return {
        "n": len(seconds),
        "p50_ms": common.ms(common.percentile(seconds, 50)),
        "p95_ms": common.ms(common.percentile(seconds, 95)),
    }


async def run(args: argparse.Namespace) -> None:
    n = args.enrolments or (1000 if args.quick else 10_000)
    k = args.requests or (50 if args.quick else 200)
    with tempfile.TemporaryDirectory(prefix="smscat-care-") as tmp:
        directory = Path(tmp)
        planner, copy = await plan(directory, n)
        common.note(f"planner: {planner['ticks']:,} ticks; the board on the busy morning")
        alone_copy = directory / "busy-alone.db"
        shutil.copyfile(copy, alone_copy)
        boards = await board(directory, copy, k)
        common.note("the busy morning again, the board not asked")
        paced_copy = directory / "busy-paced.db"
        shutil.copyfile(alone_copy, paced_copy)
        alone = await board(directory, alone_copy, 0)
        common.note(f"the busy morning at a modem's pace ({PACE} s an SMS)")
        paced = await board(directory, paced_copy, k, PACE)
    result = {
        "planner": planner,
        **boards,
        "alone": {key: alone[key] for key in ("sms_sent", "sending_seconds", "sms_per_second")},
        "paced": paced,
    }
    ms_each, full, size = (
        planner["ms_per_enrolment_looked_at"],
        planner["tick_of_200_ms"],
        planner["database_mb"],
    )
    idle, busy = boards["board_idle"], boards["board_while_sending"]
    unasked = f"the board not asked: {alone['sending_seconds']} s, {alone['sms_per_second']}/s"
    common.emit(
        args,
        result,
        title="随访 planner and board",
        n=f"{n:,} enrolments over {ANCHOR_DAYS} days of anchors; {k} board requests a phase",
        columns=["measure", "p50", "p95", "note"],
        rows=[
            [
                "planner ms per enrolment looked at",
                ms_each["p50"],
                ms_each["p95"],
                f"{planner['looks']:,} looks in {planner['ticks']:,} ticks",
            ],
            ["planner tick of 200, ms", full["p50"], full["p95"], f"{full['n']:,} such ticks"],
            ["board GET / ms, nothing to send", idle["p50_ms"], idle["p95_ms"], f"n {idle['n']}"],
            [
                f"board GET / ms, the planner queueing the morning, a modem at {PACE} s an SMS",
                paced["board_while_sending"]["p50_ms"],
                paced["board_while_sending"]["p95_ms"],
                f"n {paced['board_while_sending']['n']}; {paced['sms_sent']} SMS went meanwhile",
            ],
            [
                "board GET / ms, steps going out at the simulator's full speed",
                busy["p50_ms"],
                busy["p95_ms"],
                f"n {busy['n']}; {boards['sms_sent']:,} SMS in {boards['sending_seconds']} s"
                f" ({boards['sms_per_second']}/s; {unasked})",
            ],
        ],
        notes=[
            f"Database {size['after_enrolment']} MB after the enrolments, {size['at_the_end']} MB"
            f" after {ANCHOR_DAYS + 36} days ({planner['care_sms_written']:,} plan SMS written,"
            f" {planner['calls_listed']:,} calls listed)."
        ],
    )


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--enrolments", type=int, help="patients enrolled (10,000; --quick: 1,000)")
    parser.add_argument("--requests", type=int, help="board requests a phase (200; --quick: 50)")
    common.main(run, parser.parse_args())


if __name__ == "__main__":
    main()
