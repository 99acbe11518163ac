"""How an admin proves who they are: signed cookies, client networks and the login guard.

* :class:`Signer`: values signed with ``web.secret_key`` (HMAC-SHA256 over a purpose and the
  value, so that a value signed for one cookie is worth nothing as another). The session
  cookie is one, so a session outlives a restart; the device cookie a browser gets at a
  successful login is another.
* :func:`network_of`: the client's network, IPv4 /24 or IPv6 /64: what failures are counted by
  (one person easily holds a whole /64, or several addresses of a /24) and what the audit log
  keeps instead of the address.
* :class:`LoginGuard`: may this attempt have its password checked now? Asked, and answered with
  a reservation, before the (slow, 64 MiB) argon2 check, so that forty attempts at once cannot
  all pass a "fewer than five failures" test that no failure has reached yet. Failures count

  - per username and network: 5 in 15 minutes lock that pair for 15 minutes. An attacker
    elsewhere locks only themselves; the admin logs in from their own network;
  - per network, whatever the usernames: 20 in 15 minutes lock the network;
  - per username and device, instead of the two above, for a browser that shows a device
    cookie from an earlier successful login as that user: nobody else's failures touch it;
  - everywhere together: past 50 failures in 15 minutes (many networks guessing) a check for
    a browser without such a device cookie is let through once every 3 seconds, the others
    are asked to come back. Never a lock for a device the admin has logged in with before.

  Only admitted attempts make entries, and once 50 are failing or being checked, admitted ones
  come at most one per 3 seconds: the guard's memory (and the queue before the password
  checks) is bounded without ever forgetting a live lock.

Pure: no I/O, the clock is given. It must never keep or log a password, a cookie's value or a
full client address.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

MIN_KEY = 32  # bytes of web.secret_key
MAX_TOKEN = 4096  # characters of a signed value worth looking at
WINDOW: Final = 15 * 60.0  # failures count this long; a lock lasts this long
USER_FAILURES: Final = 5  # per username and network (or device)
NETWORK_FAILURES: Final = 20  # per network, any usernames
GLOBAL_FREE: Final = 50  # failures everywhere before the global slow-down
GATE_EVERY: Final = 3.0  # seconds between two checks for browsers without a device cookie
BUSY: Final = 60.0  # seconds to come back when a key's remaining tries are all being checked
SWEEP_AT: Final = 1024  # entries before a sweep of the expired ones


# -- signed values -------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


class Signer:
    """Values signed with ``web.secret_key`` (never shown: no repr of the key)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY:
            raise ValueError(f"a signing key needs {MIN_KEY} bytes at least")
        self._key = key

    def __repr__(self) -> str:
        return "Signer(…)"

    def _mac(self, purpose: str, data: bytes) -> bytes:
        return hmac.new(self._key, purpose.encode() + b"\0" + data, hashlib.sha256).digest()

    def sign(self, purpose: str, value: Mapping[str, Any]) -> str:
        data = json.dumps(dict(value), separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(data)}.{_b64(self._mac(purpose, data))}"

    def unsign(self, purpose: str, token: str) -> dict[str, Any] | None:
        """The value signed for ``purpose``; None for anything else (forged, other purpose…)."""
        if len(token) > MAX_TOKEN:
            return None
        body, dot, mac = token.partition(".")
        if not dot:
            return None
        try:
            data, given = _unb64(body), _unb64(mac)
        except (ValueError, binascii.Error):
            return None
        if not hmac.compare_digest(given, self._mac(purpose, data)):
            return None
        try:
            value = json.loads(data)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def digest(self, purpose: str, text: str) -> str:
        """A keyed fingerprint of ``text`` (32 hex digits): says nothing of ``text`` itself."""
        return self._mac(purpose, text.encode()).hex()[:32]


# -- client networks -----------------------------------------------------------------------------


