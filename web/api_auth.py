"""The guard of the API's machine endpoints: an API token in ``Authorization: Bearer …``.

A handler for the hospital's systems (``POST /api/followups``) is wrapped in
:func:`api_client` with the scope it needs; the wrapper opens every such handler the same way:

* no ``Authorization: Bearer`` header: 401 ``token_missing``; a token that is no live token
  (unknown, revoked, malformed): 401 ``token_invalid``; both with ``WWW-Authenticate: Bearer``
  (RFC 6750 3), as problem+json through :func:`smscat.web.api.problems` (whose app this
  guard's routes are on);
* a live token without the scope: 403 ``token_scope``;
* otherwise the handler runs with the :class:`~smscat.relay.services.api_tokens.ApiClient` on
  the request (:data:`API_CLIENT`, read with :func:`client_of`).

Failed attempts are counted per client network (:func:`~smscat.web.clients.client_network`, as
the admin login and the per-client limits count): past :data:`FAILURES` in :data:`WINDOW`, the
network is answered 429 with Retry-After, its good tokens too, before any token is looked up.
A secret is 256 random bits, so the count is no defence against guessing one: it keeps a
misconfigured client (an old token in a retry loop) from flooding the database and the log.
The count is taken after the lookup, not reserved before it: a client that sends twenty good
requests at once must not be refused because they are in flight together.

:func:`install` puts the guard's state on the app (:data:`API_AUTH_KEY`) and the hook that adds
the challenge header to its 401s; the module that adds the guarded routes calls it once.

It must never: log a token or a client address, or say which of "unknown" and "revoked" a
refused token is.
"""

from __future__ import annotations

import functools
import math
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from aiohttp import web

from smscat.relay.core.errors import Forbidden, RelayError, TooMany
from smscat.relay.services.api_tokens import ApiClient, ApiTokens, Scope
from smscat.web.clients import client_network

if TYPE_CHECKING:
    from smscat.relay.services.relay import Relay

FAILURES: Final = 10  # refused tokens per client network and window before a 429
WINDOW: Final = timedelta(minutes=15)
SWEEP_AT: Final = 1024  # networks counted before the idle ones are forgotten
CHALLENGE: Final = 'Bearer realm="smscat"'
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Unauthorized(RelayError):
    """401: no API token, or none that is live. Kept here, not in the relay's tree: only this
    guard says it, and the header that must go with it is an HTTP matter."""

    status = 401


@dataclass(slots=True)
class FailedTokens:
    """Refused tokens per client network within :data:`WINDOW`. Pure: the time is given."""

    limit: int = FAILURES
    window: timedelta = WINDOW
    _at: dict[str, deque[datetime]] = field(default_factory=dict, repr=False)

    def _recent(self, network: str, now: datetime) -> deque[datetime]:
        stamps = self._at.get(network, deque())
        while stamps and now - stamps[0] >= self.window:
            stamps.popleft()
        return stamps

    def retry_after(self, network: str, now: datetime) -> int:
        """Seconds until ``network`` may present a token again (0: now)."""
        stamps = self._recent(network, now)
        if len(stamps) < self.limit:
            return 0
        return max(1, math.ceil((stamps[0] + self.window - now).total_seconds()))

    def failed(self, network: str, now: datetime) -> None:
        if len(self._at) >= SWEEP_AT:
            for idle in [k for k, s in self._at.items() if not self._recent(k, now)]:
                del self._at[idle]
        self._at[network] = stamps = self._recent(network, now)
        stamps.append(now)


@dataclass(slots=True)
class ApiAuth:
    """The guard's state in the app (:data:`API_AUTH_KEY`)."""

    tokens: ApiTokens
    clock: Callable[[], datetime]
    failures: FailedTokens = field(default_factory=FailedTokens)


API_AUTH_KEY: web.AppKey[ApiAuth] = web.AppKey("smscat_api_auth", ApiAuth)
API_CLIENT: web.RequestKey[ApiClient] = web.RequestKey("api_client", ApiClient)
_REFUSED: web.RequestKey[bool] = web.RequestKey("smscat_api_refused", bool)


def install(app: web.Application, relay: Relay) -> None:
    """The guard's state for ``app``: the relay's tokens, and its clock (which tests move)."""
    app[API_AUTH_KEY] = ApiAuth(relay.api_tokens, lambda: relay.clock())
    app.on_response_prepare.append(_challenge)


def client_of(request: web.Request) -> ApiClient:
    """The client a guarded handler serves (:func:`api_client` put it there)."""
    return request[API_CLIENT]


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def api_client(scope: Scope) -> Callable[[Handler], Handler]:
    """A handler only for a live API token with ``scope`` (see the module's docstring)."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            auth = request.app[API_AUTH_KEY]
            network, now = client_network(request), auth.clock()
            wait = auth.failures.retry_after(network, now)
            if wait:
                raise TooMany("status_429", retry_after=wait)
            secret = _bearer(request)
            client = None if secret is None else await auth.tokens.verify(secret, now)
            if client is None:
                auth.failures.failed(network, now)
                request[_REFUSED] = True
                raise Unauthorized("token_missing" if secret is None else "token_invalid")
            if not client.may(scope):
                raise Forbidden("token_scope")
            request[API_CLIENT] = client
            return await handler(request)

        return guarded

    return wrap


async def _challenge(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: a 401 of this guard says how to authenticate (RFC 6750 3),
    whichever middleware (:func:`smscat.web.api.problems`) turned the refusal into its body."""
    if request.get(_REFUSED) and response.status == 401:
        response.headers["WWW-Authenticate"] = CHALLENGE
