"""The admin pages: login, the dashboard (modems, queue, unmatched SMS, alerts) and its forms.

Thin like the patient pages (:mod:`.pages`, whose Jinja2 environment, CSP and friendly error
pages it shares): request → a :class:`Relay` call → a page in words from
:mod:`smscat.relay.core.texts` (``admin.*``). A session is a cookie signed with ``web.secret_key``
(:class:`~smscat.web.admin_auth.Signer`): its id, the username, when it started and was last
used (re-signed at most every minute), and a fingerprint of the admin's password hash, so it
outlives a restart and ends when config changes the password or drops the admin. HttpOnly,
SameSite=Strict (Secure when the request came over HTTPS, directly or per
``X-Forwarded-Proto`` from a trusted proxy); its CSRF token, derived from its id, must come with
every admin POST. A logout ends the session here and, through the audit log, after a restart
too. The login form carries a token of its own (double-submit: a cookie and a field).

Logins go through the :class:`~smscat.web.admin_auth.LoginGuard` (5 failures per username and
client network, 20 per network, a slow-down for everyone past 50, never for a browser that has
logged in as that admin before: its device cookie), which reserves each attempt before its
argon2 check; at most :data:`CHECKS_AT_ONCE` checks (64 MiB each) run at once, in worker
threads. Every login, failure, lock, setup and logout is audited with the username and the
client's network (:class:`~smscat.relay.services.admin_access.AccessLog`).

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
import math
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp_jinja2
from aiohttp import hdrs, web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from smscat.relay.core import texts
from smscat.relay.core.errors import RelayError
from smscat.relay.services.admin_access import AccessLog
from smscat.web.admin_auth import LoginGuard, Refused, Signer, network_of
from smscat.web.dashboard import DashboardOptions, ModemView, snapshot
from smscat.web.pages import JINJA_KEY, _form_value, _lang, _page_context, _render, _same_origin

if TYPE_CHECKING:
    from smscat.relay.daemon.config import Settings
    from smscat.relay.services.service import Relay

log = logging.getLogger(__name__)

SESSION_COOKIE = "smscat_admin"
LOGIN_COOKIE = "smscat_admin_login"  # the login form's CSRF token (double-submit)
DEVICE_COOKIE = "smscat_admin_device"  # this browser has logged in as this admin before
COOKIE_PATH = "/admin"
SESSION_IDLE = 30 * 60.0  # seconds without a request before a session ends
SESSION_MAX = 12 * 3600.0  # seconds a session lives at most
SESSION_RESIGN = 60.0  # seconds of use before the cookie is signed again with the new time
DEVICE_MAX = 90 * 86400  # seconds a device cookie is believed
CHECKS_AT_ONCE = 2  # argon2 checks (64 MiB each) running at the same time, at most
LIVE_EVERY = 2.0  # seconds between looks for the live dashboard
LIVE_HEARTBEAT = 15.0  # seconds: a comment line keeps proxies from closing an idle stream
MIN_PASSWORD = 8
MAX_USERNAME = 32
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(slots=True)
class Session:
    sid: str  # the session's id (in its signed cookie)
    username: str
    csrf: str
    started: float  # wall-clock seconds: the cookie carries them over a restart
    seen: float
    signed: float  # the last use the cookie says
    flash: str | None = None  # a word for the next dashboard (after a 303)

    def __repr__(self) -> str:  # never the id nor the token
        return f"Session(username={self.username!r})"


@dataclass(slots=True)
class Admin:
    relay: Relay
    supervisors: Mapping[str, ModemView]
    hashes: dict[str, str]  # username → argon2id hash (config, or the setup link's one)
    proxies: tuple[Network, ...]
    clock: Callable[[], float]  # wall-clock seconds (sessions outlive the process)
    signer: Signer
    guard: LoginGuard
    access: AccessLog
    sessions: dict[str, Session] = field(default_factory=dict)  # by id: those used in this run
    ended: dict[str, float] = field(default_factory=dict)  # logged-out sessions' fingerprints
    setup_token: str | None = None  # while no admin exists: the setup link's secret
    board: DashboardOptions = field(default_factory=DashboardOptions)
    closing: asyncio.Event = field(default_factory=asyncio.Event)  # the server is stopping
    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    checking: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(CHECKS_AT_ONCE))
    _dummy: str | None = None  # verified for unknown usernames, so they take as long

    async def dummy_hash(self) -> str:
        """A hash to verify for a name that is nobody's (call with ``checking`` held)."""
        if self._dummy is None:
            self._dummy = await asyncio.to_thread(self.hasher.hash, secrets.token_urlsafe(16))
        return self._dummy

    def fingerprint(self, username: str) -> str | None:
        """The admin's password hash, fingerprinted: a new hash ends their sessions."""
        stored = self.hashes.get(username)
        return None if stored is None else self.signer.digest("password", stored)


