"""Every simulator fault profile, switched on mid-flow through the whole daemon.

A question with a patient's phone has reached one expert (李华); a long question to another
(张明) is on its way, its first part taken by the network; 李华's three-part answer arrives at
that moment, and the fault goes on. While it is on, the web keeps serving the board and the
status API (``/healthz``) shows the fault's own evidence before it is cleared. After it clears,
nobody helping, everything arrives once: 张明's phone shows the whole question, the answer is
under the patient's question, and the patient's phone has it.

``generic`` and ``huawei`` are modem flavours rather than faults: for them the status stays
healthy (and ``huawei``'s extra unsolicited lines are counted).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from smscat.hwsim.engine import PROFILES
from tests.support.daemon import EXPERT_LI, EXPERT_ZHANG, PATIENT, Client, daemon
from tests.support.supervision import FAULT_TOLERANT

QUESTION = "".join(f"第{i}点：术后第三周伤口偶有刺痛，夜里明显。" for i in range(1, 12))  # 3+ parts
ANSWER = "".join(f"建议{i}：伤口刺痛多为神经恢复，注意观察红肿渗液。" for i in range(1, 8))
SLOTS = 12  # the simulated SIM's storage (sim-full fills what is left of it)

Status = tuple[int, dict[str, Any]]  # /healthz: HTTP status, body's modem


def _errors(modem: dict[str, Any], words: str) -> bool:
    return any(words in e["what"] for e in modem["errors"])


# What each profile is switched on with, and what /healthz must show while it is on.
FAULTS: dict[str, tuple[dict[str, object], Callable[[Status], bool]]] = {
    "generic": ({}, lambda s: s[0] == 200 and s[1]["state"] == "ready"),
    "huawei": ({"every": 1}, lambda s: s[0] == 200 and s[1]["counters"]["urcs"] >= 2),
    "busy": ({"count": 9}, lambda s: s[1]["counters"]["busy_retries"] >= 1),
    "flaky": ({"every": 2}, lambda s: _errors(s[1], "+CMS ERROR 500")),
    "silent": ({"seconds": 2.0}, lambda s: _errors(s[1], "answer") or s[1]["state"] != "ready"),
    "garbage": ({"every": 1}, lambda s: s[1]["counters"]["garbage_lines"] >= 1),
    "unplug": ({"seconds": 2.0}, lambda s: s[0] == 503 and s[1]["state"] != "ready"),
    "reboot": ({"seconds": 1.0}, lambda s: s[1]["counters"]["reconnects"] >= 1),
    "network-down": (
        {"seconds": 3.0},
        lambda s: s[0] == 503 and s[1]["state"] == "ready" and not s[1]["registered"],
    ),
    "slow": ({"seconds": 0.5}, lambda s: (s[1]["last_send_seconds"] or 0) >= 0.5),
    "sim-full": ({}, lambda s: s[1]["counters"]["received_parts"] >= 5),
}


# Refusals: the SMS moves to another SIM or fails (tests/relay/daemon/test_modem_health.py).
REFUSALS = {"barred", "reject"}


def test_every_profile_is_covered() -> None:
    assert set(FAULTS) | REFUSALS == set(PROFILES)


async def _status(client: Client) -> Status:
    async with client.http.get(client.api + "/healthz") as resp:
        body = await resp.json()
        return resp.status, body["modems"][0]


async def _parts_taken(client: Client, number: str) -> int:
    return sum(m["parts"] for m in await client.simulator("/sent") if m["to"] == number)


async def _ask(client: Client, expert: str, text: str, **extra: Any) -> tuple[int, str]:
    status, body = await client.call(
        "POST", "/api/questions", expert_id=expert, nickname="小周", text=text, public=False,
        **extra,
    )  # fmt: skip
    assert status == 201, body
    return int(body["id"]), str(body["token"])


@pytest.mark.parametrize("profile", list(FAULTS))
async def test_a_fault_mid_flow_is_reported_and_nothing_is_lost(
    tmp_path: Path, profile: str
) -> None:
    switch_on, shows = FAULTS[profile]
    async with daemon(
        tmp_path, supervision=FAULT_TOLERANT, retry_base=0.5, send_latency=0.1, storage_slots=SLOTS
    ) as (running, client):
        verification_id, code = await client.verify(PATIENT)
        thread, token = await _ask(
            client, "li", "换药后可以洗澡吗？", phone=PATIENT,
            verification_id=verification_id, code=code,
        )  # fmt: skip
        await client.wait_for_sms(EXPERT_LI, lambda t: "换药后可以洗澡吗" in t)
        await _ask(client, "zhang", QUESTION)
        async with asyncio.timeout(15):
            while not await _parts_taken(client, EXPERT_ZHANG):  # noqa: ASYNC110
                await asyncio.sleep(0.02)  # polling the simulated network, as a test can
        await client.phone_sends(EXPERT_LI, ANSWER)
        await client.simulator("/faults", {"profile": profile, **switch_on})

        seen: list[Status] = []
        async with asyncio.timeout(30):
            while not seen or not shows(seen[-1]):
                async with client.http.get(client.api + "/") as board:
                    assert board.status == 200  # the web keeps serving
                seen.append(await _status(client))
                await asyncio.sleep(0.05)
        await client.simulator("/faults", {"profile": "none"})

        question = await client.wait_for_sms(EXPERT_ZHANG, lambda t: QUESTION in t, 45)
        assert question.count(QUESTION) == 1
        view = await client.wait_thread(
            thread, token, lambda v: any(m["text"] == ANSWER for m in v["messages"])
        )
        assert [m["text"] for m in view["messages"]].count(ANSWER) == 1
        await client.wait_for_sms(PATIENT, lambda t: ANSWER in t, 45)
        assert sum(ANSWER in t for t in await client.received_by(PATIENT)) == 1
        async with asyncio.timeout(30):
            while (await _status(client))[0] != 200:  # noqa: ASYNC110
                await asyncio.sleep(0.1)  # and the status says so again
        answers = await running.relay.db.fetchall(
            "SELECT COUNT(*) FROM inbound WHERE outcome = 'reply' AND text = ?", (ANSWER,)
        )
        assert answers[0][0] == 1
