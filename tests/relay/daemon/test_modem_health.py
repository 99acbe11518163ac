"""Nothing lost when a SIM loses coverage, is barred, or asks for its PIN again (issue 13).

The whole daemon on two (or one) simulated modems over ptys, real HTTP, a real SQLite file.
Each fault is the simulator's own (hw-sim ``network-down``, ``barred``, ``reject``, ``unplug``
with a PIN-protected SIM), switched on through its control API; what is asserted is what the
simulated network took (``/sent``, ``/state``) and what the daemon shows (``/healthz``,
``/metrics``, the dashboard, its alerts, the patient's page).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from smscat.modem.supervisor import SupervisorSettings
from smscat.relay.core.texts import render
from smscat.relay.daemon.app import Daemon, running_daemon
from smscat.relay.daemon.config import Settings
from tests.support.admin import ADMINS, Browser
from tests.support.daemon import DEPARTMENT, NO_LIMITS, TIMEOUT
from tests.support.relay import Clock
from tests.support.supervision import FAULT_TOLERANT

SUPERVISION = replace(FAULT_TOLERANT, network_probe_every=0.5, ready_wait=2.0)
EXPERTS = [f"+86138001380{n:02d}" for n in range(1, 25)]
ADMIN_PHONE = "+8613700009999"
LONG = "".join(f"第{i}点：术后一周内避免剧烈活动，按时换药。" for i in range(1, 13))  # 5 parts


def _config(tmp_path: Path, sims: list[dict[str, Any]], **modem: Any) -> Settings:
    return Settings(
        department={"name": DEPARTMENT, "hospital": "示范医院"},
        modems=[
            {"id": f"sim{i}", "port": "sim", "sim": {"report_delay": 0.2, **sim}, **modem}
            for i, sim in enumerate(sims, 1)
        ],
        experts=[
            {
                "id": f"e{i:02d}",
                "name": f"医生{i}",
                "title": "主治医师",
                "department": "外科",
                "phone": phone,
            }
            for i, phone in enumerate(EXPERTS, 1)
        ],
        storage={"path": str(tmp_path / "smscat.db")},
        web={"host": "127.0.0.1", "port": 0, "rate_limits": NO_LIMITS},
        admins=ADMINS,
        alerts={"phones": [ADMIN_PHONE]},
    )


class Sims:
    """The daemon, its API and each simulated modem's control API."""

    def __init__(self, running: Daemon, http: aiohttp.ClientSession) -> None:
        self.running = running
        self.http = http

    async def control(self, sim: str, path: str, body: object = None) -> Any:
        url = self.running.simulators[sim] + path
        if body is None:
            async with self.http.get(url) as resp:
                return await resp.json()
        async with self.http.post(url, json=body) as resp:
            assert resp.status in (200, 202), await resp.text()
            return await resp.json()

    async def sent(self, sim: str, number: str | None = None) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = await self.control(sim, "/sent")
        return [m for m in messages if number is None or m["to"] == number]

    async def cmgs(self, sim: str) -> int:
        state = await self.control(sim, "/state")
        return int(state["counters"]["by_command"].get("+CMGS", 0))

    async def ask(self, expert: str, text: str, **extra: Any) -> tuple[int, str]:
        async with self.http.post(
            self.running.url + "/api/questions",
            json={"expert_id": expert, "nickname": "小周", "text": text, "public": False, **extra},
        ) as resp:
            body = await resp.json()
            assert resp.status == 201, body
            return int(body["id"]), str(body["token"])

    async def thread(self, thread_id: int, token: str) -> dict[str, Any]:
        async with self.http.get(
            f"{self.running.url}/api/questions/{thread_id}",
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            body: dict[str, Any] = await resp.json()
            return body

    async def healthz(self) -> tuple[int, dict[str, Any]]:
        async with self.http.get(self.running.url + "/healthz") as resp:
            return resp.status, await resp.json()

    async def metrics(self) -> str:
        async with self.http.get(self.running.url + "/metrics") as resp:
            assert resp.status == 200
            return await resp.text()

    async def settled(self) -> None:
        """Nothing queued (the welcome SMS went)."""
        async with asyncio.timeout(20):
            while (await self.running.relay.read.outbox_counts()).get("queued"):  # noqa: ASYNC110
                await asyncio.sleep(0.05)

    async def home(self, number: str) -> str | None:
        rows = await self.running.relay.db.fetchall(
            "SELECT modem_id FROM recipient_modem WHERE recipient = ?", (number,)
        )
        return str(rows[0][0]) if rows else None


@asynccontextmanager
async def sims(
    tmp_path: Path,
    sims: list[dict[str, Any]],
    *,
    supervision: SupervisorSettings = SUPERVISION,
    clock: Clock | None = None,
    **modem: Any,
) -> AsyncIterator[Sims]:
    config = _config(tmp_path, sims, **modem)
    extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
    async with (
        running_daemon(config, supervision=supervision, retry_base=0.5, **extra) as running,
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
    ):
        yield Sims(running, http)


async def _eventually(check: Any, seconds: float = 15.0) -> None:
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # polling the daemon and the simulated network


async def test_a_sim_that_loses_coverage_takes_nothing_and_the_other_sends_it_all(
    tmp_path: Path,
) -> None:
    """Must-show 1: 24 questions, SIM 1 unregistered 1 s in: all 24 arrive once, in 30 s."""
    async with sims(tmp_path, [{"send_latency": 0.05}, {"send_latency": 0.05}]) as s:
        await s.settled()
        texts = {
            number: f"问题{i}：换药后伤口发红，要紧吗？" for i, number in enumerate(EXPERTS, 1)
        }

        async def flow() -> None:
            for i, number in enumerate(EXPERTS, 1):
                await s.ask(f"e{i:02d}", texts[number])
                await asyncio.sleep(0.1)

        asking = asyncio.create_task(flow())
        await asyncio.sleep(1.0)
        await s.control("sim1", "/faults", {"profile": "network-down", "seconds": 3600})
        before = await s.cmgs("sim1")
        started = asyncio.get_running_loop().time()
        await asking

        async def all_arrived() -> bool:
            got = [m for sim in ("sim1", "sim2") for m in await s.sent(sim) if m["complete"]]
            return all(any(texts[n] in m["text"] for m in got if m["to"] == n) for n in EXPERTS)

        await _eventually(all_arrived, 30)
        assert asyncio.get_running_loop().time() - started < 30
        # SIM 1 took no AT+CMGS while unregistered, but for at most the one that told it so
        assert await s.cmgs("sim1") - before <= 1
        for number in EXPERTS:  # each question exactly once
            got = [m for sim in ("sim1", "sim2") for m in await s.sent(sim, number)]
            assert sum(texts[number] in m["text"] for m in got) == 1, number
        counts = await s.running.relay.read.outbox_counts()
        assert not counts.get("failed")

        # SIM 1 back: a new recipient (a patient's first code) goes to it again
        await s.control("sim1", "/faults", {"profile": "none"})
        await _eventually(lambda: _can_send(s, "sim1"))
        for n, phone in enumerate(("+8613911110001", "+8613911110002")):
            async with s.http.post(s.running.url + "/api/verifications", json={"phone": phone}):
                pass

            async def arrived(phone: str = phone) -> bool:
                return any([m for sim in ("sim1", "sim2") for m in await s.sent(sim, phone)])

            await _eventually(arrived)
            # the idle SIM with the most room today
            assert [m["to"] for m in await s.sent("sim1", phone)] == [phone], n
            await _eventually(lambda: _idle(s))  # (a busy SIM would pass the next one on)


async def _idle(s: Sims) -> bool:
    """No SIM is sending, nothing is queued."""
    busy = any(view.busy for view in await s.running.pump.views())
    return not busy and not (await s.running.relay.read.outbox_counts()).get("queued")


async def _can_send(s: Sims, sim: str) -> bool:
    return s.running.supervisors[sim].blocked() is None


async def test_no_network_for_hours_fails_nothing_and_says_why(tmp_path: Path) -> None:
    """Must-show 2: longer than the old retry budget, then everything out within 5 s."""
    clock = Clock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    async with sims(tmp_path, [{}], clock=clock) as s:
        await s.settled()
        await s.control("sim1", "/faults", {"profile": "network-down", "seconds": 3600})
        await _eventually(lambda: _blocked(s, "no-network"))
        asked = [await s.ask(f"e{i:02d}", f"急：术后第{i}天发烧38度") for i in range(1, 4)]
        for _ in range(3):  # 3 hours: the old budget was 8 attempts in about an hour
            clock.now += timedelta(hours=1)
            s.running.relay.outbox_changed.set()  # the pump looks at the queue again
            await asyncio.sleep(0.3)
        rows = await s.running.relay.db.fetchall(
            "SELECT status, attempts FROM outbox WHERE kind = 'to_expert' AND thread_id IS NOT NULL"
        )
        assert sorted((r["status"], r["attempts"]) for r in rows) == [("queued", 0)] * 3
        for thread_id, token in asked:
            assert (await s.thread(thread_id, token))["status"] == "queued"

        status, body = await s.healthz()
        assert status == 503
        assert body["modems"][0]["blocked"] == "no-network"
        assert not body["modems"][0]["can_send"]
        metrics = await s.metrics()
        assert 'smscat_modem_up{modem="sim1"} 0.0' in metrics
        assert 'smscat_modem_blocked{modem="sim1",reason="no-network"} 1.0' in metrics
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=jar) as http:
            admin = Browser(http, s.running.url)
            assert (await admin.login())[0] == 303
            page, _ = await admin.dashboard()
        assert render("block.no-network") in page
        alerter = s.running.alerter
        assert alerter is not None
        await alerter.check()
        clock.now += timedelta(minutes=11)
        await alerter.check()
        clock.now += timedelta(minutes=11)
        await alerter.check()  # still one incident, not one per check
        opened = [a for a in await s.running.relay.read.open_alerts() if a["kind"] == "modem_down"]
        assert len(opened) == 1
        assert ("open", "modem_down", "sim1") in alerter.sent
        admin_sms = await s.running.relay.db.fetchall(
            "SELECT text FROM outbox WHERE recipient = ?", (ADMIN_PHONE,)
        )
        assert any("没有网络信号" in r["text"] for r in admin_sms)

        await s.control("sim1", "/faults", {"profile": "none"})
        back = asyncio.get_running_loop().time()

        async def all_out() -> bool:
            counts = await s.running.relay.read.outbox_counts()
            return not counts.get("queued")

        await _eventually(all_out, 5)
        assert asyncio.get_running_loop().time() - back < 5
        for i in range(1, 4):
            assert any(
                f"术后第{i}天发烧" in m["text"] for m in await s.sent("sim1", EXPERTS[i - 1])
            )