ADMIN_KEY: web.AppKey[Admin] = web.AppKey("smscat_admin", Admin)
RESIGN_KEY: web.RequestKey[Session] = web.RequestKey("smscat_admin_resign", Session)


# -- who is asking, and how --------------------------------------------------------------------


def _trusted(admin: Admin | None, address: str | None) -> bool:
    if admin is None or not address or not admin.proxies:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in admin.proxies)


def client_ip(request: web.Request) -> str:
    """The client's address: behind a trusted proxy, the last untrusted X-Forwarded-For hop."""
    admin = request.app.get(ADMIN_KEY)  # None in an app without the admin pages: no proxies
    remote = request.remote or ""
    if not _trusted(admin, remote):
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(admin, hop):
            return hop
    return hops[0] if hops else remote


def client_network(request: web.Request) -> str:
    """The client's network (IPv4 /24, IPv6 /64): what logins are counted and audited by."""
    return network_of(client_ip(request))


def is_https(request: web.Request) -> bool:
    if request.secure:
        return True
    if not _trusted(request.app[ADMIN_KEY], request.remote):
        return False
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return proto == "https"


def _set_cookie(
    request: web.Request,
    response: web.StreamResponse,
    name: str,
    value: str,
    max_age: int | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
        max_age=max_age,
    )


def _csrf(admin: Admin, session_id: str) -> str:
    return admin.signer.digest("csrf", session_id)


def _set_session_cookie(
    request: web.Request, response: web.StreamResponse, session: Session
) -> None:
    admin = request.app[ADMIN_KEY]
    value = {
        "id": session.sid,
        "user": session.username,
        "started": round(session.started),
        "seen": round(session.seen),
        "password": admin.fingerprint(session.username),
    }
    _set_cookie(request, response, SESSION_COOKIE, admin.signer.sign("session", value))
    session.signed = round(session.seen)


def logged_in(request: web.Request) -> bool:
    """Does the request come with a live admin session? (Looking does not keep it alive.)"""
    return ADMIN_KEY in request.app and _session(request, touch=False) is not None


def _session(request: web.Request, *, touch: bool = True) -> tuple[str, Session] | None:
    """The request's live session (its id and state), from its signed cookie; None: log in.
    ``touch``: this is the admin's doing, the session's idle time starts again."""
    admin = request.app[ADMIN_KEY]
    data = admin.signer.unsign("session", request.cookies.get(SESSION_COOKIE, ""))
    if data is None:
        return None
    session_id, username = data.get("id"), data.get("user")
    started, seen = data.get("started"), data.get("seen")
    if not (
        isinstance(session_id, str)
        and isinstance(username, str)
        and isinstance(started, int)
        and isinstance(seen, int)
    ):
        return None
    if data.get("password") != admin.fingerprint(username):
        return None  # no such admin any more, or another password since
    if admin.signer.digest("session", session_id) in admin.ended:
        return None  # logged out
    now = admin.clock()
    session = admin.sessions.get(session_id)
    if session is None:  # new to this run (a restart): the cookie's own times
        csrf = _csrf(admin, session_id)
        session = Session(session_id, username, csrf, started, seen, signed=seen)
    if _expired(session, now):
        admin.sessions.pop(session_id, None)
        return None
    admin.sessions[session_id] = session
    if not touch:
        return session_id, session
    session.seen = now
    if now - session.signed >= SESSION_RESIGN:
        request[RESIGN_KEY] = session  # the answer carries the cookie with the new time
    return session_id, session


