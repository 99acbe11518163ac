"""API tokens on a real SQLite file: found by hash only, listed live first, revoked once, a use
noted unless one was noted since, and the table refusing what no token can be."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smscat.storage import api_tokens as tokens_db
from smscat.storage.db import Database

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
HASH_A, HASH_B = "a" * 64, "b" * 64


async def test_a_token_is_found_by_its_hash_and_its_record_holds_no_hash(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "smscat.db") as db:
        async with db.transaction() as conn:
            made = await tokens_db.insert_token(
                conn, "his", HASH_A, ["followups"], "admin:alice", T0
            )
        token = await tokens_db.by_hash(db, HASH_A)
        assert token is not None
        assert (token.id, token.name, token.scopes) == (made, "his", frozenset({"followups"}))
        assert (token.created_at, token.created_by) == (T0, "admin:alice")
        assert (token.last_used_at, token.revoked_at, token.revoked_by) == (None, None, None)
        assert not token.revoked
        assert HASH_A not in repr(token)
        assert await tokens_db.by_hash(db, HASH_B) is None
        async with db.reading() as conn:
            assert await tokens_db.by_name(conn, "his") == token
            assert await tokens_db.by_name(conn, "lab") is None


async def test_the_list_shows_live_tokens_first_and_a_revoke_happens_once(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "smscat.db") as db:
        async with db.transaction() as conn:
            his = await tokens_db.insert_token(conn, "his", HASH_A, ["followups"], "cli", T0)
            await tokens_db.insert_token(conn, "lab", HASH_B, ["followups"], "cli", T0)
        async with db.transaction() as conn:
            assert await tokens_db.revoke(conn, his, "admin:alice", T0 + timedelta(hours=1))
            assert not await tokens_db.revoke(conn, his, "admin:bob", T0 + timedelta(hours=2))
        listed = await tokens_db.all_tokens(db)
        assert [t.name for t in listed] == ["lab", "his"]
        revoked = listed[1]
        assert revoked.revoked
        assert (revoked.revoked_at, revoked.revoked_by) == (T0 + timedelta(hours=1), "admin:alice")


async def test_a_use_is_noted_unless_one_was_noted_since(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "smscat.db") as db:
        async with db.transaction() as conn:
            his = await tokens_db.insert_token(conn, "his", HASH_A, ["followups"], "cli", T0)
        used = T0 + timedelta(minutes=5)
        async with db.transaction() as conn:
            await tokens_db.touch(conn, his, used, used - timedelta(minutes=1))
        # a concurrent request, a few seconds later, that also saw no use noted: no write
        later = used + timedelta(seconds=5)
        async with db.transaction() as conn:
            await tokens_db.touch(conn, his, later, later - timedelta(minutes=1))
        token = await tokens_db.by_hash(db, HASH_A)
        assert token is not None
        assert token.last_used_at == used
        # a minute after the last one noted: noted
        async with db.transaction() as conn:
            await tokens_db.touch(conn, his, used + timedelta(minutes=1), used)
        token = await tokens_db.by_hash(db, HASH_A)
        assert token is not None
        assert token.last_used_at == used + timedelta(minutes=1)


async def test_the_table_refuses_a_second_name_or_hash_and_a_half_revoke(tmp_path: Path) -> None:
    async with Database.open(tmp_path / "smscat.db") as db:
        async with db.transaction() as conn:
            await tokens_db.insert_token(conn, "his", HASH_A, ["followups"], "cli", T0)
        for name, token_hash in (("his", HASH_B), ("lab", HASH_A), ("lab", "short")):
            with pytest.raises(sqlite3.IntegrityError):
                async with db.transaction() as conn:
                    await tokens_db.insert_token(conn, name, token_hash, [], "cli", T0)
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction() as conn:
                await conn.execute("UPDATE api_tokens SET revoked_at = 'x'")
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction() as conn:
                await conn.execute("UPDATE api_tokens SET scopes = '\"followups\"'")
        assert [t.name for t in await tokens_db.all_tokens(db)] == ["his"]