async def _blocked(s: Sims, why: str) -> bool:
    return s.running.supervisors["sim1"].blocked() == why


async def _homed_on(s: Sims, sim: str) -> tuple[str, str]:
    """An expert (id, number) whose SMS come from ``sim`` (their welcome SMS went there)."""
    for i, number in enumerate(EXPERTS, 1):
        if await s.home(number) == sim:
            return f"e{i:02d}", number
    raise AssertionError(f"no expert is homed on {sim}")


async def test_a_barred_sim_passes_its_sms_to_the_other(tmp_path: Path) -> None:
    """Must-show 3a: +CMS 8 marks the SIM; the question arrives whole from the other one."""
    async with sims(tmp_path, [{}, {}]) as s:
        await s.settled()
        expert, number = await _homed_on(s, "sim1")
        await s.control("sim1", "/faults", {"profile": "barred"})
        thread_id, token = await s.ask(expert, LONG)

        await _eventually(lambda: _whole_from(s, "sim2", number, LONG))
        assert s.running.supervisors["sim1"].blocked() == "barred"
        assert not [m for m in await s.sent("sim1", number) if LONG in m["text"]]

        async def recorded() -> bool:  # the phone has it a moment before the pump commits
            (row,) = await s.running.relay.db.fetchall(
                "SELECT status FROM outbox WHERE thread_id = ?", (thread_id,)
            )
            return row["status"] != "queued"

        await _eventually(recorded)
        (row,) = await s.running.relay.db.fetchall(
            "SELECT status, attempts FROM outbox WHERE thread_id = ?", (thread_id,)
        )
        assert (row["status"], row["attempts"]) == ("sent", 0)  # the SIM's fault, not the SMS's
        assert (await s.thread(thread_id, token))["status"] in ("sent", "delivered")
        # a barred SIM takes nothing new meanwhile: the next one goes straight to sim2
        sim1_before = await s.cmgs("sim1")
        await s.ask(expert, "再问一句：可以洗澡吗？")
        await _eventually(
            lambda: _sent_text(s, "sim2", number, "可以洗澡吗"),
        )
        assert await s.cmgs("sim1") == sim1_before


