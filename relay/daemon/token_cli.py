"""``smscat token``: API tokens for the hospital's systems, from the command line.

``smscat token create NAME --scope followups`` prints the new token's secret on standard output,
alone on its line (so that a script can take it), and on standard error that it is shown this
once; ``smscat token list`` shows every token (name, scopes, made when and by whom, last used,
revoked), never a secret; ``smscat token revoke NAME`` ends one at once. The admin page
``/admin/tokens`` does the same in a browser (:mod:`smscat.web.admin_tokens`).

Outer ring: :func:`add_commands` adds the command to ``smscat``'s parser and returns its handler,
as :mod:`.admin_cli` does. Words are :mod:`.words`' (``token.*``), refusals the web's
(:func:`~smscat.relay.daemon.admin_cli.refusal_in_words`). Exit codes as in cli.py: 0 success,
1 no database, 2 bad configuration, usage or a refused name.

It must never: print a secret but the one just made, or put one in a log line or an argument.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from smscat.relay.core.errors import RelayError
from smscat.relay.daemon.admin_cli import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    cli_lang,
    refusal_in_words,
    with_config,
)
from smscat.relay.daemon.config import Settings
from smscat.relay.daemon.config_file import ConfigError, load_config
from smscat.relay.daemon.words import say
from smscat.relay.services.api_tokens import SCOPES, ApiTokens
from smscat.relay.services.management import local_time
from smscat.storage.db import Database

Handler = Callable[[argparse.Namespace], int]
ACTOR = "cli"  # who made or revoked a token, as the audit log says (as `smscat erase` does)


def add_commands(sub: argparse._SubParsersAction) -> dict[str, Handler]:  # type: ignore[type-arg]
    """Add ``token`` (``create``, ``list``, ``revoke``) to ``sub``; return {name: handler}."""
    token = sub.add_parser(
        "token", help="API tokens for the hospital's systems (HIS): create, list, revoke"
    )
    actions = token.add_subparsers(dest="token_action", required=True, metavar="ACTION")
    create = with_config(
        actions.add_parser("create", help="make a token; its secret is printed this once")
    )
    create.add_argument("name", help="its name: a-z, 0-9 and -, at most 32 (e.g. his)")
    create.add_argument(
        "--scope",
        action="append",
        choices=sorted(SCOPES),
        required=True,
        help="what it may do (repeatable): followups = submit 随访 enrolments",
    )
    with_config(actions.add_parser("list", help="every token, never a secret"))
    revoke = with_config(actions.add_parser("revoke", help="end a token at once"))
    revoke.add_argument("name", help="the token's name")
    return {"token": _token}


def _settings(args: argparse.Namespace) -> Settings | int:
    """The settings, or the exit code when there is no usable configuration or database."""
    try:
        settings = load_config(args.config)
    except ConfigError as exc:
        print(f"smscat token: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not settings.storage.path.exists():
        path = settings.storage.path
        print(
            f"smscat token: {say(cli_lang(args), 'token.no_database', path=path)}", file=sys.stderr
        )
        return EXIT_FAILURE
    return settings


def _token(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if isinstance(settings, int):
        return settings
    lang = cli_lang(args)
    zone = ZoneInfo(settings.timezone)
    action: Callable[[ApiTokens], Awaitable[list[str]]]
    if args.token_action == "create":

        async def action(tokens: ApiTokens) -> list[str]:
            secret = await tokens.create(args.name, args.scope, ACTOR)
            print(secret)  # stdout, alone: what a script takes
            return [say(lang, "token.created", name=args.name)]

    elif args.token_action == "revoke":

        async def action(tokens: ApiTokens) -> list[str]:
            await tokens.revoke(args.name, ACTOR)
            return [say(lang, "token.revoked", name=args.name)]

    else:

        async def action(tokens: ApiTokens) -> list[str]:
            found = await tokens.list()
            if not found:
                return [say(lang, "token.none")]
            rows = [say(lang, "token.heading")]
            for t in found:
                state = say(lang, "token.live")
                if t.revoked_at is not None:
                    at = local_time(t.revoked_at, zone)
                    state = say(lang, "token.revoked_at", at=at, by=t.revoked_by)
                used = local_time(t.last_used_at, zone) or say(lang, "token.never")
                created = local_time(t.created_at, zone)
                rows.append(
                    say(lang, "token.row", name=t.name, scopes=",".join(sorted(t.scopes)),
                        created=created, by=t.created_by, used=used, state=state)
                )  # fmt: skip
            return rows

    async def run() -> list[str]:
        from smscat.relay.daemon.app import relay_options  # (the daemon's wiring: at run only)
        from smscat.relay.services.relay import Relay

        async with Database.open(settings.storage.path) as db:
            return await action(Relay(db, relay_options(settings)).api_tokens)

    try:
        lines = asyncio.run(run())
    except RelayError as exc:
        print(f"smscat token: {refusal_in_words(exc, lang)}", file=sys.stderr)
        return EXIT_USAGE
    # after a create, stdout holds the secret alone: the words for the admin go to stderr
    out = sys.stderr if args.token_action == "create" else sys.stdout
    for line in lines:
        print(line, file=out)
    return EXIT_OK
