"""The admin's way in and out: the login form, the logout, and the one-time setup link.

Logins go through the :class:`~smscat.web.admin_auth.LoginGuard` (5 failures per username and
client network, 20 per network, a slow-down for everyone past 50, never for a browser that has
logged in as that admin before: its device cookie), which reserves each attempt before its
argon2 check; at most :data:`~smscat.web.admin_session.CHECKS_AT_ONCE` checks (64 MiB each) run
at once, in worker threads. Every login, failure, lock, setup and logout is audited with the
username and the client's network (:class:`~smscat.relay.services.admin_access.AccessLog`).
The login form carries a token of its own (double-submit: a cookie and a field).

With no admin configured, :func:`smscat.web.admin.add_routes` opens a one-time setup path
(``/admin/setup/<token>``) for the composition root to log: it lets one admin be created for this
run, logs them in, and shows the hash to paste into config.yaml; then the link is dead.

It must never: log a password, a session id, a CSRF token or the username typed at a failed
login, or tell a name that is nobody's from a wrong password (both take one argon2 check).
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets

from aiohttp import web
from argon2.exceptions import InvalidHashError, VerificationError

from smscat.web import language, texts
from smscat.web.admin_auth import Refused
from smscat.web.admin_session import (
    ADMIN_KEY,
    LOGIN_COOKIE,
    Admin,
    Caller,
    admin_form,
    admin_view,
    end_session,
    forbidden,
    login_page,
    login_token,
    refusal,
    same_token,
    set_cookie,
    start_session,
)
from smscat.web.clients import client_network
from smscat.web.site import form_value, same_origin

log = logging.getLogger(__name__)

DEVICE_COOKIE = "smscat_admin_device"  # this browser has logged in as this admin before
DEVICE_MAX = 90 * 86400  # seconds a device cookie is believed
MIN_PASSWORD = 8
MAX_USERNAME = 32
SETUP = "/admin/setup/{token:[A-Za-z0-9_-]{1,64}}"


async def login(request: web.Request) -> web.Response:
    same_origin(request)
    admin = request.app[ADMIN_KEY]
    posted = await request.post()
    if not same_token(posted.get("csrf"), request.cookies.get(LOGIN_COOKIE, "")):
        return forbidden(request)
    username = form_value(posted, "username", 64).strip()
    password = form_value(posted, "password", 1024)
    network = client_network(request)
    device = _device(request, username)
    ticket = admin.guard.admit(username, network, device)  # reserved before the check
    if isinstance(ticket, Refused):
        minutes = max(1, math.ceil(ticket.seconds / 60))
        refused = refusal(request, 429, "admin.locked_title", "admin.locked", minutes=minutes)
        refused.headers["Retry-After"] = str(math.ceil(ticket.seconds))
        return refused
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
        lang = language.of_request(request).lang
        return login_page(request, 401, texts.render("admin.login_failed", lang))
    log.info("admin %s logged in", username)
    await admin.access.record("login", username, network)
    response = web.HTTPSeeOther("/admin")
    start_session(request, response, username)
    device_cookie = {"id": device or secrets.token_urlsafe(16), "user": username}
    value = admin.signer.sign("device", {**device_cookie, "issued": round(admin.clock())})
    set_cookie(request, response, DEVICE_COOKIE, value, max_age=DEVICE_MAX)
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


async def _verify(admin: Admin, stored: str | None, password: str) -> bool:
    """Is ``password`` the one ``stored`` hashes? A name that is nobody's (None) takes as
    long. At most ``CHECKS_AT_ONCE`` checks run at once; the others wait their turn."""
    async with admin.checking:
        target = stored if stored is not None else await admin.dummy_hash()
        try:
            ok = await asyncio.to_thread(admin.hasher.verify, target, password)
        except (VerificationError, InvalidHashError):
            return False
    return ok and stored is not None


@admin_form
async def logout(request: web.Request, caller: Caller) -> web.Response:
    admin = request.app[ADMIN_KEY]
    response = web.HTTPSeeOther("/admin")
    fingerprint = end_session(request, response, caller.session)
    log.info("admin %s logged out", caller.session.username)
    # the fingerprint in the audit log keeps the session ended after a restart
    await admin.access.record(
        "logout", caller.session.username, client_network(request), session=fingerprint
    )
    raise response


# -- the first admin, through the setup link ------------------------------------------------------


def _setup_token(request: web.Request) -> str:
    """The path's token when it is this run's live setup token; else the 404 page."""
    expected = request.app[ADMIN_KEY].setup_token
    given = request.match_info["token"]
    if expected is None or not same_token(given, expected):
        raise web.HTTPNotFound()
    return expected


def _setup_page(
    request: web.Request, status: int = 200, error: str | None = None, username: str = ""
) -> web.Response:
    token = login_token(request)
    response = admin_view(
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
    set_cookie(request, response, LOGIN_COOKIE, token)
    return response


async def setup_page(request: web.Request) -> web.Response:
    _setup_token(request)
    return _setup_page(request)


async def setup_form(request: web.Request) -> web.Response:
    same_origin(request)
    _setup_token(request)
    admin = request.app[ADMIN_KEY]
    posted = await request.post()
    if not same_token(posted.get("csrf"), request.cookies.get(LOGIN_COOKIE, "")):
        return forbidden(request)
    lang = language.of_request(request).lang
    username = form_value(posted, "username", 64).strip()
    password = form_value(posted, "password", 1024)
    if not 1 <= len(username) <= MAX_USERNAME:
        error = texts.render("admin.error.username_length", lang)
    elif len(password) < MIN_PASSWORD:
        error = texts.render("admin.error.password_short", lang, min=MIN_PASSWORD)
    elif form_value(posted, "password_again", 1024) != password:
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
    response = admin_view(request, "setup_done.html", here="/admin", snippet=snippet)
    start_session(request, response, username)
    return response


def add_routes(app: web.Application) -> None:
    """Login and logout; call from :func:`smscat.web.admin.add_routes` (its state)."""
    app.router.add_post("/admin/login", login)
    app.router.add_post("/admin/logout", logout)


def open_setup(app: web.Application) -> str:
    """The one-time setup link, while no admin exists: its path (for the composition root to
    log; its token is the secret)."""
    admin = app[ADMIN_KEY]
    admin.setup_token = secrets.token_urlsafe(32)
    app.router.add_get(SETUP, setup_page)
    app.router.add_post(SETUP, setup_form)
    return f"/admin/setup/{admin.setup_token}"
