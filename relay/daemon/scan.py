"""``smscat modem scan``: every serial port, who holds it, what answers AT, and what to fix.

Outer ring. The host facts come from :mod:`scanhost` (``/dev``, ``/proc``, ``/sys``, roots
given); the probe uses the driver (``AtSession`` and ``Modem.probe`` as ``smscat modem probe``
does) with a short timeout per port, and only reads: it sets nothing on the modem but numeric
errors (``AT+CMEE=1``). Each problem found comes with the words that fix it (``words.py``), and
the ``modems:`` snippet for config.yaml is built from the ports that answered. It never prints
a number other than the modem's own (IMEI, SMS centre).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smscat.modem.device import Modem
from smscat.modem.errors import CmsError, CommandError, ModemError, ModemTimeout, TransportError
from smscat.modem.quirks import lookup
from smscat.modem.session import AtSession, SessionSettings
from smscat.relay.daemon.scanhost import Port, UsbHint, holders, list_ports, usb_hints
from smscat.relay.daemon.words import say

NO_SMSC = 330  # 27.005 §3.2.5 <err> 330: SMSC address unknown
_CSCA = re.compile(r'\+CSCA:\s*"([^"]*)"')
_CGSMS = re.compile(r"\+CGSMS:\s*(\d+)")
_CIREG = re.compile(r"\+CIREG:\s*\d+,\s*(\d+)")
# 27.007 §10.1.20 +CGSMS <service>
BEARERS = {0: "packet", 1: "circuit", 2: "packet preferred", 3: "circuit preferred"}
# Where a module says which port carries its URCs, as (command, answer pattern) rows: data, not
# a branch on the maker. Quectel: AT+QURCCFG="urcport" → +QURCCFG: "urcport","usbat"
# (Quectel general commands, CursedHardware/at-manual content/docs/quectel/general-commands.md).
URC_PORT_QUERIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ('AT+QURCCFG="urcport"', re.compile(r'\+QURCCFG:\s*"urcport",\s*"([^"]+)"')),
)
AT_URC_PORT = "usbat"  # the USB AT port: the one smscat talks to


@dataclass(slots=True)
class PortReport:
    """One port: its host facts, what it answered, and the problems with their fixes."""

    port: str
    device: str
    group: str | None = None
    interface: str | None = None
    holders: list[str] = field(default_factory=list)
    answers: bool | None = None  # None: not probed (held, or could not be opened)
    health: dict[str, object] | None = None
    smsc: str | None = None
    no_smsc: bool = False
    bearer: str | None = None
    ims: bool | None = None
    urc_port: str | None = None
    urc_moved: bool = False  # smscat's start-up sends them to the AT port (a quirk)
    open_error: str | None = None
    problems: list[str] = field(default_factory=list)  # keys: held, silent, unopenable, no_smsc…


@dataclass(slots=True)
class ScanReport:
    ports: list[PortReport]
    usb: list[UsbHint]
    snippet: str | None


async def probe_port(port: Port, *, timeout: float, baudrate: int) -> PortReport:
    """Open ``port`` and read what the modem tells; never raises for the modem's failures."""
    report = PortReport(port.path, port.device, port.group, port.interface)
    settings = SessionSettings(command_timeout=timeout, busy_retries=0)
    try:
        async with AtSession.open(port.path, settings, baudrate=baudrate) as session:
            try:
                await session.command("AT+CMEE=1")
            except CommandError:
                pass  # it answered: numeric errors are a nicety
            except ModemTimeout:
                report.answers = False
                report.problems.append("silent")
                return report
            report.answers = True
            await _read_modem(session, report)
    except TransportError as exc:
        if report.answers is None:
            report.open_error = str(exc.__cause__ or exc)
            report.problems.append("unopenable")
    return report


