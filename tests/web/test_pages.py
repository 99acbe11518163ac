"""The patient's pages over real HTTP, against a whole daemon with the built-in simulated modem.

Each page in both languages; hostile text escaped wherever it is shown; no phone number on a
public page in any of the forms patients type; the CSP on every HTML answer and no inline script
to need it; friendly HTML for 404/405/413/500 and never a traceback; the forms without
JavaScript (POST, 303, or the form again with the error in words); no token in a log line.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from multidict import CIMultiDictProxy

from smscat.relay.daemon.app import Daemon
from smscat.web.page_views import accepting_words, median_words
from smscat.web.texts import render
from tests.support.daemon import EXPERT_ZHANG, PATIENT, Client, daemon

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
TRACE = ("Traceback", "RuntimeError", 'File "', "smscat.")
Page = tuple[int, CIMultiDictProxy[str], str]


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[Daemon, Client]]:
    async with daemon(tmp_path) as running:
        yield running


@pytest.fixture
def client(app: tuple[Daemon, Client]) -> Client:
    return app[1]


async def get(client: Client, path: str, headers: dict[str, str] | None = None) -> Page:
    async with client.http.get(client.api + path, headers=headers or {}) as resp:
        return resp.status, resp.headers, await resp.text()


async def post(
    client: Client,
    path: str,
    data: dict[str, str] | bytes,
    headers: dict[str, str] | None = None,
) -> Page:
    async with client.http.post(
        client.api + path, data=data, headers=headers or {}, allow_redirects=False
    ) as resp:
        return resp.status, resp.headers, await resp.text()


async def ask(client: Client, text: str, nickname: str = "小王", public: bool = True) -> str:
    """An anonymous question through the API; the path of its thread page."""
    status, body = await client.call(
        "POST", "/api/questions", expert_id="zhang", nickname=nickname, text=text, public=public
    )
    assert status == 201, body
    return f"/t/{body['id']}/{body['token']}"


def html_page(page: Page, status: int = 200) -> str:
    """Check ``page`` is a whole HTML page with the CSP and the emergency notice; its text."""
    got, headers, text = page
    assert got == status, text
    assert headers["Content-Type"].split(";")[0] == "text/html"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert text.startswith("<!doctype html>")
    assert any(render("page.emergency", lang) in text for lang in ("zh-CN", "en"))
    assert not any(marker in text for marker in TRACE), text
    return text


def friendly(page: Page, status: int, which: str) -> str:
    text = html_page(page, status)
    lang = "en" if '<html lang="en">' in text else "zh-CN"
    for key in (f"page.error_{which}_title", f"page.error_{which}", "page.back_home"):
        assert str(escape(render(key, lang))) in text, key
    return text


# -- every page in both languages -----------------------------------------------------------


LANGS = {
    "zh-default": ({}, "", "zh-CN"),
    "zh-header": ({"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}, "", "zh-CN"),
    "en-query": ({}, "lang=en", "en"),
    "en-header": ({"Accept-Language": "en-US,en;q=0.9"}, "", "en"),
    "zh-query-over-en-header": ({"Accept-Language": "en-US"}, "lang=zh-CN", "zh-CN"),
}


@pytest.mark.parametrize(("headers", "query", "lang"), LANGS.values(), ids=list(LANGS))
async def test_every_page_renders_in_the_visitors_language(
    client: Client, headers: dict[str, str], query: str, lang: str
) -> None:
    thread = await ask(client, "血压偏高，需要复查吗")
    other = "en" if lang == "zh-CN" else "zh-CN"
    pages = {
        "/": [
            "page.intro",
            "page.experts_heading",
            "page.recent_heading",
            "status.queued",
            "page.links_heading",
            "page.links_submit",
        ],
        "/experts/zhang": ["page.board_heading", "page.nickname", "page.privacy", "page.submit"],
        thread: [
            "page.thread_heading",
            "page.followup_submit",
            "page.withdraw",
            "page.live",
            "page.feedback_heading",
            "page.thank",
        ],
    }
    for path, keys in pages.items():
        sep = "&" if "?" in path else "?"
        text = html_page(await get(client, path + (sep + query if query else ""), headers))
        assert f'<html lang="{lang}">' in text
        for key in ["page.emergency", "page.footer", *keys]:
            assert str(escape(render(key, lang))) in text, (path, key)
            assert str(escape(render(key, other))) not in text, (path, key)
    text = friendly(await get(client, "/no-such-page?" + query, headers), 404, "404")
    assert f'<html lang="{lang}">' in text


async def test_a_language_chosen_by_query_stays_in_the_links(client: Client) -> None:
    await ask(client, "血压偏高，需要复查吗")

    home = html_page(await get(client, "/?lang=en"))
    expert = html_page(await get(client, "/experts/zhang?lang=en"))

    assert 'href="/experts/zhang?lang=en"' in home
    assert 'href="/?lang=zh-CN"' in home  # the switch back
    assert 'action="/experts/zhang/ask?lang=en"' in expert
    assert 'name="lang" value="en"' in expert  # the search form keeps it too


def test_accepting_and_answer_times_are_said_in_words() -> None:
    def expert(reason: str | None) -> dict[str, Any]:
        return {"accepting": reason is None, "accepting_reason": reason}

    assert accepting_words(expert(None), "zh-CN") == "现在可以提问"
    assert accepting_words(expert("paused"), "zh-CN") == render("page.accepting.paused")
    assert accepting_words(expert("cap"), "en") == render("page.accepting.cap", "en")
    assert accepting_words(expert("quiet"), "zh-CN") == render("page.accepting.quiet")
    assert accepting_words(expert("maintenance"), "zh-CN") == render("page.accepting.later")
    assert median_words(None, "zh-CN") == "暂无回复用时记录"
    assert median_words(5, "zh-CN") == "通常约1分钟内首次回复"
    assert median_words(20 * 60, "en") == "Usually first answers within about 20 min"
    assert median_words(3 * 3600, "zh-CN") == "通常约3小时内首次回复"
    assert median_words(3 * 86400, "zh-CN") == "通常约3天内首次回复"


async def test_the_board_says_how_soon_an_expert_answers_and_when_they_pause(
    client: Client,
) -> None:
    await ask(client, "心慌怎么办")
    await client.wait_for_sms(EXPERT_ZHANG, lambda t: "心慌怎么办" in t)
    home = html_page(await get(client, "/"))
    assert home.count("现在可以提问") == 2
    assert home.count("暂无回复用时记录") == 2

    await client.phone_sends(EXPERT_ZHANG, "建议先做心电图")
    for _ in range(150):
        home = html_page(await get(client, "/"))
        if "通常约1分钟内首次回复" in home:
            break
        await asyncio.sleep(0.1)
    assert "通常约1分钟内首次回复" in home
    assert "建议先做心电图" in home
    assert render("status.answered") in home

    await client.phone_sends(EXPERT_ZHANG, "暂停")
    await client.wait_for_sms(EXPERT_ZHANG, lambda t: "已暂停" in t)
    home = html_page(await get(client, "/"))
    expert = html_page(await get(client, "/experts/zhang"))
    assert render("page.accepting.paused") in home
    assert render("page.accepting.paused") in expert
    assert home.count("现在可以提问") == 1  # 李华 still is


# -- escaping --------------------------------------------------------------------------------


HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</textarea><svg onload=alert(2)>",
    "'><a href=javascript:alert(3)>x</a>",
]
NICKNAMES = ["<svg/onload=alert()>", "<script>1</script>"]


def assert_escaped(text: str, payloads: list[str]) -> None:
    for payload in payloads:
        assert payload not in text, payload
        assert str(escape(payload)) in text, payload


async def test_hostile_text_is_escaped_on_the_board_the_expert_page_and_the_thread(
    client: Client,
) -> None:
    first = await ask(client, HOSTILE[0] + " 头疼", nickname=NICKNAMES[0])
    second = await ask(client, HOSTILE[1] + " 胸闷", nickname=NICKNAMES[1])
    # a follow-up through the API, and one through the page's own form
    thread_id, token = first.split("/")[2:]
    status, _ = await client.call(
        "POST", f"/api/questions/{thread_id}/messages", token=token, text=HOSTILE[2]
    )
    assert status == 201
    answer = await post(client, first + "/messages", {"text": HOSTILE[3]})
    assert answer[0] == 303

    home = html_page(await get(client, "/"))
    expert = html_page(await get(client, "/experts/zhang"))
    thread = html_page(await get(client, first))
    assert_escaped(home, HOSTILE + NICKNAMES)
    assert_escaped(expert, HOSTILE + NICKNAMES)
    assert_escaped(thread, HOSTILE[0:1] + HOSTILE[2:])
    assert_escaped(html_page(await get(client, second)), HOSTILE[1:2])
    for text in (home, expert, thread):
        assert "<img" not in text
        assert "<svg" not in text
        assert len(re.findall(r"<script\b", text)) == 1  # our own, with src


async def test_hostile_text_is_escaped_when_a_form_comes_back_with_an_error(
    client: Client,
) -> None:
    again = html_page(
        await post(
            client,
            "/experts/zhang/ask",
            {"nickname": "", "text": HOSTILE[2], "public": "1", "phone": HOSTILE[1]},
        ),
        422,
    )
    assert_escaped(again, HOSTILE[1:3])

    thread = await ask(client, "头晕")
    assert (await post(client, thread + "/withdraw", {}))[0] == 303
    refused = html_page(await post(client, thread + "/messages", {"text": HOSTILE[2]}), 409)
    assert_escaped(refused, HOSTILE[2:3])


# -- masking ---------------------------------------------------------------------------------


def number_forms(e164: str) -> list[str]:
    national = e164.removeprefix("+86")
    return [
        e164,
        national,
        f"{national[:3]} {national[3:7]} {national[7:]}",
        f"{national[:3]}-{national[3:7]}-{national[7:]}",
        national.translate(FULL_WIDTH),
        national[-8:],
    ]


async def test_a_number_typed_into_a_public_question_never_reaches_a_public_page(
    client: Client,
) -> None:
    forms = number_forms(PATIENT)
    for i, form in enumerate(forms[:-1]):
        await ask(client, f"请回电{i}号：{form} 谢谢", nickname=f"访客{i}")
    await ask(client, "加微信聊", nickname="138 0013 8000")  # a number as a nickname too
    for i, form in enumerate(forms[:-1]):  # and in a follow-up
        path = await ask(client, f"追问测试{i}")
        assert (await post(client, path + "/messages", {"text": f"电话 {form}"}))[0] == 303

    pages = {
        "/": html_page(await get(client, "/")),
        "/experts/zhang": html_page(await get(client, "/experts/zhang")),
        "/experts/zhang?page=2": html_page(await get(client, "/experts/zhang?page=2")),
        "/experts/zhang?q=": html_page(await get(client, "/experts/zhang?q=请回电")),
        "/?lang=en": html_page(await get(client, "/?lang=en")),
    }
    shown = pages["/experts/zhang"] + pages["/experts/zhang?page=2"]
    for i in range(len(forms) - 1):
        assert f"请回电{i}号" in shown  # the questions are there, the numbers are not
    assert "电话 *** **** ****" in shown or "电话 ***********" in shown
    for path, text in pages.items():
        for form in [*forms, *number_forms("+8613800138000")]:
            assert form not in text, (path, form)


# -- security headers, no inline script ------------------------------------------------------


async def test_every_html_answer_has_the_csp_and_needs_no_inline_script(client: Client) -> None:
    thread = await ask(client, "头晕")
    pages = [
        html_page(await get(client, "/")),
        html_page(await get(client, "/experts/zhang")),
        html_page(await get(client, "/experts/zhang?q=头晕&page=1")),
        html_page(await get(client, thread + "?new=1")),
        html_page(await get(client, "/nowhere"), 404),
        html_page(await post(client, "/", {}), 405),
        html_page(await post(client, "/experts/zhang/ask", {"nickname": "x"}), 422),
        html_page(await post(client, thread + "/thanks", {}), 409),
        html_page(await post(client, "/links", {"phone": "12"}), 422),
        html_page(await get(client, "/?links=sent")),
    ]
    for text in pages:
        scripts = re.findall(r"<script\b[^>]*>", text)
        assert scripts == ['<script src="/static/pages.js" defer>']
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", text)  # no event-handler attributes
        assert not re.search(r"<[^>]+\sstyle\s*=", text)  # no inline style
        assert "<style" not in text
        assert "javascript:" not in text
    status, headers, body = await get(client, thread)
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"  # a thread's address is its key
    assert '<meta name="robots" content="noindex, nofollow">' in body
    for asset in ("/static/pages.js", "/static/pages.css"):
        status, headers, body = await get(client, asset)
        assert status == 200
        assert len(body) > 1000


# -- error pages -----------------------------------------------------------------------------


async def test_unknown_routes_get_the_friendly_404_page(client: Client) -> None:
    thread = await ask(client, "头晕")
    thread_id, token = thread.split("/")[2:]
    wrong = "A" * len(token)
    for path in (
        "/nowhere",
        "/experts/nobody",
        "/experts/ZHANG",
        f"/t/{thread_id}/{wrong}",
        f"/t/{int(thread_id) + 1}/{token}",
        "/t/abc/def",
        "/t/1",
        "/static/missing.js",
        "/static/pages.py",
        "/static/%2e%2e%2fpages.py",
        "/static/",
    ):
        text = friendly(await get(client, path), 404, "404")
        assert token not in text
    english = friendly(await get(client, "/nowhere", {"Accept-Language": "en"}), 404, "404")
    assert render("page.error_404", "en") in english
    # the API keeps its own problem+json
    status, headers, _ = await get(client, "/api/nowhere")
    assert (status, headers["Content-Type"].split(";")[0]) == (404, "application/problem+json")


async def test_wrong_methods_and_bodies_too_large_get_friendly_pages(client: Client) -> None:
    page = await post(client, "/", {"x": "1"})
    friendly(page, 405, "405")
    assert page[1]["Allow"] == "GET,HEAD"
    friendly(await post(client, "/experts/zhang", {"x": "1"}), 405, "405")
    big = {"nickname": "小王", "text": "长" * 40_000, "public": "1"}
    friendly(await post(client, "/experts/zhang/ask", big), 413, "413")


async def test_an_internal_error_is_a_friendly_500_and_the_log_has_no_token(
    app: tuple[Daemon, Client],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    running, client = app
    caplog.set_level(logging.DEBUG)
    thread = await ask(client, "头晕")
    token = thread.split("/")[3]
    html_page(await get(client, thread))
    assert (await post(client, thread + "/messages", {"text": "还在头晕"}))[0] == 303

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("SECRET internal detail")

    monkeypatch.setattr(running.relay.read, "experts_view", broken)
    monkeypatch.setattr(running.relay.patient_page, "thread_view", broken)
    for path in ("/", thread):
        text = friendly(await get(client, path), 500, "500")
        assert "SECRET" not in text
    text = friendly(await get(client, thread, {"Accept-Language": "en"}), 500, "500")
    assert render("page.error_500", "en") in text

    assert "page GET /t/{id}/{token} failed" in caplog.text  # logged, by its route
    assert token not in caplog.text


async def test_a_post_from_another_site_is_refused(client: Client) -> None:
    form = {"nickname": "小王", "text": "头晕", "public": "1"}
    page = await post(client, "/experts/zhang/ask", form, {"Origin": "https://evil.example"})
    friendly(page, 403, "other")
    ok = await post(client, "/experts/zhang/ask", form, {"Origin": client.api})
    assert ok[0] == 303


# -- the forms without JavaScript ------------------------------------------------------------


async def test_asking_without_javascript_redirects_to_the_thread_page(client: Client) -> None:
    form = {"nickname": "小王", "text": "孩子发烧39度怎么办", "public": "0", "action": "ask"}

    status, headers, _ = await post(client, "/experts/zhang/ask", form)

    assert status == 303
    found = re.fullmatch(r"/t/([0-9]+)/([A-Za-z0-9_-]{24,})\?new=1", headers["Location"])
    assert found, headers["Location"]
    thread_id, token = int(found.group(1)), found.group(2)
    view = await client.thread(thread_id, token)
    assert [m["text"] for m in view["messages"]] == ["孩子发烧39度怎么办"]
    page = html_page(await get(client, headers["Location"]))
    assert "孩子发烧39度怎么办" in page
    assert render("page.save_link") in page
    assert f"/t/{thread_id}/{token}" in page  # the link, shown to be saved
    assert render("status.queued") in page or render("status.sent") in page
    again = html_page(await get(client, f"/t/{thread_id}/{token}"))
    assert render("page.save_link") not in again  # shown once
    # private: not on the board
    assert "孩子发烧" not in html_page(await get(client, "/experts/zhang"))

    status, headers, _ = await post(client, "/experts/zhang/ask?lang=en", form)
    assert status == 303
    assert headers["Location"].endswith("?new=1&lang=en")


FORM_ERRORS = {
    "nickname": ({"nickname": "", "text": "头晕", "public": "1"}, 422, "nickname"),
    "long-nickname": ({"nickname": "名" * 21, "text": "头晕", "public": "1"}, 422, "nickname"),
    "text": ({"nickname": "小王", "text": "  ", "public": "1"}, 422, "text"),
    "too-long": ({"nickname": "小王", "text": "长" * 501, "public": "1"}, 422, "text"),
    "public": ({"nickname": "小王", "text": "头晕"}, 422, "public"),
    "code": ({"nickname": "小王", "text": "头晕", "public": "1", "phone": PATIENT}, 422, "code"),
    "phone": ({"nickname": "小王", "text": "头晕", "public": "1", "phone": "12"}, 422, "phone"),
}
KEYS = {
    "nickname": "error.nickname_length",
    "text": "error.text_length",
    "public": "page.visibility_required",
    "code": "error.code_required",
    "phone": "error.phone_invalid",
}


@pytest.mark.parametrize(("form", "status", "field"), FORM_ERRORS.values(), ids=list(FORM_ERRORS))
async def test_a_refused_form_comes_back_with_the_error_in_chinese(
    client: Client, form: dict[str, str], status: int, field: str
) -> None:
    text = html_page(await post(client, "/experts/zhang/ask", form), status)

    message = render(KEYS[field])
    assert re.search(r"[\u4e00-\u9fff]", message)
    assert f"{render('page.not_sent')}{message}</p>" in text  # the summary
    assert f'data-error-for="{field}">{message}</p>' in text  # beside the field
    assert len(re.findall(r'data-error-for="[a-z]+">[^<]', text)) == 1
    assert f'value="{form["nickname"]}"' in text  # what was typed is kept
    assert f">{form['text']}</textarea>" in text
    english = html_page(
        await post(client, "/experts/zhang/ask", form, {"Accept-Language": "en"}), status
    )
    assert f'data-error-for="{field}">{render(KEYS[field], "en")}</p>' in english


async def test_a_code_sent_and_entered_without_javascript(client: Client) -> None:
    form = {"nickname": "小王", "text": "血压高", "public": "1", "phone": "139 1234 5678"}

    sent = html_page(await post(client, "/experts/zhang/ask", {**form, "action": "send_code"}))
    assert render("page.code_sent") in sent
    found = re.search(r'name="verification_id" value="([^"]+)"', sent)
    assert found
    verification_id = found.group(1)
    sms = await client.wait_for_sms(PATIENT, lambda t: "验证码" in t)
    code = re.search(r"[0-9]{6}", sms)
    assert code

    form["verification_id"] = verification_id
    wrong = "000000" if code.group(0) != "000000" else "111111"
    refused = html_page(await post(client, "/experts/zhang/ask", {**form, "code": wrong}), 403)
    assert render("error.code_wrong") in refused
    assert f'value="{verification_id}"' in refused  # kept for the next try

    status, headers, _ = await post(client, "/experts/zhang/ask", {**form, "code": code.group(0)})
    assert status == 303
    thread = headers["Location"].removesuffix("?new=1")
    await client.wait_for_sms(EXPERT_ZHANG, lambda t: "血压高" in t)
    await client.phone_sends(EXPERT_ZHANG, "少吃盐")
    answer = await client.wait_for_sms(PATIENT, lambda t: "少吃盐" in t)  # by SMS too
    assert "张明" in answer
    for _ in range(150):
        page = html_page(await get(client, thread))
        if "少吃盐" in page:
            break
        await asyncio.sleep(0.1)
    assert "少吃盐" in page
    assert render("page.from.expert") in page


async def test_follow_up_and_withdraw_without_javascript(client: Client) -> None:
    thread = await ask(client, "头晕")

    status, headers, _ = await post(client, thread + "/messages", {"text": "还有点恶心"})
    assert (status, headers["Location"]) == (303, thread)
    page = html_page(await get(client, thread))
    assert "还有点恶心" in page
    assert 'data-role="open-only">' in page  # the forms are there

    empty = html_page(await post(client, thread + "/messages", {"text": " "}), 422)
    assert render("error.text_length") in empty

    status, headers, _ = await post(client, thread + "/withdraw", {})
    assert (status, headers["Location"]) == (303, thread)
    page = html_page(await get(client, thread))
    assert render("page.status", status=render("status.closed")) in page
    assert 'data-role="open-only" hidden>' in page
    assert 'data-role="closed">' in page

    refused = html_page(await post(client, thread + "/messages", {"text": "在吗"}), 409)
    assert render("error.thread_closed") in refused
    again = html_page(await post(client, thread + "/withdraw", {}), 409)
    assert render("error.thread_closed") in again
    thread_id, token = thread.split("/")[2:]
    friendly(await post(client, f"/t/{thread_id}/{'B' * len(token)}/withdraw", {}), 404, "404")
    friendly(await post(client, f"/t/{thread_id}/{'B' * len(token)}/messages", {}), 404, "404")


async def test_the_expert_page_is_paged_and_searchable(client: Client) -> None:
    for i in range(12):
        await ask(client, f"第{i}个问题：关于血压", nickname=f"患者{i}")
    await ask(client, "关于心悸的问题", nickname="心悸患者")
    await ask(client, "私下问心悸", nickname="私密", public=False)

    first = html_page(await get(client, "/experts/zhang"))
    second = html_page(await get(client, "/experts/zhang?page=2"))
    found = html_page(await get(client, "/experts/zhang?q=心悸"))
    nothing = html_page(await get(client, "/experts/zhang?q=骨折"))
    odd = html_page(await get(client, "/experts/zhang?page=abc"))

    assert first.count('class="thread"') == 10
    assert second.count('class="thread"') == 3
    assert 'rel="next" href="/experts/zhang?page=2"' in first
    assert 'rel="prev" href="/experts/zhang?page=1"' in second
    assert render("page.page_of", page=2, pages=2) in second
    assert "心悸患者" in first  # newest first
    assert "第0个问题" in second
    assert found.count('class="thread"') == 1
    assert render("page.results", total=1) in found
    assert "私下问心悸" not in found + first + second
    assert render("page.no_results") in nothing
    assert odd.count('class="thread"') == 10
    assert html_page(await get(client, "/experts/li")).count('class="thread"') == 0
