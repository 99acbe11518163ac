"""Who is logged in: the admin pages' state, sessions in signed cookies, each handler's opening.

A session is a cookie signed with ``web.secret_key`` (:class:`~smscat.web.admin_auth.Signer`):
its id, the username, when it started and was last used (re-signed at most every minute), and a
fingerprint of the admin's password hash, so it outlives a restart and ends when config changes
the password or drops the admin. HttpOnly, SameSite=Strict (Secure when the request came over
HTTPS, directly or per a trusted proxy: :func:`~smscat.web.clients.is_https`); its CSRF token,
derived from its id, must come with every admin POST. A logout ends the session here and,
through the audit log, after a restart too.

Every admin handler opens the same way, so it is written once, as a decorator:

* :func:`admin_page` (GET): a live session, else the login page at the same address;
* :func:`admin_form` (POST): same origin, a live session and its CSRF token in the form, else 403;
* :func:`admin_stream` (the live dashboard): a live session, else 401.

The handler then gets the :class:`Caller`: the session, the form, the language and the name the
audit log knows the admin by.

It must never: log or show a session id, a CSRF token or a password hash (:class:`Session`'s repr
shows the username only).
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from aiohttp import hdrs, web
from argon2 import PasswordHasher

from smscat.relay.services.admin_access import AccessLog
from smscat.web.admin_auth import LoginGuard, Signer
from smscat.web.clients import is_https
from smscat.web.dashboard import DashboardOptions, ModemView
from smscat.web.language import Language, of_request
from smscat.web.site import render_page, same_origin

if TYPE_CHECKING:
    from smscat.relay.services.relay import Relay

SESSION_COOKIE = "smscat_admin"
LOGIN_COOKIE = "smscat_admin_login"  # the login form's CSRF token (double-submit)
COOKIE_PATH = "/admin"
SESSION_IDLE = 30 * 60.0  # seconds without a request before a session ends
SESSION_MAX = 12 * 3600.0  # seconds a session lives at most
SESSION_RESIGN = 60.0  # seconds of use before the cookie is signed again with the new time
CHECKS_AT_ONCE = 2  # argon2 checks (64 MiB each) running at the same time, at most
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Session:
    sid: str  # the session's id (in its signed cookie)
    username: str
    csrf: str
    started: float  # wall-clock seconds: the cookie carries them over a restart
    seen: float
    signed: float  # the last use the cookie says
    flash: str | None = None  # a word for the next page (after a 303)

    def __repr__(self) -> str:  # never the id nor the token
        return f"Session(username={self.username!r})"


@dataclass(slots=True)
class Admin:
    """The admin pages' state in the app (:data:`ADMIN_KEY`)."""

    relay: Relay
    supervisors: Mapping[str, ModemView]
    hashes: dict[str, str]  # username → argon2id hash (config, or the setup link's one)
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


# -- cookies and sessions -------------------------------------------------------------------------


def set_cookie(
    request: web.Request,
    response: web.StreamResponse,
    name: str,
    value: str,
    max_age: int | None = None,
) -> None:
    """An admin cookie: HttpOnly, SameSite=Strict, for ``/admin`` only, Secure over HTTPS."""
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
    set_cookie(request, response, SESSION_COOKIE, admin.signer.sign("session", value))
    session.signed = round(session.seen)


def expired(session: Session, now: float) -> bool:
    return now - session.seen > SESSION_IDLE or now - session.started > SESSION_MAX


def same_token(given: object, expected: str) -> bool:
    """A token as posted against the one expected, in constant time ("" never matches)."""
    return (
        isinstance(given, str)
        and bool(expected)
        and hmac.compare_digest(given.encode(), expected.encode())
    )


def logged_in(request: web.Request) -> bool:
    """Does the request come with a live admin session? (Looking does not keep it alive.)"""
    return ADMIN_KEY in request.app and session_of(request, touch=False) is not None


