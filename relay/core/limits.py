"""Sliding-window rate limits: how many times a key may do a thing within a window.

Pure: the caller passes the time; nothing here reads a clock or does I/O. Memory stays bounded:
a key's old timestamps are dropped as it is used, and keys idle for a window are swept.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class RateLimit:
    limit: int
    window: timedelta
    _hits: dict[str, deque[datetime]] = field(default_factory=dict, repr=False)
    _swept: datetime | None = field(default=None, repr=False)

    def allow(self, key: str, now: datetime) -> bool:
        """Count one use by ``key`` now; False (not counted) when it is over the limit."""
        self._sweep(now)
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def retry_after(self, key: str, now: datetime) -> int:
        """Seconds until ``key`` may try again (0: now)."""
        hits = self._hits.get(key)
        if not hits or len(hits) < self.limit:
            return 0
        return max(1, int((hits[0] + self.window - now).total_seconds()) + 1)

    def _sweep(self, now: datetime) -> None:
        if self._swept is not None and now - self._swept < self.window:
            return
        self._swept = now
        for key in [
            k for k, hits in self._hits.items() if not hits or now - hits[-1] >= self.window
        ]:
            del self._hits[key]
