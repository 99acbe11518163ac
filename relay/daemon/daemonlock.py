"""One daemon per database: a lock file beside it, taken before anything is touched.

A second ``smscat run`` on the same config must not migrate the database under the first,
replace the first one's simulated modem link, or serve a second web server on the same data.
:func:`hold` takes an exclusive ``flock`` on ``<database>.lock`` for the life of the daemon and
writes the holder's pid and host into it, so that the one refused can say who runs. The kernel
drops a ``flock`` when its holder dies, so the file a killed daemon leaves behind blocks nobody;
the file itself is never deleted (a process that opened it just before an unlink would lock an
inode nobody else sees). :func:`check_web_port` says before start-up, not half-way through it,
that the web address is taken.

Outer ring of the relay (the daemon's). It must never: wait for a lock (a refusal is immediate)
or put anything but a pid, a host name, a path or an address into its errors.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path


class StartRefused(Exception):
    """The daemon cannot start here; the message is one line for the operator.

    StartRefused
    ├── AlreadyRunning  another daemon holds this database's lock
    └── WebPortInUse    the web address is already bound by another process
    """


class AlreadyRunning(StartRefused):
    def __init__(self, database: Path, holder: str) -> None:
        who = f"pid {holder}" if holder else "a process that has not yet said its pid"
        super().__init__(f"smscat is already running on {database} ({who}); stop it first")
        self.holder = holder


class WebPortInUse(StartRefused):
    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"the web address {host}:{port} is already in use (web.host, web.port)")
        self.host, self.port = host, port


def lock_path(database: Path) -> Path:
    """The lock file of ``database``: beside it, ``smscat.db`` → ``smscat.db.lock``."""
    return database.with_name(database.name + ".lock")


@contextlib.contextmanager
def hold(database: Path) -> Iterator[Path]:
    """Hold ``database``'s lock for the block; :class:`AlreadyRunning` if another process does."""
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # close-on-exec: no child inherits it
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            raise AlreadyRunning(database, holder) from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)  # no stale pid for whoever reads it next
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def check_web_port(host: str, port: int) -> None:
    """:class:`WebPortInUse` when ``host:port`` cannot be bound as the web server will bind it.

    Binds each address ``host`` resolves to with SO_REUSEADDR (as asyncio's server does), then
    lets go. Port 0 always has a free port. A bind that fails later anyway (another process
    took the port in between) is an ``OSError`` with ``EADDRINUSE`` for the caller to word.
    """
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror:
        return  # the web server's own bind will say what is wrong with the name
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise WebPortInUse(host, port) from exc
                continue  # not ours to judge (no IPv6 here…): the web server's bind will say
