"""随访 in the daemon: config.yaml's ``care:`` (checked by its YAML path, the shipped examples are
the built-in plan) and the planner task, which looks when an enrolment may be due, when the next
one is, and goes on after an error."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from smscat.relay.core.care import Window
from smscat.relay.daemon.app import relay_options, running_daemon
from smscat.relay.daemon.cli import main
from smscat.relay.daemon.config_file import ConfigError, load_config
from smscat.relay.services.care import EnrolRequest
from smscat.relay.services.care_record import DEFAULT_PLAN, CareConfig
from tests.support.daemon import TIMEOUT, Client, settings

ROOT = Path(__file__).resolve().parents[3]
ZONE = ZoneInfo("Asia/Shanghai")
PATIENT = "+8613912340001"
PATIENT_2 = "+8613912340002"
BAD_STEP = """
modems: [{id: sim1, port: sim}]
care:
  plans:
    - name: discharge
      title: 出院随访
      steps:
        - {key: d1, day: 1, text: "{nickname}您好"}
        - {key: d7, day: 7, text: "{nickname}您好，{diagnosis}好些了吗？"}
"""


# -- config.yaml ---------------------------------------------------------------------------


def test_check_config_names_a_bad_care_key_by_its_yaml_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(BAD_STEP, encoding="utf-8")
    assert main(["check-config", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert "care.plans[0].steps[1].text: unknown variable(s) diagnosis" in err
    for bad, where in (
        ("  send_window: 20:00-09:00", "care.send_window"),
        ("  working_days: [7]", "care.working_days"),
        ("  gap: 20", "care.gap"),  # (a misspelt key: unknown)
    ):
        path.write_text(f"care:\n{bad}\n", encoding="utf-8")
        with pytest.raises(ConfigError) as refused:
            load_config(path)
        assert [p for p, _ in refused.value.problems] == [where]


@pytest.mark.parametrize("example", ["config.yaml", "deploy/config.yaml"])
def test_the_shipped_examples_spell_out_the_built_in_plan(
    example: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commented ``care:`` of each example is what applies without one: editing it is the
    way to start, and it cannot drift from the code's default."""
    monkeypatch.setenv("SMSCAT_WEB__SECRET_KEY", "k" * 43)  # (the server's example needs one)
    assert load_config(ROOT / example).care == CareConfig()
    assert [p.name for p in CareConfig().plans] == [DEFAULT_PLAN]


def test_the_embedded_default_passes_the_strict_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--strict", "-c", str(ROOT / "config.yaml")]) == 0
    assert "ok" in capsys.readouterr().out


def test_the_relay_gets_the_care_settings_in_the_department_zone(tmp_path: Path) -> None:
    care = CareConfig(send_window="08:30-19:00", gap_hours=24, ack_within_hours=1)
    options = relay_options(settings(tmp_path).model_copy(update={"care": care}))
    assert options.care.window == Window(
        start=time(8, 30),
        end=time(19),
        gap=timedelta(hours=24),
        zone=ZONE,
    )
    assert options.care.hours.zone == ZONE
    assert options.care.ack_within == timedelta(hours=1)
    assert set(options.care.plans) == {DEFAULT_PLAN}


# -- the planner task ----------------------------------------------------------------------


@dataclass
class RunningClock:
    """The relay's clock: ``start`` until :meth:`run`, then moving at the pace of the event
    loop's monotonic time (the planner task must wake at its next look by itself, without a
    test moving time; held until then, however long the daemon takes to start)."""

    start: datetime
    origin: float | None = field(default=None)

    def run(self) -> None:
        self.origin = asyncio.get_running_loop().time()

    def __call__(self) -> datetime:
        if self.origin is None:
            return self.start
        return self.start + timedelta(seconds=asyncio.get_running_loop().time() - self.origin)


def enrolment(phone: str, anchor: date) -> EnrolRequest:
    return EnrolRequest(
        phone=phone, nickname="张先生", anchor=anchor, plan=DEFAULT_PLAN, consent="written"
    )


def local(d: date, hour: int, minute: int = 0, second: float = 0) -> datetime:
    at = datetime(d.year, d.month, d.day, hour, minute, tzinfo=ZONE)
    return (at + timedelta(seconds=second)).astimezone(UTC)


async def test_the_task_sends_a_step_when_it_falls_due_without_being_asked(
    tmp_path: Path,
) -> None:
    """Enrolled a moment before the window opens: the task is woken by the enrolment, finds
    the step due at 09:00, and looks again then by itself (``next_look``)."""
    tuesday = date(2026, 11, 24)
    clock = RunningClock(local(tuesday, 8, 59, 59.5))
    async with (
        running_daemon(settings(tmp_path), clock=clock) as running,
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
    ):
        client = Client(http, running.url, running.simulators["sim1"])
        await running.relay.care.enrol(
            enrolment(PATIENT, tuesday - timedelta(days=1)), "a", "admin"
        )
        clock.run()  # half a second to 09:00
        text = await client.wait_for_sms(PATIENT, lambda t: "出院已1天" in t, seconds=10)
        assert "回复1 好转，2 没变化，3 加重" in text
        (sent,) = await running.relay.db.fetchall(
            "SELECT o.created_at FROM care_sends s JOIN outbox o ON o.id = s.outbox_id"
        )
        assert datetime.fromisoformat(sent[0]) >= local(tuesday, 9)  # not before the window


async def test_the_task_goes_on_after_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A round that fails (here: a table gone from under it) is logged; the next enrolment
    still gets its step, woken by that enrolment, not by a minute's wait."""
    tuesday = date(2026, 11, 24)
    clock = RunningClock(local(tuesday, 10))
    caplog.set_level(logging.ERROR, logger="smscat")
    async with (
        running_daemon(settings(tmp_path), clock=clock) as running,
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
    ):
        client = Client(http, running.url, running.simulators["sim1"])
        db = running.relay.db
        async with db.transaction() as conn:
            await conn.execute("ALTER TABLE care_escalations RENAME TO care_escalations_away")
        yesterday = tuesday - timedelta(days=1)
        await running.relay.care.enrol(enrolment(PATIENT, yesterday), "a", "admin")
        await client.wait_for_sms(PATIENT, lambda t: "出院已1天" in t, seconds=10)
        await _logged(caplog, "care planner: an error")
        async with db.transaction() as conn:
            await conn.execute("ALTER TABLE care_escalations_away RENAME TO care_escalations")
        await running.relay.care.enrol(enrolment(PATIENT_2, yesterday), "a", "admin")
        await client.wait_for_sms(PATIENT_2, lambda t: "出院已1天" in t, seconds=10)


async def _logged(caplog: pytest.LogCaptureFixture, words: str) -> None:
    async with asyncio.timeout(10):
        while not any(words in r.getMessage() for r in caplog.records):  # noqa: ASYNC110
            await asyncio.sleep(0.02)  # (a log record is no event to wait on)
