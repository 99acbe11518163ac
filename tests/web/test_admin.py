"""The admin pages over real HTTP, against a whole daemon with the built-in simulated modem.

Login with a CSRF token, failures, the lockout (by username and network, by network), the session
cookie's flags (Secure only over HTTPS, believed from a trusted proxy only), logout, every
admin POST refused without the session's CSRF token; the dashboard (the simulated modem, the
queue counts, unmatched SMS with the sender masked and hostile text escaped), assigning an
unmatched SMS to a thread, the hand-off form; the config keys; ``smscat hash-password``.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from pathlib import Path

import aiohttp
import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError
from yarl import URL

from smscat.relay.daemon.app import Daemon
from smscat.relay.daemon.cli import main
from smscat.relay.daemon.config import ModemLimits, Settings
from smscat.web.dashboard import signal_bars
from smscat.web.texts import render
from tests.support.admin import ADMINS, CSRF, HASH, PASSWORD, Browser, two_questions, unmatched
from tests.support.daemon import EXPERT_ZHANG, PATIENT, TIMEOUT, Client, daemon, settled


def _cookie(set_cookies: list[str], name: str) -> str | None:
    for header in set_cookies:
        if header.startswith(name + "="):
            return header
    return None


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[Daemon, Client]]:
    async with daemon(tmp_path, admins=ADMINS) as running:
        yield running


@pytest.fixture
async def browser(app: tuple[Daemon, Client]) -> AsyncIterator[Browser]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=jar) as http:
        yield Browser(http, app[0].url)


@pytest.fixture
async def admin(browser: Browser) -> Browser:
    status, headers, body, _ = await browser.login()
    assert status == 303, body
    assert headers["Location"] == "/admin"
    return browser


# -- logging in ----------------------------------------------------------------------------------


async def test_login_page_when_not_logged_in(browser: Browser) -> None:
    status, headers, body, cookies = await browser.get()
    assert status == 200
    assert "Content-Security-Policy" in headers
    assert headers["Cache-Control"] == "no-store"
    assert render("admin.login_heading") in body
    assert "sim1" not in body  # nothing of the dashboard
    login_cookie = _cookie(cookies, "smscat_admin_login")
    assert login_cookie is not None
    assert "HttpOnly" in login_cookie
    assert "SameSite=Strict" in login_cookie


async def test_login_success_sets_a_strict_httponly_session_cookie(
    browser: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = await browser.login_form()
    form = {"csrf": token, "username": "root", "password": PASSWORD}
    status, _, body, cookies = await browser.post("/admin/login", form)
    assert status == 303, body
    session = _cookie(cookies, "smscat_admin")
    assert session is not None
    parsed = SimpleCookie(session)["smscat_admin"]
    assert parsed["httponly"]
    assert parsed["samesite"] == "Strict"
    assert parsed["path"] == "/admin"
    assert not parsed["secure"]  # plain HTTP, no trusted proxy
    assert len(parsed.value) >= 32
    body, csrf = await browser.dashboard()
    assert render("admin.signed_in_as", username="root") in body
    for secret in (PASSWORD, parsed.value, csrf, token):
        assert secret not in caplog.text


async def test_wrong_password_is_refused(browser: Browser) -> None:
    status, _, body, cookies = await browser.login(password="wrong password")
    assert status == 401
    assert render("admin.login_failed") in body
    assert _cookie(cookies, "smscat_admin") is None
    status, _, body, _ = await browser.get()
    assert 'name="password"' in body  # still the login page


async def test_unknown_username_is_refused(browser: Browser) -> None:
    status, _, _, cookies = await browser.login(username="nobody")
    assert status == 401
    assert _cookie(cookies, "smscat_admin") is None


async def test_login_without_or_with_a_wrong_csrf_token_is_refused(browser: Browser) -> None:
    await browser.login_form()  # the login cookie is set
    form = {"username": "root", "password": PASSWORD}
    for data in (form, {**form, "csrf": "x" * 43}):
        status, _, body, cookies = await browser.post("/admin/login", data)
        assert status == 403
        assert render("admin.forbidden") in body
        assert _cookie(cookies, "smscat_admin") is None


async def test_five_failures_lock_the_login_even_with_the_right_password(
    browser: Browser,
) -> None:
    for _ in range(5):
        status, _, _, _ = await browser.login(password="guess")
        assert status == 401
    status, _, body, cookies = await browser.login()
    assert status == 429
    assert render("admin.locked", minutes=15) in body
    assert _cookie(cookies, "smscat_admin") is None


async def test_four_failures_do_not_lock(browser: Browser) -> None:
    for _ in range(4):
        status, _, _, _ = await browser.login(password="guess")
        assert status == 401
    status, _, _, _ = await browser.login()
    assert status == 303


async def test_lockout_by_username_and_network_and_by_network_behind_a_trusted_proxy(
    tmp_path: Path,
) -> None:
    web = {"trusted_proxies": ["127.0.0.0/8"]}
    async with (
        daemon(tmp_path, admins=ADMINS, web=web) as (running, _),
        aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=aiohttp.CookieJar(unsafe=True)) as h,
    ):
        b = Browser(h, running.url)
        # five failures for "root" from one /24, each from another address: locked there
        for n in range(5):
            status, _, _, _ = await b.login(password="guess", **{"X-Forwarded-For": f"10.0.0.{n}"})
            assert status == 401
        status, _, _, _ = await b.login(**{"X-Forwarded-For": "10.0.0.99"})
        assert status == 429
        # ... and only there: root logs in from another network
        async with aiohttp.ClientSession(
            timeout=TIMEOUT, cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as other:
            status, _, _, _ = await Browser(other, running.url).login(
                **{"X-Forwarded-For": "10.0.1.1"}
            )
            assert status == 303
        # twenty failures from one network, each for another name: that network is locked
        for n in range(20):
            status, _, _, _ = await b.login(f"user{n}", **{"X-Forwarded-For": "10.9.9.9"})
            assert status == 401
        status, _, _, _ = await b.login("someone", **{"X-Forwarded-For": "10.9.9.8"})
        assert status == 429
        status, _, _, _ = await b.login("someone", **{"X-Forwarded-For": "10.9.8.8"})
        assert status == 401  # another network is not locked


async def test_secure_cookie_when_a_trusted_proxy_says_https(tmp_path: Path) -> None:
    web = {"trusted_proxies": ["127.0.0.1/32"]}
    async with (
        daemon(tmp_path, admins=ADMINS, web=web) as (running, _),
        aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=aiohttp.CookieJar(unsafe=True)) as h,
    ):
        b = Browser(h, running.url)
        status, _, _, cookies = await b.login(**{"X-Forwarded-Proto": "https"})
        assert status == 303
        session = _cookie(cookies, "smscat_admin")
        assert session is not None
        assert SimpleCookie(session)["smscat_admin"]["secure"]


async def test_forwarded_proto_from_an_untrusted_peer_is_ignored(browser: Browser) -> None:
    status, _, _, cookies = await browser.login(**{"X-Forwarded-Proto": "https"})
    assert status == 303
    session = _cookie(cookies, "smscat_admin")
    assert session is not None
    assert not SimpleCookie(session)["smscat_admin"]["secure"]


async def test_logout_invalidates_the_session(admin: Browser, app: tuple[Daemon, Client]) -> None:
    _, csrf = await admin.dashboard()
    session = admin.http.cookie_jar.filter_cookies(URL(admin.base + "/admin"))["smscat_admin"].value
    status, _, _, _ = await admin.post("/admin/logout", {"csrf": csrf})
    assert status == 303
    status, _, body, _ = await admin.get()
    assert 'name="password"' in body
    # the old cookie, replayed, is worth nothing
    async with aiohttp.ClientSession(timeout=TIMEOUT) as other:
        headers = {"Cookie": f"smscat_admin={session}"}
        async with other.get(app[0].url + "/admin", headers=headers) as resp:
            assert 'name="password"' in await resp.text()
        async with other.post(
            app[0].url + "/admin/handoff",
            data={"csrf": csrf, "from": "zhang", "to": "li"},
            headers=headers,
            allow_redirects=False,
        ) as resp:
            assert resp.status == 403


async def test_logout_without_the_csrf_token_is_refused(admin: Browser) -> None:
    status, _, _, _ = await admin.post("/admin/logout", {})
    assert status == 403
    await admin.dashboard()  # still logged in


# -- CSRF on every admin POST --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/handoff", "/admin/inbound/1/assign", "/admin/logout"])
async def test_admin_posts_need_the_sessions_csrf_token(
    admin: Browser, app: tuple[Daemon, Client], path: str
) -> None:
    form = {"from": "zhang", "to": "li", "thread_id": "1"}
    for data in (form, {**form, "csrf": "not-the-token"}):
        status, headers, body, _ = await admin.post(path, data)
        assert status == 403, body
        assert render("admin.forbidden") in body
        assert "Content-Security-Policy" in headers
    experts = {e["id"] for e in await app[0].relay.read.experts_view()}
    assert "zhang" in experts  # no hand-off happened
    await admin.dashboard()  # and the session is still there


async def test_admin_posts_without_a_session_are_refused(browser: Browser) -> None:
    status, _, body, _ = await browser.post("/admin/handoff", {"from": "zhang", "to": "li"})
    assert status == 403
    assert render("admin.forbidden") in body


# -- the dashboard -------------------------------------------------------------------------------


async def test_dashboard_shows_the_simulated_modem_and_the_queue(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, _ = app
    counts = await settled(running)  # the experts' welcome SMS
    async with asyncio.timeout(15):
        while running.supervisors["sim1"].health is None:  # noqa: ASYNC110
            await asyncio.sleep(0.1)  # the supervisor's first probe
    body, _ = await admin.dashboard()
    row = re.search(r'<article class="modem ok" data-modem="sim1">(.*?)</article>', body, re.S)
    assert row, body
    card = row.group(1)
    assert f'data-state="ready">{render("admin.state.ready")}<' in card
    health = running.supervisors["sim1"].health
    assert health is not None
    assert health.signal_dbm is not None
    assert f'<span class="dbm">{health.signal_dbm} dBm</span>' in card
    assert f'class="bars bars-{signal_bars(health.signal_dbm)}"' in card
    assert f'class="registration">{render("admin.reg." + health.registration)}<' in card
    assert f'class="model">{health.manufacturer} {health.model}<' in card
    assert "<code>/dev/" in card or "<code>sim<" in card  # the configured port
    sent = await running.relay.db.fetchall(
        "SELECT COUNT(*) FROM outbox_parts WHERE modem_id = 'sim1'"
    )
    assert int(sent[0][0]) > 0
    cap = ModemLimits().per_day  # the default: the test config sets none
    assert f'class="sent-today">{sent[0][0]} / {cap}<' in card
    assert 'href="/sim/sim1/"' in card  # its virtual phones, at the same address every start
    for status in ("queued", "sent", "delivered", "failed", "cancelled"):
        expected = counts.get(status, 0)
        assert f'<div data-status="{status}"><dt>{render("admin.queue." + status)}</dt>' in body
        assert re.search(rf'data-status="{status}"><dt>[^<]*</dt><dd>{expected}</dd>', body)
    assert sum(counts.values()) >= 2


async def test_unmatched_sms_is_shown_with_the_sender_masked(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    await two_questions(client)
    inbound_id = await unmatched(running, client, "请多喝水，按时吃药")
    body, _ = await admin.dashboard()
    assert "请多喝水，按时吃药" in body
    assert f'action="/admin/inbound/{inbound_id}/assign"' in body
    assert render("admin.from_expert", name="张明") in body  # an expert's: by name
    assert "•••• 8001" not in body  # not even the last digits
    digits = re.sub(r"\D", "", EXPERT_ZHANG)  # 8613800138001
    for form in (EXPERT_ZHANG, digits, digits[2:], digits[2:-4]):
        assert form not in body
    assert render("admin.unmatched_none") not in body


async def test_hostile_unmatched_text_is_escaped(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    await two_questions(client)
    await unmatched(running, client, '<script>alert("x")</script><img src=x onerror=alert(1)>')
    body, _ = await admin.dashboard()
    assert re.findall(r"<script[^>]*>", body) == ['<script src="/static/admin.js" defer>']
    assert "<img src=x" not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body


async def test_a_patients_unmatched_sms_goes_to_one_of_their_own_questions(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    ids = []
    for n in range(2):  # one patient, two open questions
        verification_id, code = await client.verify(PATIENT)
        status, answer = await client.call(
            "POST", "/api/questions", expert_id="zhang", nickname=f"患者{n}",
            text=f"问题{n} 一直头晕", public=False,
            phone=PATIENT, verification_id=verification_id, code=code,
        )  # fmt: skip
        assert status == 201, answer
        ids.append(int(answer["id"]))
    await two_questions(client)  # somebody else's: not to pick from
    await client.phone_sends(PATIENT, "还是头晕")  # no code, two open questions: which one?
    async with asyncio.timeout(15):
        while True:
            rows = await running.relay.read.unmatched_inbound()
            found = [r for r in rows if r["text"] == "还是头晕"]
            if found:
                break
            await asyncio.sleep(0.1)
    inbound_id = int(found[0]["id"])
    body, csrf = await admin.dashboard()
    article = re.search(rf'data-inbound="{inbound_id}">(.*?)</article>', body, re.S)
    assert article, body
    options = re.findall(r'<option value="(\d+)">([^<]*)</option>', article.group(1))
    codes = await running.relay.db.fetchall(
        f"SELECT id, code FROM threads WHERE id IN ({ids[0]}, {ids[1]}) ORDER BY id"
    )
    labels = [(str(r["id"]), f"#{r['code']} 问题{n} 一直头晕") for n, r in enumerate(codes)]
    assert options == labels
    assert render("admin.assign_followup_button") in article.group(1)
    assert PATIENT not in body
    assert PATIENT[3:] not in body
    status, _, body, _ = await admin.post(
        f"/admin/inbound/{inbound_id}/assign", {"csrf": csrf, "thread_id": str(ids[1])}
    )
    assert status == 303, body
    posted = await running.relay.db.fetchall(
        "SELECT sender, text FROM messages WHERE thread_id = ? ORDER BY id", (ids[1],)
    )
    assert tuple(posted[-1]) == ("patient", "还是头晕")
    body, _ = await admin.dashboard()
    assert render("admin.assigned_followup", thread=labels[1][1].split()[0]) in body
    await client.wait_for_sms(EXPERT_ZHANG, lambda t: "还是头晕" in t)  # on to the expert


async def test_assigning_an_unmatched_sms_answers_the_thread_and_forwards_it(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    first, _ = await two_questions(client, phone=True)
    inbound_id = await unmatched(running, client, "建议复查心电图")
    _, csrf = await admin.dashboard()
    status, _, body, _ = await admin.post(
        f"/admin/inbound/{inbound_id}/assign", {"csrf": csrf, "thread_id": str(first)}
    )
    assert status == 303, body
    body, _ = await admin.dashboard()
    code = (await running.relay.db.fetchall("SELECT code FROM threads WHERE id = ?", (first,)))[0]
    assert render("admin.assigned", thread=f"#{code['code']}") in body  # the code all know
    assert "建议复查心电图" not in body  # no longer unmatched
    db = running.relay.db
    posted = await db.fetchall(
        "SELECT sender, text, inbound_id FROM messages WHERE thread_id = ? AND sender = 'expert'",
        (first,),
    )
    assert [tuple(r) for r in posted] == [("expert", "建议复查心电图", inbound_id)]
    thread = await db.fetchall("SELECT status FROM threads WHERE id = ?", (first,))
    assert thread[0]["status"] == "answered"
    forwarded = await db.fetchall(
        "SELECT text FROM outbox WHERE kind = 'to_patient' AND recipient = ? AND thread_id = ?",
        (PATIENT, first),
    )
    assert len(forwarded) == 1
    assert "建议复查心电图" in forwarded[0]["text"]
    inbound = await db.fetchall(
        "SELECT outcome, thread_id, resolved_at FROM inbound WHERE id = ?", (inbound_id,)
    )
    assert inbound[0]["outcome"] == "reply"
    assert inbound[0]["thread_id"] == first
    assert inbound[0]["resolved_at"] is not None
    audit = await db.fetchall(
        "SELECT actor FROM audit_log WHERE action = 'inbound.assign' AND subject = ?",
        (str(inbound_id),),
    )
    assert [r["actor"] for r in audit] == ["admin:root"]
    await client.wait_for_sms(PATIENT, lambda t: "建议复查心电图" in t)


async def test_assigning_twice_or_to_a_missing_thread_is_refused(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    first, _ = await two_questions(client)
    inbound_id = await unmatched(running, client, "明天来门诊")
    _, csrf = await admin.dashboard()
    path = f"/admin/inbound/{inbound_id}/assign"
    status, _, body, _ = await admin.post(path, {"csrf": csrf, "thread_id": "999999"})
    assert status == 404
    assert render("admin.error.not_found") in body
    status, _, body, _ = await admin.post(path, {"csrf": csrf, "thread_id": "abc"})
    assert status == 422
    status, _, _, _ = await admin.post(path, {"csrf": csrf, "thread_id": str(first)})
    assert status == 303
    status, _, _, _ = await admin.post(path, {"csrf": csrf, "thread_id": str(first)})
    assert status == 404
    posted = await running.relay.db.fetchall(
        "SELECT COUNT(*) FROM messages WHERE inbound_id = ?", (inbound_id,)
    )
    assert posted[0][0] == 1


async def test_handoff_form_moves_the_open_threads(
    admin: Browser, app: tuple[Daemon, Client]
) -> None:
    running, client = app
    ids = await two_questions(client)
    body, csrf = await admin.dashboard()
    assert '<option value="li">李华</option>' in body
    status, _, body, _ = await admin.post(
        "/admin/handoff", {"csrf": csrf, "from": "zhang", "to": "li"}
    )
    assert status == 303, body
    body, _ = await admin.dashboard()
    assert render("admin.handoff_done", count=2) in body
    rows = await running.relay.db.fetchall(
        f"SELECT expert_id FROM threads WHERE id IN ({ids[0]}, {ids[1]})"
    )
    assert [r["expert_id"] for r in rows] == ["li", "li"]
    audit = await running.relay.db.fetchall(
        "SELECT actor FROM audit_log WHERE action = 'expert.handoff' AND subject = 'zhang'"
    )
    assert [r["actor"] for r in audit] == ["admin:root"]


async def test_handoff_to_oneself_is_refused_in_words(admin: Browser) -> None:
    _, csrf = await admin.dashboard()
    status, _, body, _ = await admin.post(
        "/admin/handoff", {"csrf": csrf, "from": "zhang", "to": "zhang"}
    )
    assert status == 409
    assert render("admin.error.handoff_target") in body


# -- the setup link, with no admin configured -----------------------------------------------------


async def test_setup_link_creates_the_first_admin_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with (
        daemon(tmp_path) as (running, _),
        aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=aiohttp.CookieJar(unsafe=True)) as h,
    ):
        found = re.search(r"/admin/setup/[A-Za-z0-9_-]{32,}", caplog.text)
        assert found, caplog.text
        link = found.group(0)
        b = Browser(h, running.url)
        status, _, body, _ = await b.get()
        assert render("admin.no_admins") in body
        status, _, _, _ = await b.get("/admin/setup/" + "x" * 43)
        assert status == 404
        status, _, body, _ = await b.get(link)
        assert status == 200, body
        token = CSRF.search(body)
        assert token
        form = {"csrf": token.group(1), "username": "chief", "password": "long enough pw"}
        status, _, body, _ = await b.post(link, {**form, "password_again": "other pw here"})
        assert status == 422
        assert render("admin.error.password_mismatch") in body
        status, _, _, _ = await b.post(link, {**form, "csrf": "wrong", "password_again": "x"})
        assert status == 403
        status, _, body, cookies = await b.post(link, {**form, "password_again": "long enough pw"})
        assert status == 200, body
        shown = re.search(r"\$argon2id\$[^&\"<\s]+", body)
        assert shown, body
        assert PasswordHasher().verify(shown.group(0), "long enough pw")
        assert _cookie(cookies, "smscat_admin") is not None
        await b.dashboard()  # logged in
        assert "long enough pw" not in caplog.text
        # the link is spent; the new admin can log in
        status, _, _, _ = await b.get(link)
        assert status == 404
        async with aiohttp.ClientSession(
            timeout=TIMEOUT, cookie_jar=aiohttp.CookieJar(unsafe=True)
        ) as other:
            status, _, _, _ = await Browser(other, running.url).login("chief", "long enough pw")
            assert status == 303


async def test_no_setup_link_when_an_admin_is_configured(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with (
        daemon(tmp_path, admins=ADMINS) as (running, _),
        aiohttp.ClientSession(timeout=TIMEOUT) as h,
    ):
        assert "web on" in caplog.text
        assert "/admin/setup/" not in caplog.text
        status, _, _, _ = await Browser(h, running.url).get("/admin/setup/" + "x" * 43)
        assert status == 404


# -- configuration and the CLI -------------------------------------------------------------------


def test_config_takes_admins_and_trusted_proxies() -> None:
    settings = Settings(admins=ADMINS, web={"trusted_proxies": ["10.0.0.0/8", "::1"]})
    assert settings.admins[0].username == "root"
    assert HASH not in repr(settings)
    assert settings.web.trusted_proxies == ["10.0.0.0/8", "::1"]


@pytest.mark.parametrize(
    "admin",
    [
        {"username": "root", "password_hash": "plaintext"},
        {"username": "root", "password_hash": HASH.replace("argon2id", "argon2i")},
        {"username": "", "password_hash": HASH},
        {"username": "x" * 33, "password_hash": HASH},
    ],
)
def test_config_refuses_a_bad_admin(admin: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Settings(admins=[admin])


def test_config_refuses_a_username_twice() -> None:
    with pytest.raises(ValidationError, match="twice"):
        Settings(admins=[ADMINS[0], ADMINS[0]])


def test_config_refuses_a_bad_proxy_network() -> None:
    with pytest.raises(ValidationError, match="network"):
        Settings(web={"trusted_proxies": ["10.0.0.0/33"]})


def test_hash_password_from_stdin_verifies(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret passphrase\n"))
    assert main(["hash-password", "--stdin"]) == 0
    out = capsys.readouterr()
    printed = out.out.strip()
    assert printed.startswith("$argon2id$")
    assert PasswordHasher().verify(printed, "s3cret passphrase")
    assert "s3cret" not in out.out + out.err
    Settings(admins=[{"username": "a", "password_hash": printed}])  # config accepts it


def test_hash_password_refuses_a_short_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["hash-password", "--stdin"]) == 2
    assert "$argon2" not in capsys.readouterr().out


def test_hash_password_asks_twice(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["first password", "other password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["hash-password"]) == 2
    assert "$argon2" not in capsys.readouterr().out
