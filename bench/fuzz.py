"""Fuzzing the driver's pure parsers with Hypothesis: the AT parser and the PDU decoders.

Usage: python bench/fuzz.py [--quick] [--table] [--examples N] [--seed S] [--targets a,b]

Each target is a plain function under Hypothesis's ``@given`` (no pytest), run with
``settings(max_examples=N, database=None, deadline=None)``, N = 100,000 (``--quick``: 5,000):

* ``atparser`` — :class:`smscat.modem.atparser.AtParser` fed what a modem could write: raw bytes,
  lines built from the result codes and URC names it knows followed by any Unicode text, lines
  longer than ``MAX_LINE``, any line ends — interleaved with what a session says (``start`` of
  prompting, listing and plain commands, ``sent_body``, ``abandon``, echo on and off). Only the
  documented error may come out (:class:`ParserUsageError`, and only for ``start`` while busy);
  every event is well formed; each :class:`Final` maps to the exception tree; each URC goes
  through what the receiver does with it (``Inbox.notified_index``, the PDU decoder on a
  ``+CMT`` PDU: :class:`PduError` only).
* ``atparser-chunking`` — the same sessions, each write fed whole and cut at arbitrary points:
  the module promises that any chunking gives the same events.
* ``atparser-resync`` — after any of those sessions, the session's resynchronisation
  (``abandon``, echo on, ``ATE1`` and ``AT`` with its echo as the boundary, ``ATE0``) and a
  next command (``AT+CSQ``) must parse exactly, in any chunking.
* ``pdu-arbitrary`` — ``decode``, ``decode_deliver``, ``decode_submit`` and
  ``decode_status_report`` of :mod:`smscat.modem.pdu` on arbitrary octets (as hex) and arbitrary
  strings: a result or :class:`PduError`, nothing else.
* ``pdu-damaged`` — the same decoders on real PDUs (the simulator's SMS-DELIVER parts and
  status reports, the driver's own SMS-SUBMIT parts, texts from tests/support/strategies.py)
  truncated, with octets overwritten and inserted, with an SMSC field or none.

A decoded result must also survive what the driver does with it next (its repr, the status
classification, the text as UTF-8 for a one-part message).

Reported per target: examples run (calls of the function, shrinking included), documented errors
seen, examples set aside (a chunking or resync example whose session raised: that exception is
the ``atparser`` target's finding, not theirs), unhandled exceptions and property violations
(Hypothesis stops a target at its first failure and shrinks it: the minimal example is printed),
seconds. ``--seed`` replays a run. Full run: about 25–30 minutes (one core); ``--quick``: about
1.5 minutes.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import common  # bench/common.py
from hypothesis import HealthCheck, Phase, given, reject, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import UnsatisfiedAssumption
from hypothesis.reporting import with_reporter

from smscat.hwsim import pdu as simpdu
from smscat.modem import pdu
from smscat.modem.atparser import (
    MAX_LINE,
    AtParser,
    Echo,
    Event,
    Final,
    Garbage,
    Info,
    Prompt,
    ResultKind,
    Stale,
    Unsolicited,
)
from smscat.modem.errors import CommandError, EncodeError, ParserUsageError, PduError
from smscat.modem.inbox import Inbox

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))  # tests.support: the test suite's strategies

from tests.support.strategies import (  # noqa: E402
    addresses,
    cjk,
    destinations,
    emoji,
    ext_char,
    gsm_char,
    rare_cjk,
    texts,
    timestamps,
)

BATCH = 10_000  # examples per Hypothesis run (memory grows with the examples of a run)
EVENT_TYPES = (Echo, Info, Final, Prompt, Unsolicited, Garbage, Stale)
OK = Final(ok=True, line="OK", kind=ResultKind.OK)

# -- what a modem writes, what a session says ----------------------------------------------------

# Heads of lines the parser treats specially: every final result form, URCs (with and without
# a line that belongs to them), listing headers, echoes, a PDU.
HEADS = [
    "OK", "ERROR", "+CMS ERROR: ", "+CME ERROR: ", "+EXT ERROR: ", "+CMS ERROR: 5",
    "COMMAND NOT SUPPORT", "CONNECT", "CONNECT ", "NO CARRIER", "BUSY", "NO ANSWER",
    "NO DIALTONE", "> ", ">", "RING", '+CMTI: "SM",', "+CMT: ", "+CMT: ,", '+CMT: "",',
    "+CDS: ", "+CDS: 25", '+CDSI: "SR",', "+CBM: ", "+CREG: ", "+CEREG: 1,", "+CMGL: ",
    '+CMGL: 1,"REC READ",', "+CMGL: 1,0,,", '+CMGR: "REC UNREAD",', "+CMGR: 0,,",
    "+CMGS: ", "+CMGW: ", "+CSQ: ", "^RSSI:", "^BOOT:", "RDY", "SMS Ready", "AT", "AT+CMGS=20",
    "AT+CMGL=4", "ATE0", "00", "0791683108200505F0040D91683106019196F40008",
]  # fmt: skip
ENDS = [b"\r\n", b"\r", b"\n", b"", b"\r\r\n", b"\n\r", b"\r\n\r\n"]
COMMANDS = [
    b"AT", b"ATE0", b"ATE1", b"AT+CMGS=20", b"AT+CMGW=20", b"AT+CMGC=2", b"AT+CMGS=?",
    b"AT+CMGL=4", b'AT+CMGL="ALL"', b"AT+CMGR=3", b"AT+CREG?", b"AT+CSQ", b"AT+CNMI=2,1,0,2,0",
    b"AT+CMGD=1;+CMGL=4",
]  # fmt: skip

# Characters parsers trip on: digits that str.isdigit() takes but int() may not (superscripts,
# circled, other scripts, full width), separators, quotes, control bytes.
TRICKY = "0123456789²³¹①⑴٣१１ ,:;\"'\t\x00\x1a\x1b\x7f\u00a0\u2028\ufeff"
modem_line = st.builds(
    lambda head, tail, end: (head + tail).encode("utf-8", "surrogatepass") + end,
    st.sampled_from(HEADS),
    st.text(st.one_of(st.characters(), st.sampled_from(TRICKY)), max_size=24),
    st.sampled_from(ENDS),
)
long_run = st.builds(
    lambda byte, n, end: bytes([byte]) * n + end,
    st.sampled_from(b"x0> \xff"),
    st.integers(MAX_LINE - 6, MAX_LINE + 6),
    st.sampled_from(ENDS),
)
piece = st.one_of(st.binary(max_size=64), modem_line, modem_line, long_run)
modem_bytes = st.lists(piece, min_size=1, max_size=4).map(b"".join)  # one write, several lines
cuts = st.lists(st.integers(0, MAX_LINE + 16), max_size=6)

# A session step: ("data", bytes, cut points) | ("start", command) | ("body", bytes)
# | ("abandon",) | ("echo", bool).
Op = tuple[Any, ...]
op = st.one_of(
    st.tuples(st.just("data"), modem_bytes, cuts),
    st.tuples(st.just("data"), modem_bytes, cuts),
    st.tuples(st.just("start"), st.one_of(st.sampled_from(COMMANDS), st.binary(max_size=12))),
    st.tuples(st.just("body"), st.one_of(st.just(b"0011000B91\x1a"), st.binary(max_size=24))),
    st.tuples(st.just("abandon")),
    st.tuples(st.just("echo"), st.booleans()),
)
sessions = st.tuples(st.booleans(), st.lists(op, max_size=24))


def chunks(data: bytes, points: Sequence[int]) -> list[bytes]:
    """``data`` cut at ``points`` (out-of-range points are ignored)."""
    edges = sorted({p for p in points if 0 < p < len(data)})
    return [data[a:b] for a, b in zip([0, *edges], [*edges, len(data)], strict=True)]


class Violation(AssertionError):
    """A property of the target does not hold (as opposed to an unhandled exception)."""


def check(condition: bool, what: str) -> None:
    if not condition:
        raise Violation(what)


@dataclass
class Tally:
    calls: int = 0
    set_aside: int = 0
    documented: Counter[str] = field(default_factory=Counter)


def check_event(event: Event, command: str, tally: Tally) -> None:
    """What the session does with an event must hold for any event the parser gives."""
    check(isinstance(event, EVENT_TYPES), f"not an event: {event!r}")
    if isinstance(event, Garbage):
        check(0 < len(event.data) <= MAX_LINE, f"Garbage of {len(event.data)} bytes")
    elif isinstance(event, Echo | Info | Stale | Unsolicited | Final):
        check(bool(event.line) and not set(event.line) & {"\r", "\n"}, f"line {event.line!r}")
    if isinstance(event, Final):
        error = event.error(command)
        check((error is None) == event.ok, f"{event!r}.error() gave {error!r}")
        check(error is None or isinstance(error, CommandError), f"error() gave {error!r}")
    if isinstance(event, Unsolicited):
        index = Inbox.notified_index(event)
        check(index is None or index >= 0, f"+CMTI index {index!r}")
        if event.pdu is not None:
            try:
                check_decoded(pdu.decode(event.pdu))
            except PduError:
                tally.documented["PduError (URC PDU)"] += 1


def play(
    parser: AtParser,
    ops: Sequence[Op],
    tally: Tally,
    *,
    whole: bool = False,
) -> list[Event]:
    """Run one session's steps on ``parser``; every event it gives is checked and returned."""
    events: list[Event] = []
    command = "AT"
    for step in ops:
        kind = step[0]
        if kind == "data":
            for chunk in [step[1]] if whole else chunks(step[1], step[2]):
                parser.receive_data(chunk)
                while (event := parser.next_event()) is not None:
                    check_event(event, command, tally)
                    events.append(event)
        elif kind == "start":
            busy = parser.busy
            try:
                parser.start(step[1])
            except ParserUsageError:
                tally.documented["ParserUsageError"] += 1
                check(busy, "start() refused with no command in flight")
            else:
                check(not busy, "start() accepted while a command was in flight")
                command = step[1].decode("latin-1")
        elif kind == "body":
            parser.sent_body(step[1])
        elif kind == "abandon":
            parser.abandon()
        else:
            parser.echo = step[1]
    return events


