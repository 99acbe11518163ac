"""The ``smscat`` command line. Outer ring: parses arguments and hands over to the app.

Exit codes: 0 success, 1 runtime failure, 2 bad configuration or usage (and for ``run``:
another daemon holds the database, or the web port is taken).

A refusal of the relay (a :class:`~smscat.relay.core.errors.RelayError`) is printed in words,
the web's ``error.<key>`` text, in the language of ``--lang`` or the locale (``LC_ALL``,
``LC_MESSAGES``, ``LANG``; Chinese unless it is English): an admin reads words, not keys.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import importlib.metadata
import ipaddress
import os
import signal
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from smscat.hwsim.profiles import MODULES, PROFILES
from smscat.relay.core.errors import RelayError
from smscat.relay.core.texts import LANGS
from smscat.relay.daemon.config import Settings
from smscat.relay.daemon.config_file import ConfigError, load_config

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
BAUDRATE_HELP = "serial line rate in bit/s (default 115200)"


def build_parser() -> argparse.ArgumentParser:
    """The whole ``smscat`` command tree (public so a test can walk it for missing help)."""
    parser = argparse.ArgumentParser(
        prog="smscat",
        description="Masked SMS consultation relay over GSM/LTE USB modems (短信猫).",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"smscat {importlib.metadata.version('smscat')}",
        help="print the installed version and exit",
    )
    parser.add_argument(
        "--lang",
        choices=LANGS,
        help="language of refusals and of modem scan's advice (default: from LC_ALL,"
        " LC_MESSAGES or LANG; Chinese unless that is English)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from smscat.relay.daemon.admin_cli import add_commands, with_config  # (their commands too)

    with_config(sub.add_parser("run", help="run the relay daemon (modems, database, web)"))
    check = with_config(sub.add_parser("check-config", help="validate a configuration file"))
    check.add_argument(
        "--show",
        action="store_true",
        help="print the effective configuration as JSON on stdout (the summary goes to stderr)",
    )
    check.add_argument(
        "--strict",
        action="store_true",
        help="exit 2 on a warning too (a modem port that does not exist)",
    )
    backup = with_config(
        sub.add_parser("backup", help="copy the database to a new file (safe while running)")
    )
    backup.add_argument(
        "--to",
        type=Path,
        metavar="FILE",
        help="the new file (default: a dated copy in backups.dir, oldest beyond --keep deleted)",
    )
    backup.add_argument(
        "--keep",
        type=int,
        metavar="N",
        help="dated copies kept in backups.dir (default: backups.keep, 14)",
    )
    handoff = with_config(
        sub.add_parser("handoff", help="move every open thread of a leaving expert to a colleague")
    )
    handoff.add_argument(
        "--from",
        dest="from_id",
        required=True,
        metavar="ID",
        help="id of the expert who leaves (experts[].id in config.yaml)",
    )
    handoff.add_argument(
        "--to",
        dest="to_id",
        required=True,
        metavar="ID",
        help="id of the active colleague who takes the open threads",
    )

    sim = sub.add_parser("sim", help="run one simulated GSM modem on a pseudo-terminal")
    sim.add_argument("--link", type=Path, required=True, help="symlink to create for the pty")
    sim.add_argument(
        "--control",
        default="127.0.0.1:0",
        metavar="HOST:PORT",
        help="control API address, loopback only (port 0 picks a free one)",
    )
    sim.add_argument("--port-file", type=Path, help="write the control port number here")
    sim.add_argument(
        "--profile",
        default="generic",
        choices=PROFILES,
        metavar="NAME",
        help=f"fault profile at start (default: generic; one of {', '.join(PROFILES)})",
    )
    sim.add_argument(
        "--send-latency", type=float, default=0.0, metavar="S", help="seconds each AT+CMGS takes"
    )
    sim.add_argument(
        "--report-delay",
        type=float,
        default=1.0,
        metavar="S",
        help="seconds from a submit to its status report (default 1)",
    )
    sim.add_argument("--slots", type=int, default=30, help="SIM message slots (default 30)")
    sim.add_argument(
        "--baud",
        type=int,
        default=None,
        metavar="N",
        help="read the DTE's bytes at this serial line rate (default: as fast as they come)",
    )
    sim.add_argument(
        "--module",
        default="generic",
        choices=MODULES,
        metavar="NAME",
        help=(
            "behave like this real module: its identity, start-up lines and quirks "
            f"(default: generic; one of {', '.join(MODULES)}); overrides --index-base"
        ),
    )
    sim.add_argument(
        "--sms-ready-after",
        type=float,
        default=None,
        metavar="S",
        help="seconds until SMS commands work, for a module with a start-up window (a7670: 5)",
    )
    sim.add_argument(
        "--index-base",
        type=int,
        choices=(0, 1),
        default=1,
        help="first storage index: 1 like SIM800, 0 like EC25",
    )
    modem = sub.add_parser("modem", help="talk to one modem directly (like gammu)")
    tools = modem.add_subparsers(dest="tool", required=True, metavar="TOOL")
    probe = tools.add_parser("probe", help="identity, SIM, signal, operator, registration (JSON)")
    send = tools.add_parser("send", help="send one SMS; prints parts and TP-MRs (JSON)")
    for tool in (probe, send):
        tool.add_argument(
            "--port", required=True, help="/dev/serial/by-id/…, /dev/pts/N, socket://"
        )
        tool.add_argument("--baudrate", type=int, default=115200, help=BAUDRATE_HELP)
    send.add_argument("--to", required=True, help="recipient: +86…, 138 0013 8000, or a short code")
    send.add_argument("--text", required=True, help="the message (long ones go in parts)")
    send.add_argument("--report", action="store_true", help="ask for and wait for status reports")
    send.add_argument(
        "--report-timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds to wait for the status reports (default 60)",
    )
    listen = tools.add_parser("listen", help="print each received SMS as a JSON line")
    listen.add_argument("--port", required=True, help="/dev/serial/by-id/…, /dev/pts/N, socket://")
    listen.add_argument("--baudrate", type=int, default=115200, help=BAUDRATE_HELP)
    listen.add_argument("--seconds", type=float, default=60.0, help="how long to listen")
    listen.add_argument("--keep", action="store_true", help="leave messages on the SIM")
    listen.add_argument(
        "--sweep-every",
        type=float,
        default=30.0,
        metavar="S",
        help="list the SIM again every S seconds (lost notifications)",
    )
    scan = tools.add_parser(
        "scan", help="list serial ports, who holds each, what answers AT; the config snippet"
    )
    scan.add_argument(
        "--port", action="append", default=[], help="scan only this port (repeatable)"
    )
    scan.add_argument("--baudrate", type=int, default=115200, help=BAUDRATE_HELP)
    scan.add_argument(
        "--timeout", type=float, default=2.0, metavar="S", help="seconds per AT command (default 2)"
    )
    scan.add_argument("--json", action="store_true", help="one JSON document instead of text")
    for root in ("dev", "proc", "sys"):  # other roots: a test's fake tree, a chroot
        scan.add_argument(
            f"--{root}", type=Path, default=Path(f"/{root}"), help=f"where /{root} is"
        )
    from smscat.relay.daemon.token_cli import add_commands as add_token_commands

    parser.set_defaults(admin={**add_commands(sub), **add_token_commands(sub)})  # their handlers
    return parser


def _load(path: Path) -> Settings | None:
    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"smscat: {exc}", file=sys.stderr)
        return None


def _check_config(args: argparse.Namespace) -> int:
    settings = _load(args.config)
    if settings is None:
        return EXIT_USAGE
    if args.show:
        from smscat.relay.daemon.config_file import dump_effective

        print(dump_effective(settings))
    warnings = config_warnings(settings)
    for warning in warnings:
        print(f"smscat check-config: warning: {warning}", file=sys.stderr)
    print(
        f"{args.config}: ok ({len(settings.modems)} modem(s), {len(settings.experts)} expert(s),"
        f" database {settings.storage.path})",
        file=sys.stderr if args.show else sys.stdout,  # --show: stdout is the JSON alone
    )
    return EXIT_USAGE if warnings and args.strict else EXIT_OK


def config_warnings(settings: Settings) -> list[str]:
    """What is valid but will not work as it stands: a modem's device path that is not there.

    A warning, not an error: the modem may be plugged in after the check (``--strict`` makes
    it one). ``sim`` and ``socket://`` ports have nothing on this machine to look for.
    """
    return [
        f"modems[{n}].port: {modem.port} does not exist (is the modem plugged in?"
        " ls -l /dev/serial/by-id/ lists the ones that are)"
        for n, modem in enumerate(settings.modems)
        if modem.port.startswith("/") and not os.path.exists(modem.port)
    ]


def _control_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ValueError("--control is HOST:PORT, e.g. 127.0.0.1:0")
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError("--control must be a loopback address (127.0.0.1 or ::1)")
    return host, int(port)


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _run_sim(args: argparse.Namespace, host: str, port: int) -> None:
    from smscat.hwsim.service import SimOptions, running

    options = SimOptions(
        link=args.link.absolute(),
        control_host=host,
        control_port=port,
        profile=args.profile,
        report_delay=args.report_delay,
        send_latency=args.send_latency,
        slots=args.slots,
        index_base=args.index_base,
        baud=args.baud,
        module=args.module,
        sms_ready_after=args.sms_ready_after,
    )
    async with running(options) as sim:
        actual_port = sim.control_url.rsplit(":", 1)[1]
        if args.port_file:
            args.port_file.write_text(actual_port + "\n", encoding="utf-8")
        print(f"READY link={sim.link} control={sim.control_url}", flush=True)
        await _until_signalled()


def _sim(args: argparse.Namespace) -> int:
    try:
        host, port = _control_address(args.control)
    except ValueError as exc:
        print(f"smscat sim: {exc}", file=sys.stderr)
        return EXIT_USAGE
    asyncio.run(_run_sim(args, host, port))
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    settings = _load(args.config)
    if settings is None:
        return EXIT_USAGE
    from smscat.relay.daemon.app import serve
    from smscat.relay.daemon.daemonlock import StartRefused, WebPortInUse
    from smscat.storage.errors import MigrationError

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(settings, stop=_until_signalled))
    except (StartRefused, MigrationError) as exc:  # one line: a database newer than the code
        print(f"smscat run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, ExceptionGroup) as exc:
        # the port taken after the daemon looked (it binds with the simulators running: a group)
        if not _address_in_use(exc):
            raise
        print(f"smscat run: {WebPortInUse(settings.web.host, settings.web.port)}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _address_in_use(exc: BaseException) -> bool:
    """Whether ``exc`` is EADDRINUSE, alone or as everything in an exception group."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_address_in_use(e) for e in exc.exceptions)
    return isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE


