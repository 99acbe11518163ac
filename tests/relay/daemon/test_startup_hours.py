"""A fresh start queues the same SMS whatever the local hour: the experts' welcome, nothing else.

The whole daemon starts on a new database with its clock injected at each of the 24 local hours
of a Monday in Shanghai (the weekly digest's day). The experts config adds join at that moment,
so last week's digest is not theirs: they were not there. The daemon's first housekeeping round
(digests, then the retention purge, which is audited) has run before the outbox is read.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from smscat.relay.core.texts import render
from smscat.relay.daemon.app import Daemon, running_daemon
from smscat.relay.daemon.config import RetentionConfig
from smscat.storage.db import iso
from tests.support.daemon import DEPARTMENT, EXPERT_LI, EXPERT_ZHANG, settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
WELCOME = render("welcome_expert", dept=DEPARTMENT)
EXPECTED = sorted([("notice", EXPERT_ZHANG, WELCOME), ("notice", EXPERT_LI, WELCOME)])


async def housekept(running: Daemon) -> None:
    """Until the first housekeeping round is over: its last step, the purge, is audited."""
    async with asyncio.timeout(10):
        while True:
            if await running.relay.db.fetchall(
                "SELECT 1 FROM audit_log WHERE action = 'retention.purge'"
            ):
                return
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("hour", range(24), ids=lambda hour: f"{hour:02d}h30")
async def test_a_fresh_start_queues_only_the_welcome_sms_at_every_local_hour(
    tmp_path: Path, hour: int
) -> None:
    now = datetime(2026, 11, 23, hour, 30, tzinfo=SHANGHAI).astimezone(UTC)
    config = settings(tmp_path).model_copy(update={"retention": RetentionConfig(phone_days=365)})
    async with running_daemon(config, clock=lambda: now) as running:
        await housekept(running)
        rows = await running.relay.db.fetchall(
            "SELECT kind, recipient, text, created_at FROM outbox ORDER BY id"
        )
        joined = await running.relay.db.fetchall("SELECT DISTINCT created_at FROM experts")
    assert sorted((r["kind"], r["recipient"], r["text"]) for r in rows) == EXPECTED
    assert {r["created_at"] for r in rows} == {iso(now)}  # the injected clock, not the wall's
    assert [r["created_at"] for r in joined] == [iso(now)]