def atparser_target(tally: Tally) -> Callable[..., None]:
    @given(session=sessions)
    def atparser(session: tuple[bool, list[Op]]) -> None:
        tally.calls += 1
        echo, ops = session
        play(AtParser(echo=echo), ops, tally)

    return atparser


def _played(
    echo: bool, ops: Sequence[Op], tally: Tally, whole: bool
) -> tuple[AtParser, list[Event]]:
    """``play`` for the targets whose subject is not raising: an exception sets it aside."""
    parser = AtParser(echo=echo)
    try:
        return parser, play(parser, ops, tally, whole=whole)
    except Violation:
        raise
    except Exception:
        tally.set_aside += 1
        reject()  # the atparser target reports it


def chunking_target(tally: Tally) -> Callable[..., None]:
    @given(session=sessions)
    def atparser_chunking(session: tuple[bool, list[Op]]) -> None:
        tally.calls += 1
        echo, ops = session
        _, whole = _played(echo, ops, tally, whole=True)
        _, cut = _played(echo, ops, tally, whole=False)
        check(cut == whole, f"chunked {cut!r} != whole {whole!r}")

    return atparser_chunking


ATE1_ANSWERS = [b"\r\nOK\r\n", b"ATE1\r\r\nOK\r\n", b"\x1bATE1\r\r\nOK\r\n", b"\r\nERROR\r\n"]
# (command, echo on, what the modem answers, the events it must give)
RESYNC = [
    (b"AT", True, b"AT\r\r\nOK\r\n", [Echo("AT"), OK]),
    (b"ATE0", True, b"ATE0\r\r\nOK\r\n", [Echo("ATE0"), OK]),
    (b"AT+CSQ", False, b"\r\n+CSQ: 21,99\r\n\r\nOK\r\n", [Info("+CSQ: 21,99"), OK]),
]


