"""The admin dashboard's live part, over real HTTP against a whole daemon and its simulated modem.

Signal bars; a failed SMS listed and sent again by an admin (the simulated network refuses the
number, then takes it); threads waiting past the configured answer time; operator SMS; and the
live stream (server-sent events): it needs a session, sends the dashboard again when the modem's
network goes down and comes back, and says when the session has ended.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from smscat.relay.daemon.app import Daemon
from smscat.relay.services.retention import erase_phone
from smscat.web.dashboard import Numbers, needs_attention, signal_bars
from smscat.web.texts import render
from tests.support.admin import ADMINS, Browser, two_questions, unmatched
from tests.support.daemon import EXPERT_LI, EXPERT_ZHANG, PATIENT, TIMEOUT, Client, daemon, settled

LIVE_WAIT = 20.0  # seconds a test waits for the stream to show a change


@pytest.mark.parametrize(
    ("dbm", "bars"),
    [(None, 0), (-113, 0), (-111, 0), (-109, 1), (-95, 1), (-93, 2), (-85, 2), (-83, 3),
     (-75, 3), (-73, 4), (-51, 4)],
)  # fmt: skip
def test_signal_bars_follow_the_csq_steps(dbm: int | None, bars: int) -> None:
    assert signal_bars(dbm) == bars


# -- the verdict on top ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numbers", "attention"),
    [
        (Numbers(), False),
        (Numbers(modems=2, modems_ready=2), False),
        (Numbers(queued=40), False),  # moving on its own; a stalled queue is an alert
        (Numbers(incomplete=3), False),  # posted as it came; nothing for an admin to do
        (Numbers(modems=0, modems_ready=0), True),  # nothing can send at all
        (Numbers(modems=2, modems_ready=1), True),
        (Numbers(modems_ready=0), True),
        (Numbers(overdue=1), True),
        (Numbers(unmatched=1), True),
        (Numbers(failed=1), True),
        (Numbers(alerts=1), True),
        (Numbers(red_flags=1), True),  # a 随访 red flag nobody has acknowledged
        (Numbers(queued=5, incomplete=1, unmatched=2, failed=1), True),
    ],
)
def test_the_verdict_needs_attention_exactly_when_something_waits_for_an_admin(
    numbers: Numbers, attention: bool
) -> None:
    assert needs_attention(numbers) is attention


VERDICT = re.compile(
    r'<section class="summary (healthy|trouble)".*?<p class="verdict">([^<]*)</p>', re.S
)


def _verdict(body: str) -> tuple[str, str]:
    found = VERDICT.search(body)
    assert found, body
    return found.group(1), found.group(2)


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[Daemon, Client]]:
    async with daemon(tmp_path, admins=ADMINS, relay={"answer_within_hours": 2}) as running:
        yield running


@pytest.fixture
async def admin(app: tuple[Daemon, Client]) -> AsyncIterator[Browser]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=jar) as http:
        browser = Browser(http, app[0].url)
        status, _, body, _ = await browser.login()
        assert status == 303, body
        yield browser


async def _ask(client: Client, text: str) -> int:
    status, body = await client.call(
        "POST", "/api/questions", expert_id="zhang", nickname="小王", text=text, public=False
    )
    assert status == 201, body
    return int(body["id"])


async def _thread_status(running: Daemon, thread_id: int) -> str:
    rows = await running.relay.db.fetchall("SELECT status FROM threads WHERE id = ?", (thread_id,))
    return str(rows[0]["status"])


# -- failed SMS ----------------------------------------------------------------------------------


async def test_a_refused_sms_is_listed_and_sent_again_by_an_admin(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    await settled(running)
    await client.simulator("/unassigned", {"numbers": [EXPERT_ZHANG]})
    thread_id = await _ask(client, "血压高怎么办")
    async with asyncio.timeout(15):
        while await _thread_status(running, thread_id) != "failed":  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    (row,) = await running.relay.db.fetchall("SELECT id, error FROM outbox WHERE status = 'failed'")
    assert row["error"] == "+CMS ERROR 1"  # the network's "unassigned number"

    body, csrf = await admin.dashboard()
    card = re.search(
        rf'<article class="outbound" data-outbox="{row["id"]}">(.*?)</article>', body, re.S
    )
    assert card, body
    assert render("admin.kind.to_expert") in card.group(1)
    assert "•••• 8001" in card.group(1)
    assert EXPERT_ZHANG not in body
    assert EXPERT_ZHANG[1:] not in body
    assert render("admin.failed_after", attempts=1, error="+CMS ERROR 1") in card.group(1)
    modem = re.search(r'<article class="modem[^"]*" data-modem="sim1">(.*?)</article>', body, re.S)
    assert modem
    assert "+CMS ERROR 1" in modem.group(1)
    assert _verdict(body) == ("trouble", render("admin.needs_attention"))
    assert re.search(r'data-tile="failed">1<', body)  # the verdict says why

    await client.simulator("/unassigned", {"numbers": []})  # the number works again
    status, headers, page, _ = await admin.post(f"/admin/outbox/{row['id']}/retry", {"csrf": csrf})
    assert status == 303, page
    assert headers["Location"] == "/admin"
    await client.wait_for_sms(EXPERT_ZHANG, lambda t: "血压高怎么办" in t)
    async with asyncio.timeout(15):
        while await _thread_status(running, thread_id) not in ("sent", "delivered"):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    body, _ = await admin.dashboard()
    assert render("admin.retried") in body
    assert f'data-outbox="{row["id"]}"' not in body
    assert 'data-tile="failed"' not in body
    audit = await running.relay.db.fetchall(
        "SELECT actor, subject FROM audit_log WHERE action = 'sms.retry'"
    )
    assert [(a["actor"], a["subject"]) for a in audit] == [("admin:root", str(row["id"]))]


async def test_retry_needs_the_csrf_token_and_a_failed_sms(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, _client = app
    await settled(running)
    _, csrf = await admin.dashboard()
    (sent,) = await running.relay.db.fetchall("SELECT id FROM outbox ORDER BY id LIMIT 1")
    status, _, _, _ = await admin.post(f"/admin/outbox/{sent['id']}/retry", {"csrf": "wrong"})
    assert status == 403
    status, _, body, _ = await admin.post(f"/admin/outbox/{sent['id']}/retry", {"csrf": csrf})
    assert status == 404  # it was sent, not failed: nothing to do
    assert render("admin.error.not_found") in body
    status, _, _, _ = await admin.post("/admin/outbox/999999/retry", {"csrf": csrf})
    assert status == 404
    statuses = await running.relay.read.outbox_counts()
    assert not statuses.get("queued")  # nothing was queued again


# -- the verdict, through the daemon ---------------------------------------------------------------


async def test_an_unmatched_sms_needs_attention_until_it_is_assigned(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    await settled(running)
    async with asyncio.timeout(15):
        while running.supervisors["sim1"].health is None:  # noqa: ASYNC110
            await asyncio.sleep(0.1)  # the supervisor's first probe
    first, _ = await two_questions(client)
    body, _ = await admin.dashboard()
    assert _verdict(body) == ("healthy", render("admin.all_well"))  # two questions, just asked

    inbound_id = await unmatched(running, client, "多喝水，一周后复查")  # no code, two threads
    body, csrf = await admin.dashboard()
    assert _verdict(body) == ("trouble", render("admin.needs_attention"))
    assert re.search(r'data-tile="unmatched">1<', body)

    status, _, page, _ = await admin.post(
        f"/admin/inbound/{inbound_id}/assign", {"csrf": csrf, "thread_id": str(first)}
    )
    assert status == 303, page
    body, _ = await admin.dashboard()
    assert _verdict(body) == ("healthy", render("admin.all_well"))
    assert re.search(r'data-tile="unmatched">0<', body)


# -- waiting threads and operator SMS -----------------------------------------------------------


async def test_threads_waiting_past_the_answer_time_are_listed(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    thread_id = await _ask(client, "饭后可以运动吗")
    body, _ = await admin.dashboard()
    assert render("admin.waiting_none") in body  # just asked
    assert render("admin.waiting_heading", hours=2) in body
    later = datetime.now(UTC) + timedelta(hours=3)
    running.relay.clock = lambda: later
    body, _ = await admin.dashboard()
    row = re.search(rf'<tr data-thread="{thread_id}">(.*?)</tr>', body, re.S)
    assert row, body
    assert "张明" in row.group(1)
    assert render("admin.hours", n=3) in row.group(1)
    assert re.search(r'data-tile="waiting">1<', body)


async def test_operator_sms_are_shown_whole_and_escaped(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    await client.phone_sends("10086", "尊敬的客户，您的余额不足<b>5元</b>")
    async with asyncio.timeout(15):
        while True:
            rows = await running.relay.db.fetchall(
                "SELECT 1 FROM inbound WHERE outcome = 'short_code'"
            )
            if rows:
                break
            await asyncio.sleep(0.1)
    body, _ = await admin.dashboard()
    notices = re.search(r'<section id="notices"(.*?)</section>', body, re.S)
    assert notices, body
    assert "10086" in notices.group(1)  # an operator's short code is no one's private number
    assert "余额不足&lt;b&gt;5元&lt;/b&gt;" in notices.group(1)


# -- the live stream -----------------------------------------------------------------------------


class Events:
    """A server-sent event stream, read one event at a time."""

    def __init__(self, resp: aiohttp.ClientResponse) -> None:
        self.resp = resp

    async def next(self) -> tuple[str, str]:
        name, data = "message", list[str]()
        while True:
            line = (await self.resp.content.readline()).decode()
            if not line:
                raise EOFError("the stream ended")
            line = line.rstrip("\n")
            if not line:
                if data or name != "message":
                    return name, "\n".join(data)
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)

    async def until(self, check: re.Pattern[str]) -> str:
        async with asyncio.timeout(LIVE_WAIT):
            while True:
                name, data = await self.next()
                if name == "dashboard" and check.search(data):
                    return data


async def test_the_live_stream_needs_a_session(app: tuple[Daemon, Client]) -> None:
    running, client = app
    async with client.http.get(running.url + "/admin/live") as resp:
        assert resp.status == 401
        assert "sim1" not in await resp.text()


async def test_the_live_stream_follows_the_network_going_down_and_back(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    async with admin.http.get(
        running.url + "/admin/live", timeout=aiohttp.ClientTimeout(total=90)
    ) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        assert resp.headers["Cache-Control"] == "no-store"
        events = Events(resp)
        first = await events.until(re.compile(r'class="modem ok" data-modem="sim1"'))
        assert 'data-live="summary"' in first
        assert 'data-live="modems"' in first
        await client.simulator("/faults", {"profile": "network-down"})
        down = await events.until(re.compile(r'class="modem bad" data-modem="sim1"'))
        assert "summary trouble" in down
        assert render("admin.needs_attention") in down
        await client.simulator("/faults", {"profile": "none"})
        up = await events.until(re.compile(r'class="modem ok" data-modem="sim1"'))
        assert render("admin.reg.home") in up


async def test_the_live_stream_says_when_the_session_has_ended(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, _ = app
    async with admin.http.get(
        running.url + "/admin/live", timeout=aiohttp.ClientTimeout(total=30)
    ) as resp:
        events = Events(resp)
        name, _ = await events.next()
        assert name == "dashboard"
        _, csrf = await admin.dashboard()
        status, _, _, _ = await admin.post("/admin/logout", {"csrf": csrf})
        assert status == 303
        async with asyncio.timeout(LIVE_WAIT):
            while (name := (await events.next())[0]) == "dashboard":
                pass
        assert name == "ended"
        with pytest.raises(EOFError):
            await events.next()


async def _failed_row(running: Daemon) -> int:
    async with asyncio.timeout(15):
        while True:
            rows = await running.relay.db.fetchall("SELECT id FROM outbox WHERE status = 'failed'")
            if rows:
                return int(rows[0]["id"])
            await asyncio.sleep(0.1)


async def test_a_question_handed_on_since_it_failed_is_not_sent_to_the_one_who_left(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    await settled(running)
    await client.simulator("/unassigned", {"numbers": [EXPERT_ZHANG]})
    await _ask(client, "心率偏快要紧吗")
    outbox_id = await _failed_row(running)
    await client.simulator("/unassigned", {"numbers": []})
    await running.relay.experts.handoff("zhang", "li", "admin:root")
    _, csrf = await admin.dashboard()
    status, _, body, _ = await admin.post(f"/admin/outbox/{outbox_id}/retry", {"csrf": csrf})
    assert status == 409
    assert render("admin.error.retry_moved") in body
    await client.wait_for_sms(EXPERT_LI, lambda t: "心率偏快要紧吗" in t)  # by the hand-off
    assert not any("心率偏快要紧吗" in t for t in await client.received_by(EXPERT_ZHANG))
    (row,) = await running.relay.db.fetchall("SELECT status FROM outbox WHERE id = ?", (outbox_id,))
    assert row["status"] == "failed"


async def test_an_sms_to_a_number_erased_since_it_failed_is_not_sent_again(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    await settled(running)
    verification_id, code = await client.verify(PATIENT)
    status, body = await client.call(
        "POST", "/api/questions", expert_id="zhang", nickname="小王", text="胸闷", public=False,
        phone=PATIENT, verification_id=verification_id, code=code,
    )  # fmt: skip
    assert status == 201, body
    await client.wait_for_sms(EXPERT_ZHANG, lambda t: "胸闷" in t)
    await client.simulator("/unassigned", {"numbers": [PATIENT]})
    await client.phone_sends(EXPERT_ZHANG, "多休息，明天门诊。")  # the answer to the patient fails
    outbox_id = await _failed_row(running)
    await client.simulator("/unassigned", {"numbers": []})
    await erase_phone(running.relay.db, PATIENT, "admin:root", running.relay.clock())
    _, csrf = await admin.dashboard()
    status, _, body, _ = await admin.post(f"/admin/outbox/{outbox_id}/retry", {"csrf": csrf})
    assert status == 409
    assert render("admin.error.retry_stopped") in body
    assert PATIENT not in body
    # the queue still moves: the expert's LIST is answered
    before = set(await client.received_by(EXPERT_ZHANG))
    await client.phone_sends(EXPERT_ZHANG, "待办")
    await client.wait_for_sms(EXPERT_ZHANG, lambda t: t not in before)