def _backup(args: argparse.Namespace) -> int:
    """``--to FILE``: one copy there. Without it: a dated copy in the backup folder, and the
    oldest dated copies beyond ``--keep`` (or ``backups.keep``) deleted: a daily timer's job."""
    settings = _load(args.config)
    if settings is None:
        return EXIT_USAGE
    from datetime import UTC, datetime

    from smscat.storage.db import backup, backup_into

    if args.keep is not None and (args.keep < 1 or args.to is not None):
        print("smscat backup: --keep is a number from 1, without --to", file=sys.stderr)
        return EXIT_USAGE
    source = settings.storage.path
    keep = settings.backups.keep if args.keep is None else args.keep
    try:
        deleted: list[Path] = []
        if args.to is not None:
            backup(source, args.to)
            target = args.to
        else:
            target, deleted = backup_into(
                settings.backup_dir, source, keep=keep, at=datetime.now(UTC)
            )
    except (OSError, sqlite3.Error) as exc:
        print(f"smscat backup: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"smscat backup: {source} → {target}")
    for old in deleted:
        print(f"smscat backup: deleted {old} (keeping the newest {keep})")
    return EXIT_OK


def _handoff(args: argparse.Namespace) -> int:
    settings = _load(args.config)
    if settings is None:
        return EXIT_USAGE
    from smscat.relay.daemon.admin_cli import cli_lang, refusal_in_words
    from smscat.relay.daemon.app import relay_options
    from smscat.relay.services.relay import Relay
    from smscat.storage.db import Database

    async def move() -> int:
        async with Database.open(settings.storage.path) as db:
            relay = Relay(db, relay_options(settings))
            return await relay.experts.handoff(args.from_id, args.to_id, actor="cli")

    try:
        moved = asyncio.run(move())
    except RelayError as exc:
        print(f"smscat handoff: {refusal_in_words(exc, cli_lang(args))}", file=sys.stderr)
        return EXIT_USAGE
    print(f"smscat handoff: {moved} open thread(s) moved from {args.from_id} to {args.to_id}")
    return EXIT_OK


def _modem(args: argparse.Namespace) -> int:
    from smscat.relay.daemon.admin_cli import cli_lang
    from smscat.relay.daemon.modemtool import run_tool

    args.lang = cli_lang(args)  # scan's words
    return run_tool(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        **args.admin,
        "run": _run,
        "check-config": _check_config,
        "sim": _sim,
        "modem": _modem,
        "backup": _backup,
        "handoff": _handoff,
    }
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
