"""The admin's 随访 page over real HTTP, on a running daemon whose relay clock the test moves:
enrolling (refusals beside their fields, consent chosen, twice is once), red flags acknowledged,
calls marked done, a patient's number shown only on request and audited with who read it, an
enrolment cancelled, a plan edited (its first problem in words, never a 500), and the
dashboard's 随访预警 block."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from markupsafe import escape

from smscat.relay.daemon.app import Daemon, running_daemon
from smscat.relay.services.care import EnrolRequest
from smscat.storage import care as care_db
from smscat.storage.db import iso
from smscat.web.texts import render
from tests.support.admin import ADMINS, CSRF, Browser
from tests.support.daemon import EXPERT_ZHANG, TIMEOUT, Client, settings
from tests.support.relay import Clock, received

# Monday 2026-11-23, 10:00 in Shanghai; the patients left hospital the day before, so the plan's
# day-1 SMS is due (09:00) as soon as they are enrolled
MONDAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
DISCHARGED = date(2026, 11, 22)
PATIENT = "+8613700001111"  # fictional
OTHER = "+8613700002222"
ENROL = {
    "phone": "137 0000 1111",
    "nickname": "王女士",
    "anchor": "2026-11-22",
    "plan": "discharge",
    "doctor": "zhang",
    "consent": "written",
}


@dataclass
class Care:
    """The daemon, its relay's clock, an admin's browser (logged in) and the test's SMS refs."""

    running: Daemon
    client: Client
    clock: Clock
    admin: Browser
    refs: int = 0

    async def sms(self, sender: str, text: str) -> None:
        """``sender`` texts the hospital's SIM; the relay routes it now (as test_care does)."""
        self.refs += 1
        inbound = self.running.relay.inbound
        for part in received(sender, text, self.clock.now, 200 + self.refs):
            await inbound.store_part("sim1", part)
        await inbound.process_inbound()

    async def enrol(self, phone: str = OTHER, nickname: str = "李先生") -> int:
        request = EnrolRequest(
            phone=phone, nickname=nickname, anchor=DISCHARGED, plan="discharge",
            consent="verbal", doctor_id="zhang",
        )  # fmt: skip
        return (await self.running.relay.care.enrol(request, "admin:root", "admin")).enrolment.id

    async def red_flag(self, phone: str = OTHER, text: str = "3") -> int:
        """An enrolled patient gets the day-1 SMS and answers ``text`` (a warning): the id of
        the escalation raised."""
        await self.enrol(phone)
        await self.running.relay.care.tick()
        await self.sms(phone, text)
        rows = await self.db(
            "SELECT x.id FROM care_escalations x JOIN care_enrolments c ON c.id = x.enrolment_id"
            " JOIN phones p ON p.id = c.phone_id WHERE p.e164 = ?",
            phone,
        )
        assert len(rows) == 1, "the reply raised a red flag"
        return int(rows[0][0])

    async def db(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self.running.relay.db.fetchall(sql, params)]

    async def page(self, path: str = "/admin/care?lang=en") -> tuple[str, str]:
        status, headers, body, _ = await self.admin.get(path)
        assert status == 200, body
        assert headers["Cache-Control"] == "no-store"
        found = CSRF.search(body)
        assert found
        return body, found.group(1)


@pytest.fixture
async def care(tmp_path: Path) -> AsyncIterator[Care]:
    clock = Clock(MONDAY)
    config = settings(tmp_path, admins=ADMINS)
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        running_daemon(config, clock=clock) as running,
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
        aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=jar) as admin_http,
    ):
        admin = Browser(admin_http, running.url)
        assert (await admin.login())[0] == 303
        yield Care(running, Client(http, running.url, running.simulators["sim1"]), clock, admin)


