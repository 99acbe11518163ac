"""The admin pages: login, the dashboard (modems, queue, unmatched SMS, alerts) and its forms.

Thin like the patient pages (:mod:`.pages`, whose Jinja2 environment, CSP and friendly error
pages it shares): request → a :class:`~smscat.relay.service.Relay` call → a page in words from
:mod:`smscat.relay.texts` (``admin.*``). Sessions live in this process's memory only: a random
id in an HttpOnly, SameSite=Strict cookie (Secure when the request came over HTTPS, directly or
per ``X-Forwarded-Proto`` from a trusted proxy), with its own CSRF token that every admin POST
must carry. The login form carries a token of its own (double-submit: a cookie and a field).
After five failed logins for a username, or from an address, within 15 minutes, logins are
refused for 15 minutes. Passwords are verified with argon2 in a worker thread.

With no admin configured, :func:`add_routes` returns a one-time setup path
(``/admin/setup/<token>``) for the composition root to log: it lets one admin be created for this
run, logs them in, and shows the hash to paste into config.yaml; then the link is dead.

It must never: log a password, a session id, a CSRF token or a phone number; show a full phone
number (an unmatched SMS's sender is shown by its last four digits); or show an exception's text.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp_jinja2
from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from smscat.relay import texts
from smscat.relay.errors import RelayError
from smscat.web.dashboard import DashboardOptions, ModemView, snapshot
from smscat.web.pages import JINJA_KEY, _form_value, _lang, _page_context, _render, _same_origin

if TYPE_CHECKING:
    from smscat.relay.config import Settings
    from smscat.relay.service import Relay

log = logging.getLogger(__name__)

SESSION_COOKIE = "smscat_admin"
LOGIN_COOKIE = "smscat_admin_login"  # the login form's CSRF token (double-submit)
COOKIE_PATH = "/admin"
SESSION_IDLE = 30 * 60.0  # seconds without a request before a session ends
SESSION_MAX = 12 * 3600.0  # seconds a session lives at most
MAX_FAILURES = 5
LOCK_WINDOW = 15 * 60.0  # failures count within this window; a lock lasts this long
MAX_TRACKED = 10_000  # usernames/addresses with recent failures kept in memory
LIVE_EVERY = 2.0  # seconds between looks for the live dashboard
LIVE_HEARTBEAT = 15.0  # seconds: a comment line keeps proxies from closing an idle stream
MIN_PASSWORD = 8
MAX_USERNAME = 32
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(slots=True)
class Session:
    username: str
    csrf: str
    started: float
    seen: float
    flash: str | None = None  # a word for the next dashboard (after a 303)

    def __repr__(self) -> str:  # never the token
        return f"Session(username={self.username!r})"


@dataclass(slots=True)
class Lockout:
    """Failed logins by key (a username or an address), and the locks they caused."""

    clock: Callable[[], float]
    failures: dict[str, deque[float]] = field(default_factory=dict)
    locked: dict[str, float] = field(default_factory=dict)

    def locked_for(self, keys: Iterable[str]) -> float:
        """Seconds left on the longest lock among ``keys`` (0: none)."""
        now = self.clock()
        left = 0.0
        for key in keys:
            until = self.locked.get(key)
            if until is None:
                continue
            if until <= now:
                del self.locked[key]
            else:
                left = max(left, until - now)
        return left

    def fail(self, keys: Iterable[str]) -> None:
        now = self.clock()
        if len(self.failures) > MAX_TRACKED:
            self._prune(now)
        for key in keys:
            times = self.failures.setdefault(key, deque())
            times.append(now)
            while times and times[0] <= now - LOCK_WINDOW:
                times.popleft()
            if len(times) >= MAX_FAILURES:
                self.locked[key] = now + LOCK_WINDOW
                del self.failures[key]

    def succeed(self, key: str) -> None:
        self.failures.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in [k for k, t in self.failures.items() if not t or t[-1] <= now - LOCK_WINDOW]:
            del self.failures[key]
        for key in [k for k, until in self.locked.items() if until <= now]:
            del self.locked[key]


@dataclass(slots=True)
class Admin:
    relay: Relay
    supervisors: Mapping[str, ModemView]
    hashes: dict[str, str]  # username → argon2id hash (config, or the setup link's one)
    proxies: tuple[Network, ...]
    clock: Callable[[], float]
    lockout: Lockout
    sessions: dict[str, Session] = field(default_factory=dict)
    setup_token: str | None = None  # while no admin exists: the setup link's secret
    board: DashboardOptions = field(default_factory=DashboardOptions)
    closing: asyncio.Event = field(default_factory=asyncio.Event)  # the server is stopping
    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    _dummy: str | None = None  # verified for unknown usernames, so they take as long

    def dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy


ADMIN_KEY: web.AppKey[Admin] = web.AppKey("smscat_admin", Admin)


# -- who is asking, and how --------------------------------------------------------------------


def _trusted(admin: Admin, address: str | None) -> bool:
    if not address or not admin.proxies:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in admin.proxies)


def client_ip(request: web.Request) -> str:
    """The client's address: behind a trusted proxy, the last untrusted X-Forwarded-For hop."""
    admin = request.app[ADMIN_KEY]
    remote = request.remote or ""
    if not _trusted(admin, remote):
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(admin, hop):
            return hop
    return hops[0] if hops else remote


