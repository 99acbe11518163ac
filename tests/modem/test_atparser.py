"""The AT response parser, fed bytes every way: whole, byte by byte, in random chunks, with
garbage around them, and as real captured transcripts (tests/modem/corpus, see its README)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
from smscat.modem.errors import CmeError, CmsError, CommandError, NotSupported, ParserUsageError
from tests.report import report

CORPUS = Path(__file__).parent / "corpus"
PDU = "07911326040000F0040B911346610089F60000208062917314080CC8329BFD06"
OK = Final(ok=True, line="OK", kind=ResultKind.OK)


# -- scenarios: what the session says, what the modem writes, what must come out -------------


@dataclass(frozen=True)
class Step:
    start: bytes | None = None
    data: bytes = b""
    body: bytes | None = None
    abandon: bool = False


@dataclass(frozen=True)
class Scenario:
    steps: tuple[Step, ...]
    expected: tuple[Event, ...]
    echo: bool = True
    garbage_safe: bool = True


def start(command: bytes) -> Step:
    return Step(start=command)


def data(raw: bytes) -> Step:
    return Step(data=raw)


def run(scenario: Scenario, split: list[list[int]] | None = None) -> list[Event]:
    """Play the scenario; ``split[i]`` are the cut points of the i-th data step."""
    parser = AtParser(echo=scenario.echo)
    events: list[Event] = []
    data_steps = 0
    for step in scenario.steps:
        if step.abandon:
            parser.abandon()
        if step.start is not None:
            parser.start(step.start)
        if step.body is not None:
            parser.sent_body(step.body)
        if step.data:
            cuts = sorted(set(split[data_steps])) if split else []
            data_steps += 1
            for lo, hi in zip([0, *cuts], [*cuts, len(step.data)], strict=True):
                parser.receive_data(step.data[lo:hi])
                while (event := parser.next_event()) is not None:
                    events.append(event)
    return events


URC_CASES: dict[str, tuple[bytes, Unsolicited]] = {
    "cmti": (b'+CMTI: "SM",3', Unsolicited("+CMTI", '+CMTI: "SM",3')),
    "cmt-pdu": (
        b"+CMT: ,31\r\n" + PDU.encode(),
        Unsolicited("+CMT", "+CMT: ,31", PDU),
    ),
    "cmt-text": (
        b'+CMT: "+8613800138000",,"24/05/01,10:00:00+32"\r\nOK see you',
        Unsolicited("+CMT", '+CMT: "+8613800138000",,"24/05/01,10:00:00+32"', "OK see you"),
    ),
    "cds-pdu": (b"+CDS: 25\r\n" + PDU.encode(), Unsolicited("+CDS", "+CDS: 25", PDU)),
    "cds-text": (
        b'+CDS: 6,12,"+8613800138000",145,"24/05/01,10:00:00+32","24/05/01,10:00:05+32",0',
        Unsolicited(
            "+CDS",
            '+CDS: 6,12,"+8613800138000",145,"24/05/01,10:00:00+32","24/05/01,10:00:05+32",0',
        ),
    ),
    "cdsi": (b'+CDSI: "SR",2', Unsolicited("+CDSI", '+CDSI: "SR",2')),
    "ring": (b"RING", Unsolicited("RING", "RING")),
    "rdy": (b"RDY", Unsolicited("RDY", "RDY")),
    "cpin": (b"+CPIN: READY", Unsolicited("+CPIN", "+CPIN: READY")),
    "sms-ready": (b"SMS Ready", Unsolicited("SMS Ready", "SMS Ready")),
    "cfun": (b"+CFUN: 1", Unsolicited("+CFUN", "+CFUN: 1")),
    "rssi": (b"^RSSI:20", Unsolicited("^RSSI", "^RSSI:20")),
    "boot": (b"^BOOT:20952548,0,0,0,72", Unsolicited("^BOOT", "^BOOT:20952548,0,0,0,72")),
    "sysinfo": (b"^SYSINFO:2,3,0,5,1,,4", Unsolicited("^SYSINFO", "^SYSINFO:2,3,0,5,1,,4")),
    "dsflowrpt": (b"^DSFLOWRPT:0000,0,0", Unsolicited("^DSFLOWRPT", "^DSFLOWRPT:0000,0,0")),
    "zdonr": (b'+ZDONR: "CMCC",460,0', Unsolicited("+ZDONR", '+ZDONR: "CMCC",460,0')),
    "creg": (b"+CREG: 1", Unsolicited("+CREG", "+CREG: 1")),
    "cereg": (b"+CEREG: 5", Unsolicited("+CEREG", "+CEREG: 5")),
    "qind": (b'+QIND: "smsfull","SM"', Unsolicited("+QIND", '+QIND: "smsfull","SM"')),
    "cusd": (b'+CUSD: 0,"balance",15', Unsolicited("+CUSD", '+CUSD: 0,"balance",15')),
    "clip": (b'+CLIP: "+8613800138000",145', Unsolicited("+CLIP", '+CLIP: "+8613800138000",145')),
}


def _scenarios() -> dict[str, Scenario]:
    csq = (Echo("AT+CSQ"), Info("+CSQ: 20,99"), OK)
    out = {
        "echo-on": Scenario(
            (start(b"AT+CSQ"), data(b"AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n")), csq
        ),
        "echo-off": Scenario(
            (start(b"AT+CSQ"), data(b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n")), csq[1:], echo=False
        ),
        "lone-cr-and-lf": Scenario((start(b"AT+CSQ"), data(b"AT+CSQ\r+CSQ: 20,99\n\nOK\r")), csq),
        "burst-of-10-cmti": Scenario(
            (data(b"".join(b'\r\n+CMTI: "SM",%d\r\n' % i for i in range(10))),),
            tuple(Unsolicited("+CMTI", f'+CMTI: "SM",{i}') for i in range(10)),
        ),
        "cmgr-text-body-ok": Scenario(
            (
                start(b"AT+CMGR=1"),
                data(b'\r\n+CMGR: "REC UNREAD","+8613800138000",,"24/05/01,10:00:00+32"\r\n'),
                data(b"OK\r\n\r\nOK\r\n"),
            ),
            (
                Info('+CMGR: "REC UNREAD","+8613800138000",,"24/05/01,10:00:00+32"'),
                Info("OK"),
                OK,
            ),
            echo=False,
            garbage_safe=True,
        ),
        "cmgl-text-bodies-error-and-ok": Scenario(
            (
                start(b'AT+CMGL="ALL"'),
                data(
                    b'AT+CMGL="ALL"\r\r\n'
                    b'+CMGL: 1,"REC READ","+8613800138000",,"24/05/01,10:00:00+32"\r\nERROR\r\n'
                    b'+CMGL: 2,"REC READ",6,12,"+8613800138000",145,"24/05/01,10:00:00+32",'
                    b'"24/05/01,10:00:05+32",0\r\n'
                    b'+CMGL: 3,"STO UNSENT","+8613800138000",\r\nOK\r\n\r\nOK\r\n'
                ),
            ),
            (
                Echo('AT+CMGL="ALL"'),
                Info('+CMGL: 1,"REC READ","+8613800138000",,"24/05/01,10:00:00+32"'),
                Info("ERROR"),
                Info(
                    '+CMGL: 2,"REC READ",6,12,"+8613800138000",145,"24/05/01,10:00:00+32",'
                    '"24/05/01,10:00:05+32",0'
                ),
                Info('+CMGL: 3,"STO UNSENT","+8613800138000",'),
                Info("OK"),
                OK,
            ),
        ),
        "cmgl-pdu": Scenario(
            (
                start(b"AT+CMGL=4"),
                data(
                    b"AT+CMGL=4\r\r\n+CMGL: 1,1,,31\r\n" + PDU.encode() + b"\r\n"
                    b"+CMGL: 2,1,,31\r\n" + PDU.encode() + b"\r\n\r\nOK\r\n"
                ),
            ),
            (
                Echo("AT+CMGL=4"),
                Info("+CMGL: 1,1,,31"),
                Info(PDU),
                Info("+CMGL: 2,1,,31"),
                Info(PDU),
                OK,
            ),
        ),
        "cme-numeric": Scenario(
            (start(b"AT+CPIN?"), data(b"\r\n+CME ERROR: 14\r\n")),
            (Final(False, "+CME ERROR: 14", ResultKind.CME, 14),),
            echo=False,
        ),
        "cme-text": Scenario(
            (start(b"AT+CPIN?"), data(b"\r\n+CME ERROR: SIM busy\r\n")),
            (Final(False, "+CME ERROR: SIM busy", ResultKind.CME, 14),),
            echo=False,
        ),
        "cms-numeric": Scenario(
            (start(b"AT+CMGD=1"), data(b"AT+CMGD=1\r\r\n+CMS ERROR: 321\r\n")),
            (Echo("AT+CMGD=1"), Final(False, "+CMS ERROR: 321", ResultKind.CMS, 321)),
        ),
        "cms-text-unknown": Scenario(
            (start(b"AT+CMGS=20"), data(b"\r\n+CMS ERROR: Unknown error\r\n")),
            (Final(False, "+CMS ERROR: Unknown error", ResultKind.CMS, 500),),
            echo=False,
        ),
        "cms-unicode-digit": Scenario(  # found by bench/fuzz.py: "²".isdigit(), int("²") fails
            (start(b"AT+CMGS=20"), data("\r\n+CMS ERROR: ²\r\n".encode())),
            (Final(False, "+CMS ERROR: ²", ResultKind.CMS, None),),
            echo=False,
        ),
        "cms-text-unmapped": Scenario(
            (start(b"AT+CMGS=20"), data(b"\r\n+CMS ERROR: something odd\r\n")),
            (Final(False, "+CMS ERROR: something odd", ResultKind.CMS, None),),
            echo=False,
        ),
        "command-not-support": Scenario(
            (start(b"AT^FOO"), data(b"\r\nCOMMAND NOT SUPPORT\r\n")),
            (Final(False, "COMMAND NOT SUPPORT", ResultKind.NOT_SUPPORTED),),
            echo=False,
        ),
        "creg-answer-is-info-then-urc": Scenario(
            (start(b"AT+CREG?"), data(b"AT+CREG?\r\r\n+CREG: 1,1\r\n\r\nOK\r\n\r\n+CREG: 1\r\n")),
            (Echo("AT+CREG?"), Info("+CREG: 1,1"), OK, Unsolicited("+CREG", "+CREG: 1")),
        ),
        "late-ok-echo-on": Scenario(
            (
                start(b"AT+COPS?"),
                data(b"AT+COPS?\r"),
                Step(abandon=True),
                data(b"\r\n+COPS: 0"),
                start(b"AT+CSQ"),
                data(b',0,"CMCC",7\r\n\r\nOK\r\n^RSSI:20\r\nAT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n'),
            ),
            (
                Echo("AT+COPS?"),
                Stale('+COPS: 0,0,"CMCC",7'),
                Stale("OK"),
                Unsolicited("^RSSI", "^RSSI:20"),
                *csq,
            ),
        ),
        "late-ok-echo-off": Scenario(
            (
                start(b"AT+COPS?"),
                Step(abandon=True),
                data(b'\r\n+COPS: 0,0,"CMCC",7\r\n\r\nOK\r\n'),
                start(b"AT+CSQ"),
                data(b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"),
            ),
            (Stale('+COPS: 0,0,"CMCC",7'), Stale("OK"), *csq[1:]),
            echo=False,
        ),
        "result-with-nothing-in-flight": Scenario(
            (data(b"\r\nOK\r\n\r\n+CSQ: 1,2\r\n"),),
            (Stale("OK"), Garbage(b"+CSQ: 1,2")),
            garbage_safe=False,
        ),
        "submit-with-prompt": Scenario(
            (
                start(b"AT+CMGS=20"),
                data(b"AT+CMGS=20\r\r\n> "),
                Step(body=PDU.encode() + b"\x1a"),
                data(PDU.encode() + b"\r\n+CMGS: 12\r\n\r\nOK\r\n"),
            ),
            (Echo("AT+CMGS=20"), Prompt(), Echo(PDU), Info("+CMGS: 12"), OK),
        ),
        "long-line": Scenario(
            (start(b"AT+CSQ"), data(b"x" * (MAX_LINE + 10) + b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n")),
            (Garbage(b"x" * MAX_LINE), *csq[1:]),
            echo=False,
            garbage_safe=False,
        ),
    }
    for name, (raw, urc) in URC_CASES.items():
        command = b"AT+CMGF=0" if name != "cfun" else b"AT+CSQ"
        out[f"urc-inside-response-{name}"] = Scenario(
            (start(command), data(b"\r\n+CSQ: 20,99\r\n\r\n" + raw + b"\r\n\r\nOK\r\n")),
            (Info("+CSQ: 20,99"), urc, OK),
            echo=False,
        )
        out[f"urc-after-prompt-{name}"] = Scenario(
            (
                start(b"AT+CMGS=20"),
                data(b"AT+CMGS=20\r\r\n> \r\n" + raw + b"\r\n"),
                Step(body=PDU.encode() + b"\x1a"),
                data(PDU.encode() + b"\r\n+CMGS: 7\r\n\r\nOK\r\n"),
            ),
            (Echo("AT+CMGS=20"), Prompt(), urc, Echo(PDU), Info("+CMGS: 7"), OK),
        )
    return out


SCENARIOS = _scenarios()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_whole_and_byte_by_byte(name: str) -> None:
    scenario = SCENARIOS[name]
    assert run(scenario) == list(scenario.expected)
    one_by_one = [list(range(1, len(s.data))) for s in scenario.steps if s.data]
    assert run(scenario, one_by_one) == list(scenario.expected)


@settings(max_examples=8)
@given(st.data())
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_any_chunking_gives_the_same_events(name: str, data: st.DataObject) -> None:
    scenario = SCENARIOS[name]
    split = [
        data.draw(st.lists(st.integers(0, len(s.data)), max_size=12))
        for s in scenario.steps
        if s.data
    ]
    assert run(scenario, split) == list(scenario.expected)


NOISE = st.binary(max_size=40).map(lambda b: b"\xff" + b.replace(b"\r", b"").replace(b"\n", b""))


@settings(max_examples=8)
@given(st.data())
@pytest.mark.parametrize("name", sorted(n for n, s in SCENARIOS.items() if s.garbage_safe))
def test_resynchronises_after_garbage(name: str, data: st.DataObject) -> None:
    scenario = SCENARIOS[name]
    steps: list[Step] = []
    at_line_start = True
    for step in scenario.steps:
        if not step.data:
            steps.append(step)
            continue
        raw = data.draw(NOISE) + b"\r\n" + step.data if at_line_start else step.data
        at_line_start = step.data.endswith((b"\n", b"> "))
        line_starts = [i + 1 for i, byte in enumerate(raw) if byte == 0x0A]
        for at in sorted(data.draw(st.lists(st.sampled_from(line_starts), max_size=3)))[::-1]:
            raw = raw[:at] + data.draw(NOISE) + b"\r\n" + raw[at:]
        steps.append(Step(data=raw))
    noisy = Scenario(tuple(steps), scenario.expected, scenario.echo)
    events = run(noisy, [data.draw(st.lists(st.integers(0, 400), max_size=6)) for _ in steps])
    assert [e for e in events if not isinstance(e, Garbage)] == list(scenario.expected)
    assert any(isinstance(e, Garbage) for e in events)


OPS = st.one_of(
    st.binary(max_size=64),
    st.sampled_from(
        [
            b"\r\n",
            b"> ",
            b"OK\r\n",
            b"+CMT: ,3\r\n",
            b'+CMGL: 1,"REC READ",\r\n',
            "+CMS ERROR: ²\r\n".encode(),
            "+CME ERROR: ①\r\n".encode(),
            "+CMT: ,٣\r\n".encode(),
        ]
    ),
    st.sampled_from(["start", "abandon", "body"]),
)


@settings(max_examples=300)
@given(st.lists(OPS, max_size=30), st.booleans())
def test_arbitrary_bytes_never_raise(ops: list[bytes | str], echo: bool) -> None:
    parser = AtParser(echo=echo)
    for op in ops:
        if op == "start" and not parser.busy:
            parser.start(b"AT+CMGL=4")
        elif op == "abandon":
            parser.abandon()
        elif op == "body":
            parser.sent_body(b"00\x1a")
        elif isinstance(op, bytes):
            parser.receive_data(op)
        while (event := parser.next_event()) is not None:
            assert isinstance(event, Echo | Info | Final | Prompt | Unsolicited | Garbage | Stale)
            if isinstance(event, Garbage):
                assert len(event.data) <= MAX_LINE


def test_start_while_busy_is_a_usage_error() -> None:
    parser = AtParser()
    parser.start(b"AT")
    with pytest.raises(ParserUsageError):
        parser.start(b"AT+CSQ")


def test_final_maps_to_the_exception_tree() -> None:
    assert OK.error("AT") is None
    cms = Final(False, "+CMS ERROR: 500", ResultKind.CMS, 500).error("AT+CMGS")
    assert isinstance(cms, CmsError)
    assert cms.code == 500
    cme = Final(False, "+CME ERROR: 515", ResultKind.CME, 515).error("AT+CPIN?")
    assert isinstance(cme, CmeError)
    assert cme.code == 515
    unsupported = Final(False, "COMMAND NOT SUPPORT", ResultKind.NOT_SUPPORTED).error("AT^X")
    assert isinstance(unsupported, NotSupported)
    plain = Final(False, "ERROR", ResultKind.ERROR).error("AT+X")
    assert type(plain) is CommandError


# -- the corpus: real transcripts rebuilt as data ---------------------------------------------


@dataclass(frozen=True)
class Capture:
    name: str
    vendor: str | None
    command: str | None
    raw: bytes
    expected: list[Event] = field(default_factory=list)


def _event(row: list[object]) -> Event:
    kind, *args = row
    if kind == "Echo":
        return Echo(str(args[0]))
    if kind == "Info":
        return Info(str(args[0]))
    if kind == "Final":
        line, result, code = args
        result_kind = ResultKind(result)
        ok = result_kind in (ResultKind.OK, ResultKind.CONNECT)
        return Final(ok, str(line), result_kind, code if isinstance(code, int) else None)
    if kind == "Unsolicited":
        name, line, pdu = args
        return Unsolicited(str(name), str(line), None if pdu is None else str(pdu))
    if kind == "Garbage":  # a line nobody asked for and no URC the parser knows
        return Garbage(str(args[0]).encode("latin-1"))
    raise AssertionError(f"unknown event kind in corpus: {kind}")


def _captures() -> list[Capture]:
    out = []
    for path in sorted(CORPUS.rglob("*.json")):
        doc = json.loads(path.read_text())
        out.append(
            Capture(
                name=str(path.relative_to(CORPUS).with_suffix("")),
                vendor=doc["vendor"],
                command=doc["command"],
                raw=doc["raw"].encode("latin-1"),
                expected=[_event(row) for row in doc["events"]],
            )
        )
    return out


CAPTURES = _captures()


def _replay(capture: Capture, raw: bytes, chunk: int) -> list[Event]:
    parser = AtParser(echo=True)
    if capture.command is not None:
        parser.start(capture.command.encode("latin-1"))
    events = []
    for i in range(0, len(raw), chunk):
        parser.receive_data(raw[i : i + chunk])
        while (event := parser.next_event()) is not None:
            events.append(event)
    return events


@pytest.mark.parametrize("capture", CAPTURES, ids=[c.name for c in CAPTURES])
def test_corpus_capture(capture: Capture) -> None:
    # As stored, then framed the way a modem sends it (CR LF around every line).
    crlf = b"".join(b"\r\n" + line + b"\r\n" for line in capture.raw.splitlines())
    for raw in (capture.raw, crlf):
        for chunk in (len(raw), 1, 7):
            assert _replay(capture, raw, chunk) == capture.expected


def test_corpus_size() -> None:
    vendors = {c.vendor for c in CAPTURES if c.vendor}
    report("corpus: modem captures", len(CAPTURES))
    report("corpus: modem vendors", len(vendors))
    assert len(CAPTURES) >= 20
    assert len(vendors) >= 4
    assert (CORPUS / "README.md").is_file()


@pytest.mark.parametrize("split", [None, 2, 1000])
def test_a_prompt_before_an_overlong_run_is_a_prompt_however_it_is_split(split: int | None) -> None:
    data = b"> " + b"x" * (MAX_LINE + 10) + b"\r\n"
    parser = AtParser(echo=False)
    parser.start(b"AT+CMGS=20")
    chunks = [data] if split is None else [data[:split], data[split:]]
    for chunk in chunks:
        parser.receive_data(chunk)
    events = []
    while (event := parser.next_event()) is not None:
        events.append(event)
    assert events == [Prompt(), Garbage(b"x" * MAX_LINE)]
