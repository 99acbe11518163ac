"""The admin pages, wired: what they need from config (:class:`AdminOptions`) and their routes.

The pages themselves: login, logout and the setup link (:mod:`.admin_login`), the dashboard
(:mod:`.admin_dashboard`), experts (:mod:`.admin_experts`), moderation (:mod:`.admin_threads`),
statistics and the audit log (:mod:`.admin_reports`). Sessions, CSRF and the opening every
handler shares are :mod:`.admin_session`'s; the login guard and signed values
:mod:`.admin_auth`'s. They render through the patient pages' templates (:mod:`.site`: CSP,
friendly error pages), so :func:`add_routes` comes after :func:`smscat.web.pages.add_routes`.

:class:`AdminOptions` is the web's own view of the config: the composition root builds it from
its settings, so that nothing here reads the daemon's config.

It must never: log a password, a session id, a CSRF token, the signing key or a phone number.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web

from smscat.relay.services.admin_access import AccessLog
from smscat.web import (
    admin_care,
    admin_care_upload,
    admin_dashboard,
    admin_experts,
    admin_login,
    admin_reports,
    admin_threads,
    admin_tokens,
)
from smscat.web.admin_auth import LoginGuard, Signer
from smscat.web.admin_session import ADMIN_KEY, SESSION_MAX, Admin, resign
from smscat.web.clients import PROXIES_KEY
from smscat.web.dashboard import DashboardOptions, ModemView

if TYPE_CHECKING:
    from smscat.relay.services.relay import Relay

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AdminOptions:
    """What the admin pages take from config (``web.*``, ``admins``, the modems)."""

    # web.secret_key; None only in the demo (every modem simulated): a key for this run
    secret_key: bytes | None = field(default=None, repr=False)
    admins: Mapping[str, str] = field(default_factory=dict, repr=False)  # username → hash
    trusted_proxies: tuple[str, ...] = ()  # web.trusted_proxies (networks)
    board: DashboardOptions = field(default_factory=DashboardOptions)


def add_routes(
    app: web.Application,
    relay: Relay,
    options: AdminOptions,
    supervisors: Mapping[str, ModemView],
    *,
    clock: Callable[[], float] = time.time,
) -> str | None:
    """The admin routes; call after :func:`smscat.web.pages.add_routes` (its templates, CSP).

    ``clock`` gives wall-clock seconds: a session's times outlive the process.
    Returns the one-time setup path when no admin is configured (log it), else None.
    """
    if options.secret_key is not None:
        key = options.secret_key
    else:  # only the demo (config requires a key as soon as a modem is real)
        log.warning(
            "web.secret_key is not set (every modem is simulated): a key for this run only,"
            " admins log in again after a restart"
        )
        key = secrets.token_bytes(32)
    app[PROXIES_KEY] = tuple(ipaddress.ip_network(n, strict=False) for n in options.trusted_proxies)
    admin = app[ADMIN_KEY] = Admin(
        relay=relay,
        supervisors=supervisors,
        hashes=dict(options.admins),
        clock=clock,
        signer=Signer(key),
        guard=LoginGuard(clock),
        access=AccessLog(relay.db),
        board=options.board,
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
    app.on_response_prepare.append(resign)
    admin_dashboard.add_routes(app)
    admin_login.add_routes(app)
    admin_experts.add_routes(app)
    admin_threads.add_routes(app)
    admin_reports.add_routes(app)
    admin_tokens.add_routes(app)
    admin_care.add_routes(app)
    admin_care_upload.add_routes(app)  # its body limit: before the daemon's body deadline
    return None if admin.hashes else admin_login.open_setup(app)