def _answer(
    parser: AtParser, data: bytes, points: Sequence[int], command: str, tally: Tally
) -> list[Event]:
    got = []
    for chunk in chunks(data, points):
        parser.receive_data(chunk)
        while (event := parser.next_event()) is not None:
            check_event(event, command, tally)
            got.append(event)
    return got


def resync_target(tally: Tally) -> Callable[..., None]:
    @given(
        session=sessions,
        ate1=st.sampled_from(ATE1_ANSWERS),
        splits=st.lists(st.lists(st.integers(0, 24), max_size=4), min_size=4, max_size=4),
    )
    def atparser_resync(
        session: tuple[bool, list[Op]], ate1: bytes, splits: list[list[int]]
    ) -> None:
        tally.calls += 1
        echo, ops = session
        parser, _ = _played(echo, ops, tally, whole=False)
        # AtSession._resynchronise: abandon, echo on, then ESC + ATE1 written outside start()
        parser.abandon()
        parser.echo = True
        _answer(parser, ate1, splits[0], "ATE1", tally)
        for (command, echo_on, answer, want), points in zip(RESYNC, splits[1:], strict=True):
            parser.echo = echo_on
            parser.start(command)
            got = _answer(parser, answer, points, command.decode(), tally)
            if command == b"AT":  # before its echo (the boundary): old lines stale, URCs URCs
                got = [e for e in got if not isinstance(e, Stale | Garbage | Unsolicited)]
            check(got == want, f"{command.decode()}: got {got!r}, want {want!r}")
            check(not parser.busy, f"{command.decode()}: still busy after its final result")

    return atparser_resync


