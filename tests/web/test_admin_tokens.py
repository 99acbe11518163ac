"""The admin's API tokens page over real HTTP, on a running daemon: a new token's secret is shown
in the answer that makes it and on no page after; the list shows names, scopes and states; a
token is revoked from the list; a wrong name is refused beside its field; every change is
audited as the admin, and the secret is in no log and no audit entry."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from smscat.relay.daemon.app import Daemon
from smscat.relay.services.api_tokens import ApiClient
from smscat.web.texts import render
from tests.support.admin import ADMINS, CSRF, Browser
from tests.support.daemon import TIMEOUT, Client, daemon

SECRET = re.compile(r'<code class="secret">(smscat_[A-Za-z0-9_-]+)</code>')


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[Daemon, Client]]:
    async with daemon(tmp_path, admins=ADMINS) as started:
        yield started


@pytest.fixture
async def browser(running: tuple[Daemon, Client]) -> AsyncIterator[Browser]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=jar) as http:
        admin = Browser(http, running[0].url)
        assert (await admin.login())[0] == 303
        yield admin


async def tokens_page(browser: Browser) -> tuple[str, str]:
    """The page's HTML (en) and its CSRF token."""
    status, headers, body, _ = await browser.get("/admin/tokens?lang=en")
    assert status == 200, body
    assert headers["Cache-Control"] == "no-store"
    found = CSRF.search(body)
    assert found
    return body, found.group(1)


async def test_a_token_is_made_shown_once_listed_and_revoked(
    browser: Browser, running: tuple[Daemon, Client], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    relay = running[0].relay
    body, csrf = await tokens_page(browser)
    assert render("admin.tokens.none", "en") in body
    assert 'href="/admin/tokens?lang=en" aria-current="page"' in body  # its place in the nav

    form = {"csrf": csrf, "name": "his", "scope": "followups"}
    status, headers, body, _ = await browser.post("/admin/tokens?lang=en", form)
    assert status == 200, body
    assert headers["Cache-Control"] == "no-store"
    found = SECRET.search(body)
    assert found, body
    secret = found.group(1)
    assert html.escape(render("admin.tokens.secret_once", "en")) in body
    now = relay.clock()
    assert await relay.api_tokens.verify(secret, now) == ApiClient("his", frozenset({"followups"}))

    body, csrf = await tokens_page(browser)  # the list, and no secret on it any more
    assert secret not in body
    row = body[body.index('data-token="his"') :]
    row = row[: row.index("</tr>")]
    assert render("admin.tokens.scope.followups", "en") in row
    assert "admin:root" in row
    assert render("admin.tokens.live", "en") in row

    status, headers, _, _ = await browser.post("/admin/tokens/revoke?lang=en", {
        "csrf": csrf, "name": "his"
    })  # fmt: skip
    assert status == 303
    body, _ = await tokens_page(browser)
    assert html.escape(render("admin.tokens.revoked_done", "en", name="his")) in body
    row = body[body.index('data-token="his"') :]
    row = row[: row.index("</tr>")]
    assert render("admin.tokens.live", "en") not in row
    assert 'action="/admin/tokens/revoke' not in row  # nothing left to revoke
    assert await relay.api_tokens.verify(secret, now) is None

    entries = await relay.db.fetchall(
        "SELECT actor, action, subject, detail FROM audit_log WHERE action LIKE 'api_token.%'"
    )
    assert [tuple(e)[:3] for e in entries] == [
        ("admin:root", "api_token.create", "his"),
        ("admin:root", "api_token.revoke", "his"),
    ]
    random_part = secret[len("smscat_") :]
    assert not [e for e in entries if random_part in str(tuple(e))]
    assert caplog.records
    assert random_part not in caplog.text


async def test_a_wrong_form_is_refused_beside_its_field_and_makes_nothing(
    browser: Browser, running: tuple[Daemon, Client]
) -> None:
    relay = running[0].relay
    _, csrf = await tokens_page(browser)
    for form, status, field, key in [
        ({"name": "HIS lab", "scope": "followups"}, 422, "name", "token_name"),
        ({"name": "his"}, 422, "scopes", "token_scopes"),
        ({"name": "his", "scope": "everything"}, 422, "scopes", "token_scope_unknown"),
    ]:
        got, _, body, _ = await browser.post("/admin/tokens?lang=en", {"csrf": csrf, **form})
        assert got == status, body
        assert f'<p class="field-error" id="{field}-error">' in body
        assert html.escape(render(f"admin.error.{key}", "en")) in body
        assert not SECRET.search(body)
    assert await relay.api_tokens.list() == []

    await relay.api_tokens.create("his", ["followups"], "cli")
    got, _, body, _ = await browser.post(
        "/admin/tokens?lang=en", {"csrf": csrf, "name": "his", "scope": "followups"}
    )
    assert got == 409
    assert html.escape(render("admin.error.token_name_taken", "en")) in body
    assert 'value="his"' in body  # what was typed stays in the field
    got, _, body, _ = await browser.post(
        "/admin/tokens/revoke?lang=en", {"csrf": csrf, "name": "lab"}
    )
    assert got == 404
    assert html.escape(render("admin.error.token_not_found", "en")) in body
    assert [t.name for t in await relay.api_tokens.list()] == ["his"]