async def _whole_from(s: Sims, sim: str, number: str, text: str) -> bool:
    """``number`` got ``text`` whole from ``sim``."""
    return any(m["complete"] and text in m["text"] for m in await s.sent(sim, number))


async def _sent_text(s: Sims, sim: str, number: str, words: str) -> bool:
    return any(words in m["text"] for m in await s.sent(sim, number))


async def test_coverage_lost_at_part_3_of_5_sends_it_again_whole_from_the_other(
    tmp_path: Path,
) -> None:
    """Must-show 3b: a phone cannot join parts from two numbers: the whole SMS again."""
    async with sims(tmp_path, [{}, {}]) as s:
        await s.settled()
        expert, number = await _homed_on(s, "sim1")
        await s.control("sim1", "/faults", {"profile": "network-down", "part": 3, "seconds": 60})
        thread_id, _ = await s.ask(expert, LONG)

        await _eventually(lambda: _whole_from(s, "sim2", number, LONG))
        [fragment] = [m for m in await s.sent("sim1", number) if m["parts"] == 5]
        assert not fragment["complete"]  # what the expert holds from sim1: parts 1 and 2
        [whole] = [m for m in await s.sent("sim2", number) if LONG in m["text"]]
        assert whole["parts"] == 5
        assert whole["ref"] != fragment["ref"]
        spent = await s.running.relay.db.fetchall(
            "SELECT modem_id, seq FROM outbox_parts_spent WHERE outbox_id IN"
            " (SELECT id FROM outbox WHERE thread_id = ?)",
            (thread_id,),
        )
        assert sorted((r["modem_id"], r["seq"]) for r in spent) == [("sim1", 1), ("sim1", 2)]