def is_https(request: web.Request) -> bool:
    if request.secure:
        return True
    if not _trusted(request.app[ADMIN_KEY], request.remote):
        return False
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proto == "https"


def _set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
    )


def _session(request: web.Request) -> tuple[str, Session] | None:
    admin = request.app[ADMIN_KEY]
    session_id = request.cookies.get(SESSION_COOKIE, "")
    session = admin.sessions.get(session_id)
    if session is None:
        return None
    now = admin.clock()
    if _expired(session, now):
        del admin.sessions[session_id]
        return None
    session.seen = now
    return session_id, session


def _expired(session: Session, now: float) -> bool:
    return now - session.seen > SESSION_IDLE or now - session.started > SESSION_MAX


def _same_token(given: object, expected: str) -> bool:
    return (
        isinstance(given, str)
        and bool(expected)
        and hmac.compare_digest(given.encode(), expected.encode())
    )


# -- pages ---------------------------------------------------------------------------------------


def _page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    response = _render(request, f"admin/{template}", status, noindex=True, **context)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refusal(
    request: web.Request, status: int, title_key: str, body_key: str, **params: Any
) -> web.Response:
    return _page(
        request, "error.html", status, here="/admin", title_key=title_key, body_key=body_key,
        params=params,
    )  # fmt: skip


def _forbidden(request: web.Request) -> web.Response:
    return _refusal(request, 403, "admin.forbidden_title", "admin.forbidden")


def _login_page(request: web.Request, status: int = 200, error: str | None = None) -> web.Response:
    admin = request.app[ADMIN_KEY]
    token = request.cookies.get(LOGIN_COOKIE) or ""
    if len(token) < 32:
        token = secrets.token_urlsafe(32)
    response = _page(
        request, "login.html", status, here="/admin", csrf=token, error=error,
        no_admins=not admin.hashes,
    )  # fmt: skip
    _set_cookie(request, response, LOGIN_COOKIE, token)
    return response


async def _live_context(request: web.Request) -> dict[str, Any]:
    admin = request.app[ADMIN_KEY]
    lang, _ = _lang(request)
    return await snapshot(admin.relay, admin.supervisors, admin.board, lang)


async def _dashboard(
    request: web.Request, session: Session, status: int = 200, error: str | None = None
) -> web.Response:
    admin = request.app[ADMIN_KEY]
    flash, session.flash = session.flash, None
    return _page(
        request,
        "dashboard.html",
        status,
        here="/admin",
        nav=True,
        username=session.username,
        csrf=session.csrf,
        experts=[{"id": e["id"], "name": e["name"]} for e in await admin.relay.experts_view()],
        notice=flash,
        error=error,
        live_every=int(LIVE_EVERY * 1000),
        **await _live_context(request),
    )