async def care_items(running: Daemon) -> None:
    """An enrolment (1), a red flag (1) and a call (1) straight into storage, for the route
    guards' table to aim its forms at."""
    request = EnrolRequest(
        phone="13700003333", nickname="赵女士", anchor=date(2026, 11, 22), plan="discharge",
        consent="verbal", doctor_id="zhang",
    )  # fmt: skip
    enrolled = await running.relay.care.enrol(request, "test", "admin")
    at = iso(running.relay.clock())
    async with running.relay.db.transaction() as conn:
        eid = enrolled.enrolment.id
        reply = await care_db.add_reply(conn, eid, "d1", None, "3", "3", True, (), at)
        await care_db.add_escalation(conn, eid, reply, "zhang", 5, 0, at, at)
        await care_db.add_call(conn, eid, "d1", at)


def escape_(text: str) -> str:
    """``text`` as the templates write it into the page (Jinja's escaping)."""
    return str(escape(text))


def row_of(body: str, attribute: str) -> str:
    """The list item or table row marked ``attribute`` (``data-escalation="1"``)."""
    start = body.index(attribute)
    end = min(i for i in (body.find("</li>", start), body.find("</tr>", start)) if i > 0)
    return body[start:end]


# -- enrolling -----------------------------------------------------------------------------------


async def test_a_patient_is_enrolled_through_the_form(care: Care) -> None:
    body, csrf = await care.page()
    assert 'href="/admin/care?lang=en" aria-current="page"' in body  # its place in the nav
    assert render("admin.care.no_enrolments", "en") in body
    assert 'href="/admin/care/upload?lang=en"' in body  # the discharge list, many at once
    # consent has no default: the first choice says "choose" and is the one selected
    assert f'<option value="" selected>{render("admin.care.consent_choose", "en")}' in body

    status, headers, _, _ = await care.admin.post(
        "/admin/care/enrol?lang=en", {"csrf": csrf, **ENROL}
    )
    assert status == 303
    assert headers["Location"] == "/admin/care?lang=en"
    await care.running.relay.care.tick()  # (the daemon's planner may have looked already)
    body, _ = await care.page()
    assert escape_(render("admin.care.enrolled", "en", nickname="王女士")) in body
    row = row_of(body, 'data-enrolment="1"')
    assert "王女士" in row
    assert "•••• 1111" in row
    assert "出院随访" in row
    assert "2026-11-22" in row
    assert render("admin.care.status.active", "en") in row
    assert "张明" in row
    assert f"{render('admin.care.step_day', 'en', day=7)} · 2026-11-29" in row  # day 1 went
    assert PATIENT not in body
    assert "13700001111" not in body

    (enrolment,) = await care.db(
        "SELECT plan, nickname, anchor, doctor_id, consent_how, consent_by, source, status"
        " FROM care_enrolments"
    )
    assert enrolment == (
        "discharge", "王女士", "2026-11-22", "zhang", "written", "admin:root", "admin", "active",
    )  # fmt: skip
    audited = await care.db("SELECT actor, action FROM audit_log WHERE action LIKE 'care.%'")
    assert audited == [("admin:root", "care.enrol"), ("admin:root", "care.consent")]


async def test_enrolling_twice_is_one_enrolment_and_says_so(care: Care) -> None:
    _, csrf = await care.page()
    for _ in range(2):
        status, _, _, _ = await care.admin.post(
            "/admin/care/enrol?lang=en", {"csrf": csrf, **ENROL}
        )
        assert status == 303
    body, _ = await care.page()
    assert escape_(render("admin.care.already_enrolled", "en", nickname="王女士")) in body
    assert len(await care.db("SELECT id FROM care_enrolments")) == 1