async def test_an_unknown_subscriber_on_a_part_fails_the_sms_and_says_so(tmp_path: Path) -> None:
    """Must-show 3c: +CMS 28 is about the recipient: failed at once, admins told, page too."""
    async with sims(tmp_path, [{}, {}]) as s:
        await s.settled()
        for sim in ("sim1", "sim2"):
            await s.control(sim, "/faults", {"profile": "reject", "code": 28, "part": 2})
        thread_id, token = await s.ask("e01", LONG)

        async def failed() -> bool:
            return (await s.thread(thread_id, token))["status"] == "failed"

        await _eventually(failed)
        view = await s.thread(thread_id, token)
        assert "未能送达" in view["notice"]
        (row,) = await s.running.relay.db.fetchall(
            "SELECT status, error FROM outbox WHERE thread_id = ?", (thread_id,)
        )
        assert (row["status"], row["error"]) == ("failed", "+CMS ERROR 28")
        alerter = s.running.alerter
        assert alerter is not None
        await alerter.check()
        assert ("open", "sms_failed", "outbox") in alerter.sent
        assert all(sup.blocked() is None for sup in s.running.supervisors.values())


async def test_transfer_rejected_is_tried_once_from_the_other_sim(tmp_path: Path) -> None:
    """+CMS 21 may be one SIM's filter: the whole SMS once from the other SIM, then it goes."""
    async with sims(tmp_path, [{}, {}]) as s:
        await s.settled()
        expert, number = await _homed_on(s, "sim1")
        await s.control("sim1", "/faults", {"profile": "reject", "code": 21, "part": 2})
        thread_id, _ = await s.ask(expert, LONG)

        await _eventually(lambda: _whole_from(s, "sim2", number, LONG))
        (row,) = await s.running.relay.db.fetchall(
            "SELECT status, avoid_modem FROM outbox WHERE thread_id = ?", (thread_id,)
        )
        assert (row["status"], row["avoid_modem"]) == ("sent", "sim1")


async def test_a_replugged_sim_asks_for_its_pin_again_and_gets_it(tmp_path: Path) -> None:
    """Must-show 4a: the PIN is entered whenever the SIM asks, not once per process."""
    async with sims(tmp_path, [{"pin": "1234"}], pin="1234") as s:
        await s.settled()
        await s.control("sim1", "/faults", {"profile": "unplug", "seconds": 0.5})
        await _eventually(lambda: _state_is(s, "connecting", "down", "sim-locked"))
        await _eventually(lambda: _can_send(s, "sim1"), 20)
        state = await s.control("sim1", "/state")
        assert state["counters"]["pin_attempts"] == 2  # at start, and after the replug
        await s.ask("e01", "拔插之后还能收到吗？")
        await _eventually(lambda: _sent_text(s, "sim1", EXPERTS[0], "拔插之后还能收到吗"))


async def _state_is(s: Sims, *states: str) -> bool:
    return s.running.supervisors["sim1"].state in states


async def test_a_refused_pin_is_never_tried_again_not_after_a_restart(tmp_path: Path) -> None:
    """Must-show 4b: three restarts must not lock the SIM behind its PUK."""
    for run in range(3):
        async with sims(tmp_path, [{"pin": "1234"}], pin="9999") as s:
            await _eventually(lambda: _state_is(s, "sim-locked"), 20)
            state = await s.control("sim1", "/state")
            # (each run starts a new simulated SIM: its count is this run's tries)
            assert state["counters"].get("pin_attempts", 0) == (1 if run == 0 else 0), run
            assert s.running.supervisors["sim1"].blocked() == "sim-pin"
            status, body = await s.healthz()
            assert (status, body["modems"][0]["blocked"]) == (503, "sim-pin")
    # the right PIN in config: tried, and the SIM opens
    async with sims(tmp_path, [{"pin": "1234"}], pin="1234") as s:
        await _eventually(lambda: _can_send(s, "sim1"), 20)
        state = await s.control("sim1", "/state")
        assert state["counters"]["pin_attempts"] == 1
        rows = await s.running.relay.db.fetchall("SELECT COUNT(*) FROM refused_pins")
        assert rows[0][0] == 0  # accepted: the refusal is forgotten
