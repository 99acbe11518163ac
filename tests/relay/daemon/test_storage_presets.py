"""The whole daemon on a modem whose SMS storages another program set (issue 13.5).

The simulated modem starts with +CPMS as gammu-smsd leaves it ("ME","ME","SM": read in ME,
receive in SM) or receiving in ME ("SM","SM","ME"). An expert's reply by SMS still reaches the
thread, once, and leaves the modem.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from smscat.modem.supervisor import SupervisorSettings
from smscat.relay.daemon.config_file import ConfigError, load_config
from tests.support.daemon import EXPERT_ZHANG, Client, ask_public, daemon

QUESTION = "血压160/100，已经吃了氨氯地平，需要加药吗？"
ANSWER = "建议先做24小时动态血压，结果出来前不要自行加药。"
SWEEPING = replace(SupervisorSettings(), sweep_every=0.3)


async def ask(client: Client) -> tuple[int, str]:
    return await ask_public(client, QUESTION)


async def state(client: Client) -> dict[str, Any]:
    answer: dict[str, Any] = await client.simulator("/state")
    return answer


async def lists_done(client: Client) -> int:
    """How many AT+CMGL the modem has answered (each sweep lists every memory)."""
    counters = (await state(client))["counters"]
    return int(counters["by_command"].get("+CMGL", 0))


@pytest.mark.parametrize(
    "value", ["ME", "[ME, ME]", "[ME, ME, SR]", "[ME, ME, SM, SM]", "[me, me, sm]"]
)
def test_a_bad_storages_preset_is_named_by_its_key(tmp_path: Path, value: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"modems:\n  - id: sim1\n    port: sim\n    sim: {{storages: {value}}}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as info:
        load_config(config)
    [(path, reason)] = info.value.problems
    assert path == "modems[0].sim.storages"
    assert "three SMS memories" in reason
    config.write_text(
        "modems:\n  - id: sim1\n    port: sim\n    sim: {storages: [ME, ME, SM]}\n",
        encoding="utf-8",
    )
    assert load_config(config).modems[0].sim.storages == ("ME", "ME", "SM")


@pytest.mark.parametrize("storages", [["ME", "ME", "SM"], ["SM", "SM", "ME"]], ids="-".join)
async def test_an_experts_reply_reaches_the_thread_once(
    tmp_path: Path, storages: list[str]
) -> None:
    async with daemon(tmp_path, supervision=SWEEPING, storages=storages) as (_, client):
        thread_id, token = await ask(client)
        await client.wait_for_sms(EXPERT_ZHANG, lambda t: QUESTION in t)

        await client.phone_sends(EXPERT_ZHANG, ANSWER)
        await client.wait_thread(
            thread_id, token, lambda v: any(m["from"] == "expert" for m in v["messages"])
        )
        async with asyncio.timeout(10):
            while (await state(client))["storage"]["used"]:  # noqa: ASYNC110 - the modem's API
                await asyncio.sleep(0.1)
            # two more sweeps over both memories find nothing to offer again
            seen = await lists_done(client)
            while await lists_done(client) < seen + 4:  # noqa: ASYNC110 - the modem's API
                await asyncio.sleep(0.1)
        view = await client.thread(thread_id, token)
        assert [m["text"] for m in view["messages"] if m["from"] == "expert"] == [ANSWER]
        assert view["status"] == "answered"