def session_of(request: web.Request, *, touch: bool = True) -> Session | None:
    """The request's live session, from its signed cookie; None: log in.
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
    if expired(session, now):
        admin.sessions.pop(session_id, None)
        return None
    admin.sessions[session_id] = session
    if not touch:
        return session
    session.seen = now
    if now - session.signed >= SESSION_RESIGN:
        request[RESIGN_KEY] = session  # the answer carries the cookie with the new time
    return session


async def resign(request: web.Request, response: web.StreamResponse) -> None:
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


def start_session(request: web.Request, response: web.StreamResponse, username: str) -> None:
    """A new session for ``username`` (logged in, or just created): its cookie on ``response``."""
    admin = request.app[ADMIN_KEY]
    now = admin.clock()
    for old in [k for k, s in admin.sessions.items() if expired(s, now)]:
        del admin.sessions[old]
    session_id = secrets.token_urlsafe(32)
    session = Session(session_id, username, _csrf(admin, session_id), now, now, now)
    admin.sessions[session_id] = session
    _set_session_cookie(request, response, session)
    response.del_cookie(LOGIN_COOKIE, path=COOKIE_PATH)


def end_session(request: web.Request, response: web.StreamResponse, session: Session) -> str:
    """Log ``session`` out, here and (by its fingerprint, returned for the audit log) after a
    restart too; its cookie is deleted on ``response``."""
    admin = request.app[ADMIN_KEY]
    admin.sessions.pop(session.sid, None)
    fingerprint = admin.signer.digest("session", session.sid)
    now = admin.clock()
    for old in [k for k, until in admin.ended.items() if until <= now]:
        del admin.ended[old]
    admin.ended[fingerprint] = session.started + SESSION_MAX
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return fingerprint


# -- pages and refusals ---------------------------------------------------------------------------


def admin_view(
    request: web.Request, template: str, status: int = 200, **context: Any
) -> web.Response:
    """``admin/<template>``, never indexed nor cached."""
    response = render_page(request, f"admin/{template}", status, noindex=True, **context)
    response.headers["Cache-Control"] = "no-store"
    return response


def refusal(
    request: web.Request, status: int, title_key: str, body_key: str, **params: Any
) -> web.Response:
    return admin_view(
        request, "error.html", status, here="/admin", title_key=title_key, body_key=body_key,
        params=params,
    )  # fmt: skip


def forbidden(request: web.Request) -> web.Response:
    return refusal(request, 403, "admin.forbidden_title", "admin.forbidden")


def login_token(request: web.Request) -> str:
    """The login (or setup) form's CSRF token: the browser's cookie, or a new one."""
    token = request.cookies.get(LOGIN_COOKIE) or ""
    return token if len(token) >= 32 else secrets.token_urlsafe(32)


def login_page(request: web.Request, status: int = 200, error: str | None = None) -> web.Response:
    admin = request.app[ADMIN_KEY]
    token = login_token(request)
    response = admin_view(
        request, "login.html", status, here="/admin", csrf=token, error=error,
        no_admins=not admin.hashes,
    )  # fmt: skip
    set_cookie(request, response, LOGIN_COOKIE, token)
    return response


# -- the opening of every admin handler -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Caller:
    """The admin behind a request, as every admin handler needs them."""

    session: Session
    form: Mapping[str, Any]  # the posted form (empty for a GET)
    language: Language

    @property
    def actor(self) -> str:
        """Who did it, as the audit log says so."""
        return f"admin:{self.session.username}"

    @property
    def lang(self) -> str:
        return self.language.lang

    @property
    def pinned(self) -> str | None:
        return self.language.pinned


AdminHandler = Callable[[web.Request, Caller], Awaitable[web.StreamResponse]]


def _unauthorized(_: web.Request) -> NoReturn:
    raise web.HTTPUnauthorized(text="log in again", content_type="text/plain")


def _opening(
    handler: AdminHandler, *, form: bool, refuse: Callable[[web.Request], web.Response]
) -> Handler:
    """``handler`` behind the opening every admin handler shares (see the module's docstring);
    ``form``: a POST (same origin, the session's CSRF token); ``refuse``: the answer without."""

    @functools.wraps(handler)
    async def opened(request: web.Request) -> web.StreamResponse:
        posted: Mapping[str, Any] = {}
        if form:
            same_origin(request)
        session = session_of(request)  # the admin's doing: the idle time starts again
        if form:
            posted = await request.post()
            if session is not None and not same_token(posted.get("csrf"), session.csrf):
                session = None
        if session is None:
            return refuse(request)
        return await handler(request, Caller(session, posted, of_request(request)))

    return opened


def admin_page(handler: AdminHandler) -> Handler:
    """A GET of an admin page: with a live session, else the login page at the same address."""
    return _opening(handler, form=False, refuse=login_page)


def admin_form(handler: AdminHandler) -> Handler:
    """An admin POST: same origin, a live session, its CSRF token in the form; else 403."""
    return _opening(handler, form=True, refuse=forbidden)


def admin_stream(handler: AdminHandler) -> Handler:
    """A stream for a logged-in admin (the live dashboard): without a live session, 401."""
    return _opening(handler, form=False, refuse=_unauthorized)
