"""The thread page's extras over real HTTP, against a whole daemon with the simulated modem.

"Was this answer helpful?" and "thank the doctor" (stored on the thread, audited, never an SMS to
the expert, counted in the weekly figures), without JavaScript (303) and as the script posts them
(JSON); the thread's link again by SMS, from the thread page and from the department page's
"find my question links": a new link that works while the old one keeps working, the same
neutral words for every number, limits per phone, nothing for a stopped or erased number.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from smscat.relay.core import texts as relay_texts
from smscat.relay.core.stats import Period, week_figures
from smscat.relay.daemon.app import Daemon
from smscat.relay.services.retention import erase_phone
from smscat.storage import stats as stats_store
from smscat.web.texts import render
from tests.support.daemon import DEPARTMENT, EXPERT_ZHANG, PATIENT, PATIENT_2, Client, daemon
from tests.web.test_pages import Page, assert_escaped, friendly, get, html_page, post

STRANGER = "+8613700001111"  # a mobile number that never asked here
LINK = re.compile(r"https?://[^\s；]+/t/([0-9]+)/([A-Za-z0-9_-]+)")
JSON = {"Accept": "application/json"}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[Daemon, Client]]:
    async with daemon(tmp_path) as running:
        yield running


@pytest.fixture
def client(app: tuple[Daemon, Client]) -> Client:
    return app[1]


@pytest.fixture
def running(app: tuple[Daemon, Client]) -> Daemon:
    return app[0]


async def ask(
    client: Client, text: str, *, phone: str | None = None, nickname: str = "小王"
) -> tuple[int, str]:
    """A question (with a verified phone when ``phone`` is given); (thread id, its page path)."""
    body: dict[str, Any] = {"expert_id": "zhang", "nickname": nickname, "text": text}
    if phone is not None:
        verification_id, code = await client.verify(phone)
        body |= {"phone": phone, "verification_id": verification_id, "code": code}
    status, answer = await client.call("POST", "/api/questions", public=False, **body)
    assert status == 201, answer
    return int(answer["id"]), f"/t/{answer['id']}/{answer['token']}"


async def answered(client: Client, path: str, question: str, answer: str) -> None:
    """The expert answers ``question`` by SMS; wait until the thread shows it."""
    await client.wait_for_sms(EXPERT_ZHANG, lambda t: question in t)
    await client.phone_sends(EXPERT_ZHANG, answer)
    thread_id, token = path.split("/")[2:]
    await client.wait_thread(
        int(thread_id), token, lambda v: any(m["text"] == answer for m in v["messages"])
    )


async def rows(running: Daemon, sql: str, *params: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in await running.relay.db.fetchall(sql, params)]


async def thread_row(running: Daemon, thread_id: int) -> dict[str, Any]:
    (row,) = await rows(running, "SELECT * FROM threads WHERE id = ?", thread_id)
    return row


async def outbox_count(running: Daemon) -> int:
    return len(await rows(running, "SELECT id FROM outbox"))


async def post_json(client: Client, path: str, data: dict[str, str]) -> tuple[int, Any]:
    async with client.http.post(
        client.api + path, data=data, headers=JSON, allow_redirects=False
    ) as resp:
        assert resp.content_type == "application/json", await resp.text()
        return resp.status, await resp.json()


def links_in(text: str) -> list[str]:
    return [f"/t/{m.group(1)}/{m.group(2)}" for m in LINK.finditer(text)]


async def link_sms(client: Client, number: str, seen: int) -> str:
    """The SMS with links that ``number`` got after the ``seen`` it had already."""
    async with asyncio.timeout(15):
        while True:
            found = [t for t in await client.received_by(number) if LINK.search(t)]
            if len(found) > seen:
                return found[seen]
            await asyncio.sleep(0.1)


# -- helpful and thanks ----------------------------------------------------------------------


async def test_thanks_and_helpful_without_javascript(client: Client, running: Daemon) -> None:
    thread_id, path = await ask(client, "胸闷气短怎么办")
    page = html_page(await get(client, path))
    assert 'data-role="feedback" aria-labelledby="feedback-heading" hidden>' in page

    # before an answer: refused with the friendly page, nothing stored
    for action, form in (("/thanks", {}), ("/helpful", {"helpful": "1"})):
        refused = html_page(await post(client, path + action, form), 409)
        assert render("error.not_answered") in refused
    row = await thread_row(running, thread_id)
    assert (row["thanked_at"], row["helpful"]) == (None, None)

    await answered(client, path, "胸闷气短怎么办", "建议先做心电图")
    page = html_page(await get(client, path))
    assert 'data-role="feedback" aria-labelledby="feedback-heading">' in page
    assert render("page.feedback_heading") in page
    assert render("page.thank") in page
    before = await outbox_count(running)

    status, headers, _ = await post(client, path + "/thanks", {})
    assert (status, headers["Location"]) == (303, path)
    thanked_at = (await thread_row(running, thread_id))["thanked_at"]
    assert thanked_at is not None
    status, headers, _ = await post(client, path + "/thanks", {})  # again: nothing changes
    assert (status, headers["Location"]) == (303, path)
    assert (await thread_row(running, thread_id))["thanked_at"] == thanked_at
    page = html_page(await get(client, path))
    assert f"disabled>{render('page.thanked')}</button>" in page

    for said, stored in (("1", 1), ("0", 0), ("0", 0), ("1", 1)):  # the patient may change it
        status, headers, _ = await post(client, path + "/helpful", {"helpful": said})
        assert (status, headers["Location"]) == (303, path)
        assert (await thread_row(running, thread_id))["helpful"] == stored
    page = html_page(await get(client, path))
    assert 'value="1" aria-pressed="true"' in page
    assert 'value="0" aria-pressed="false"' in page
    assert render("page.helpful_saved") in page
    wrong = html_page(await post(client, path + "/helpful", {"helpful": "maybe"}), 422)
    assert render("error.helpful_choice") in wrong
    assert (await thread_row(running, thread_id))["helpful"] == 1

    # audited once per change, without a number; and not one SMS for any of it
    audit = await rows(
        running,
        "SELECT action, subject, detail FROM audit_log WHERE action LIKE 'thread.%' ORDER BY id",
    )
    assert [(a["action"], a["subject"]) for a in audit] == [
        ("thread.thank", str(thread_id)),
        *[("thread.helpful", str(thread_id))] * 3,
    ]
    assert [a["detail"] for a in audit[1:]] == [
        '{"helpful": true}',
        '{"helpful": false}',
        '{"helpful": true}',
    ]
    assert await outbox_count(running) == before


async def test_thanks_and_helpful_as_the_script_posts_them(client: Client, running: Daemon) -> None:
    thread_id, path = await ask(client, "心悸要紧吗")
    status, body = await post_json(client, path + "/thanks", {})
    assert (status, body) == (409, {"detail": render("error.not_answered")})

    await answered(client, path, "心悸要紧吗", "不要紧，注意休息")
    assert await post_json(client, path + "/helpful", {"helpful": "0"}) == (
        200,
        {"thanked": False, "helpful": False, "notice": None},
    )
    assert await post_json(client, path + "/thanks", {}) == (
        200,
        {"thanked": True, "helpful": False, "notice": None},
    )
    assert await post_json(client, path + "/thanks", {}) == (
        200,
        {"thanked": True, "helpful": False, "notice": None},
    )
    status, body = await post_json(client, path + "/helpful?lang=en", {"helpful": ""})
    assert (status, body) == (422, {"detail": render("error.helpful_choice", "en")})
    row = await thread_row(running, thread_id)
    assert (row["thanked_at"] is not None, row["helpful"]) == (True, 0)


async def test_a_thanks_counts_in_the_experts_week(client: Client, running: Daemon) -> None:
    _, path = await ask(client, "血压高怎么办")
    await answered(client, path, "血压高怎么办", "少吃盐")
    assert (await post(client, path + "/thanks", {}))[0] == 303

    now = datetime.now(UTC)
    week = Period("this-week", now - timedelta(days=1), now + timedelta(days=1))
    facts = await stats_store.thread_facts(running.relay.db, week.start, week.end)
    assert week_figures([f for f in facts if f.expert_id == "zhang"], week).thanks == 1


async def test_the_forms_refuse_a_post_from_another_site(client: Client, running: Daemon) -> None:
    thread_id, path = await ask(client, "头晕", phone=PATIENT)
    await answered(client, path, "头晕", "多喝水")
    evil = {"Origin": "https://evil.example"}
    for action, form in (
        (path + "/thanks", {}),
        (path + "/helpful", {"helpful": "1"}),
        (path + "/link", {}),
        ("/links", {"phone": PATIENT}),
    ):
        friendly(await post(client, action, form, evil), 403, "other")
    row = await thread_row(running, thread_id)
    assert (row["thanked_at"], row["helpful"]) == (None, None)
    assert await rows(running, "SELECT * FROM link_sms") == []
    assert (await post(client, path + "/thanks", {}, {"Origin": client.api}))[0] == 303


async def test_a_wrong_token_is_the_404_page(client: Client) -> None:
    thread_id, _ = await ask(client, "头晕")
    wrong = f"/t/{thread_id}/{'C' * 32}"
    for action in ("/thanks", "/helpful", "/link"):
        friendly(await post(client, wrong + action, {"helpful": "1"}), 404, "404")


# -- the link again by SMS, from the thread page ---------------------------------------------


async def test_a_new_link_by_sms_works_and_the_old_one_still_does(
    client: Client, running: Daemon
) -> None:
    other_id, other_path = await ask(client, "别人的问题：心慌", phone=PATIENT_2, nickname="小李")
    thread_id, path = await ask(client, "我的问题：胸闷", phone=PATIENT)
    page = html_page(await get(client, path))
    assert render("page.link_sms") in page
    assert render("page.link_sms_sent") not in page

    status, headers, _ = await post(client, path + "/link", {})
    assert (status, headers["Location"]) == (303, path + "?link=sent")
    assert render("page.link_sms_sent") in html_page(await get(client, headers["Location"]))

    sms = await link_sms(client, PATIENT, 0)
    assert sms.startswith(f"【{DEPARTMENT}】")
    (new,) = links_in(sms)
    assert sms.count(client.api + new) == 1  # absolute, on the address the page was asked on
    assert new != path
    assert new.startswith(f"/t/{thread_id}/")
    # the new link and the old one both open the thread, on the page and in the API
    for link in (new, path):
        assert "我的问题：胸闷" in html_page(await get(client, link))
        view = await client.thread(thread_id, link.split("/")[3])
        assert view["messages"][0]["text"] == "我的问题：胸闷"
    # the SMS holds nothing of the other patient, and the new token opens no other thread
    for secret in ("别人的问题", "小李", other_path.split("/")[3], PATIENT_2, PATIENT_2[3:]):
        assert secret not in sms
    friendly(await get(client, f"/t/{other_id}/{new.split('/')[3]}"), 404, "404")
    assert PATIENT not in str(await rows(running, "SELECT * FROM audit_log"))
    (stored,) = await rows(running, "SELECT thread_id, token_hash FROM thread_links")
    assert stored["thread_id"] == thread_id
    assert new.split("/")[3] not in str(stored)  # only its hash is kept
    async with asyncio.timeout(15):  # and once sent, the SMS's copy loses its token
        while new.split("/")[3] in str(await rows(running, "SELECT text FROM outbox")):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    (kept,) = await rows(running, "SELECT text FROM outbox WHERE text LIKE '%/t/%'")
    assert f"/t/{thread_id}/…" in kept["text"]


async def test_the_link_by_sms_as_the_script_posts_it(client: Client) -> None:
    _, path = await ask(client, "胸闷", phone=PATIENT)
    status, body = await post_json(client, path + "/link?lang=en", {})
    assert (status, body) == (
        200,
        {"thanked": False, "helpful": None, "notice": render("page.link_sms_sent", "en")},
    )
    await link_sms(client, PATIENT, 0)


async def test_no_link_by_sms_without_a_verified_phone(client: Client, running: Daemon) -> None:
    _, path = await ask(client, "胸闷")
    page = html_page(await get(client, path))
    assert render("page.link_sms") not in page
    assert 'id="link-form"' not in page
    refused = html_page(await post(client, path + "/link", {}), 409)
    assert render("error.no_phone") in refused
    assert await rows(running, "SELECT * FROM thread_links") == []


async def test_at_most_three_link_sms_a_day_for_one_phone(client: Client, running: Daemon) -> None:
    _, path = await ask(client, "胸闷", phone=PATIENT)
    for _ in range(2):
        assert (await post(client, path + "/link", {}))[0] == 303
    assert (await post(client, "/links", {"phone": PATIENT}))[0] == 303  # the third
    await running.relay.links.link_requests_done()  # it is worked after the answer
    refused = html_page(await post(client, path + "/link", {}), 429)
    assert render("error.links_per_day") in refused
    again = await post(client, "/links", {"phone": PATIENT})  # still the same words
    assert again[0] == 303
    assert len(await rows(running, "SELECT * FROM link_sms")) == 3
    assert len(await rows(running, "SELECT * FROM thread_links")) == 3
    await link_sms(client, PATIENT, 2)
    links = [t for t in await client.received_by(PATIENT) if LINK.search(t)]
    assert len(links) == 3


# -- "find my question links" on the department page ----------------------------------------


async def neutral(client: Client, number: str, headers: dict[str, str] | None = None) -> Page:
    page = await post(client, "/links", {"phone": number}, headers)
    assert (page[0], page[1]["Location"]) == (303, "/?links=sent#find-links")
    return page


async def test_find_my_links_sends_one_sms_with_the_numbers_threads(
    client: Client, running: Daemon
) -> None:
    first_id, first = await ask(client, "第一个问题", phone=PATIENT)
    second_id, second = await ask(client, "第二个问题", phone=PATIENT)
    _, others = await ask(client, "别人的问题", phone=PATIENT_2, nickname="小李")
    home = html_page(await get(client, "/"))
    assert render("page.links_heading") in home
    assert render("page.links_sent") not in home

    await neutral(client, "139 1234 5678")  # PATIENT, as people type it
    shown = html_page(await get(client, "/?links=sent"))
    assert render("page.links_sent") in shown

    sms = await link_sms(client, PATIENT, 0)
    assert sms.startswith(f"【{DEPARTMENT}】")
    links = links_in(sms)
    assert sorted(int(link.split("/")[2]) for link in links) == [first_id, second_id]
    assert first not in links  # new tokens
    assert second not in links
    for link, text in zip(sorted(links), ("第一个问题", "第二个问题"), strict=True):
        assert text in html_page(await get(client, link))
    for secret in ("别人的问题", "小李", others.split("/")[3], PATIENT_2[3:], "第一个问题"):
        assert secret not in sms
    for old in (first, second):
        assert html_page(await get(client, old))
    audit = await rows(
        running, "SELECT subject, detail FROM audit_log WHERE action = 'thread.link_sms'"
    )
    (phone,) = await rows(running, "SELECT id FROM phones WHERE e164 = ?", PATIENT)
    assert [a["subject"] for a in audit] == [str(phone["id"])]


async def test_find_my_links_says_the_same_for_a_number_that_never_asked(
    client: Client, running: Daemon
) -> None:
    await ask(client, "问题", phone=PATIENT)
    sms_before = await outbox_count(running)

    unknown = await neutral(client, STRANGER)
    known = await neutral(client, PATIENT)
    assert unknown[2] == known[2]
    assert await post_json(client, "/links", {"phone": STRANGER}) == (
        200,
        {"notice": render("page.links_sent")},
    )
    assert await post_json(client, "/links?lang=en", {"phone": PATIENT}) == (
        200,
        {"notice": render("page.links_sent", "en")},
    )

    await link_sms(client, PATIENT, 1)
    recipients = await rows(running, "SELECT recipient FROM outbox WHERE id > ?", sms_before)
    assert [r["recipient"] for r in recipients] == [PATIENT, PATIENT]
    assert await rows(running, "SELECT * FROM phones WHERE e164 = ?", STRANGER) == []
    # a number that verified but never asked gets nothing either
    await client.verify(PATIENT_2)
    await neutral(client, PATIENT_2)
    assert len(await rows(running, "SELECT * FROM link_sms")) == 2


async def test_find_my_links_refuses_what_is_no_number_and_never_shows_it(
    client: Client, running: Daemon
) -> None:
    before = await outbox_count(running)  # the experts' welcome SMS
    for typed in ("12x34", "<script>alert(1)</script>", "10086"):
        page = html_page(await post(client, "/links", {"phone": typed}), 422)
        assert render("error.phone_invalid") in page
        assert typed not in page
    page = html_page(await post(client, "/links", {"phone": "x"}, {"Accept-Language": "en"}), 422)
    assert render("error.phone_invalid", "en") in page
    assert await outbox_count(running) == before


async def test_nothing_for_a_stopped_or_erased_number(client: Client, running: Daemon) -> None:
    _, path = await ask(client, "问题一", phone=PATIENT)
    _, other = await ask(client, "问题二", phone=PATIENT_2, nickname="小李")
    assert (await post(client, path + "/link", {}))[0] == 303
    assert (await post(client, other + "/link", {}))[0] == 303
    await link_sms(client, PATIENT, 0)
    await link_sms(client, PATIENT_2, 0)

    await client.phone_sends(PATIENT_2, "TD")  # STOP
    await client.wait_for_sms(
        PATIENT_2, lambda t: t == relay_texts.render("stop_confirmed", dept=DEPARTMENT)
    )
    await erase_phone(running.relay.db, PATIENT, "test", datetime.now(UTC))
    before = await outbox_count(running)

    for number, path_ in ((PATIENT, path), (PATIENT_2, other)):
        await neutral(client, number)
        page = html_page(await get(client, path_))  # the first link still opens the thread
        assert 'id="link-form"' not in page
        refused = html_page(await post(client, path_ + "/link", {}), 409)
        assert render("error.no_phone") in refused
    assert await outbox_count(running) == before
    # the erased patient leaves no link row; the stopped one keeps theirs
    assert [r["thread_id"] for r in await rows(running, "SELECT * FROM thread_links")] == [
        int(other.split("/")[2])
    ]
    assert len(await rows(running, "SELECT * FROM link_sms")) == 1


async def test_a_forged_host_never_reaches_the_link_sms(client: Client, running: Daemon) -> None:
    _, path = await ask(client, "问题", phone=PATIENT)
    hosts = ("evil.example/<script>", "x" * 8000)
    for host in hosts:
        status, _, text = await post(client, path + "/link", {}, {"Host": host})
        assert status == 303
        assert "<script>" not in text
    # an X-Forwarded-Proto from an untrusted address is not believed either
    assert (await post(client, path + "/link", {}, {"X-Forwarded-Proto": "https"}))[0] == 303
    sent = [await link_sms(client, PATIENT, n) for n in range(3)]  # the daily limit: 3
    for sms in sent:
        assert "evil" not in sms
        assert "xxxx" not in sms
        (link,) = links_in(sms)
        assert client.api + link in sms  # the server's own address (no web.public_url here)


async def test_with_a_public_url_links_ignore_the_host_header(tmp_path: Path) -> None:
    public = "https://ask.example.org/xinneike"
    async with daemon(tmp_path, web={"public_url": public + "/"}) as (running, client):
        _, path = await ask(client, "问题", phone=PATIENT)
        status, _, _ = await post(client, path + "/link", {}, {"Host": "evil.example"})
        assert status == 303
        sms = await link_sms(client, PATIENT, 0)
        (new,) = links_in(sms)
        assert public + new in sms  # the configured address, never the forged Host
        assert "evil.example" not in sms
        assert len(await rows(running, "SELECT * FROM link_sms")) == 1


async def test_the_new_parts_are_escaped(client: Client) -> None:
    hostile = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>']
    _, path = await ask(client, hostile[0] + " 头疼", phone=PATIENT)
    await answered(client, path, "头疼", hostile[1] + " 多休息")
    page = html_page(await get(client, path))
    assert_escaped(page, hostile)
    assert "<img" not in page
    assert str(escape(render("page.feedback_heading"))) in page
