"""The admin's logins in the audit log: who came in, who was refused, what got locked.

Every login, failed login, lock, first-admin setup and logout is an entry (``admin.login``,
``admin.login_failed``, ``admin.locked``, ``admin.setup``, ``admin.logout``): actor
``admin:<username>`` and subject the username when the name is an admin's; actor ``web`` and no
subject for a name that is nobody's (what was typed is not kept: it may be a password typed
into the wrong box). The detail holds the client's network (``203.0.113.0/24``), never its
address. A logout also keeps a keyed fingerprint of the session, so that a restart cannot bring
a logged-out session back to life (:meth:`AccessLog.ended_sessions`).

Outer ring of the relay, beside :mod:`.management`. It must never record a password, an
address, a cookie or a session id.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Final

from smscat.storage import admin as store
from smscat.storage.db import Database, iso

ACTIONS: Final = ("login", "login_failed", "locked", "setup", "logout")
MAX_ENDED: Final = 10_000  # logouts looked at, at most, when the server starts


class AccessLog:
    """Records the admin's logins; reads back which sessions were logged out."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, action: str, username: str | None, network: str, **detail: str | int
    ) -> None:
        """Audit ``admin.<action>`` (one of :data:`ACTIONS`) for ``username`` (None: a name
        that is no admin's) from ``network``."""
        if action not in ACTIONS:
            raise ValueError(f"not an admin access action: {action}")
        actor = f"admin:{username}" if username is not None else "web"
        async with self.db.transaction() as conn:
            await self.db.audit(
                conn, actor, f"admin.{action}", username, {"network": network, **detail}
            )

    async def ended_sessions(self, since: datetime) -> set[str]:
        """The fingerprints (``session`` in the detail) of sessions logged out since ``since``."""
        found = await store.audit_page(
            self.db, store.AuditFilter(action="admin.logout", since=iso(since)), MAX_ENDED, 0
        )
        ended = set()
        for row in found.rows:
            try:
                detail = json.loads(row["detail"] or "{}")
            except ValueError:
                continue
            if isinstance(detail, dict) and isinstance(detail.get("session"), str):
                ended.add(detail["session"])
        return ended
