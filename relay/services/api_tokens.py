"""API tokens for machine clients: the hospital's systems (HIS) calling the API as themselves.

A token is made by an admin (``smscat token create``, or the admin page ``/admin/tokens``) with
a name (a slug the audit log and the admin know it by) and scopes (what it may do: for now
``followups``, posting 随访 enrolments). Its secret, ``smscat_`` and 43 random URL-safe
characters, is returned once and never stored: the database keeps its SHA-256
(:func:`~smscat.relay.services.context.token_hash`), and a request's token is found by that hash,
so there is no secret to compare in constant time. A revoked token stays in the list, named, and
is worth nothing.

Making and revoking a token is audited (``api_token.create``, ``api_token.revoke``: the actor,
the token's name, its scopes); a use is noted as ``last_used_at``, at most once a minute per
token, so that a busy client does not turn every request into a write.

Outer ring of the relay, beside :mod:`.admin_access`. It must never log, audit or return a
secret after :meth:`ApiTokens.create` hands it over, nor keep one anywhere.
"""

from __future__ import annotations

import builtins
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, get_args

from smscat.relay.core.errors import Conflict, Invalid, NotFound
from smscat.relay.services.context import Context, token_hash
from smscat.storage import api_tokens as tokens_db
from smscat.storage.api_tokens import ApiToken

log = logging.getLogger(__name__)

Scope = Literal["followups"]
SCOPES: Final[frozenset[str]] = frozenset(get_args(Scope))
PREFIX: Final = "smscat_"  # says what a leaked string is, to a secret scanner or a person
SECRET_BYTES: Final = 32
MAX_SECRET: Final = 128  # characters of a presented token worth hashing at all
NAME: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
TOUCH_EVERY: Final = timedelta(minutes=1)
CREATE: Final = "api_token.create"
REVOKE: Final = "api_token.revoke"


@dataclass(frozen=True, slots=True)
class ApiClient:
    """The machine client behind a request: its token's name and scopes (never its secret)."""

    name: str
    scopes: frozenset[str]

    def may(self, scope: Scope) -> bool:
        return scope in self.scopes


def checked_scopes(scopes: Iterable[str]) -> builtins.list[str]:
    """``scopes`` without repeats, sorted; :class:`Invalid` for none or an unknown one."""
    wanted = sorted(set(scopes))
    if not wanted:
        raise Invalid("token_scopes", field="scopes")
    if not set(wanted) <= SCOPES:
        raise Invalid("token_scope_unknown", field="scopes")
    return wanted


class ApiTokens:
    """Makes, lists, revokes and checks the API tokens."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def create(self, name: str, scopes: Iterable[str], actor: str) -> str:
        """A new token named ``name`` (a slug: a-z, 0-9, ``-``; at most 32) that may do
        ``scopes``; its secret, which nobody can see again. :class:`Invalid` for a wrong name
        or scope, :class:`Conflict` for a name in use (revoked tokens keep theirs)."""
        if not NAME.fullmatch(name):
            raise Invalid("token_name", field="name")
        wanted = checked_scopes(scopes)
        secret = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
        db = self.ctx.db
        async with db.transaction() as conn:
            if await tokens_db.by_name(conn, name) is not None:
                raise Conflict("token_name_taken", field="name")
            now = self.ctx.clock()
            await tokens_db.insert_token(conn, name, token_hash(secret), wanted, actor, now)
            await db.audit(conn, actor, CREATE, name, {"scopes": wanted})
        log.info("API token %s created (scopes %s)", name, ",".join(wanted))
        return secret

    async def revoke(self, name: str, actor: str) -> None:
        """Revoke the token ``name`` at once: :class:`NotFound` for no such token,
        :class:`Conflict` for one revoked already."""
        db = self.ctx.db
        async with db.transaction() as conn:
            token = await tokens_db.by_name(conn, name)
            if token is None:
                raise NotFound("token_not_found", field="name")
            if not await tokens_db.revoke(conn, token.id, actor, self.ctx.clock()):
                raise Conflict("token_revoked", field="name")
            await db.audit(conn, actor, REVOKE, name)
        log.info("API token %s revoked", name)

    async def list(self) -> builtins.list[ApiToken]:
        """Every token, live ones first, then by name."""
        return await tokens_db.all_tokens(self.ctx.db)

    async def verify(self, secret: str, now: datetime) -> ApiClient | None:
        """The client whose live token ``secret`` is; None for anything else (no such token,
        a revoked one, a string that is no token at all)."""
        if not secret.startswith(PREFIX) or len(secret) > MAX_SECRET:
            return None
        token = await tokens_db.by_hash(self.ctx.db, token_hash(secret))
        if token is None or token.revoked:
            return None
        if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
            async with self.ctx.db.transaction() as conn:
                await tokens_db.touch(conn, token.id, now, now - TOUCH_EVERY)
        return ApiClient(token.name, token.scopes)