async def _read_modem(session: AtSession, report: PortReport) -> None:
    """Identity and health (as ``modem probe``), then the SMS centre, bearer, IMS, URC port."""
    try:
        health = await Modem(session).probe()
    except TransportError:
        raise
    except ModemError:
        return  # it answered AT and then stopped: what was read stands
    report.health = health.as_json()
    if health.sim != "READY":
        report.problems.append("sim")
    lines = await _ask(session, "AT+CSCA?")
    if lines is None:
        pass  # unsupported: the module does not tell
    elif isinstance(lines, CmsError):
        report.no_smsc = lines.code == NO_SMSC
    elif match := _CSCA.search(" ".join(lines)):
        report.smsc = _ucs2_number(match[1]) or None
        report.no_smsc = report.smsc is None
    if report.no_smsc:
        report.problems.append("no_smsc")
    if match := await _found(session, "AT+CGSMS?", _CGSMS):
        report.bearer = BEARERS.get(int(match[1]), match[1])
    if match := await _found(session, "AT+CIREG?", _CIREG):
        report.ims = match[1] == "1"
    for command, pattern in URC_PORT_QUERIES:
        if match := await _found(session, command, pattern):
            report.urc_port = match[1]
            if report.urc_port.lower() != AT_URC_PORT:
                # the driver moves them at start where its model table says how
                quirks = lookup(health.manufacturer, health.model)
                report.urc_moved = quirks.urc_port_command is not None
                if not report.urc_moved:
                    report.problems.append("urc_elsewhere")
            break


async def _found(
    session: AtSession, command: str, pattern: re.Pattern[str]
) -> re.Match[str] | None:
    """``pattern`` in the answer to ``command``; None where the module does not tell."""
    lines = await _ask(session, command)
    return pattern.search(" ".join(lines)) if isinstance(lines, list) else None


async def _ask(session: AtSession, command: str) -> list[str] | CmsError | None:
    """The answer's lines, the +CMS error, or None where the module does not answer it."""
    try:
        return await session.command(command)
    except CmsError as exc:
        return exc
    except (CommandError, ModemTimeout):
        return None


def _ucs2_number(text: str) -> str:
    """The SMS centre as digits, also where the charset is UCS2 ("002B0038…")."""
    if len(text) >= 8 and len(text) % 4 == 0 and re.fullmatch(r"(00[0-9A-Fa-f]{2})+", text):
        decoded = "".join(chr(int(text[i : i + 4], 16)) for i in range(0, len(text), 4))
        if re.fullmatch(r"\+?\d+", decoded):
            return decoded
    return text.strip()


async def scan(
    *,
    dev: Path,
    proc: Path,
    sys_root: Path,
    wanted: list[str] | None,
    timeout: float,
    baudrate: int,
) -> ScanReport:
    """Every port: its holders from /proc; the free ones probed, one at a time."""
    reports: list[PortReport] = []
    for port in list_ports(dev, wanted):
        held = holders(proc, port.device)
        if held:
            report = PortReport(port.path, port.device, port.group, port.interface)
            report.holders = [str(h) for h in held]
            report.problems.append("held")
        else:
            report = await probe_port(port, timeout=timeout, baudrate=baudrate)
        reports.append(report)
    return ScanReport(reports, usb_hints(sys_root), snippet(reports))


def snippet(reports: list[PortReport]) -> str | None:
    """The ``modems:`` block for config.yaml: one entry per device, its first AT interface.

    The module's quirks come from the model table at start; the comment says which model it
    is, so that an override (``quirks:``) can be added knowingly.
    """
    lines = ["modems:"]
    taken: set[str] = set()
    number = 0
    for report in reports:
        if not report.answers or report.health is None:
            continue
        if report.group is not None:
            if report.group in taken:
                continue  # one entry per device: its other interfaces are the same modem
            taken.add(report.group)
        h = report.health
        number += 1  # modem1, modem2… in the order scanned
        lines.append(f"  # {h['manufacturer']} {h['model']} ({h['revision']})")
        lines.append(f"  - id: modem{number}")
        lines.append(f"    port: {json.dumps(report.port)}")
        if report.no_smsc:
            lines.append('    # smsc: "+86…"   # the SIM has no SMS centre: set it here')
    return "\n".join(lines) + "\n" if len(lines) > 1 else None


def as_json(result: ScanReport) -> dict[str, Any]:
    return {
        "ports": [asdict(p) for p in result.ports],
        "usb": [asdict(u) for u in result.usb],
        "snippet": result.snippet,
    }


