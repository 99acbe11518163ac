"""The API token guard over real HTTP: a test-only route behind ``api_client("followups")`` on an
aiohttp server (127.0.0.1, port 0) with the API's problem+json middleware and a relay on a real
database. No token, a wrong one, a revoked one: 401 with a Bearer challenge; a live token without
the scope: 403; a good one: the handler, with its client; too many refusals from one network:
429, that network only, until the window slides. The secret never reaches the log."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from smscat.relay.services.context import token_hash
from smscat.storage import api_tokens as tokens_db
from smscat.web.api import problems
from smscat.web.api_auth import FAILURES, WINDOW, api_client, client_of, install
from smscat.web.clients import PROXIES_KEY
from smscat.web.texts import render
from tests.support.relay import World, world_on
from tests.support.storage import EXPERT

TIMEOUT = aiohttp.ClientTimeout(total=10)
PROBLEM = "application/problem+json"


@api_client("followups")
async def whoami(request: web.Request) -> web.Response:
    """The test-only route: says which client the guard let in."""
    client = client_of(request)
    return web.json_response({"name": client.name, "scopes": sorted(client.scopes)})


@dataclass
class Server:
    world: World
    url: str
    http: aiohttp.ClientSession

    async def call(
        self, authorization: str | None = None, client: str | None = None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        """GET the guarded route; ``client``: the address a trusted proxy says it is for."""
        headers = {"Accept-Language": "en"}
        if authorization is not None:
            headers["Authorization"] = authorization
        if client is not None:
            headers["X-Forwarded-For"] = client
        async with self.http.get(f"{self.url}/test/whoami", headers=headers) as resp:
            return resp.status, dict(resp.headers), await resp.json(content_type=None)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    world: World
    async with world_on(tmp_path, [EXPERT]) as world:
        app = web.Application(middlewares=[problems])
        app[PROXIES_KEY] = (ipaddress.ip_network("127.0.0.1/32"),)  # names the client in tests
        install(app, world.relay)
        app.router.add_get("/test/whoami", whoami)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            port = runner.addresses[0][1]
            async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
                yield Server(world, f"http://127.0.0.1:{port}", http)
        finally:
            await runner.cleanup()


def assert_refused(got: tuple[int, dict[str, str], dict[str, Any]], status: int, code: str) -> None:
    got_status, headers, body = got
    assert got_status == status, body
    assert headers["Content-Type"].startswith(PROBLEM)
    assert body["code"] == code
    assert body["title"] == render(f"error.status_{status}", "en")
    assert body["detail"] == render(f"error.{code}", "en")
    if status == 401:
        assert headers["WWW-Authenticate"] == 'Bearer realm="smscat"'
    else:
        assert "WWW-Authenticate" not in headers


async def test_a_live_token_with_the_scope_reaches_the_handler(server: Server) -> None:
    secret = await server.world.relay.api_tokens.create("his", ["followups"], "cli")
    status, _, body = await server.call(f"Bearer {secret}")
    assert status == 200, body
    assert body == {"name": "his", "scopes": ["followups"]}
    status, _, _ = await server.call(f"bearer   {secret}  ")  # the scheme in any case (RFC 7235)
    assert status == 200
    (token,) = await server.world.relay.api_tokens.list()
    assert token.last_used_at == server.world.clock.now


async def test_no_token_is_401_token_missing(server: Server) -> None:
    assert_refused(await server.call(), 401, "token_missing")
    assert_refused(await server.call("Bearer "), 401, "token_missing")
    secret = await server.world.relay.api_tokens.create("his", ["followups"], "cli")
    assert_refused(await server.call(f"Basic {secret}"), 401, "token_missing")
    assert_refused(await server.call(secret), 401, "token_missing")


async def test_a_wrong_or_revoked_token_is_401_token_invalid_alike(server: Server) -> None:
    tokens = server.world.relay.api_tokens
    secret = await tokens.create("his", ["followups"], "cli")
    unknown = await server.call(f"Bearer {secret[:-2]}xy")
    assert_refused(unknown, 401, "token_invalid")
    assert_refused(await server.call("Bearer not-a-token"), 401, "token_invalid")
    await tokens.revoke("his", "cli")
    revoked = await server.call(f"Bearer {secret}")
    assert_refused(revoked, 401, "token_invalid")
    assert revoked[2] == unknown[2]  # nothing tells a revoked token from one never made


async def test_a_live_token_without_the_scope_is_403(server: Server) -> None:
    """A token whose scopes this route does not need (one made for another job)."""
    secret = "smscat_" + "s" * 43
    db = server.world.db
    async with db.transaction() as conn:
        await tokens_db.insert_token(
            conn, "lab", token_hash(secret), ["results"], "cli", server.world.clock.now
        )
    assert_refused(await server.call(f"Bearer {secret}"), 403, "token_scope")


async def test_many_refusals_from_one_network_are_429_until_the_window_slides(
    server: Server,
) -> None:
    secret = await server.world.relay.api_tokens.create("his", ["followups"], "cli")
    guesser, neighbour, elsewhere = "203.0.113.5", "203.0.113.77", "198.51.100.9"
    for _ in range(FAILURES):
        assert_refused(await server.call("Bearer smscat_guess", guesser), 401, "token_invalid")
    status, headers, body = await server.call("Bearer smscat_guess", guesser)
    assert status == 429
    assert body["code"] == "status_429"
    assert int(headers["Retry-After"]) == WINDOW.total_seconds()
    # the network's good token waits too (nothing is looked up), its neighbours with it
    assert (await server.call(f"Bearer {secret}", guesser))[0] == 429
    assert (await server.call(f"Bearer {secret}", neighbour))[0] == 429
    assert (await server.call(None, neighbour))[0] == 429
    assert (await server.call(f"Bearer {secret}", elsewhere))[0] == 200  # another network
    server.world.clock.now += WINDOW - timedelta(seconds=10)
    status, headers, _ = await server.call(f"Bearer {secret}", guesser)
    assert (status, headers["Retry-After"]) == (429, "10")
    server.world.clock.now += timedelta(seconds=10)
    assert (await server.call(f"Bearer {secret}", guesser))[0] == 200


async def test_a_good_token_is_never_counted(server: Server) -> None:
    secret = await server.world.relay.api_tokens.create("his", ["followups"], "cli")
    for _ in range(3 * FAILURES):
        assert (await server.call(f"Bearer {secret}"))[0] == 200


async def test_the_secret_never_reaches_the_log(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = server.world.relay.api_tokens
    secret = await tokens.create("his", ["followups"], "admin:alice")
    assert (await server.call(f"Bearer {secret}"))[0] == 200
    await tokens.revoke("his", "admin:alice")
    assert (await server.call(f"Bearer {secret}"))[0] == 401
    assert (await server.call(f"Bearer {secret}x"))[0] == 401
    assert caplog.records  # the log was listening
    assert secret[len("smscat_") :] not in caplog.text
    audit = await server.world.db.fetchall("SELECT actor, subject, detail FROM audit_log")
    assert not [r for r in audit if secret[len("smscat_") :] in str(tuple(r))]
