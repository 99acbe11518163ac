"""A leak scanner: after a full scenario, no number reaches the other party, a public view or a log.

Every API response, every SMS the hospital's SIM sent and every log line at the default level
(INFO) is searched for each party's number in E.164, national, spaced, full-width and
last-8-digit forms. A patient's number may appear only in SMS to that patient (none do), an
expert's only in SMS to that expert; neither in any response, page or log line.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tests.support.daemon import EXPERT_LI, EXPERT_ZHANG, PATIENT, PATIENT_2, Client, daemon

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def forms(e164: str) -> list[str]:
    national = e164.removeprefix("+86")
    spaced = f"{national[:3]} {national[3:7]} {national[7:]}"
    return [e164, national, spaced, national.translate(FULL_WIDTH), national[-8:]]


def leaks(text: str, numbers: list[str]) -> list[str]:
    return [form for number in numbers for form in forms(number) if form in text]


async def asked(client: Client, number: str, expert: str, text: str) -> tuple[int, str]:
    verification_id, code = await client.verify(number)
    status, body = await client.call(
        "POST",
        "/api/questions",
        expert_id=expert,
        nickname="访客",
        text=text,
        public=True,
        phone=number,
        verification_id=verification_id,
        code=code,
    )
    assert status == 201, body
    return int(body["id"]), str(body["token"])


async def test_no_number_crosses_to_the_other_party_or_into_a_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # the default level of `smscat run`
    responses: list[Any] = []
    async with daemon(tmp_path) as (_, client):
        first = await asked(client, PATIENT, "zhang", "心慌胸闷，晚上加重")
        second = await asked(client, PATIENT_2, "zhang", "心率每分钟110次正常吗")
        third = await asked(client, PATIENT, "li", "起搏器术后可以坐飞机吗")
        await client.wait_for_sms(EXPERT_ZHANG, lambda t: "心率" in t)
        await client.phone_sends(EXPERT_ZHANG, "#1 建议做动态心电图")
        await client.phone_sends(EXPERT_ZHANG, "待办")
        await client.phone_sends(EXPERT_ZHANG, "没有编号的回复")  # two open threads: held
        await client.phone_sends(EXPERT_LI, "可以，随身带上起搏器卡")  # the only open thread
        await client.wait_for_sms(PATIENT, lambda t: "动态心电图" in t)
        await client.wait_for_sms(PATIENT, lambda t: "起搏器卡" in t)
        await client.phone_sends(PATIENT, "#1 好的，做完再来问")
        await client.wait_for_sms(EXPERT_ZHANG, lambda t: "做完再来问" in t)
        await client.phone_sends(PATIENT_2, "TD")
        await client.wait_for_sms(PATIENT_2, lambda t: "退订" in t)
        await client.phone_sends("+8613700001111", "我不是患者")  # an unknown sender

        for path in ("/api/experts", "/api/board", "/api/board?expert_id=zhang", "/healthz"):
            responses.append(await client.call("GET", path))
        for thread_id, token in (first, second, third):
            responses.append(await client.thread(thread_id, token))
        async with client.http.get(client.sim + "/sent") as resp:
            sms = await resp.json()

    patients, experts = [PATIENT, PATIENT_2], [EXPERT_ZHANG, EXPERT_LI]
    everyone = patients + experts
    for response in responses:
        assert leaks(repr(response), everyone) == []
    to_experts = [m["text"] for m in sms if m["to"] in experts]
    to_patients = [m["text"] for m in sms if m["to"] in patients]
    assert len(to_experts) >= 6
    assert len(to_patients) >= 5
    for text in to_experts:
        assert leaks(text, patients) == [], text
        assert leaks(text, [e for e in experts if e not in text]) == []
    for text in to_patients:
        assert leaks(text, experts) == [], text
        assert leaks(text, patients) == [], text
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) >= 5
    assert [line for line in lines if leaks(line, everyone)] == []
