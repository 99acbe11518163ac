"""The serial port: the only module in smscat that touches a modem's device.

pyserial-asyncio-fast on a device path (``/dev/serial/by-id/…``, ``/dev/pts/N``; opened
exclusively, so a second program cannot interleave bytes) or a ``socket://host:port`` URL.
Bytes in go straight to the ``on_data`` callback as the event loop reads them (an asyncio
protocol: no reader task, no stream buffer between the port and the parser); the end of the
port goes to ``on_lost`` once. Bytes out with :meth:`SerialTransport.write`. Every failure
becomes :class:`TransportError`. No parsing here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import serial
import serial_asyncio_fast

from smscat.modem.errors import TransportError

DataHandler = Callable[[bytes], None]
LostHandler = Callable[[TransportError], None]


class _Protocol(asyncio.Protocol):
    def __init__(self, on_data: DataHandler, on_lost: LostHandler) -> None:
        self._on_data = on_data
        self._on_lost = on_lost
        self.closed = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self._on_data(data)

    def eof_received(self) -> bool:
        self._on_lost(TransportError("the modem port closed"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        reason = f"the modem port failed: {exc}" if exc else "the modem port closed"
        self._on_lost(TransportError(reason))
        if not self.closed.done():
            self.closed.set_result(None)


class SerialTransport:
    """An open port. Use ``await SerialTransport.open(port, on_data, on_lost)`` and ``close()``."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol

    @classmethod
    async def open(
        cls, port: str, on_data: DataHandler, on_lost: LostHandler, baudrate: int = 115200
    ) -> SerialTransport:
        loop = asyncio.get_running_loop()
        protocol = _Protocol(on_data, on_lost)
        # flock on a device path: one owner per modem (a socket has no such thing)
        exclusive = {} if port.startswith("socket://") else {"exclusive": True}
        try:
            transport, _ = await serial_asyncio_fast.create_serial_connection(
                loop, lambda: protocol, port, baudrate=baudrate, **exclusive
            )
        except (OSError, serial.SerialException, ValueError) as exc:
            raise TransportError(f"cannot open the modem port: {exc}") from exc
        assert isinstance(transport, asyncio.Transport)
        return cls(transport, protocol)

    def write(self, data: bytes) -> None:
        """Queue ``data`` for the port (commands are small; the loop writes them out)."""
        if self._transport.is_closing():
            raise TransportError("the modem port is closed")
        try:
            self._transport.write(data)
        except (OSError, serial.SerialException) as exc:
            raise TransportError(f"the modem port failed: {exc}") from exc

    async def close(self) -> None:
        self._transport.close()
        with contextlib.suppress(OSError, serial.SerialException, TimeoutError):
            async with asyncio.timeout(5):
                await self._protocol.closed
