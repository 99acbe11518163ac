"""One language negotiator for the pages, the admin pages and the API: a table of what visitors
send and the language they get, and every route family asked the same way."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from smscat.web.language import Language, from_accept, negotiate
from smscat.web.texts import render
from tests.support.daemon import TIMEOUT, daemon

ACCEPT = [  # Accept-Language → the language we answer in
    (None, "zh-CN"),
    ("", "zh-CN"),
    ("en", "en"),
    ("EN", "en"),
    ("  en-US", "en"),
    ("en-GB,en;q=0.9", "en"),
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
    ("zh-TW", "zh-CN"),  # any Chinese: ours is zh-CN
    ("zh-Hant-HK;q=0.7, en;q=0.3", "zh-CN"),
    ("fr-FR,fr;q=0.9,en;q=0.8", "en"),  # the first of ours by rank, not the first given
    ("de", "zh-CN"),  # nothing of ours: the default
    ("*", "zh-CN"),
    ("zh-CN;q=0.2, en;q=0.8", "en"),  # by q, not by order
    ("en;q=0.5, zh;q=0.5", "en"),  # a tie: the order given
    ("en;q=0, zh-CN", "zh-CN"),  # q=0: not this one
    ("en;q=0", "zh-CN"),
    ("en;q=abc, zh", "zh-CN"),  # an unreadable q counts as 0
    ("en;q=1.5", "zh-CN"),  # out of range: as unreadable
    ("english", "zh-CN"),  # not a language range of ours
    ("en-US;level=1;q=0.9, fr", "en"),
    ("," * 5000 + "en", "zh-CN"),  # past the ranges worth reading
]
QUERY = [  # ?lang= and Accept-Language → the language, and the ?lang= its links keep
    ("en", None, Language("en", "en")),
    ("EN-us", None, Language("en", "en")),
    ("zh", "en", Language("zh-CN", "zh-CN")),  # the address beats the browser
    ("zh-CN", "en", Language("zh-CN", "zh-CN")),
    (None, "en", Language("en", None)),  # the browser's choice: nothing to keep in links
    ("", "en-US", Language("en", None)),
    ("fr", "en", Language("en", None)),  # not ours: as if absent
    ("fr", None, Language("zh-CN", None)),
    (None, None, Language("zh-CN", None)),
]


@pytest.mark.parametrize(("header", "lang"), ACCEPT)
def test_accept_language(header: str | None, lang: str) -> None:
    assert from_accept(header) == lang
    assert negotiate(accept=header) == Language(lang, None)


@pytest.mark.parametrize(("query", "header", "chosen"), QUERY)
def test_the_address_first_then_the_browser(
    query: str | None, header: str | None, chosen: Language
) -> None:
    assert negotiate(query, header) == chosen


async def test_pages_admin_pages_and_api_answer_in_the_language_negotiated(
    tmp_path: Path,
) -> None:
    """The same header gives the same language on a page, the admin login and an API refusal;
    ``?lang=`` is for the pages (the API reads the header only)."""
    async with (
        daemon(tmp_path) as (running, _),
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
    ):
        for header, lang in [("fr,en;q=0.5", "en"), ("zh-TW,en;q=0.9", "zh-CN"), ("de", "zh-CN")]:
            headers = {"Accept-Language": header}
            async with http.get(running.url + "/", headers=headers) as resp:
                assert f'<html lang="{lang}">' in await resp.text()
            async with http.get(running.url + "/admin", headers=headers) as resp:
                assert render("admin.login_heading", lang) in await resp.text()
            async with http.get(running.url + "/api/questions/1", headers=headers) as resp:
                body = await resp.json()
                assert body["detail"] == render("error.token_required", lang)
        headers = {"Accept-Language": "zh-CN"}
        async with http.get(running.url + "/?lang=en", headers=headers) as resp:
            page = await resp.text()
            assert '<html lang="en">' in page
            assert 'href="/experts/zhang?lang=en"' in page  # the choice is kept in links
        async with http.get(running.url + "/api/questions/1?lang=en", headers=headers) as resp:
            body = await resp.json()
            assert body["detail"] == render("error.token_required", "zh-CN")
