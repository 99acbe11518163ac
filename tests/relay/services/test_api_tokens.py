"""The API tokens service on a real database: a secret given once and kept nowhere, a token that
verifies until it is revoked, refusals in keys, an audit entry per change and never a secret in
the log, the audit log or any cell of the database."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from smscat.relay.core.errors import Conflict, Invalid, NotFound
from smscat.relay.services.api_tokens import ApiClient
from tests.support.relay import World, world_on
from tests.support.storage import EXPERT


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    made: World
    async with world_on(tmp_path, [EXPERT]) as made:
        yield made


async def every_cell(world: World) -> list[str]:
    """Every value of every row of every table, as text."""
    cells: list[str] = []
    for (table,) in await world.db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'"):
        for row in await world.db.fetchall(f'SELECT * FROM "{table}"'):
            cells.extend(str(row[column]) for column in row.keys())  # noqa: SIM118
    return cells


async def test_a_new_token_verifies_as_its_client_and_is_kept_as_a_hash(world: World) -> None:
    tokens = world.relay.api_tokens
    secret = await tokens.create("his", ["followups", "followups"], "admin:alice")
    assert secret.startswith("smscat_")
    assert len(secret) == len("smscat_") + 43  # 32 random bytes, URL-safe base64
    assert await tokens.verify(secret, world.clock.now) == ApiClient(
        "his", frozenset({"followups"})
    )
    (row,) = await world.db.fetchall("SELECT token_hash, scopes FROM api_tokens")
    assert row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert row["scopes"] == '["followups"]'
    assert await tokens.create("lab", ["followups"], "cli") != secret


async def test_anything_but_a_live_token_verifies_as_nobody(world: World) -> None:
    tokens = world.relay.api_tokens
    secret = await tokens.create("his", ["followups"], "cli")
    now = world.clock.now
    for wrong in ("", "smscat_", secret[:-1], secret + "x", secret[len("smscat_") :],
                  "smscat_" + "A" * 500, secret.upper()):  # fmt: skip
        assert await tokens.verify(wrong, now) is None, wrong
    await tokens.revoke("his", "admin:alice")
    assert await tokens.verify(secret, now) is None


async def test_a_use_is_written_down_at_most_once_a_minute(world: World) -> None:
    tokens = world.relay.api_tokens
    secret = await tokens.create("his", ["followups"], "cli")
    (listed,) = await tokens.list()
    assert listed.last_used_at is None
    first = world.clock.now + timedelta(minutes=3)
    assert await tokens.verify(secret, first) is not None
    assert await tokens.verify(secret, first + timedelta(seconds=59)) is not None
    (listed,) = await tokens.list()
    assert listed.last_used_at == first
    assert await tokens.verify(secret, first + timedelta(seconds=60)) is not None
    (listed,) = await tokens.list()
    assert listed.last_used_at == first + timedelta(seconds=60)


async def test_refusals_name_what_is_wrong(world: World) -> None:
    tokens = world.relay.api_tokens
    for name in ("", "HIS", "-his", "his lab", "医院", "a" * 33, "his_lab"):
        with pytest.raises(Invalid) as bad:
            await tokens.create(name, ["followups"], "cli")
        assert (bad.value.key, bad.value.field) == ("token_name", "name")
    with pytest.raises(Invalid) as bad:
        await tokens.create("his", [], "cli")
    assert (bad.value.key, bad.value.field) == ("token_scopes", "scopes")
    with pytest.raises(Invalid) as bad:
        await tokens.create("his", ["followups", "questions"], "cli")
    assert (bad.value.key, bad.value.field) == ("token_scope_unknown", "scopes")
    assert await tokens.list() == []

    await tokens.create("his", ["followups"], "cli")
    with pytest.raises(Conflict) as taken:
        await tokens.create("his", ["followups"], "cli")
    assert taken.value.key == "token_name_taken"
    with pytest.raises(NotFound) as missing:
        await tokens.revoke("lab", "cli")
    assert missing.value.key == "token_not_found"
    await tokens.revoke("his", "cli")
    with pytest.raises(Conflict) as again:
        await tokens.revoke("his", "cli")
    assert again.value.key == "token_revoked"
    with pytest.raises(Conflict):  # a revoked token keeps its name
        await tokens.create("his", ["followups"], "cli")
    (listed,) = await tokens.list()
    assert (listed.name, listed.revoked_at, listed.revoked_by) == ("his", world.clock.now, "cli")


async def test_changes_are_audited_and_no_secret_is_logged_or_kept(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = world.relay.api_tokens
    secret = await tokens.create("his", ["followups"], "admin:alice")
    assert await tokens.verify(secret, world.clock.now) is not None
    await tokens.revoke("his", "cli")
    assert await tokens.verify(secret, world.clock.now) is None
    entries = await world.db.fetchall(
        "SELECT actor, action, subject, detail FROM audit_log WHERE action LIKE 'api_token.%'"
    )
    assert [tuple(e) for e in entries] == [
        ("admin:alice", "api_token.create", "his", '{"scopes": ["followups"]}'),
        ("cli", "api_token.revoke", "his", None),
    ]
    assert "his" in caplog.text  # the log names the token …
    random_part = secret[len("smscat_") :]
    assert random_part not in caplog.text  # … never its secret
    assert not [cell for cell in await every_cell(world) if random_part in cell]
