"""An aiohttp hello-world in its own process: the web benchmark's ceiling on this machine.

Usage: python bench/hello.py

Serves ``GET /`` ("Hello, world", text/plain) on 127.0.0.1, a port the kernel picks, with
aiohttp's defaults and no access log (as the daemon runs it), and prints
``READY http://127.0.0.1:PORT``. Stops on SIGTERM, SIGINT, or when its stdin closes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from aiohttp import web


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="Hello, world")


async def serve() -> None:
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        print(f"READY http://127.0.0.1:{port}", flush=True)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        reader = asyncio.StreamReader()
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(sys.stdin.fileno(), "rb", 0)
        )
        try:
            async with asyncio.TaskGroup() as tasks:
                eof = tasks.create_task(reader.read())
                eof.add_done_callback(lambda _: stop.set())
                await stop.wait()
                eof.cancel()
        finally:
            transport.close()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve())