@pytest.mark.parametrize(
    ("change", "field", "key"),
    [
        ({"consent": ""}, "consent", "consent_missing"),
        ({"consent": "yes"}, "consent", "consent_missing"),
        ({"phone": "12345"}, "phone", "phone_invalid"),
        ({"phone": EXPERT_ZHANG}, "phone", "phone_staff"),
        ({"phone": "010 6552 8000"}, "phone", "phone_not_mobile"),
        ({"nickname": ""}, "nickname", "nickname_length"),
        ({"nickname": "王13912345678"}, "nickname", "nickname_number"),
        ({"plan": "nope"}, "plan", "plan_unknown"),
        ({"doctor": "nobody"}, "doctor", "doctor_unknown"),
        ({"anchor": ""}, "anchor", "care_anchor"),
        ({"anchor": "2026-13-40"}, "anchor", "care_anchor"),
    ],
)
async def test_a_wrong_form_is_refused_beside_its_field(
    care: Care, change: dict[str, str], field: str, key: str
) -> None:
    _, csrf = await care.page()
    form = {"csrf": csrf, **ENROL, **change}
    status, _, body, _ = await care.admin.post("/admin/care/enrol?lang=en", form)
    assert status == 422, body
    assert f'<p class="field-error" id="{field}-error">' in body
    assert escape_(render(f"admin.error.{key}", "en")) in body
    assert 'aria-invalid="true"' in body
    assert render("admin.care.phone_again", "en") in body  # a typed number is never shown again
    assert "0000 1111" not in body
    assert "13700001111" not in body
    if field != "nickname":
        assert 'value="王女士"' in body  # the rest of the form comes back as typed
    assert await care.db("SELECT id FROM care_enrolments") == []


async def test_a_number_that_sent_stop_is_refused(care: Care) -> None:
    await care.enrol(PATIENT)
    await care.running.relay.care.tick()  # the day-1 SMS
    await care.sms(PATIENT, "TD")
    assert await care.db("SELECT status, ended_reason FROM care_enrolments") == [
        ("cancelled", "stop")
    ]
    _, csrf = await care.page()
    status, _, body, _ = await care.admin.post("/admin/care/enrol?lang=en", {"csrf": csrf, **ENROL})
    assert status == 422
    assert escape_(render("admin.error.phone_stopped", "en")) in body
    assert len(await care.db("SELECT id FROM care_enrolments")) == 1


# -- red flags and calls ------------------------------------------------------------------------


async def test_a_red_flag_is_listed_masked_and_acknowledged_on_the_page(care: Care) -> None:
    escalation = await care.red_flag()
    body, csrf = await care.page()
    card = row_of(body, f'data-escalation="{escalation}"')
    assert "李先生" in card
    assert "出院随访" in card
    assert '<blockquote class="reply">3</blockquote>' in card
    assert escape_(render("admin.care.answered", "en", answer="加重")) in card
    assert "张明" in card  # the doctor holds it (the plan has no rota)
    assert "2026-11-23 12:00" in card  # two working hours
    assert "•••• 2222" in card
    assert OTHER not in body
    assert render("admin.care.overdue", "en") not in card

    dashboard, _ = await care.page("/admin?lang=en")
    block = dashboard[dashboard.index('id="care-alerts"') :]
    assert "李先生" in block
    assert 'href="/admin/care?lang=en#escalations"' in block
    assert OTHER not in dashboard
    assert re.search(r'data-tile="red_flags"><a href="/admin/care#escalations">1<', dashboard)
    assert render("admin.needs_attention", "en") in dashboard  # the verdict says why

    care.clock.now = MONDAY + timedelta(hours=3)  # past its deadline
    body, _ = await care.page()
    card = row_of(body, f'data-escalation="{escalation}"')
    assert 'class="care-alert overdue"' in body
    assert render("admin.care.overdue", "en") in card

    await care.running.relay.care_replies.move_overdue()  # nobody else is on the rota
    body, _ = await care.page()
    card = row_of(body, f'data-escalation="{escalation}"')
    assert 'class="care-alert unheld"' in body
    assert render("admin.care.unheld", "en") in card
    assert escape_(render("admin.care.nobody", "en")) in card

    path = f"/admin/care/escalations/{escalation}/ack?lang=en"
    status, _, _, _ = await care.admin.post(path, {"csrf": csrf})
    assert status == 303
    body, _ = await care.page()
    assert escape_(render("admin.care.acked", "en")) in body
    assert f'data-escalation="{escalation}"' not in body
    assert render("admin.care.no_escalations", "en") in body
    assert await care.db("SELECT acked_by FROM care_escalations") == [("admin:root",)]
    assert ("admin:root", "care.escalation_ack", str(escalation)) in await care.db(
        "SELECT actor, action, subject FROM audit_log"
    )
    dashboard, _ = await care.page("/admin?lang=en")
    assert 'id="care-alerts"' not in dashboard
    assert 'data-tile="red_flags"' not in dashboard

    status, _, _, _ = await care.admin.post(path, {"csrf": csrf})  # twice: said, nothing more
    assert status == 303
    body, _ = await care.page()
    assert escape_(render("admin.care.ack_gone", "en")) in body


