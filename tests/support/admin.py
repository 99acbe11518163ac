"""An admin's browser over real HTTP (its own cookie jar) and the SMS that admin pages act on."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
from argon2 import PasswordHasher

from smscat.relay.daemon.app import Daemon
from tests.support.daemon import EXPERT_ZHANG, PATIENT, Client

PASSWORD = "correct horse battery"
HASH = PasswordHasher().hash(PASSWORD)
ADMINS = [{"username": "root", "password_hash": HASH}]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
Page = tuple[int, dict[str, str], str, list[str]]  # status, headers, body, Set-Cookie headers


class Browser:
    """One admin's browser: its own cookie jar (cookies from 127.0.0.1 accepted)."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base

    async def get(self, path: str = "/admin", headers: dict[str, str] | None = None) -> Page:
        async with self.http.get(self.base + path, headers=headers or {}) as resp:
            return await _page(resp)

    async def post(
        self, path: str, data: dict[str, str], headers: dict[str, str] | None = None
    ) -> Page:
        async with self.http.post(
            self.base + path, data=data, headers=headers or {}, allow_redirects=False
        ) as resp:
            return await _page(resp)

    async def login_form(self) -> str:
        status, _, body, _ = await self.get()
        assert status == 200, body
        assert 'name="password"' in body
        found = CSRF.search(body)
        assert found
        return found.group(1)

    async def login(self, username: str = "root", password: str = PASSWORD, **headers: str) -> Page:
        token = await self.login_form()
        form = {"csrf": token, "username": username, "password": password}
        return await self.post("/admin/login", form, headers)

    async def dashboard(self) -> tuple[str, str]:
        """The dashboard's HTML and its CSRF token."""
        status, _, body, _ = await self.get()
        assert status == 200, body
        assert 'action="/admin/logout"' in body, body
        found = CSRF.search(body)
        assert found
        return body, found.group(1)


async def _page(resp: aiohttp.ClientResponse) -> Page:
    cookies = resp.headers.getall("Set-Cookie", [])
    return resp.status, dict(resp.headers), await resp.text(), cookies


async def two_questions(client: Client, *, phone: bool = False) -> list[int]:
    ids = []
    for n in range(2):
        extra: dict[str, Any] = {}
        if phone and n == 0:
            verification_id, code = await client.verify(PATIENT)
            extra = {"phone": PATIENT, "verification_id": verification_id, "code": code}
        status, body = await client.call(
            "POST", "/api/questions", expert_id="zhang", nickname=f"患者{n}",
            text=f"问题{n}", public=False, **extra,
        )  # fmt: skip
        assert status == 201, body
        ids.append(int(body["id"]))
    return ids


async def unmatched(running: Daemon, client: Client, text: str) -> int:
    """The expert sends ``text`` without a code while two questions are open: unmatched."""
    await client.phone_sends(EXPERT_ZHANG, text)
    async with asyncio.timeout(15):
        while True:
            for row in await running.relay.read.unmatched_inbound():
                if row["text"] == text:
                    return int(row["id"])
            await asyncio.sleep(0.1)
