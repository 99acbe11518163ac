"""A DTE for tests: real serial I/O (pyserial-asyncio-fast) on the simulator's pty."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path
from types import TracebackType
from typing import Self

import serial_asyncio_fast

FINAL = re.compile(rb"\r\n(OK|ERROR|COMMAND NOT SUPPORT|\+CM[ES] ERROR: [^\r\n]*)\r\n|\r\n> ")


class AtPort:
    """Open ``path`` like /dev/ttyUSB0; send bytes; read exactly what the modem answered."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.buffer = bytearray()

    async def __aenter__(self) -> Self:
        self._reader, self._writer = await serial_asyncio_fast.open_serial_connection(
            url=str(self.path), baudrate=115200
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):  # an unplugged device fails its own close
                await self._writer.wait_closed()

    async def send(self, data: bytes) -> None:
        assert self._writer is not None
        self._writer.write(data)
        await self._writer.drain()

    async def read_until(self, pattern: re.Pattern[bytes], timeout: float = 5.0) -> bytes:
        """Read until ``pattern`` matches; return everything up to the match's end.

        Bytes after the match (an unsolicited line in the same write) stay for the next read.
        """
        assert self._reader is not None
        async with asyncio.timeout(timeout):
            while not (match := pattern.search(self.buffer)):
                chunk = await self._reader.read(4096)
                if not chunk:
                    raise EOFError("the port closed")
                self.buffer.extend(chunk)
        data = bytes(self.buffer[: match.end()])
        del self.buffer[: match.end()]
        return data

    async def command(self, line: bytes, timeout: float = 5.0) -> bytes:
        """Send ``line`` and return every byte up to and including the final result/prompt."""
        await self.send(line)
        return await self.read_until(FINAL, timeout)

    async def quiet(self, seconds: float) -> bytes:
        """Whatever arrives within ``seconds`` (for asserting silence or an unsolicited line)."""
        assert self._reader is not None
        try:
            async with asyncio.timeout(seconds):
                while True:
                    chunk = await self._reader.read(4096)
                    if not chunk:
                        break
                    self.buffer.extend(chunk)
        except TimeoutError:
            pass
        data = bytes(self.buffer)
        self.buffer.clear()
        return data
