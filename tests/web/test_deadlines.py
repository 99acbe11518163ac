"""Slow clients lose their connection (``web.timeouts``), over raw TCP against a whole daemon.

Half a request header, then nothing: closed within ``idle_seconds``. A request body that stops
coming: 408 within ``body_seconds``. A client that does its part quickly is answered as ever.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from yarl import URL

from smscat.relay.daemon.app import Daemon
from tests.support.daemon import Client, daemon

TIMEOUTS = {"timeouts": {"idle_seconds": 0.5, "body_seconds": 0.5}}
BOUND = 5.0  # seconds: far above the configured half second, far below aiohttp's hour


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[Daemon, Client]]:
    async with daemon(tmp_path, web=TIMEOUTS) as running:
        yield running


async def connect(running: Daemon) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    url = URL(running.url)
    assert url.host is not None
    assert url.port is not None
    return await asyncio.open_connection(url.host, url.port)


async def test_half_a_header_then_silence_is_cut_off(app: tuple[Daemon, Client]) -> None:
    reader, writer = await connect(app[0])
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slo")
        await writer.drain()
        async with asyncio.timeout(BOUND):
            assert await reader.read() == b""  # closed by the server, nothing answered
    finally:
        writer.close()


async def test_a_connection_that_never_says_anything_is_cut_off(
    app: tuple[Daemon, Client],
) -> None:
    reader, writer = await connect(app[0])
    try:
        async with asyncio.timeout(BOUND):
            assert await reader.read() == b""
    finally:
        writer.close()


async def test_a_body_that_stops_coming_gets_408(app: tuple[Daemon, Client]) -> None:
    reader, writer = await connect(app[0])
    try:
        writer.write(
            b"POST /links HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
            b"phone=139"
        )
        await writer.drain()
        async with asyncio.timeout(BOUND):
            status = await reader.readline()
        assert status.startswith(b"HTTP/1.1 408"), status
    finally:
        writer.close()


async def test_a_quick_client_is_answered_and_may_come_back_within_the_idle_time(
    app: tuple[Daemon, Client],
) -> None:
    reader, writer = await connect(app[0])
    try:
        for _ in range(2):
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            await writer.drain()
            async with asyncio.timeout(BOUND):
                assert (await reader.readline()).startswith(b"HTTP/1.1 ")
                while (line := await reader.readline()) != b"\r\n":
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
            await asyncio.sleep(0.2)  # under the idle time: the connection is still there
        status, _ = await app[1].call("POST", "/api/verifications", phone="13912345678")
        assert status == 202  # a body sent at once is read as ever
    finally:
        writer.close()
