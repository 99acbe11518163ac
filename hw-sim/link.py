"""A pseudo-terminal that any program opens like ``/dev/ttyUSB0``.

The slave side is put in raw mode (in cooked mode ``AT\\r`` arrives as ``AT\\n`` and is echoed
by the kernel) and published as a symlink at a stable path. The simulator keeps its own slave
descriptor open so that the master never sees EIO when a client closes the port, and the
client can reopen it. The master is read and written without blocking; nothing else here.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import tty
from collections.abc import Callable
from pathlib import Path


class PtyLink:
    """One pty pair and the symlink that names it."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self._master = -1
        self._slave = -1
        self.device = ""

    def open(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.device = os.ttyname(slave)
        self.link.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.link.with_name(f".{self.link.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(self.device)
        os.replace(tmp, self.link)  # atomic: a client never sees the link missing

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if os.readlink(self.link) == self.device:
                self.link.unlink()
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1

    def start_reading(self, on_data: Callable[[bytes], None]) -> None:
        loop = asyncio.get_running_loop()

        def readable() -> None:
            try:
                data = os.read(self._master, 4096)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno == errno.EIO:  # no slave open anywhere: nothing to read
                    return
                raise
            if data:
                on_data(data)

        loop.add_reader(self._master, readable)

    def stop_reading(self) -> None:
        if self._master >= 0:
            asyncio.get_running_loop().remove_reader(self._master)

    async def write(self, data: bytes) -> None:
        """Write all of ``data``, waiting while the client is not reading."""
        loop = asyncio.get_running_loop()
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                ready = loop.create_future()
                loop.add_writer(self._master, ready.set_result, None)
                try:
                    await ready
                finally:
                    loop.remove_writer(self._master)
                continue
            view = view[written:]
