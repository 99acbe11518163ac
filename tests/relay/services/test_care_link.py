"""A 随访 step that links to its plan's page instead of naming a condition: each send carries a
fresh token whose page shows the plan's text for that patient (and only theirs); the reminder
carries no link; an unknown token and an erased patient's open nothing; a ``{link}`` needs a
page, and config.yaml needs ``web.public_url`` for one (check-config names where)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from smscat.relay.daemon.app import relay_options
from smscat.relay.daemon.cli import main
from smscat.relay.services import retention
from smscat.relay.services.care_links import care_page
from smscat.relay.services.care_record import CareConfig, PlanConfig
from smscat.relay.services.context import RelayOptions, token_hash
from tests.relay.services.test_care import (
    DOCTOR,
    NURSE,
    PATIENT,
    START,
    ZONE,
    CareWorld,
    local,
)
from tests.support.daemon import settings
from tests.support.relay import world_on

PUBLIC = "https://ask.example.org"
OTHER = "+8613812340001"
LINK = re.compile(re.escape(PUBLIC) + r"/f/([A-Za-z0-9_-]+)")
CONDITION = "心力衰竭"  # what the page may name and an SMS never does
PAGE = (
    "{nickname}您好：您因"
    + CONDITION
    + "于{date}出院，主治医生{doctor}。\n每天称体重，气短加重请就医。"
)


def plan(**extra: object) -> PlanConfig:
    body: dict[str, object] = {
        "name": "discharge",
        "title": "出院随访",
        "page": PAGE,
        "steps": [
            {"key": "d1", "day": 1, "text": "【{dept}】{nickname}您好，出院须知：{link}",
             "menu": {"1": "好转", "3": "加重"}, "warn": ["3"]},
            {"key": "d7", "day": 7, "text": "{nickname}您好，一周须知：{link}"},
        ],
    }  # fmt: skip
    return PlanConfig.model_validate(body | extra)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[CareWorld]:
    care = CareConfig(plans=[plan()]).options(ZONE)
    options = RelayOptions(department="心内科", zone=ZONE, care=care, public_url=PUBLIC)
    async with world_on(tmp_path, [NURSE, DOCTOR], options, now=START, kind=CareWorld) as w:
        yield w


def tokens(texts: list[str]) -> list[str]:
    return [m.group(1) for t in texts for m in LINK.finditer(t)]


async def test_the_step_sms_links_to_the_page_which_names_what_the_sms_does_not(
    world: CareWorld,
) -> None:
    await world.enrol()
    await world.run_until(local(date(2026, 11, 24), 10))
    (sms,) = await world.sms_to(PATIENT)
    assert sms.startswith(f"【心内科】张先生您好，出院须知：{PUBLIC}/f/")
    assert CONDITION not in sms
    (token,) = tokens([sms])
    assert len(token) == 16  # secrets.token_urlsafe(12)
    stored = await world.db.fetchall("SELECT token_hash, step FROM care_links")
    assert [tuple(r) for r in stored] == [(token_hash(token), "d1")]  # the hash, never the token
    page = await care_page(world.relay.care, token)
    assert page is not None
    assert page.title == "出院随访"
    assert page.text == (
        f"张先生您好：您因{CONDITION}于11月23日出院，主治医生李医生。\n每天称体重，气短加重请就医。"
    )
    assert PATIENT not in repr(page)
    assert CONDITION not in repr(page)


async def test_the_reminder_has_no_link_and_each_step_its_own_token(world: CareWorld) -> None:
    await world.enrol()
    await world.run_until(local(date(2026, 11, 30), 10))
    step1, reminder, step7 = await world.sms_to(PATIENT)
    assert "温馨提醒" in reminder
    assert tokens([reminder]) == []
    first, second = tokens([step1, step7])
    assert first != second
    for token in (first, second):
        assert await care_page(world.relay.care, token) is not None


async def test_a_token_opens_its_own_patients_page_only(world: CareWorld) -> None:
    await world.enrol()
    await world.enrol(phone=OTHER, nickname="李女士", doctor_id=None)
    await world.run_until(local(date(2026, 11, 24), 12))
    (mine,) = tokens(await world.sms_to(PATIENT))
    (theirs,) = tokens(await world.sms_to(OTHER))
    page = await care_page(world.relay.care, mine)
    other = await care_page(world.relay.care, theirs)
    assert page is not None
    assert other is not None
    assert "张先生" in page.text
    assert "李女士" not in page.text
    assert "李女士" in other.text
    assert "张先生" not in other.text
    assert "主治医生。" in other.text  # (no doctor: the variable is empty)
    assert await care_page(world.relay.care, "A" * 16) is None
    assert await care_page(world.relay.care, mine[:-1]) is None


async def test_an_erased_patients_links_open_nothing(world: CareWorld) -> None:
    await world.enrol()
    await world.enrol(phone=OTHER, nickname="李女士")
    await world.run_until(local(date(2026, 11, 24), 12))
    (mine,) = tokens(await world.sms_to(PATIENT))
    (theirs,) = tokens(await world.sms_to(OTHER))
    await retention.erase_phone(world.db, PATIENT, "admin", world.clock.now)
    assert await care_page(world.relay.care, mine) is None
    assert await care_page(world.relay.care, theirs) is not None
    rows = await world.db.fetchall("SELECT token_hash FROM care_links")
    assert [r[0] for r in rows] == [token_hash(theirs)]


def test_a_link_needs_a_page_and_a_page_only_its_variables() -> None:
    with pytest.raises(ValidationError, match=r"step d1: \{link\} needs the plan's page"):
        plan(page=None)
    with pytest.raises(ValidationError, match="unknown variable"):
        plan(page="{nickname}的{diagnosis}")
    with pytest.raises(ValidationError, match=r"unknown variable\(s\) link"):
        plan(page="再看一次：{link}")
    with pytest.raises(ValidationError, match="2000"):
        plan(page="字" * 2001)
    assert plan(page="字" * 2000).to_plan().page == "字" * 2000
    # a plan without a link needs no page
    text = "{nickname}您好"
    assert plan(page=None, steps=[{"key": "d1", "day": 1, "text": text}]).to_plan().page is None


LINKED = """
modems: [{id: sim1, port: sim}]
care:
  plans:
    - name: discharge
      title: 出院随访
      page: "{nickname}您好，出院须知"
      steps:
        - {key: d1, day: 1, text: "{nickname}您好"}
        - {key: d7, day: 7, text: "{nickname}您好，须知：{link}"}