async def _resign(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: a session in use gets its cookie signed again, now and then,
    so that its idle time is known after a restart too."""
    session = request.get(RESIGN_KEY)
    if session is None or SESSION_COOKIE in response.cookies:  # logged in or out just now
        return
    live = request.app[ADMIN_KEY].sessions.get(session.sid)
    if live is not None and live is session:  # not logged out since
        _set_session_cookie(request, response, live)
        # the cookies have become headers already (aiohttp prepares them before this hook)
        morsel = response.cookies[SESSION_COOKIE]
        response.headers.add(hdrs.SET_COOKIE, morsel.output(header="").strip())


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
    found = _session(request)
    if found is None:
        raise web.HTTPUnauthorized(text="log in again", content_type="text/plain")
    session_id = found[0]
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
    network = client_network(request)
    device = _device(request, username)
    ticket = admin.guard.admit(username, network, device)  # reserved before the check
    if isinstance(ticket, Refused):
        minutes = max(1, math.ceil(ticket.seconds / 60))
        refusal = _refusal(request, 429, "admin.locked_title", "admin.locked", minutes=minutes)
        refusal.headers["Retry-After"] = str(math.ceil(ticket.seconds))
        return refusal
    stored = admin.hashes.get(username)
    ok = False
    try:
        ok = await _verify(admin, stored, password)
    finally:
        locks = admin.guard.finish(ticket, ok)
    known = username if stored is not None else None  # a name that is nobody's is not kept
    if not ok:
        log.info("admin login refused")  # neither the name typed nor the address
        await admin.access.record("login_failed", known, network)
        for lock in locks:
            minutes = round(lock.seconds / 60)
            await admin.access.record("locked", known, network, scope=lock.scope, minutes=minutes)
        lang, _ = _lang(request)
        return _login_page(request, 401, texts.render("admin.login_failed", lang))
    log.info("admin %s logged in", username)
    await admin.access.record("login", username, network)
    response = web.HTTPSeeOther("/admin")
    _start_session(request, response, username)
    device_cookie = {"id": device or secrets.token_urlsafe(16), "user": username}
    value = admin.signer.sign("device", {**device_cookie, "issued": round(admin.clock())})
    _set_cookie(request, response, DEVICE_COOKIE, value, max_age=DEVICE_MAX)
    raise response


def _device(request: web.Request, username: str) -> str | None:
    """The id of this browser's device cookie when it logged in as ``username`` before."""
    admin = request.app[ADMIN_KEY]
    data = admin.signer.unsign("device", request.cookies.get(DEVICE_COOKIE, ""))
    if data is None or data.get("user") != username:
        return None
    device, issued = data.get("id"), data.get("issued")
    if not isinstance(device, str) or not isinstance(issued, int):
        return None
    return device if 0 <= admin.clock() - issued <= DEVICE_MAX else None


def _start_session(request: web.Request, response: web.StreamResponse, username: str) -> None:
    admin = request.app[ADMIN_KEY]
    now = admin.clock()
    for old in [k for k, s in admin.sessions.items() if _expired(s, now)]:
        del admin.sessions[old]
    session_id = secrets.token_urlsafe(32)
    session = Session(session_id, username, _csrf(admin, session_id), now, now, now)
    admin.sessions[session_id] = session
    _set_session_cookie(request, response, session)
    response.del_cookie(LOGIN_COOKIE, path=COOKIE_PATH)


async def _verify(admin: Admin, stored: str | None, password: str) -> bool:
    """Is ``password`` the one ``stored`` hashes? A name that is nobody's (None) takes as
    long. At most :data:`CHECKS_AT_ONCE` checks run at once; the others wait their turn."""
    async with admin.checking:
        target = stored if stored is not None else await admin.dummy_hash()
        try:
            ok = await asyncio.to_thread(admin.hasher.verify, target, password)
        except (VerificationError, InvalidHashError):
            return False
    return ok and stored is not None


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
    admin = request.app[ADMIN_KEY]
    admin.sessions.pop(session_id, None)
    fingerprint = admin.signer.digest("session", session_id)
    now = admin.clock()
    for old in [k for k, until in admin.ended.items() if until <= now]:
        del admin.ended[old]
    admin.ended[fingerprint] = session.started + SESSION_MAX
    log.info("admin %s logged out", session.username)
    # the fingerprint in the audit log keeps the session ended after a restart
    await admin.access.record(
        "logout", session.username, client_network(request), session=fingerprint
    )
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


async def notices_handled(request: web.Request) -> web.Response:
    """The operators' and unknown numbers' SMS read: their alert clears."""
    got = await _posted(request)
    if got is None:
        return _forbidden(request)
    _, session, _ = got
    lang, _ = _lang(request)
    count = await request.app[ADMIN_KEY].relay.mark_notices_handled(f"admin:{session.username}")
    session.flash = texts.render("admin.notices_handled", lang, count=count)
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
    async with admin.checking:  # hashing takes the memory a check takes
        hashed = await asyncio.to_thread(admin.hasher.hash, password)
    if admin.setup_token is None:  # another request used the link meanwhile
        raise web.HTTPNotFound()
    admin.setup_token = None
    admin.hashes[username] = hashed
    log.warning("admin %s created through the setup link, for this run only", username)
    await admin.access.record("setup", username, client_network(request))
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
    clock: Callable[[], float] = time.time,
    simulators: Mapping[str, str] | None = None,
) -> str | None:
    """The admin routes; call after :func:`smscat.web.pages.add_routes` (its templates, CSP).

    ``clock`` gives wall-clock seconds: a session's times outlive the process.
    Returns the one-time setup path when no admin is configured (log it), else None.
    """
    if settings.web.secret_key is not None:
        key = settings.web.secret_key.get_secret_value().encode()
    else:  # only the demo (config requires a key as soon as a modem is real)
        log.warning(
            "web.secret_key is not set (every modem is simulated): a key for this run only,"
            " admins log in again after a restart"
        )
        key = secrets.token_bytes(32)
    admin = app[ADMIN_KEY] = Admin(
        relay=relay,
        supervisors=supervisors,
        hashes={a.username: a.password_hash.get_secret_value() for a in settings.admins},
        proxies=tuple(ipaddress.ip_network(n, strict=False) for n in settings.web.trusted_proxies),
        clock=clock,
        signer=Signer(key),
        guard=LoginGuard(clock),
        access=AccessLog(relay.db),
        board=DashboardOptions(
            ports={m.id: m.port for m in settings.modems},
            day_caps={m.id: m.limits.per_day for m in settings.modems},
            answer_within=timedelta(hours=settings.relay.answer_within_hours),
            simulators=dict(simulators or {}),
        ),
    )

    async def closing(_: web.Application) -> None:
        admin.closing.set()  # live streams end, so the server need not wait for them

    async def ended_sessions(_: web.Application) -> None:
        """Sessions logged out before a restart stay ended (their fingerprints are audited)."""
        now = admin.clock()
        since = datetime.fromtimestamp(now - SESSION_MAX, UTC)
        for fingerprint in await admin.access.ended_sessions(since):
            admin.ended[fingerprint] = now + SESSION_MAX

    app.on_startup.append(ended_sessions)
    app.on_shutdown.append(closing)
    app.on_response_prepare.append(_resign)
    app.router.add_get("/admin", admin_page)
    app.router.add_post("/admin/login", login)
    app.router.add_post("/admin/logout", logout)
    app.router.add_post("/admin/inbound/{id:[1-9][0-9]{0,17}}/assign", assign)
    app.router.add_post("/admin/handoff", handoff)
    app.router.add_post("/admin/notices/handled", notices_handled)
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