# -- PDUs -------------------------------------------------------------------------------------

DECODERS: dict[str, Callable[[str], Any]] = {
    "decode": pdu.decode,
    "decode_deliver": pdu.decode_deliver,
    "decode_submit": pdu.decode_submit,
    "decode_status_report": pdu.decode_status_report,
}


def check_decoded(result: Any) -> None:
    """What the driver does next with a decoded PDU."""
    repr(result)
    if isinstance(result, pdu.StatusReport):
        check(
            [result.delivered, result.pending, result.permanent_failure].count(True) == 1,
            f"status {result.status:#x} is not exactly one of delivered/pending/failed",
        )
    elif isinstance(result, pdu.Deliver | pdu.Submit):
        check(isinstance(result.text, str), "text is not a str")
        if result.concat is None:
            result.text.encode("utf-8")  # one-part texts are stored as they are
        else:
            pdu.join_texts([result.text])


def decode_all(pdu_hex: str, tally: Tally) -> None:
    for name, decoder in DECODERS.items():
        try:
            result = decoder(pdu_hex)
        except PduError:
            tally.documented[f"PduError ({name})"] += 1
        else:
            check_decoded(result)


hex_text = st.one_of(
    st.binary(max_size=200).map(bytes.hex),
    st.binary(max_size=200).map(lambda b: b.hex().upper()),
    st.text(max_size=80),
    st.text("0123456789ABCDEFabcdef \r\n", max_size=120),
)


def pdu_arbitrary_target(tally: Tally) -> Callable[..., None]:
    @given(pdu_hex=hex_text)
    def pdu_arbitrary(pdu_hex: str) -> None:
        tally.calls += 1
        decode_all(pdu_hex, tally)

    return pdu_arbitrary


message_text = st.one_of(
    texts(st.one_of(gsm_char, ext_char)),
    texts(cjk),
    texts(st.one_of(cjk, emoji, rare_cjk, gsm_char, ext_char)),
)