"""


def test_check_config_refuses_a_link_without_web_public_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(LINKED, encoding="utf-8")
    assert main(["check-config", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert "care.plans[0].steps[1].text uses {link}: set web.public_url" in err
    path.write_text(f"{LINKED}web: {{public_url: '{PUBLIC}/'}}\n", encoding="utf-8")
    assert main(["check-config", "-c", str(path)]) == 0
    assert "ok" in capsys.readouterr().out


def test_the_relay_gets_the_public_url(tmp_path: Path) -> None:
    assert relay_options(settings(tmp_path)).public_url is None
    with_url = settings(tmp_path, web={"public_url": PUBLIC + "/"})
    assert relay_options(with_url).public_url == PUBLIC


async def test_an_admins_linked_plan_without_public_url_sends_nothing_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """config.yaml is checked for the address; an admin's edit saved later cannot be, so the
    planner refuses to send a link it cannot make (logged by enrolment id) and tries later."""
    options = RelayOptions(department="心内科", zone=ZONE, care=CareConfig().options(ZONE))
    async with world_on(tmp_path, [NURSE, DOCTOR], options, now=START, kind=CareWorld) as w:
        await w.relay.care.save_plan(plan(), "admin")
        enrolment = await w.enrol()
        with caplog.at_level("ERROR"):
            await w.run_until(local(date(2026, 11, 24), 9), step=timedelta(hours=1))
        assert await w.sms_to(PATIENT) == []
        assert f"care enrolment {enrolment} cannot be planned" in caplog.text
        assert await w.db.fetchall("SELECT * FROM care_links") == []