async def test_a_number_is_shown_on_request_only_and_the_reading_is_audited(care: Care) -> None:
    escalation = await care.red_flag()
    _, csrf = await care.page()
    status, headers, body, _ = await care.admin.post(
        f"/admin/care/escalations/{escalation}/number?lang=en", {"csrf": csrf}
    )
    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    assert f'<a class="number-shown" href="tel:{OTHER}">{OTHER}</a>' in body
    assert body.count(OTHER) == 2  # the link and its words, in that card only
    reads = await care.db(
        "SELECT actor, subject FROM audit_log WHERE action = 'care.escalation_read'"
    )
    assert reads == [("admin:root", str(escalation))]
    body, _ = await care.page()  # the next page shows the last four digits again
    assert OTHER not in body

    status, _, body, _ = await care.admin.post(
        "/admin/care/escalations/999/number?lang=en", {"csrf": csrf}
    )
    assert status == 404
    assert escape_(render("admin.error.escalation", "en")) in body
    assert len(await care.db("SELECT id FROM audit_log WHERE action LIKE '%_read'")) == 1


async def test_a_silent_patient_is_listed_for_a_call_and_marked_called(care: Care) -> None:
    await care.enrol()
    relay = care.running.relay
    for days in (0, 2, 4):  # the step, its reminder two days on, the call two days after
        care.clock.now = MONDAY + timedelta(days=days)
        await relay.care.tick()
    ((call,),) = await care.db("SELECT id FROM care_calls WHERE done_at IS NULL")
    body, csrf = await care.page()
    card = row_of(body, f'data-call="{call}"')
    assert "李先生" in card
    assert render("admin.care.step_day", "en", day=1) in card
    assert "•••• 2222" in card
    assert OTHER not in body

    status, _, body, _ = await care.admin.post(
        f"/admin/care/calls/{call}/number?lang=en", {"csrf": csrf}
    )
    assert status == 200
    assert f'href="tel:{OTHER}"' in body
    status, _, _, _ = await care.admin.post(
        f"/admin/care/calls/{call}/done?lang=en", {"csrf": csrf}
    )
    assert status == 303
    body, _ = await care.page()
    assert escape_(render("admin.care.called", "en")) in body
    assert f'data-call="{call}"' not in body
    assert await care.db("SELECT done_by FROM care_calls") == [("admin:root",)]
    audited = await care.db(
        "SELECT actor, action, subject FROM audit_log WHERE action LIKE 'care.call_%'"
        " AND actor = 'admin:root' ORDER BY id"
    )
    assert audited == [
        ("admin:root", "care.call_read", str(call)),
        ("admin:root", "care.call_done", str(call)),
    ]


async def test_an_admin_cancels_an_enrolment_and_what_it_queued(care: Care) -> None:
    enrolment = await care.enrol()
    await care.running.relay.care.tick()  # the day-1 SMS, queued for the simulated modem
    _, csrf = await care.page()
    path = f"/admin/care/enrolments/{enrolment}/cancel?lang=en"
    status, _, _, _ = await care.admin.post(path, {"csrf": csrf})
    assert status == 303
    body, _ = await care.page()
    assert escape_(render("admin.care.cancelled", "en")) in body
    row = row_of(body, f'data-enrolment="{enrolment}"')
    assert render("admin.care.status.cancelled", "en") in row
    assert render("admin.care.reason.opted_out", "en") in row
    assert f'action="/admin/care/enrolments/{enrolment}/cancel' not in row
    assert await care.db("SELECT status, ended_reason FROM care_enrolments") == [
        ("cancelled", "opted_out")
    ]
    audited = await care.db("SELECT actor FROM audit_log WHERE action = 'care.cancel'")
    assert audited == [("admin:root",)]
    status, _, _, _ = await care.admin.post(path, {"csrf": csrf})
    assert status == 303
    body, _ = await care.page()
    assert escape_(render("admin.care.cancel_gone", "en")) in body


