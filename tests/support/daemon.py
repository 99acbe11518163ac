"""A whole smscat daemon in the test's event loop: built-in simulator, SQLite file, real HTTP."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from smscat.modem.address import normalise
from smscat.modem.supervisor import SupervisorSettings
from smscat.relay.daemon.app import RETRY_BASE, Daemon, running_daemon
from smscat.relay.daemon.config import Settings

EXPERT_ZHANG = "+8613800138001"
EXPERT_LI = "+8613800138002"
PATIENT = "+8613912345678"
PATIENT_2 = "+8613698765432"
DEPARTMENT = "心内科咨询"
TIMEOUT = aiohttp.ClientTimeout(total=10)
NO_LIMITS = {  # the per-client-network limits (web/limits.py), for tests that do not test them
    "asks_per_hour": None,
    "followups_per_hour": None,
    "codes_per_hour": None,
    "links_per_hour": None,
}


def settings(
    tmp_path: Path,
    *,
    admins: list[dict[str, str]] | None = None,
    web: dict[str, Any] | None = None,
    relay: dict[str, Any] | None = None,
    **sim: Any,
) -> Settings:
    return Settings(
        department={"name": DEPARTMENT, "hospital": "示范医院"},
        modems=[{"id": "sim1", "port": "sim", "sim": {"report_delay": 0.2, **sim}}],
        experts=[
            {
                "id": "zhang",
                "name": "张明",
                "title": "主任医师",
                "department": "心血管内科",
                "phone": EXPERT_ZHANG,
                "specialty": "高血压",
            },
            {
                "id": "li",
                "name": "李华",
                "title": "副主任医师",
                "department": "心血管内科",
                "phone": EXPERT_LI,
            },
        ],
        storage={"path": str(tmp_path / "smscat.db")},
        # per-client limits off unless a test turns them on: tests ask from one address
        web={"host": "127.0.0.1", "port": 0, "rate_limits": NO_LIMITS, **(web or {})},
        admins=admins or [],
        relay=relay or {},
    )


@asynccontextmanager
async def daemon(
    tmp_path: Path,
    *,
    admins: list[dict[str, str]] | None = None,
    web: dict[str, Any] | None = None,
    relay: dict[str, Any] | None = None,
    supervision: SupervisorSettings | None = None,
    retry_base: float = RETRY_BASE,
    **sim: Any,
) -> AsyncIterator[tuple[Daemon, Client]]:
    config = settings(tmp_path, admins=admins, web=web, relay=relay, **sim)
    async with (
        running_daemon(config, supervision=supervision, retry_base=retry_base) as running,
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
    ):
        yield running, Client(http, running.url, running.simulators["sim1"])


class Client:
    """The API and the simulated phones, as a test drives them."""

    def __init__(self, http: aiohttp.ClientSession, api: str, sim: str) -> None:
        self.http = http
        self.api = api
        self.sim = sim

    async def call(
        self, method: str, path: str, *, token: str | None = None, **body: Any
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(
            method, self.api + path, json=body if body else None, headers=headers
        ) as resp:
            data = await resp.json(content_type=None) if resp.content_length != 0 else None
            return resp.status, data

    async def simulator(self, path: str, body: object = None) -> Any:
        """The simulated modem's control API: GET ``path``, or POST ``body`` to it."""
        if body is None:
            async with self.http.get(self.sim + path) as resp:
                return await resp.json()
        async with self.http.post(self.sim + path, json=body) as resp:
            assert resp.status in (200, 202), await resp.text()
            return await resp.json()

    async def phone_sends(self, sender: str, text: str) -> None:
        """A simulated phone sends an SMS to the hospital's SIM."""
        async with self.http.post(self.sim + "/sms", json={"from": sender, "text": text}) as r:
            assert r.status == 202, await r.text()

    async def received_by(self, number: str) -> list[str]:
        """The texts the hospital's SIM sent to ``number``, complete messages only."""
        async with self.http.get(self.sim + "/sent") as resp:
            sent = await resp.json()
        return [m["text"] for m in sent if m["to"] == number and m["complete"]]

    async def wait_for_sms(
        self, number: str, match: Callable[[str], bool], seconds: float = 15.0
    ) -> str:
        async with asyncio.timeout(seconds):
            while True:
                for text in await self.received_by(number):
                    if match(text):
                        return text
                await asyncio.sleep(0.1)

    async def verify(self, number: str) -> tuple[str, str]:
        """Ask for a code for ``number``; return (verification_id, the code from the SMS)."""
        e164 = normalise(number)
        seen = {t for t in await self.received_by(e164) if "验证码" in t}
        status, body = await self.call("POST", "/api/verifications", phone=number)
        assert status == 202, body
        text = await self.wait_for_sms(e164, lambda t: "验证码" in t and t not in seen)
        found = re.search(r"\d{6}", text)
        assert found, "the verification SMS carries a 6-digit code"
        return body["verification_id"], found.group(0)

    async def thread(self, thread_id: int, token: str) -> dict[str, Any]:
        status, body = await self.call("GET", f"/api/questions/{thread_id}", token=token)
        assert status == 200, body
        return dict(body)

    async def wait_thread(
        self, thread_id: int, token: str, check: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        async with asyncio.timeout(15):
            while not check(view := await self.thread(thread_id, token)):  # noqa: ASYNC110
                await asyncio.sleep(0.1)  # polling the API, as a browser would
        return view


async def ask_public(client: Client, text: str, expert_id: str = "zhang") -> tuple[int, str]:
    """The patient verifies their phone (typed with spaces, as people do) and asks in public, with
    it for the answer by SMS; the new thread's id and token."""
    verification_id, code = await client.verify("139 1234 5678")
    status, asked = await client.call(
        "POST",
        "/api/questions",
        expert_id=expert_id,
        nickname="小王",
        text=text,
        public=True,
        phone="13912345678",
        verification_id=verification_id,
        code=code,
    )
    assert status == 201, asked
    return asked["id"], asked["token"]


async def settled(running: Daemon) -> dict[str, int]:
    """Wait until nothing is queued (the experts' welcome SMS have gone); the outbox by status."""
    async with asyncio.timeout(15):
        while True:
            counts = await running.relay.read.outbox_counts()
            if counts and not counts.get("queued"):
                return counts
            await asyncio.sleep(0.1)
