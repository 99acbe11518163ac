"""A real client no one here wrote — Debian's gammu — drives the simulator through its pty."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import aiohttp
import pytest

from tests.support.simproc import SimProcess, sim_process

pytestmark = pytest.mark.gammu

BASE = (
    "您好，医生回复：请按时服药，注意休息，饮食清淡，定期复查血压和心电图。如有胸闷胸痛请立即就医。"
)
# 200 characters (code points) of Chinese, ending with an emoji and a rare CJK character:
# both are UTF-16 surrogate pairs that must survive the split into parts.
MESSAGE = (BASE * 5)[:198] + "😀𠮷"


async def _gammu(tmp: Path, sim: SimProcess, *args: str) -> tuple[int, str]:
    gammu = shutil.which("gammu")
    assert gammu, "gammu is not installed: run scripts/test, which installs it"
    rc = tmp / "gammurc"
    rc.write_text(f"[gammu]\ndevice = {sim.link}\nconnection = at\n", encoding="utf-8")
    # Under the C locale gammu silently sends an empty text for Chinese input.
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    proc = await asyncio.create_subprocess_exec(
        gammu,
        "-c",
        str(rc),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    async with asyncio.timeout(120):
        out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode("utf-8", "replace")


async def test_gammu_identifies_the_simulator(tmp_path: Path) -> None:
    async with sim_process(tmp_path) as sim:
        code, out = await _gammu(tmp_path, sim, "identify")
    assert code == 0, out
    assert "IMEI                 : 867584030123454" in out
    assert "SIM IMSI             : 460001234567890" in out
    assert "SIMCOM INCORPORATED" in out


async def test_gammu_sends_long_chinese_with_emoji_and_rare_cjk(tmp_path: Path) -> None:
    assert len(MESSAGE) == 200
    async with sim_process(tmp_path) as sim:
        code, out = await _gammu(
            tmp_path,
            sim,
            "sendsms",
            "TEXT",
            "+8613800138000",
            "-unicode",
            "-autolen",
            "600",
            "-text",
            MESSAGE,
        )
        assert code == 0, out
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{sim.control_url}/sent") as resp:
                sent = await resp.json()
            async with http.get(f"{sim.control_url}/state") as resp:
                state = await resp.json()
    assert len(sent) == 1, sent
    message = sent[0]
    assert message["text"] == MESSAGE
    assert message["to"] == "+8613800138000"
    assert message["complete"] is True
    assert message["duplicate_parts"] == 0
    # 200 code points, 2 of them surrogate pairs = 202 UTF-16 units = 4 parts of ≤ 67.
    assert message["parts"] == 4
    assert message["mr"] == [0, 1, 2, 3]
    assert state["counters"]["cmgs_ok"] == 4
    assert state["counters"]["cmgs_error"] == 0
