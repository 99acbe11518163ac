"""The serial port: the only module in smscat that touches a modem's device.

pyserial-asyncio-fast on a device path (``/dev/serial/by-id/…``, ``/dev/pts/N``; opened
exclusively, so a second program cannot interleave bytes) or a ``socket://host:port`` URL.
Bytes in, bytes out; every failure becomes :class:`TransportError`. No parsing here.
"""

from __future__ import annotations

import asyncio
import contextlib

import serial
import serial_asyncio_fast

from smscat.modem.errors import TransportError


class SerialTransport:
    """An open port. Use ``await SerialTransport.open(port)`` and ``await close()``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, port: str, baudrate: int = 115200) -> SerialTransport:
        try:
            if port.startswith("socket://"):
                opened = serial_asyncio_fast.open_serial_connection(url=port, baudrate=baudrate)
            else:  # flock on a device path: one owner per modem
                opened = serial_asyncio_fast.open_serial_connection(
                    url=port, baudrate=baudrate, exclusive=True
                )
            reader, writer = await opened
        except (OSError, serial.SerialException, ValueError) as exc:
            raise TransportError(f"cannot open the modem port: {exc}") from exc
        return cls(reader, writer)

    async def read(self) -> bytes:
        """The next bytes from the modem; TransportError when the device is gone."""
        try:
            data = await self._reader.read(4096)
        except (OSError, serial.SerialException) as exc:
            raise TransportError(f"the modem port failed: {exc}") from exc
        if not data:
            raise TransportError("the modem port closed")
        return data

    async def write(self, data: bytes) -> None:
        if self._writer.is_closing():
            raise TransportError("the modem port is closed")
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (OSError, serial.SerialException) as exc:
            raise TransportError(f"the modem port failed: {exc}") from exc

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, serial.SerialException):
            await self._writer.wait_closed()