# -- plans ---------------------------------------------------------------------------------------


async def test_a_plan_is_edited_as_json_and_applies_from_then_on(care: Care) -> None:
    body, csrf = await care.page("/admin/care/plans/discharge")
    assert render("admin.care.plan_future_only") in body
    assert escape_('"name": "discharge"') in body
    assert "出院随访" in body
    start = body.index('<textarea id="body" name="body"')
    shown = html.unescape(body[body.index(">", start) + 1 : body.index("</textarea>", start)])
    edited = shown.replace('"title": "出院随访"', '"title": "心内科出院随访"')
    assert edited != shown

    path = "/admin/care/plans/discharge"
    status, headers, _, _ = await care.admin.post(path, {"csrf": csrf, "body": edited})
    assert status == 303
    assert headers["Location"] == path
    body, _ = await care.page(path)
    assert render("admin.care.plan_saved") in body
    assert "心内科出院随访" in body
    async with care.running.relay.db.reading() as conn:
        plan = (await care.running.relay.care.plans(conn))["discharge"]
    assert plan.title == "心内科出院随访"
    assert [s.key for s in plan.steps] == ["d1", "d7", "d30"]
    assert await care.db(
        "SELECT actor, subject FROM audit_log WHERE action = 'care.plan_saved'"
    ) == [("admin:root", "discharge")]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("{not json", ""),
        ('{"name": "discharge", "title": "出院随访", "steps": []}', "steps"),
        (
            '{"name": "discharge", "title": "t", "steps": [{"key": "d1", "day": 1,'
            ' "text": "您的诊断：{diagnosis}"}]}',
            "steps.0.text",
        ),
        (
            '{"name": "discharge", "title": "t", "steps": [{"key": "d7", "day": 7, "text": "a"},'
            ' {"key": "d1", "day": 1, "text": "b"}]}',
            "",
        ),
        (  # a link to a page, and no web.public_url for the address (the planner could not)
            '{"name": "discharge", "title": "t", "page": "出院后注意事项", "steps": [{"key": "d1",'
            ' "day": 1, "text": "【{dept}】请看{link}"}]}',
            "page",
        ),
    ],
)
async def test_a_wrong_plan_is_refused_in_words_and_kept_in_the_form(
    care: Care, body: str, where: str
) -> None:
    _, csrf = await care.page("/admin/care/plans/discharge")
    status, _, page, _ = await care.admin.post(
        "/admin/care/plans/discharge?lang=en", {"csrf": csrf, "body": body}
    )
    assert status == 422, page
    assert "The plan was not saved. First problem: " in page
    if where:
        assert f"First problem: {where}: " in page
    assert escape_(body) in page  # what was typed, to fix
    assert await care.db("SELECT name FROM care_plans") == []


async def test_a_plan_keeps_its_name_and_an_unknown_plan_is_not_found(care: Care) -> None:
    body, csrf = await care.page("/admin/care/plans/discharge")
    start = body.index('<textarea id="body" name="body"')
    shown = html.unescape(body[body.index(">", start) + 1 : body.index("</textarea>", start)])
    renamed = shown.replace('"name": "discharge"', '"name": "other"')
    status, _, page, _ = await care.admin.post(
        "/admin/care/plans/discharge?lang=en", {"csrf": csrf, "body": renamed}
    )
    assert status == 422
    assert escape_(render("admin.error.plan_renamed", "en")) in page
    status, _, _, _ = await care.admin.get("/admin/care/plans/nope")
    assert status == 404
    status, _, _, _ = await care.admin.post("/admin/care/plans/nope", {"csrf": csrf, "body": shown})
    assert status == 404
    assert await care.db("SELECT name FROM care_plans") == []
