"""``smscat modem send --report`` and ``smscat modem listen`` as processes on a real pty."""

from __future__ import annotations

import asyncio
import json
import math
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from smscat.hwsim.service import SimOptions, Simulator, running

TEXT = ("术后第七天血压偏高，请问需要调整用药吗？我每天早晚各测一次。" * 12)[:298] + "😀𠮷"


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[Simulator]:
    async with running(SimOptions(link=tmp_path / "modem", report_delay=0.05)) as simulator:
        yield simulator


async def smscat_modem(*args: str, feed: Any = None) -> tuple[int, list[dict[str, Any]], str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "smscat.relay.daemon.cli",
        "modem",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    if feed is not None:
        await feed()
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode is not None
    rows = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    return proc.returncode, rows, err.decode()


async def test_send_with_reports_matches_every_part_across_the_mr_wrap(sim: Simulator) -> None:
    sim.engine.mr = 253  # the next parts get TP-MR 253, 254, 255, 0, 1
    code, [result], err = await smscat_modem(
        "send",
        "--port",
        str(sim.link),
        "--to",
        "138 0013 8000",
        "--text",
        TEXT,
        "--report",
        "--report-timeout",
        "20",
    )
    assert code == 0, err
    units = len(TEXT.encode("utf-16-be")) // 2
    assert result["parts"] == math.ceil(units / 67) == 5
    assert result["mr"] == [253, 254, 255, 0, 1]
    assert [r["mr"] for r in result["reports"]] == [253, 254, 255, 0, 1]
    assert [r["seq"] for r in result["reports"]] == [1, 2, 3, 4, 5]
    assert all(r["delivered"] for r in result["reports"])
    [sent] = [m.as_json() for m in sim.engine.sent]
    assert (sent["to"], sent["text"], sent["complete"]) == ("+8613800138000", TEXT, True)


async def test_listen_prints_a_waiting_and_a_reversed_5_part_message_once_each(
    sim: Simulator,
) -> None:
    waiting = "我在排队，开机前就到了"
    sim.engine.network_sms("+8613800138001", waiting)
    assert sim.engine.state()["storage"] == {"used": 1, "total": 30, "read": 0}

    async def inject() -> None:
        await asyncio.sleep(2.0)  # listen has started and swept by now
        await sim.call(
            lambda: (None, sim.engine.network_sms("+8613800138002", TEXT, order="reverse")[2])
        )

    code, rows, err = await smscat_modem(
        "listen", "--port", str(sim.link), "--seconds", "5", "--sweep-every", "1", feed=inject
    )
    assert code == 0, err
    assert [(r["from"], r["text"], r["parts"], r["complete"]) for r in rows] == [
        ("+8613800138001", waiting, 1, True),
        ("+8613800138002", TEXT, 5, True),
    ]
    assert all(r["received_at"].endswith("+08:00") for r in rows)
    assert sim.engine.state()["storage"]["used"] == 0  # deleted after printing


async def test_listen_keep_leaves_the_sim_alone_and_still_prints_once(sim: Simulator) -> None:
    sim.engine.network_sms("+8613800138001", "留在卡上")
    code, rows, err = await smscat_modem(
        "listen", "--port", str(sim.link), "--seconds", "2.5", "--sweep-every", "0.5", "--keep"
    )
    assert code == 0, err
    assert [r["text"] for r in rows] == ["留在卡上"]  # swept 4 times, printed once
    assert sim.engine.state()["storage"]["used"] == 1


async def test_listen_finds_and_deletes_an_sms_another_program_left_in_me(tmp_path: Path) -> None:
    """Storages preset "SM","SM","ME" (as other software leaves them): the SMS waits in ME."""
    options = SimOptions(link=tmp_path / "modem", storages=("SM", "SM", "ME"))
    async with running(options) as preset:
        preset.engine.network_sms("+8613800138001", "存在ME里")
        assert preset.engine.stores["ME"].used == 1
        code, rows, err = await smscat_modem(
            "listen", "--port", str(preset.link), "--seconds", "1.5"
        )
        assert code == 0, err
        assert [r["text"] for r in rows] == ["存在ME里"]
        assert preset.engine.stores["ME"].used == 0  # deleted where it was read


async def test_listen_reports_a_message_missing_a_part_as_incomplete(sim: Simulator) -> None:
    sim.engine.network_sms("+8613800138002", TEXT, drop=[3])
    code, rows, err = await smscat_modem("listen", "--port", str(sim.link), "--seconds", "1")
    assert code == 0, err
    [row] = rows
    assert (row["complete"], row["parts"]) == (False, 5)
    assert sim.engine.state()["storage"]["used"] == 4  # incomplete parts stay on the SIM


async def test_usage_and_port_errors_exit_2_and_1(sim: Simulator, tmp_path: Path) -> None:
    code, rows, err = await smscat_modem(
        "send", "--port", str(sim.link), "--to", "call me", "--text", "x"
    )
    assert (code, rows) == (2, [])
    assert "not a phone number" in err
    code, rows, err = await smscat_modem("probe", "--port", str(tmp_path / "nothing"))
    assert (code, rows) == (1, [])
    assert "cannot open the modem port" in err
    assert "Traceback" not in err
