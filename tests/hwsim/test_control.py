"""The simulator's control API: what phones send, what the modem submitted, counters, reset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from smscat.hwsim import pdu
from tests.support.atport import AtPort
from tests.support.simclient import (
    FRESH_STATE,
    HTTP_TIMEOUT,
    RECIPIENT,
    SENDER,
    URC_WAIT,
    decode_stored,
    get_json,
    post_sms,
    submit,
    submit_body,
)

# A +CMGL entry with its fields as this modem writes them: index, stat, empty alpha, length.
CMGL_ENTRY = re.compile(rb"\+CMGL: \d+,\d,,\d+\r\n([0-9A-F]+)\r\n")
# 400 GSM-7 characters: three parts of 153, 153 and 94 septets.
LONG = "".join(f"{n:03d} " for n in range(100))


async def stored_parts(port: AtPort) -> list[pdu.Deliver]:
    """Every SMS on the SIM, in slot order, decoded."""
    return decode_stored(await port.command(b"AT+CMGL=4\r"), CMGL_ENTRY)


def assert_utc_iso(stamp: str, before: datetime, after: datetime) -> None:
    assert stamp.endswith("+00:00")
    moment = datetime.fromisoformat(stamp)
    assert moment.utcoffset() == timedelta(0)
    assert before <= moment <= after


# -- GET /sent --------------------------------------------------------------------------------


async def test_sent_lists_what_the_modem_submitted(
    port: AtPort, control: aiohttp.ClientSession
) -> None:
    assert await get_json(control, "/sent") == []
    before = datetime.now(UTC)
    assert await submit(port, "Take one tablet") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    assert await submit(port, "您好 😀") == b"\r\n+CMGS: 1\r\n\r\nOK\r\n"
    after = datetime.now(UTC)
    sent = await get_json(control, "/sent")
    stamps = [message.pop("accepted_at") for message in sent]
    for stamp in stamps:
        assert_utc_iso(stamp, before, after)
    assert stamps == sorted(stamps)
    assert sent == [
        {
            "to": RECIPIENT,
            "text": "Take one tablet",
            "parts": 1,
            "complete": True,
            "ref": None,
            "mr": [0],
            "duplicate_parts": 0,
        },
        {
            "to": RECIPIENT,
            "text": "您好 😀",
            "parts": 1,
            "complete": True,
            "ref": None,
            "mr": [1],
            "duplicate_parts": 0,
        },
    ]


async def test_sent_reassembles_parts_submitted_out_of_order(
    port: AtPort, control: aiohttp.ClientSession
) -> None:
    _, texts = pdu.split_text(LONG)
    assert len(texts) == 3
    for mr, seq in enumerate((3, 1, 2)):
        reply = await submit(port, texts[seq - 1], concat=pdu.Concat(77, 3, seq))
        assert reply == b"\r\n+CMGS: %d\r\n\r\nOK\r\n" % mr
        sent = await get_json(control, "/sent")
        assert len(sent) == 1
        assert sent[0]["complete"] is (seq == 2)  # the last one submitted completes it
    [message] = await get_json(control, "/sent")
    del message["accepted_at"]
    assert message == {
        "to": RECIPIENT,
        "text": LONG,
        "parts": 3,
        "complete": True,
        "ref": 77,
        "mr": [0, 1, 2],
        "duplicate_parts": 0,
    }


async def test_sent_counts_a_part_submitted_twice(
    port: AtPort, control: aiohttp.ClientSession
) -> None:
    # Part 1 again, as a driver does when the +CMGS answer was lost.
    for seq in (1, 1, 2):
        await submit(port, f"part {seq} ", concat=pdu.Concat(200, 2, seq))
    [message] = await get_json(control, "/sent")
    del message["accepted_at"]
    assert message == {
        "to": RECIPIENT,
        "text": "part 1 part 2 ",
        "parts": 2,
        "complete": True,
        "ref": 200,
        "mr": [0, 1, 2],
        "duplicate_parts": 1,
    }


async def test_sent_shows_an_incomplete_message(
    port: AtPort, control: aiohttp.ClientSession
) -> None:
    await submit(port, "only the second", concat=pdu.Concat(5, 2, 2))
    [message] = await get_json(control, "/sent")
    assert (message["text"], message["parts"], message["complete"]) == (
        "only the second",
        2,
        False,
    )


# -- GET /state and POST /reset ---------------------------------------------------------------


async def test_state_counts_commands(port: AtPort, control: aiohttp.ClientSession) -> None:
    first = await get_json(control, "/state")
    assert first.pop("link") == str(port.path)
    assert first == {**FRESH_STATE, "profile": "generic"}
    await port.command(b"AT\r")  # no command in it
    await port.command(b"AT+CSQ\r")
    await port.command(b"ATE1+CMEE=1;+CSQ\r")
    await port.command(b"AT+NOPE\r")
    await submit(port, "ok")
    length, body = submit_body("refused")
    await port.command(b"AT+CMGS=%d\r" % (length + 2))
    assert await port.command(body + b"\x1a") == body + b"\r\n+CMS ERROR: 304\r\n"
    state = await get_json(control, "/state")
    assert state["counters"] == {
        "commands": 7,
        "cmgs_ok": 1,
        "cmgs_error": 1,
        "by_command": {"+CSQ": 2, "E": 1, "+CMEE": 1, "+NOPE": 1, "+CMGS": 2},
    }


async def test_state_shows_storage_and_pending(
    port: AtPort, control: aiohttp.ClientSession
) -> None:
    await post_sms(control, {"from": SENDER, "text": "hello"})
    state = await get_json(control, "/state")
    assert (state["storage"], state["pending"]) == ({"used": 1, "total": 30, "read": 0}, 0)


async def test_reset_gives_a_new_device_with_an_empty_sim(
    port: AtPort, control: aiohttp.ClientSession
) -> None:
    await post_sms(control, {"from": SENDER, "text": "hello"})
    await submit(port, "sent before the reset")
    assert await port.command(b"ATE0;+CMEE=2\r") == b"ATE0;+CMEE=2\r\r\nOK\r\n"
    async with control.post("/reset", timeout=HTTP_TIMEOUT) as resp:
        assert resp.status == 200
        assert await resp.json() == {"reset": True}
    state = await get_json(control, "/state")
    assert state["storage"] == {"used": 0, "total": 30, "read": 0}
    assert state["counters"] == {"commands": 0, "cmgs_ok": 0, "cmgs_error": 0, "by_command": {}}
    assert await get_json(control, "/sent") == []
    assert await port.command(b"AT+CMEE?\r") == b"AT+CMEE?\r\r\n+CMEE: 0\r\n\r\nOK\r\n"
    assert await port.command(b"AT+CMGL=4\r") == b"AT+CMGL=4\r\r\nOK\r\n"
    assert await submit(port, "after") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"  # MR starts again
    assert (await post_sms(control, {"from": SENDER, "text": "x"}))["ref"] == 1


# -- POST /sms --------------------------------------------------------------------------------


async def test_post_sms_answers_parts_and_ref(port: AtPort, control: aiohttp.ClientSession) -> None:
    assert await post_sms(control, {"from": SENDER, "text": "short"}) == {"parts": 1, "ref": 1}
    assert await post_sms(control, {"from": "10086", "text": LONG}) == {"parts": 3, "ref": 2}
    assert await post_sms(control, {"from": "Hospital", "text": ""}) == {"parts": 1, "ref": 3}
    parts = await stored_parts(port)
    assert [(p.oa, p.text) for p in parts] == [
        (SENDER, "short"),
        *[("10086", t) for t in pdu.split_text(LONG)[1]],
        ("Hospital", ""),
    ]
    assert [p.concat for p in parts] == [
        None,
        pdu.Concat(2, 3, 1),
        pdu.Concat(2, 3, 2),
        pdu.Concat(2, 3, 3),
        None,
    ]


async def test_post_sms_in_reverse_order(port: AtPort, control: aiohttp.ClientSession) -> None:
    assert await port.command(b"AT+CNMI=2,1\r") == b"AT+CNMI=2,1\r\r\nOK\r\n"
    answer = await post_sms(control, {"from": SENDER, "text": LONG, "order": "reverse"})
    assert answer == {"parts": 3, "ref": 1}
    assert await port.quiet(URC_WAIT) == (
        b'\r\n+CMTI: "SM",1\r\n\r\n+CMTI: "SM",2\r\n\r\n+CMTI: "SM",3\r\n'
    )
    parts = await stored_parts(port)
    texts = pdu.split_text(LONG)[1]
    assert [p.concat for p in parts] == [pdu.Concat(1, 3, seq) for seq in (3, 2, 1)]
    assert [p.text for p in parts] == [texts[2], texts[1], texts[0]]
    assert {p.oa for p in parts} == {SENDER}


async def test_post_sms_in_a_given_order_with_a_part_lost(
    port: AtPort, control: aiohttp.ClientSession
) -> None:
    assert await port.command(b"AT+CNMI=2,1\r") == b"AT+CNMI=2,1\r\r\nOK\r\n"
    body = {"from": SENDER, "text": LONG, "order": [2, 1, 3], "drop": [2]}
    assert await post_sms(control, body) == {"parts": 3, "ref": 1}
    assert await port.quiet(URC_WAIT) == b'\r\n+CMTI: "SM",1\r\n\r\n+CMTI: "SM",2\r\n'
    parts = await stored_parts(port)
    texts = pdu.split_text(LONG)[1]
    assert [(p.concat, p.text) for p in parts] == [
        (pdu.Concat(1, 3, 1), texts[0]),
        (pdu.Concat(1, 3, 3), texts[2]),
    ]
    state = await get_json(control, "/state")
    assert (state["storage"]["used"], state["pending"]) == (2, 0)


async def test_post_sms_with_a_ref_delivers_a_lost_part_late(
    port: AtPort, control: aiohttp.ClientSession
) -> None:
    assert await port.command(b"AT+CNMI=2,1\r") == b"AT+CNMI=2,1\r\r\nOK\r\n"
    lost = await post_sms(control, {"from": SENDER, "text": LONG, "drop": [2]})
    assert await port.quiet(URC_WAIT) == b'\r\n+CMTI: "SM",1\r\n\r\n+CMTI: "SM",2\r\n'
    late = {"from": SENDER, "text": LONG, "ref": lost["ref"], "drop": [1, 3]}
    assert await post_sms(control, late) == lost  # the same message, its part 2 at last
    assert await port.quiet(URC_WAIT) == b'\r\n+CMTI: "SM",3\r\n'
    parts = await stored_parts(port)
    texts = pdu.split_text(LONG)[1]
    ref = lost["ref"]
    assert [(p.concat, p.text) for p in parts] == [
        (pdu.Concat(ref, 3, 1), texts[0]),
        (pdu.Concat(ref, 3, 3), texts[2]),
        (pdu.Concat(ref, 3, 2), texts[1]),
    ]
    assert (await post_sms(control, {"from": SENDER, "text": "next"}))["ref"] == ref + 1
    [phone] = [p for p in await get_json(control, "/phones") if p["number"] == SENDER]
    [whole] = [m for m in phone["messages"] if m["text"] == LONG]
    assert (whole["parts"], whole["complete"]) == (3, True)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not json", "JSON object"),
        (b"\xff\xfe", "JSON object"),
        (b'["+8613800138000", "hi"]', "JSON object"),
        (b'{"from": "+8613800138000", "text": "hi", "to": "me"}', "unknown field(s): to"),
        (b'{"from": "+86 138 0013 8000", "text": "hi"}', '"from"'),
        (b'{"from": "+8613x", "text": "hi"}', '"from"'),
        (b'{"from": "", "text": "hi"}', '"from"'),
        (b'{"from": 8613800138000, "text": "hi"}', '"from"'),
        (b'{"from": "TwelveLetter", "text": "hi"}', '"from"'),
        (b'{"text": "hi"}', '"from"'),
        (b'{"from": "+8613800138000"}', '"text"'),
        (b'{"from": "+8613800138000", "text": 5}', '"text"'),
        (b'{"from": "+8613800138000", "text": "hi", "drop": 2}', '"drop"'),
        (b'{"from": "+8613800138000", "text": "hi", "drop": "2"}', '"drop"'),
        (b'{"from": "+8613800138000", "text": "hi", "drop": [true]}', '"drop"'),
        (b'{"from": "+8613800138000", "text": "hi", "order": "forward"}', '"order"'),
        (b'{"from": "+8613800138000", "text": "hi", "order": [2]}', "permutation"),
        (b'{"from": "+8613800138000", "text": "hi", "ref": "1"}', '"ref"'),
        (b'{"from": "+8613800138000", "text": "hi", "ref": 256}', "ref"),
    ],
)
async def test_post_sms_bad_input_is_400_with_a_reason(
    port: AtPort, control: aiohttp.ClientSession, data: bytes, reason: str
) -> None:
    headers = {"Content-Type": "application/json"}
    async with control.post("/sms", data=data, headers=headers, timeout=HTTP_TIMEOUT) as resp:
        assert resp.status == 400
        answer = await resp.json()
    assert list(answer) == ["error"]
    assert reason in answer["error"]
    assert "Traceback" not in answer["error"]
    state = await get_json(control, "/state")
    assert (state["storage"]["used"], state["pending"]) == (0, 0)
    assert await port.quiet(0.05) == b""
    # A refused request used no concatenation reference.
    assert await post_sms(control, {"from": SENDER, "text": "hi"}) == {"parts": 1, "ref": 1}


async def test_post_sms_with_a_lone_surrogate_is_400(control: aiohttp.ClientSession) -> None:
    data = b'{"from": "+8613800138000", "text": "\\ud800"}'
    headers = {"Content-Type": "application/json"}
    async with control.post("/sms", data=data, headers=headers, timeout=HTTP_TIMEOUT) as resp:
        assert resp.status == 400
        assert "error" in await resp.json()


async def test_post_sms_text_too_long_is_400(control: aiohttp.ClientSession) -> None:
    body = {"from": SENDER, "text": "x" * 1531}
    async with control.post("/sms", json=body, timeout=HTTP_TIMEOUT) as resp:
        assert resp.status == 400
        assert "1530" in (await resp.json())["error"]


async def test_unknown_path_and_method(control: aiohttp.ClientSession) -> None:
    async with control.get("/nope", timeout=HTTP_TIMEOUT) as resp:
        assert resp.status == 404
    async with control.get("/sms", timeout=HTTP_TIMEOUT) as resp:
        assert resp.status == 405


# -- POST /unassigned -------------------------------------------------------------------------


async def test_unassigned_numbers_are_refused_by_the_network_until_cleared(
    port: AtPort, control: aiohttp.ClientSession
) -> None:
    async with control.post(
        "/unassigned", json={"numbers": [RECIPIENT]}, timeout=HTTP_TIMEOUT
    ) as resp:
        assert resp.status == 200
        assert await resp.json() == {"unassigned": [RECIPIENT.lstrip("+")]}
    assert await submit(port, "Take one tablet") == b"\r\n+CMS ERROR: 1\r\n"
    assert await get_json(control, "/sent") == []
    state = await get_json(control, "/state")
    assert state["counters"]["cmgs_error"] == 1
    async with control.post("/unassigned", json={"numbers": []}, timeout=HTTP_TIMEOUT) as resp:
        assert await resp.json() == {"unassigned": []}
    assert await submit(port, "Take one tablet") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"


@pytest.mark.parametrize(
    "body", [{}, {"numbers": "+8613912345678"}, {"numbers": ["abc"]}, {"numbers": [12345]}]
)
async def test_unassigned_bad_input_is_400(
    control: aiohttp.ClientSession, body: dict[str, object]
) -> None:
    async with control.post("/unassigned", json=body, timeout=HTTP_TIMEOUT) as resp:
        assert resp.status == 400
        assert "numbers" in (await resp.json())["error"]