def render(result: ScanReport, language: str, dev: Path) -> str:
    """The human text: one block per port, fixes marked with "!", then the snippet."""
    out: list[str] = []
    if not result.ports:
        out.append(say(language, "scan.none", dev=dev))
    by_group: dict[str, list[PortReport]] = {}
    for report in result.ports:
        if report.group is not None:
            by_group.setdefault(report.group, []).append(report)
    for report in result.ports:
        out.extend(_render_port(report, language, by_group.get(report.group or "", [])))
    for hint in result.usb:
        key = "fix.hilink" if hint.kind == "hilink" else "fix.mass_storage"
        text = say(
            language,
            key,
            usb=f"{hint.vendor}:{hint.product_id}",
            product=hint.product,
            vendor=hint.vendor,
            product_id=hint.product_id,
            drivers=", ".join(hint.drivers) or "?",
        )
        out.append(say(language, "scan.fix", text=text))
    out.append("")
    if result.snippet is None:
        out.append(say(language, "scan.no_snippet"))
    else:
        out.append(say(language, "scan.snippet"))
        out.append(result.snippet.rstrip("\n"))
    return "\n".join(out) + "\n"


def _render_port(report: PortReport, language: str, siblings: list[PortReport]) -> list[str]:
    def value(text: object) -> str:
        return say(language, "scan.not_told") if text is None else str(text)

    out = [say(language, "scan.port", port=report.port)]
    if report.device != report.port:
        out.append(say(language, "scan.device", device=report.device))
    if report.holders:
        out.append(say(language, "scan.held", holders=", ".join(report.holders)))
    h = report.health
    if h is not None:
        out.append(
            say(
                language,
                "scan.modem",
                manufacturer=h["manufacturer"],
                model=h["model"],
                revision=h["revision"],
                imei=h["imei"],
            )
        )
        out.append(
            say(
                language,
                "scan.sim",
                sim=h["sim"],
                registration=h["registration"],
                operator=value(h["operator"]),
            )
        )
        dbm = h["signal_dbm"]
        signal = f"{dbm} dBm (CSQ {h['csq']})" if dbm is not None else say(language, "scan.unknown")
        out.append(say(language, "scan.signal", signal=signal))
        smsc = say(language, "scan.none_value") if report.no_smsc else value(report.smsc)
        out.append(say(language, "scan.smsc", smsc=smsc))
        out.append(say(language, "scan.bearer", bearer=value(report.bearer)))
        ims = None
        if report.ims is not None:
            ims = say(language, "scan.ims.registered" if report.ims else "scan.ims.not_registered")
        out.append(say(language, "scan.ims", ims=value(ims)))
        urc = say(language, "scan.urc.same")
        if report.urc_port is not None:
            key = "scan.urc.moved" if report.urc_moved else "scan.urc.named"
            urc = say(language, key, where=report.urc_port)
        out.append(say(language, "scan.urc_port", urc=urc))
        if len(siblings) > 1:
            answering = [s.interface or s.port for s in siblings if s.answers]
            silent = [s.interface or s.port for s in siblings if s.answers is False]
            none = say(language, "scan.none_value")
            out.append(
                say(
                    language,
                    "scan.interfaces",
                    answering=", ".join(answering) or none,
                    silent=", ".join(silent) or none,
                )
            )
    for problem in report.problems:
        fields: dict[str, object] = {
            "holders": ", ".join(report.holders),
            "reason": report.open_error or "?",
            "sim": (h["sim"] if h is not None else "") or "?",
            "where": report.urc_port or "?",
        }
        out.append(say(language, "scan.fix", text=say(language, f"fix.{problem}", **fields)))
    return out


def run_scan(args: argparse.Namespace) -> int:
    """``smscat modem scan``: 0 when it ran (problems are in the report), 2 for a bad option."""
    if args.timeout <= 0:
        print("smscat modem scan: --timeout must be more than 0", file=sys.stderr)
        return 2
    result = asyncio.run(
        scan(
            dev=args.dev,
            proc=args.proc,
            sys_root=args.sys,
            wanted=args.port or None,
            timeout=args.timeout,
            baudrate=args.baudrate,
        )
    )
    with contextlib.suppress(BrokenPipeError):
        if args.json:
            print(json.dumps(as_json(result), ensure_ascii=False), flush=True)
        else:
            print(render(result, args.lang, args.dev), end="", flush=True)
    return 0