def network_of(address: str) -> str:
    """``203.0.113.0/24`` for 203.0.113.7, ``2001:db8:1:2::/64`` for an IPv6 address in it;
    ``unknown`` for what is no address (a Unix socket)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 64
    return str(ipaddress.ip_network((ip, prefix), strict=False))


# -- the login guard -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Count:
    limit: int
    failures: deque[float] = field(default_factory=deque)
    pending: int = 0  # admitted, password being checked
    locked_until: float = 0.0


@dataclass(frozen=True, slots=True)
class Ticket:
    """An admitted attempt: hand it back to :meth:`LoginGuard.finish` whatever happens."""

    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Refused:
    seconds: float  # when to come back


@dataclass(frozen=True, slots=True)
class Locked:
    """A lock a failure has just caused (for the audit log): what it holds, for how long."""

    scope: str  # "user+network", "user+device" or "network"
    seconds: float


class LoginGuard:
    """Who may have a password checked now (see the module's docstring)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._counts: dict[str, _Count] = {}
        self._failures: deque[float] = deque()  # everywhere, within the window
        self._pending = 0  # admitted attempts being checked, everywhere
        self._gate_open = 0.0  # the global slow-down's next free moment
        self._sweep_at = SWEEP_AT

    def __len__(self) -> int:  # entries held (their number is bounded: see the docstring)
        return len(self._counts)

    @staticmethod
    def _keys(username: str, network: str, device: str | None) -> tuple[tuple[str, int], ...]:
        user = username.casefold()
        if device is not None:
            return ((f"user+device\0{user}\0{device}", USER_FAILURES),)
        return (
            (f"user+network\0{user}\0{network}", USER_FAILURES),
            (f"network\0{network}", NETWORK_FAILURES),
        )

    def admit(self, username: str, network: str, device: str | None = None) -> Ticket | Refused:
        """Reserve a check of ``username``'s password from ``network`` (or from the browser
        with device cookie ``device``, a signed id), or say when to come back.

        Check and reservation are one step (no await between them): the reservation counts
        against the limits until :meth:`finish` turns it into a failure or releases it.
        """
        now = self.clock()
        if len(self._counts) >= self._sweep_at:
            for key, entry in list(self._counts.items()):
                self._expire(key, entry, now)
            self._sweep_at = max(SWEEP_AT, 2 * len(self._counts))
        keys = self._keys(username, network, device)
        wait = 0.0
        for key, _ in keys:
            count = self._counts.get(key)
            if count is None:
                continue
            self._expire(key, count, now)
            if count.locked_until > now:
                wait = max(wait, count.locked_until - now)
            elif len(count.failures) + count.pending >= count.limit:
                wait = max(wait, BUSY)
        gated = device is None and self._recent_failures(now) + self._pending >= GLOBAL_FREE
        if gated and now < self._gate_open:
            wait = max(wait, self._gate_open - now)
        if wait > 0:
            return Refused(wait)
        if gated:
            self._gate_open = now + GATE_EVERY
        self._pending += 1
        for key, limit in keys:
            self._counts.setdefault(key, _Count(limit)).pending += 1
        return Ticket(tuple(key for key, _ in keys))

    def finish(self, ticket: Ticket, ok: bool) -> list[Locked]:
        """The check's outcome; the locks this failure has caused (none on success)."""
        now = self.clock()
        locked: list[Locked] = []
        self._pending -= 1
        if not ok:
            self._failures.append(now)
        for key in ticket.keys:
            count = self._counts.get(key)
            if count is None:  # cannot happen: an entry with a reservation is never dropped
                continue
            count.pending -= 1
            scope = key.split("\0", 1)[0]
            if ok:
                if scope != "network":  # a success clears the username's failures only
                    count.failures.clear()
            else:
                count.failures.append(now)
                self._expire(key, count, now)
                if len(count.failures) >= count.limit:
                    count.failures.clear()
                    count.locked_until = now + WINDOW
                    locked.append(Locked(scope, WINDOW))
            self._expire(key, count, now)
        return locked

    def _recent_failures(self, now: float) -> int:
        while self._failures and self._failures[0] <= now - WINDOW:
            self._failures.popleft()
        return len(self._failures)

    def _expire(self, key: str, count: _Count, now: float) -> None:
        while count.failures and count.failures[0] <= now - WINDOW:
            count.failures.popleft()
        if count.locked_until <= now and not count.failures and not count.pending:
            self._counts.pop(key, None)
