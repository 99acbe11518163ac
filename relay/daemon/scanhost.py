"""What the host says about its serial ports, for ``smscat modem scan``: no AT here.

Which ports to look at (``/dev/serial/by-id`` first), which process holds each (``/proc``) and
which USB devices are in a mode with no AT port at all (``/sys``). Every function takes its
root directory, so a test points it at a fake tree; it only reads, never opens a port.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

_TTY = re.compile(r"^tty(USB|ACM)(\d+)$")
_INTERFACE = re.compile(r"-if(\d+)(?:-port\d+)?$")
# usb_modeswitch's own data names these; a HiLink stick is a network card (cdc_ether / rndis)
NETWORK_DRIVERS = frozenset({"cdc_ether", "rndis_host", "cdc_ncm", "huawei_cdc_ncm", "cdc_mbim"})
MASS_STORAGE_CLASS = "08"  # USB-IF base class 08h: mass storage (the "CD-ROM" of a 3G stick)


@dataclass(frozen=True, slots=True)
class Port:
    """A port to scan: the name to use in config (by-id where there is one) and its device."""

    path: str
    device: str  # what the path resolves to (/dev/ttyUSB2, /dev/pts/4)
    group: str | None = None  # the USB device it is an interface of (by-id stem), if known
    interface: str | None = None  # "if02" from the by-id name


@dataclass(frozen=True, slots=True)
class Holder:
    pid: int
    name: str

    def __str__(self) -> str:
        return f"{self.name} pid {self.pid}"


@dataclass(frozen=True, slots=True)
class UsbHint:
    """A USB device with no AT port: ``kind`` is "mass-storage" or "hilink"."""

    usb: str  # the sysfs name, e.g. 1-1.2
    kind: str
    vendor: str
    product_id: str
    product: str
    drivers: tuple[str, ...]


def _natural(name: str) -> tuple[int, int]:
    """ttyUSB before ttyACM (most modems are ttyUSB), and ttyUSB10 after ttyUSB9."""
    match = _TTY.match(name)
    assert match is not None
    return (0 if match[1] == "USB" else 1, int(match[2]))


def list_ports(dev: Path, wanted: list[str] | None = None) -> list[Port]:
    """The ports under ``dev``: by-id links first, then ttyUSB*/ttyACM* not already named.

    With ``wanted`` (``--port``), exactly those, in that order.
    """
    if wanted:
        return [_port(Path(p)) for p in wanted]
    ports: list[Port] = []
    seen: set[str] = set()
    by_id = dev / "serial" / "by-id"
    with contextlib.suppress(OSError):
        for link in sorted(by_id.iterdir()):
            port = _port(link)
            ports.append(port)
            seen.add(port.device)
    with contextlib.suppress(OSError):
        names = sorted((p.name for p in dev.iterdir() if _TTY.match(p.name)), key=_natural)
        for name in names:
            device = str((dev / name).resolve())
            if device not in seen:
                ports.append(Port(str(dev / name), device))
    return ports


def _port(path: Path) -> Port:
    device = str(path.resolve()) if path.exists() else str(path)
    match = _INTERFACE.search(path.name)
    if match is None:
        return Port(str(path), device)
    return Port(str(path), device, path.name[: match.start()], f"if{match[1]}")


def _pty_index(device: str) -> int | None:
    """The N of /dev/pts/N (a pty's master end says which pty it is in its fdinfo)."""
    match = re.fullmatch(r"/dev/pts/(\d+)", device)
    return int(match[1]) if match else None


def holders(proc: Path, device: str, *, me: int | None = None) -> list[Holder]:
    """The processes with ``device`` open, from ``<proc>/<pid>/fd/*`` (the scan itself aside).

    A process that also holds the pty's master end is the pty's other side (a simulator, a
    terminal), not a competitor for it, and is not listed. Processes whose fds cannot be read
    (another user's, without root) cannot be named: they are not listed either.
    """
    me = os.getpid() if me is None else me
    pty = _pty_index(device)
    found: list[Holder] = []
    try:
        pids = sorted(int(p.name) for p in proc.iterdir() if p.name.isdigit())
    except OSError:
        return found
    for pid in pids:
        if pid == me:
            continue
        fds = proc / str(pid) / "fd"
        opened = False
        master = False
        try:
            entries = list(fds.iterdir())
        except OSError:
            continue
        for fd in entries:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target == device:
                opened = True
            elif pty is not None and target in ("/dev/ptmx", "/dev/pts/ptmx"):
                master = master or _tty_index(proc / str(pid) / "fdinfo" / fd.name) == pty
        if opened and not master:
            found.append(Holder(pid, _comm(proc / str(pid))))
    return found


def _tty_index(fdinfo: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        for line in fdinfo.read_text(encoding="ascii").splitlines():
            if line.startswith("tty-index:"):
                return int(line.split(":", 1)[1])
    return None


def _comm(pid_dir: Path) -> str:
    try:
        return (pid_dir / "comm").read_text(encoding="utf-8", errors="replace").strip() or "?"
    except OSError:
        return "?"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def usb_hints(sys_root: Path) -> list[UsbHint]:
    """USB devices in a mode with no serial port: CD-ROM/mass storage, or HiLink (network only).

    Read from ``<sys>/bus/usb/devices``: a device directory (``1-1.2``, with ``idVendor``) and
    its interface directories (``1-1.2:1.0``, with ``bInterfaceClass`` and a ``driver`` link).
    """
    base = sys_root / "bus" / "usb" / "devices"
    try:
        entries = sorted(base.iterdir())
    except OSError:
        return []
    hints: list[UsbHint] = []
    for device in entries:
        if ":" in device.name or not (device / "idVendor").exists():
            continue
        interfaces = [e for e in entries if e.name.startswith(device.name + ":")]
        classes = [_read(i / "bInterfaceClass").lower() for i in interfaces]
        drivers = tuple(_driver(i) for i in interfaces)
        if any(_has_tty(i) for i in interfaces):
            continue  # it has serial ports: the port scan speaks for it
        vendor, product_id = _read(device / "idVendor").lower(), _read(device / "idProduct")
        kind = None
        if any(d in NETWORK_DRIVERS for d in drivers):
            kind = "hilink"
        elif MASS_STORAGE_CLASS in classes:
            kind = "mass-storage"
        if kind is None:
            continue  # a keyboard, a hub: nothing of ours
        if kind == "hilink" and vendor != "12d1" and MASS_STORAGE_CLASS not in classes:
            continue  # a network card of another maker is not a modem stick we can tell
        hints.append(
            UsbHint(
                device.name,
                kind,
                vendor,
                product_id.lower(),
                _read(device / "product") or "?",
                tuple(sorted({d for d in drivers if d})),
            )
        )
    return hints


def _driver(interface: Path) -> str:
    with contextlib.suppress(OSError):
        return Path(os.readlink(interface / "driver")).name
    return ""


def _has_tty(interface: Path) -> bool:
    with contextlib.suppress(OSError):
        return any(e.name.startswith("tty") for e in interface.iterdir())
    return False
