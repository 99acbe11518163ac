"""Administrators' commands: ``smscat report`` (monthly CSVs: the threads', and the 随访
figures' next to it, ``…-care.csv``), ``smscat erase`` (a number) and
``smscat hash-password`` (an argon2id hash for ``admins:`` in config.yaml).

Outer ring: :func:`add_commands` adds the subcommands to ``smscat``'s parser and returns their
handlers; :mod:`smscat.relay.daemon.cli` dispatches to them. Exit codes as in cli.py: 0 success,
1 runtime failure (no database), 2 bad configuration or usage (a malformed month or number).

A refusal of the relay is printed as the web's words for it (:func:`refusal_in_words`), in
the language :func:`cli_lang` picks; ``smscat handoff`` does the same.

It must never: print a phone number, not even the one being erased (counts only), nor echo a
password.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher

from smscat.modem.address import AddressError, is_short_code, normalise
from smscat.relay.core.errors import Conflict, RelayError
from smscat.relay.core.stats import month_period
from smscat.relay.core.texts import DEFAULT_LANG
from smscat.relay.daemon.config import Settings
from smscat.relay.daemon.config_file import ConfigError, load_config
from smscat.relay.services import care_report
from smscat.relay.services.care_report import CareReport
from smscat.relay.services.reporting import MonthReport, month_report, write_csv
from smscat.relay.services.retention import PurgeReport, erase_phone
from smscat.storage.db import Database
from smscat.web import texts

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
Handler = Callable[[argparse.Namespace], int]


def add_commands(sub: argparse._SubParsersAction) -> dict[str, Handler]:  # type: ignore[type-arg]
    """Add ``report``, ``erase`` and ``hash-password`` to ``sub``; return {name: handler}."""
    report = with_config(
        sub.add_parser(
            "report", help="monthly statistics per expert, and 随访's, as CSV (opens in Excel)"
        )
    )
    report.add_argument("--month", required=True, metavar="YYYY-MM", help="e.g. 2026-11")
    report.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="the CSV file (default: ./report-YYYY-MM.csv); 随访's goes beside it: FILE-care.csv",
    )
    erase = with_config(
        sub.add_parser("erase", help="erase a patient's phone number everywhere, now")
    )
    erase.add_argument(
        "--phone", required=True, metavar="NUMBER", help="as the patient gives it: +86… or national"
    )
    hashing = sub.add_parser(
        "hash-password", help="print an argon2id hash of a password for admins: in config.yaml"
    )
    hashing.add_argument(
        "--stdin", action="store_true", help="read the password from standard input (one line)"
    )
    return {"report": _report, "erase": _erase, "hash-password": _hash_password}


def cli_lang(args: argparse.Namespace) -> str:
    """``--lang``, else the locale's language as POSIX ranks the variables; Chinese by default
    (the product's language; a server's ``C`` locale says nothing about its admin)."""
    chosen = getattr(args, "lang", None)
    if chosen:
        return str(chosen)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:  # the first one set decides, as setlocale(3) reads them
            return "en" if value.lower().startswith("en") else DEFAULT_LANG
    return DEFAULT_LANG


def refusal_in_words(error: RelayError, lang: str) -> str:
    """The web's words for ``error`` (``error.<key>``, else its status's), never the key: one
    catalogue holds each refusal's words, whoever shows them."""
    for key in (error.key, f"status_{error.status}", "status_400"):
        if f"error.{key}" in texts.TEXTS:
            return texts.render(f"error.{key}", lang)
    raise AssertionError("web/texts.py has error.status_400")


def with_config(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``parser`` with the ``-c/--config`` option every command that reads the config takes."""
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=Path("config.yaml"),
        help="configuration file (default: ./config.yaml)",
    )
    return parser


def _settings(command: str, path: Path) -> Settings | int:
    """The settings, or the exit code when there is no usable configuration or database."""
    try:
        settings = load_config(path)
    except ConfigError as exc:
        print(f"smscat {command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not settings.storage.path.exists():
        print(f"smscat {command}: no database at {settings.storage.path}", file=sys.stderr)
        return EXIT_FAILURE
    return settings


def _report(args: argparse.Namespace) -> int:
    try:
        month_period(args.month, "UTC")
    except ValueError:
        print(
            f"smscat report: --month {args.month!r} is not a month: use YYYY-MM, e.g. 2026-11",
            file=sys.stderr,
        )
        return EXIT_USAGE
    settings = _settings("report", args.config)
    if isinstance(settings, int):
        return settings
    out: Path = args.out or Path(f"report-{args.month}.csv")
    care_out = out.with_name(f"{out.stem}-care{out.suffix}")  # the 随访 figures, next to it
    configured = {plan.name: plan.title for plan in settings.care.plans}

    async def build() -> tuple[MonthReport, CareReport]:
        async with Database.open(settings.storage.path) as db:
            report = await month_report(
                db, args.month, timezone=settings.timezone, department=settings.department.name
            )
            titles = await care_report.plan_titles(db, configured)
            care = await care_report.month_report(
                db, args.month, timezone=settings.timezone, titles=titles
            )
            return report, care

    report, care = asyncio.run(build())
    write_csv(report, out)
    care_report.write_csv(care, care_out)
    print(f"smscat report: {out} ({args.month}: {len(report.experts)} expert(s) and the total)")
    print(f"smscat report: {care_out} ({args.month}: 随访, {len(care.rows)} row(s) and the total)")
    return EXIT_OK


def _erase(args: argparse.Namespace) -> int:
    try:
        number = normalise(args.phone)
    except AddressError:
        number = ""
    if not number or is_short_code(number):
        print("smscat erase: --phone is not a mobile number", file=sys.stderr)
        return EXIT_USAGE
    settings = _settings("erase", args.config)
    if isinstance(settings, int):
        return settings

    async def run() -> PurgeReport:
        async with Database.open(settings.storage.path) as db:
            return await erase_phone(db, number, "cli", datetime.now(UTC))

    try:
        report = asyncio.run(run())
    except Conflict as exc:  # an expert's number
        print(f"smscat erase: {refusal_in_words(exc, cli_lang(args))}", file=sys.stderr)
        return EXIT_USAGE
    erased = report.erased
    print(
        f"smscat erase: done. phone rows {erased.phones}, verifications {erased.verifications},"
        f" threads unlinked {erased.threads_unlinked}, SMS to it {erased.outbox},"
        f" SMS from it {erased.inbound}, raw parts {erased.inbound_parts},"
        f" texts {erased.texts}"
    )
    if not report.checkpointed:
        print(
            "smscat erase: the write-ahead log is in use (is the daemon running?); the old"
            " content leaves it at the daemon's next checkpoint",
            file=sys.stderr,
        )
    return EXIT_OK


MIN_PASSWORD = 8


def _hash_password(args: argparse.Namespace) -> int:
    if args.stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("smscat hash-password: the passwords differ", file=sys.stderr)
            return EXIT_USAGE
    if len(password) < MIN_PASSWORD:
        print(f"smscat hash-password: use at least {MIN_PASSWORD} characters", file=sys.stderr)
        return EXIT_USAGE
    print(PasswordHasher().hash(password))
    return EXIT_OK