def _deliver(oa: str, text: str, when: datetime, ref: int, pick: int) -> bytes:
    parts = simpdu.deliver_parts(oa, text, when, ref)
    return parts[pick % len(parts)]


delivers = st.builds(
    _deliver,
    addresses,
    message_text,
    timestamps,
    st.integers(0, 0xFF),
    st.integers(0, 255),
)
reports = st.builds(
    simpdu.encode_status_report,
    st.integers(0, 0xFF),
    addresses,
    timestamps,
    timestamps,
    st.integers(0, 0xFF),
)


def _submit(to: str, text: str, ref: int, report: bool, pick: int) -> bytes:
    try:
        parts = pdu.plan_submit(to, text, ref=ref, report=report)
    except EncodeError:
        reject()
    return bytes.fromhex(parts[pick % len(parts)].pdu_hex)[1:]  # without its empty SMSC field


submits = st.builds(
    _submit, destinations, message_text, st.integers(0, 0xFFFF), st.booleans(), st.integers(0, 255)
)
smsc_fields = st.one_of(
    st.just(b"\x00"),
    st.sampled_from(["+8613800100500", "+447785016005", "10086"]).map(simpdu.encode_smsc),
    st.binary(min_size=1, max_size=13),
)
damage = st.lists(
    st.one_of(
        st.tuples(st.just("set"), st.integers(0, 400), st.integers(0, 255)),
        st.tuples(st.just("insert"), st.integers(0, 400), st.binary(min_size=1, max_size=4)),
        st.tuples(st.just("delete"), st.integers(0, 400), st.integers(1, 4)),
    ),
    max_size=4,
)


def pdu_damaged_target(tally: Tally) -> Callable[..., None]:
    @given(
        smsc=smsc_fields,
        tpdu=st.one_of(delivers, reports, submits),
        damage=damage,
        cut=st.none() | st.integers(0, 400),
        upper=st.booleans(),
    )
    def pdu_damaged(
        smsc: bytes, tpdu: bytes, damage: list[tuple[Any, ...]], cut: int | None, upper: bool
    ) -> None:
        tally.calls += 1
        data = bytearray(smsc + tpdu)
        for kind, pos, value in damage:
            if kind == "set" and pos < len(data):
                data[pos] = value
            elif kind == "insert":
                data[pos:pos] = value
            elif kind == "delete":
                del data[pos : pos + value]
        if cut is not None:
            del data[cut:]
        text = bytes(data).hex()
        decode_all(text.upper() if upper else text, tally)

    return pdu_damaged


TARGETS: dict[str, Callable[[Tally], Callable[..., None]]] = {
    "atparser": atparser_target,
    "atparser-chunking": chunking_target,
    "atparser-resync": resync_target,
    "pdu-arbitrary": pdu_arbitrary_target,
    "pdu-damaged": pdu_damaged_target,
}


# -- running ------------------------------------------------------------------------------------


