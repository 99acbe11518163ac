"""``smscat token create/list/revoke`` end to end, through ``smscat``'s own parser and handlers on a
real database: the secret alone on stdout, once; a list that never shows one; refusals in words
and exit code 2; the audit log names the command line as the actor."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smscat.relay.daemon.cli import main
from smscat.relay.daemon.words import say
from smscat.relay.services.api_tokens import ApiClient
from smscat.relay.services.context import RelayOptions
from smscat.relay.services.relay import Relay
from smscat.storage.db import Database
from smscat.web.texts import render

USED = datetime(2030, 1, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai (config's default zone)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A configuration whose database exists (the daemon ran once)."""
    path = tmp_path / "config.yaml"
    path.write_text(
        f"modems:\n  - {{id: m0, port: sim}}\nstorage: {{path: {tmp_path / 'smscat.db'}}}\n",
        encoding="utf-8",
    )

    async def create() -> None:
        async with Database.open(tmp_path / "smscat.db"):
            pass

    asyncio.run(create())
    return path


def verify(config: Path, secret: str) -> ApiClient | None:
    async def run() -> ApiClient | None:
        async with Database.open(config.parent / "smscat.db") as db:
            relay = Relay(db, RelayOptions(department="心内科"))
            return await relay.api_tokens.verify(secret, USED)

    return asyncio.run(run())


def audit(config: Path) -> list[tuple[str, str, str]]:
    async def run() -> list[tuple[str, str, str]]:
        async with Database.open(config.parent / "smscat.db") as db:
            rows = await db.fetchall(
                "SELECT actor, action, subject FROM audit_log WHERE action LIKE 'api_token.%'"
            )
            return [(r[0], r[1], r[2]) for r in rows]

    return asyncio.run(run())


def test_create_prints_the_secret_alone_once_and_list_never_shows_it(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = str(config)
    assert main(["--lang", "en", "token", "create", "his", "--scope", "followups", "-c", c]) == 0
    out, err = capsys.readouterr()
    secret = out.removesuffix("\n")
    assert out == secret + "\n"
    assert secret.startswith("smscat_")
    assert err == say("en", "token.created", name="his") + "\n"

    assert main(["--lang", "en", "token", "list", "-c", c]) == 0
    out, err = capsys.readouterr()
    heading, row = out.splitlines()
    assert heading == say("en", "token.heading")
    assert row.startswith("his  followups  ")
    assert row.endswith("(cli)  never  live")
    assert secret[len("smscat_") :] not in out + err
    assert verify(config, secret) == ApiClient("his", frozenset({"followups"}))
    assert main(["--lang", "en", "token", "list", "-c", c]) == 0
    assert capsys.readouterr().out.splitlines()[1].endswith("(cli)  2030-01-02 10:00  live")

    assert main(["--lang", "en", "token", "revoke", "his", "-c", c]) == 0
    assert capsys.readouterr().out == say("en", "token.revoked", name="his") + "\n"
    assert verify(config, secret) is None
    assert main(["--lang", "zh-CN", "token", "list", "-c", c]) == 0
    (_, row) = capsys.readouterr().out.splitlines()
    assert "由 cli 吊销" in row
    assert audit(config) == [
        ("cli", "api_token.create", "his"),
        ("cli", "api_token.revoke", "his"),
    ]


def test_an_empty_list_says_how_to_make_one(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--lang", "zh-CN", "token", "list", "-c", str(config)]) == 0
    assert capsys.readouterr().out == say("zh-CN", "token.none") + "\n"


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_refusals_are_words_and_exit_2(
    config: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    c = str(config)
    create = ["--lang", lang, "token", "create"]
    for argv, key in [
        ([*create, "HIS", "--scope", "followups", "-c", c], "token_name"),
        (["--lang", lang, "token", "revoke", "his", "-c", c], "token_not_found"),
    ]:
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert (out, err) == ("", f"smscat token: {render(f'error.{key}', lang)}\n")
    assert main([*create, "his", "--scope", "followups", "-c", c]) == 0
    capsys.readouterr()
    assert main([*create, "his", "--scope", "followups", "-c", c]) == 2
    assert capsys.readouterr().err == f"smscat token: {render('error.token_name_taken', lang)}\n"
    assert main(["--lang", lang, "token", "revoke", "his", "-c", c]) == 0
    assert main(["--lang", lang, "token", "revoke", "his", "-c", c]) == 2
    assert capsys.readouterr().err.endswith(f"{render('error.token_revoked', lang)}\n")


def test_a_scope_is_required_and_must_be_known(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for scopes in ([], ["--scope", "questions"]):
        with pytest.raises(SystemExit) as usage:
            main(["token", "create", "his", *scopes, "-c", str(config)])
        assert usage.value.code == 2
        assert "--scope" in capsys.readouterr().err
    assert main(["token", "list", "-c", str(config)]) == 0  # and nothing was made
    assert capsys.readouterr().out == say("zh-CN", "token.none") + "\n"


def test_no_database_is_exit_1_and_none_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    database = tmp_path / "nowhere" / "smscat.db"
    config.write_text(f"modems:\n  - {{id: m0, port: sim}}\nstorage: {{path: {database}}}\n")
    assert main(["--lang", "en", "token", "list", "-c", str(config)]) == 1
    assert capsys.readouterr().err == (
        f"smscat token: {say('en', 'token.no_database', path=database)}\n"
    )
    assert not database.exists()
