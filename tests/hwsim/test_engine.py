"""The pure AT interpreter (SimModem) without a pty: fast enough to run hundreds of commands."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.hwsim import pdu
from smscat.hwsim.engine import Delay, Output, SimModem
from tests.support.simclient import FRESH_STATE, RECIPIENT, SENDER, SMSC, submit_body

START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def modem(*, slots: int = 30, index_base: int = 1) -> SimModem:
    return SimModem(now=lambda: START, slots=slots, index_base=index_base)


def line_bytes(out: list[Output]) -> bytes:
    """What went on the line; a zero-latency modem writes no Delay."""
    assert not any(isinstance(item, Delay) for item in out)
    return b"".join(item for item in out if isinstance(item, bytes))


def send(sim: SimModem, data: bytes) -> bytes:
    return line_bytes(sim.receive(data))


def submit(sim: SimModem, text: str, *, concat: pdu.Concat | None = None) -> bytes:
    length, body = submit_body(text, concat=concat)
    assert send(sim, b"AT+CMGS=%d\r" % length) == b"AT+CMGS=%d\r\r\n> " % length
    return send(sim, body + b"\x1a")


def test_mr_is_eight_bit_and_wraps_after_255() -> None:
    sim = modem()
    _, typed = submit_body("hello")
    replies = [submit(sim, "hello") for _ in range(257)]
    expected = [*range(256), 0]
    assert replies == [typed + b"\r\n+CMGS: %d\r\n\r\nOK\r\n" % mr for mr in expected]
    assert [m.mr for m in sim.sent] == [[mr] for mr in expected]
    assert sim.counters["cmgs_ok"] == 257
    assert sim.by_command["+CMGS"] == 257


def test_mr_is_not_used_up_by_a_refused_submit() -> None:
    sim = modem()
    length, body = submit_body("hello")
    assert send(sim, b"AT+CMGS=%d\r" % (length + 1)) == b"AT+CMGS=%d\r\r\n> " % (length + 1)
    assert send(sim, body + b"\x1a") == body + b"\r\n+CMS ERROR: 304\r\n"
    assert submit(sim, "hello") == body + b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    assert sim.counters["cmgs_error"] == 1
    assert sim.counters["cmgs_ok"] == 1


SESSION = [
    b"AT\r",
    b"ATI\r",
    b"AT+CMEE=1;+CSQ\r",
    b"AT+CNMI=2,1,0,0,0\r",
    b"AT+CREG=2;+CREG?\r",
    b"AT+FOO\r",
    b"AT+CMGR=99\r",
    b"AT+CMGS=%d\r" % submit_body("hi there")[0],
    submit_body("hi there")[1] + b"\x1a",
    b"AT+CMGS=%d\r" % submit_body("never sent")[0],
    submit_body("never sent")[1] + b"\x1b",
    b"ATE0\r",
    b"AT+CPMS?\r",
    b"ATE1\r",
]


def run_session(chunks: list[bytes]) -> bytes:
    sim = modem()
    return b"".join(send(sim, chunk) for chunk in chunks)


def test_one_byte_at_a_time_gives_the_same_transcript_as_whole_lines() -> None:
    whole = run_session(SESSION)
    stream = b"".join(SESSION)
    assert run_session([stream[i : i + 1] for i in range(len(stream))]) == whole
    assert b"+CMGS: 0\r\n\r\nOK\r\n" in whole
    assert whole.endswith(b'\r\n+CPMS: "SM",0,30,"SM",0,30,"SM",0,30\r\n\r\nOK\r\n\r\nOK\r\n')


@given(cuts=st.sets(st.integers(min_value=1, max_value=len(b"".join(SESSION)) - 1)))
def test_any_chunking_gives_the_same_transcript(cuts: set[int]) -> None:
    stream = b"".join(SESSION)
    bounds = [0, *sorted(cuts), len(stream)]
    chunks = [stream[a:b] for a, b in itertools.pairwise(bounds)]
    assert run_session(chunks) == run_session(SESSION)


def test_index_base_zero() -> None:
    sim = modem(index_base=0)
    assert send(sim, b"AT+CNMI=2,1\r") == b"AT+CNMI=2,1\r\r\nOK\r\n"
    parts, ref, out = sim.network_sms(SENDER, "first")
    assert (parts, ref) == (1, 1)
    assert line_bytes(out) == b'\r\n+CMTI: "SM",0\r\n'
    assert send(sim, b"AT+CMGD=?\r") == b"AT+CMGD=?\r\r\n+CMGD: (0),(0-4)\r\n\r\nOK\r\n"
    reply = send(sim, b"AT+CMGR=0\r")
    assert reply.startswith(b"AT+CMGR=0\r\r\n+CMGR: 0,,")
    assert send(sim, b"AT+CMGR=29\r") == b"AT+CMGR=29\r\r\nOK\r\n"  # last slot, empty
    assert send(sim, b"AT+CMGR=30\r") == b"AT+CMGR=30\r\r\n+CMS ERROR: 321\r\n"
    assert send(sim, b"AT+CMGD=0\r") == b"AT+CMGD=0\r\r\nOK\r\n"
    assert send(sim, b"AT+CMGD=?\r") == b"AT+CMGD=?\r\r\n+CMGD: (),(0-4)\r\n\r\nOK\r\n"


def test_index_base_one_refuses_index_zero() -> None:
    sim = modem()
    assert send(sim, b"AT+CMGR=0\r") == b"AT+CMGR=0\r\r\n+CMS ERROR: 321\r\n"
    assert send(sim, b"AT+CMGD=0\r") == b"AT+CMGD=0\r\r\n+CMS ERROR: 321\r\n"
    assert send(sim, b"AT+CMGR=30\r") == b"AT+CMGR=30\r\r\nOK\r\n"


def test_full_store_keeps_sms_in_the_network_until_cmgd_frees_a_slot() -> None:
    sim = modem(slots=2)
    send(sim, b"AT+CNMI=2,1\r")
    assert line_bytes(sim.network_sms(SENDER, "one")[2]) == b'\r\n+CMTI: "SM",1\r\n'
    assert line_bytes(sim.network_sms(SENDER, "two")[2]) == b'\r\n+CMTI: "SM",2\r\n'
    assert line_bytes(sim.network_sms(SENDER, "three")[2]) == b""
    assert line_bytes(sim.network_sms(SENDER, "four")[2]) == b""
    assert sim.state()["pending"] == 2
    # The +CMTI follows the final result of the command that freed the slot.
    assert send(sim, b"AT+CMGD=2\r") == b'AT+CMGD=2\r\r\nOK\r\n\r\n+CMTI: "SM",2\r\n'
    assert sim.state()["pending"] == 1
    assert send(sim, b"AT+CMGD=1,4\r") == b'AT+CMGD=1,4\r\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'
    assert sim.state()["pending"] == 0
    texts = {
        i: pdu.decode_deliver(pdu.split_smsc(m.pdu)[1]).text
        for i, m in sim.stores["SM"].messages.items()
    }
    assert texts == {1: "four"}


def test_sms_arriving_at_the_prompt_waits_until_the_submit_ends() -> None:
    sim = modem()
    send(sim, b"AT+CNMI=2,1\r")
    length, body = submit_body("hello")
    assert send(sim, b"AT+CMGS=%d\r" % length) == b"AT+CMGS=%d\r\r\n> " % length
    assert line_bytes(sim.network_sms(SENDER, "in between")[2]) == b""
    assert send(sim, body + b"\x1a") == body + b'\r\n+CMGS: 0\r\n\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'


def test_network_sms_is_stored_as_an_sms_deliver_with_the_sim_smsc() -> None:
    sim = modem()
    sim.network_sms(SENDER, "您好")
    stored = sim.stores["SM"].messages[1]
    smsc, tpdu = pdu.split_smsc(stored.pdu)
    assert smsc == SMSC
    assert stored.tpdu_length == len(tpdu)
    deliver = pdu.decode_deliver(tpdu)
    assert (deliver.oa, deliver.text, deliver.dcs) == (SENDER, "您好", 0x08)
    assert deliver.scts == START
    assert deliver.scts.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize("order", [[1, 1, 2], [1, 2], [0, 1, 2], [2, 3, 4]])
def test_network_sms_order_must_be_a_permutation(order: list[int]) -> None:
    sim = modem()
    with pytest.raises(ValueError, match="permutation"):
        sim.network_sms(SENDER, "x" * 400, order=order)
    assert sim.state()["storage"] == {"used": 0, "total": 30, "read": 0}
    assert sim.network_sms(SENDER, "x" * 400)[:2] == (3, 1)  # the refusal used no reference


def test_concatenation_reference_wraps_after_255() -> None:
    sim = modem(slots=1)
    refs = [sim.network_sms(SENDER, "x" * 200)[1] for _ in range(257)]
    assert refs == [*range(1, 256), 0, 1]


def test_a_part_resent_long_after_its_message_completed_starts_a_new_message() -> None:
    clock = Clock()
    sim = SimModem(now=clock)
    for seq in (1, 2):
        submit(sim, f"part {seq}", concat=pdu.Concat(9, 2, seq))
    clock.now += timedelta(minutes=5)
    submit(sim, "part 1", concat=pdu.Concat(9, 2, 1))  # a retry after a lost +CMGS
    clock.now += timedelta(minutes=11)
    submit(sim, "part 1", concat=pdu.Concat(9, 2, 1))  # a new message that reuses ref 9
    assert [m.as_json() for m in sim.sent] == [
        {
            "to": RECIPIENT,
            "text": "part 1part 2",
            "parts": 2,
            "complete": True,
            "ref": 9,
            "mr": [0, 1, 2],
            "duplicate_parts": 1,
            "accepted_at": "2025-03-01T08:00:00+00:00",
        },
        {
            "to": RECIPIENT,
            "text": "part 1",
            "parts": 2,
            "complete": False,
            "ref": 9,
            "mr": [3],
            "duplicate_parts": 0,
            "accepted_at": "2025-03-01T08:16:00+00:00",
        },
    ]


def test_send_latency_is_a_delay_before_the_result() -> None:
    sim = SimModem(now=lambda: START, send_latency=1.5)
    length, body = submit_body("hello")
    sim.receive(b"AT+CMGS=%d\r" % length)
    assert sim.receive(body + b"\x1a") == [body, Delay(1.5), b"\r\n+CMGS: 0\r\n\r\nOK\r\n"]


def test_reset_empties_the_sim_and_the_counters() -> None:
    sim = modem()
    sim.network_sms(SENDER, "hello")
    submit(sim, "hello")
    send(sim, b"ATE0;+CMEE=2\r")
    sim.reset()
    assert sim.state() == FRESH_STATE
    assert sim.sent == []
    assert send(sim, b"AT+CMEE?\r") == b"AT+CMEE?\r\r\n+CMEE: 0\r\n\r\nOK\r\n"
    assert submit(sim, "hello").endswith(b"\r\n+CMGS: 0\r\n\r\nOK\r\n")


def test_state_shows_an_open_prompt_and_messages_read_but_not_deleted() -> None:
    sim = modem()
    sim.network_sms(SENDER, "您好")
    assert (sim.state()["prompt"], sim.state()["storage"]) == (
        False,
        {"used": 1, "total": 30, "read": 0},
    )
    send(sim, b"AT+CMGF=0\r")
    send(sim, b"AT+CMGR=1\r")
    assert sim.state()["storage"] == {"used": 1, "total": 30, "read": 1}
    send(sim, b"AT+CMGS=10\r")
    assert sim.state()["prompt"] is True
    send(sim, b"\x1b")
    assert sim.state()["prompt"] is False


@pytest.mark.parametrize("command", ["AT+CMGR=²", "AT+CMGD=①", "AT+CMGS=٣", "AT+CMGL=²"])
def test_digits_that_are_not_ascii_are_refused_not_crashed_on(command: str) -> None:
    sim = modem()
    reply = send(sim, command.encode() + b"\r")
    assert reply.startswith(command.encode() + b"\r\r\n")
    assert reply.endswith((b"ERROR\r\n", b"+CMS ERROR: 304\r\n", b"+CMS ERROR: 302\r\n"))
    assert send(sim, b"AT\r") == b"AT\r\r\nOK\r\n"  # and it still answers