def describe(exc: BaseException) -> dict[str, Any]:
    """The failure as the report shows it: kind, exception, where, the minimal example."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/smscat/" in f.filename or f"{REPO}/" in f.filename]
    where = ours[-1] if ours else (frames[-1] if frames else None)
    notes = [n for n in getattr(exc, "__notes__", []) if n.strip()]
    return {
        "kind": "property violated" if isinstance(exc, Violation) else "unhandled exception",
        "exception": f"{type(exc).__name__}: {exc}"[:2000],
        "where": f"{Path(where.filename).name}:{where.lineno} in {where.name}" if where else None,
        "example": "\n".join(notes)[:4000],
    }


def run_target(name: str, examples: int, run_seed: int) -> dict[str, Any]:
    """``examples`` examples in batches of at most :data:`BATCH` (each with its own seed, the
    run's plus the batch's number): Hypothesis keeps every example's choices of a run in memory,
    so one run of 100,000 would hold about 2 GB (570 MB after 30,000 here). Stops at the first
    failure."""
    tally = Tally()
    reports: list[object] = []
    failure = None
    started = time.perf_counter()
    batches = math.ceil(examples / BATCH)
    for batch in range(batches):
        size = min(BATCH, examples - batch * BATCH)
        bounded = settings(
            max_examples=size,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
        )
        test = TARGETS[name](tally)  # a fresh function: settings apply once to each
        try:
            with with_reporter(reports.append):  # keep stdout for the one JSON object
                seed(run_seed + batch)(bounded(test))()
        except (Exception, UnsatisfiedAssumption) as exc:
            failure = describe(exc)
            failure["batch_seed"] = run_seed + batch
            break
        if batches > 1:
            common.note(f"  {name}: batch {batch + 1}/{batches}, {tally.calls:,} examples so far")
    seconds = time.perf_counter() - started
    return {
        "examples": tally.calls,
        "set_aside": tally.set_aside,
        "documented_errors": dict(tally.documented.most_common()),
        "unhandled_exceptions": int(failure is not None and failure["kind"] != "property violated"),
        "property_violations": int(failure is not None and failure["kind"] == "property violated"),
        "failure": failure,
        "seconds": round(seconds, 1),
        "examples_per_s": round(tally.calls / seconds) if seconds else None,
    }


async def run(args: argparse.Namespace) -> None:
    examples = args.examples or (5_000 if args.quick else 100_000)
    names = args.targets.split(",") if args.targets else list(TARGETS)
    unknown = set(names) - set(TARGETS)
    if unknown:
        raise SystemExit(f"unknown targets {sorted(unknown)}; known: {', '.join(TARGETS)}")
    run_seed = args.seed if args.seed is not None else random.randrange(2**32)
    common.note(f"seed {run_seed} (--seed {run_seed} replays it); {examples:,} examples a target")
    started = datetime.now()
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        common.note(f"{name} …")
        results[name] = run_target(name, examples, run_seed)
        r = results[name]
        common.note(
            f"{name}: {r['examples']:,} examples in {r['seconds']} s"
            + (f" — {r['failure']['kind']}: {r['failure']['exception']}" if r["failure"] else "")
        )
    result = {
        "seed": run_seed,
        "examples_per_target": examples,
        "targets": results,
        "unhandled_exceptions": sum(r["unhandled_exceptions"] for r in results.values()),
        "property_violations": sum(r["property_violations"] for r in results.values()),
        "wall_s": round((datetime.now() - started).total_seconds(), 1),
    }
    result["goal_met"] = {
        "no_unhandled_exception": result["unhandled_exceptions"] == 0,
        "no_property_violation": result["property_violations"] == 0,
    }
    rows = [
        (
            name,
            r["examples"],
            sum(r["documented_errors"].values()),
            r["set_aside"],
            r["unhandled_exceptions"],
            r["property_violations"],
            r["seconds"],
        )
        for name, r in results.items()
    ]
    notes = [
        f"**{name}** — {r['failure']['kind']}: `{r['failure']['exception'][:300]}` at "
        f"{r['failure']['where']}\n\n```\n{r['failure']['example']}\n```"
        for name, r in results.items()
        if r["failure"]
    ]
    common.emit(
        args,
        result,
        title="fuzzing the AT parser and the PDU decoders",
        n=f"{examples:,} examples a target, seed {run_seed}",
        columns=(
            "target",
            "examples",
            "documented errors",
            "set aside",
            "unhandled",
            "violations",
            "s",
        ),
        rows=rows,
        notes=notes,
    )


def main() -> None:
    p = common.parser(__doc__)
    p.add_argument("--examples", type=int, help="examples a target (100,000; --quick 5,000)")
    p.add_argument("--seed", type=int, help="replay a run (the seed is printed)")
    p.add_argument("--targets", help=f"comma-separated, of: {', '.join(TARGETS)}")
    common.main(run, p.parse_args())


if __name__ == "__main__":
    main()