async def live(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the dashboard's live part, again whenever it changes.

    Each event carries ``admin/live.html`` rendered; the page swaps in the sections that
    changed. Looking does not keep a session alive: when it ends, an ``ended`` event says so.
    """
    admin = request.app[ADMIN_KEY]
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if _session(request) is None:
        raise web.HTTPUnauthorized(text="log in again", content_type="text/plain")
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # nginx: pass each event on at once
        }
    )
    await response.prepare(request)
    template = aiohttp_jinja2.get_env(request.app, app_key=JINJA_KEY).get_template(
        "admin/live.html"
    )
    loop = asyncio.get_running_loop()
    last: dict[str, Any] | None = None
    quiet_since = loop.time()
    await response.write(b"retry: 5000\n\n")
    while not admin.closing.is_set():
        session = admin.sessions.get(session_id)
        if session is None or _expired(session, admin.clock()):
            await _send(response, b"event: ended\ndata: \n\n")
            break
        live = await _live_context(request)
        seen = {k: v for k, v in live.items() if k != "updated"}  # the clock alone is no news
        if seen != last:
            last = seen
            quiet_since = loop.time()
            context = {**_page_context(request, "/admin"), "csrf": session.csrf, **live}
            html = template.render(context)
            data = "".join(f"data: {line}\n" for line in html.splitlines())
            if not await _send(response, f"event: dashboard\n{data}\n".encode()):
                break
        elif loop.time() - quiet_since >= LIVE_HEARTBEAT:
            quiet_since = loop.time()
            if not await _send(response, b": still here\n\n"):
                break
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LIVE_EVERY):
                await admin.closing.wait()
    return response


async def admin_page(request: web.Request) -> web.Response:
    found = _session(request)
    if found is None:
        return _login_page(request)
    return await _dashboard(request, found[1])


async def login(request: web.Request) -> web.Response:
    _same_origin(request)
    admin = request.app[ADMIN_KEY]
    posted = await request.post()
    if not _same_token(posted.get("csrf"), request.cookies.get(LOGIN_COOKIE, "")):
        return _forbidden(request)
    username = _form_value(posted, "username", 64).strip()
    password = _form_value(posted, "password", 1024)
    keys = (f"user:{username.casefold()}", f"ip:{client_ip(request)}")
    left = admin.lockout.locked_for(keys)
    if left:
        minutes = max(1, round(left / 60))
        return _refusal(request, 429, "admin.locked_title", "admin.locked", minutes=minutes)
    stored = admin.hashes.get(username)
    ok = await _verify(admin, stored or admin.dummy_hash(), password) and stored is not None
    if not ok:
        admin.lockout.fail(keys)
        log.info("admin login refused")  # neither the name typed nor the address
        lang, _ = _lang(request)
        return _login_page(request, 401, texts.render("admin.login_failed", lang))
    admin.lockout.succeed(keys[0])
    log.info("admin %s logged in", username)
    response = web.HTTPSeeOther("/admin")
    _start_session(request, response, username)
    raise response


def _start_session(request: web.Request, response: web.StreamResponse, username: str) -> None:
    admin = request.app[ADMIN_KEY]
    now = admin.clock()
    session_id = secrets.token_urlsafe(32)
    admin.sessions[session_id] = Session(username, secrets.token_urlsafe(32), now, now)
    _set_cookie(request, response, SESSION_COOKIE, session_id)
    response.del_cookie(LOGIN_COOKIE, path=COOKIE_PATH)


async def _verify(admin: Admin, stored: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(admin.hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def _posted(request: web.Request) -> tuple[str, Session, Mapping[str, Any]] | None:
    """The session and the form of an admin POST, or None: no session or a wrong CSRF token."""
    _same_origin(request)
    found = _session(request)
    posted = await request.post()
    if found is None or not _same_token(posted.get("csrf"), found[1].csrf):
        return None
    return found[0], found[1], posted


async def logout(request: web.Request) -> web.Response:
    got = await _posted(request)
    if got is None:
        return _forbidden(request)
    session_id, session, _ = got
    request.app[ADMIN_KEY].sessions.pop(session_id, None)
    log.info("admin %s logged out", session.username)
    response = web.HTTPSeeOther("/admin")
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    raise response


def _error_words(exc: RelayError, lang: str) -> str:
    key = f"admin.error.{exc.key}"
    return texts.render(key if key in texts.TEXTS else "admin.error.not_found", lang)


def _positive(value: str) -> int | None:
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18 or int(value) < 1:
        return None
    return int(value)


async def assign(request: web.Request) -> web.Response:
    got = await _posted(request)
    if got is None:
        return _forbidden(request)
    _, session, posted = got
    lang, _ = _lang(request)
    thread_id = _positive(_form_value(posted, "thread_id", 32))
    if thread_id is None:
        error = texts.render("admin.error.bad_form", lang)
        return await _dashboard(request, session, 422, error)
    inbound_id = int(request.match_info["id"])
    try:
        await request.app[ADMIN_KEY].relay.assign_inbound(
            inbound_id, thread_id, f"admin:{session.username}"
        )
    except RelayError as exc:
        return await _dashboard(request, session, exc.status, _error_words(exc, lang))
    session.flash = texts.render("admin.assigned", lang, thread=thread_id)
    raise web.HTTPSeeOther("/admin")


async def _send(response: web.StreamResponse, data: bytes) -> bool:
    """Write to a live stream; False once the browser has gone."""
    try:
        await response.write(data)
    except ConnectionResetError:
        return False
    return True


async def retry(request: web.Request) -> web.Response:
    got = await _posted(request)
    if got is None:
        return _forbidden(request)
    _, session, _ = got
    lang, _ = _lang(request)
    outbox_id = int(request.match_info["id"])
    try:
        await request.app[ADMIN_KEY].relay.retry_outbox(outbox_id, f"admin:{session.username}")
    except RelayError as exc:
        return await _dashboard(request, session, exc.status, _error_words(exc, lang))
    session.flash = texts.render("admin.retried", lang)
    raise web.HTTPSeeOther("/admin")


async def handoff(request: web.Request) -> web.Response:
    got = await _posted(request)
    if got is None:
        return _forbidden(request)
    _, session, posted = got
    lang, _ = _lang(request)
    from_id = _form_value(posted, "from", 64)
    to_id = _form_value(posted, "to", 64)
    if not from_id or not to_id:
        error = texts.render("admin.error.bad_form", lang)
        return await _dashboard(request, session, 422, error)
    try:
        moved = await request.app[ADMIN_KEY].relay.handoff(
            from_id, to_id, f"admin:{session.username}"
        )
    except RelayError as exc:
        return await _dashboard(request, session, exc.status, _error_words(exc, lang))
    session.flash = texts.render("admin.handoff_done", lang, count=moved)
    raise web.HTTPSeeOther("/admin")


# -- the first admin, through the setup link ---------------------------------------------------


def _setup_token(request: web.Request) -> str:
    """The path's token when it is this run's live setup token; else the 404 page."""
    expected = request.app[ADMIN_KEY].setup_token
    given = request.match_info["token"]
    if expected is None or not _same_token(given, expected):
        raise web.HTTPNotFound()
    return expected


def _setup_page(
    request: web.Request, status: int = 200, error: str | None = None, username: str = ""
) -> web.Response:
    token = request.cookies.get(LOGIN_COOKIE) or ""
    if len(token) < 32:
        token = secrets.token_urlsafe(32)
    response = _page(
        request,
        "setup.html",
        status,
        here=request.path,
        request_path=request.path,
        csrf=token,
        error=error,
        username=username,
        min_password=MIN_PASSWORD,
        max_username=MAX_USERNAME,
    )
    _set_cookie(request, response, LOGIN_COOKIE, token)
    return response


async def setup_page(request: web.Request) -> web.Response:
    _setup_token(request)
    return _setup_page(request)


async def setup_form(request: web.Request) -> web.Response:
    _same_origin(request)
    _setup_token(request)
    admin = request.app[ADMIN_KEY]
    posted = await request.post()
    if not _same_token(posted.get("csrf"), request.cookies.get(LOGIN_COOKIE, "")):
        return _forbidden(request)
    lang, _ = _lang(request)
    username = _form_value(posted, "username", 64).strip()
    password = _form_value(posted, "password", 1024)
    if not 1 <= len(username) <= MAX_USERNAME:
        error = texts.render("admin.error.username_length", lang)
    elif len(password) < MIN_PASSWORD:
        error = texts.render("admin.error.password_short", lang, min=MIN_PASSWORD)
    elif _form_value(posted, "password_again", 1024) != password:
        error = texts.render("admin.error.password_mismatch", lang)
    else:
        error = None
    if error is not None:
        return _setup_page(request, 422, error, username)
    hashed = await asyncio.to_thread(admin.hasher.hash, password)
    if admin.setup_token is None:  # another request used the link meanwhile
        raise web.HTTPNotFound()
    admin.setup_token = None
    admin.hashes[username] = hashed
    log.warning("admin %s created through the setup link, for this run only", username)
    snippet = f'admins:\n  - username: "{username}"\n    password_hash: "{hashed}"\n'
    response = _page(request, "setup_done.html", here="/admin", snippet=snippet)
    _start_session(request, response, username)
    return response


# -- wiring -------------------------------------------------------------------------------------


def add_routes(
    app: web.Application,
    relay: Relay,
    settings: Settings,
    supervisors: Mapping[str, ModemView],
    *,
    clock: Callable[[], float] = time.monotonic,
    simulators: Mapping[str, str] | None = None,
) -> str | None:
    """The admin routes; call after :func:`smscat.web.pages.add_routes` (its templates, CSP).

    Returns the one-time setup path when no admin is configured (log it), else None.
    """
    admin = app[ADMIN_KEY] = Admin(
        relay=relay,
        supervisors=supervisors,
        hashes={a.username: a.password_hash.get_secret_value() for a in settings.admins},
        proxies=tuple(ipaddress.ip_network(n, strict=False) for n in settings.web.trusted_proxies),
        clock=clock,
        lockout=Lockout(clock),
        board=DashboardOptions(
            ports={m.id: m.port for m in settings.modems},
            day_caps={m.id: m.limits.per_day for m in settings.modems},
            answer_within=timedelta(hours=settings.relay.answer_within_hours),
            simulators=dict(simulators or {}),
        ),
    )

    async def closing(_: web.Application) -> None:
        admin.closing.set()  # live streams end, so the server need not wait for them

    app.on_shutdown.append(closing)
    app.router.add_get("/admin", admin_page)
    app.router.add_post("/admin/login", login)
    app.router.add_post("/admin/logout", logout)
    app.router.add_post("/admin/inbound/{id:[1-9][0-9]{0,17}}/assign", assign)
    app.router.add_post("/admin/handoff", handoff)
    app.router.add_post("/admin/outbox/{id:[1-9][0-9]{0,17}}/retry", retry)
    app.router.add_get("/admin/live", live)
    from smscat.web.admin_manage import add_routes as add_management  # it imports this module

    add_management(app)
    if admin.hashes:
        return None
    admin.setup_token = secrets.token_urlsafe(32)
    setup = "/admin/setup/{token:[A-Za-z0-9_-]{1,64}}"
    app.router.add_get(setup, setup_page)
    app.router.add_post(setup, setup_form)
    return f"/admin/setup/{admin.setup_token}"
