"""Delivery-report matching: which submitted part does an SMS-STATUS-REPORT speak of?

The driver records every submitted part (:meth:`ReportMatcher.record`: modem, TP-MR, recipient,
time, and a key of the caller's choosing); a :class:`~.pdu.StatusReport` read from modem M is
then matched (:meth:`ReportMatcher.match`) to the most recent outstanding submit with the same
(M, TP-MR, recipient) inside a time window. TP-MR is 8-bit and wraps at 255, so an entry older
than the window never matches; when the same MR is outstanding twice inside the window, the
report's TP-SCTS (when the service centre took the submit) picks the right one.

It must never: raise on a report it cannot place (that is an :class:`Unmatched` result); do I/O,
read a clock or import asyncio; put a phone number in a repr or an exception message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Generic, Literal, TypeVar

from .address import DEFAULT_REGION, AddressError, normalise
from .pdu import StatusReport

DEFAULT_WINDOW: Final = timedelta(days=3)
# How far the service centre's clock may run behind ours when TP-SCTS breaks a tie.
DEFAULT_CLOCK_SKEW: Final = timedelta(minutes=5)

K = TypeVar("K")


@dataclass(frozen=True)
class Submitted(Generic[K]):
    """One submitted part waiting for its status report."""

    modem_id: str
    mr: int
    recipient: str = field(repr=False)  # E.164 (or a short code) as the caller normalised it
    submitted_at: datetime
    key: K = field(repr=False)


@dataclass(frozen=True)
class Matched(Generic[K]):
    """A report placed. ``final`` is False for a "still trying" report (status 0x20-0x3F):
    the entry stays outstanding, because the final report is still to come."""

    entry: Submitted[K]
    report: StatusReport
    final: bool


@dataclass(frozen=True)
class Unmatched:
    """A report that fits no outstanding submit (unknown, stale, or already answered)."""

    modem_id: str
    report: StatusReport
    reason: Literal["no-submit", "outside-window"]


class ReportMatcher(Generic[K]):
    """Outstanding submits per modem, matched to status reports; see the module docstring."""

    def __init__(
        self,
        window: timedelta = DEFAULT_WINDOW,
        clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
        region: str = DEFAULT_REGION,
    ) -> None:
        if window <= timedelta(0) or clock_skew < timedelta(0):
            raise ValueError("window must be positive and clock_skew not negative")
        self.window = window
        self.clock_skew = clock_skew
        self.region = region
        self._outstanding: dict[tuple[str, int], list[Submitted[K]]] = {}

    def __repr__(self) -> str:
        return f"ReportMatcher(outstanding={len(self)}, window={self.window!r})"

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._outstanding.values())

    def _number(self, raw: str) -> str:
        # Service centres echo the recipient in national or international form; compare E.164.
        try:
            return normalise(raw, self.region)
        except AddressError:
            return raw

    def record(
        self, modem_id: str, mr: int, recipient: str, submitted_at: datetime, key: K
    ) -> Submitted[K]:
        """Remember a submitted part (``mr`` as ``+CMGS: <mr>`` gave it)."""
        if not 0 <= mr <= 255:
            raise ValueError("TP-MR is one octet")
        if submitted_at.tzinfo is None:
            raise ValueError("submitted_at must be timezone-aware (reports carry an offset)")
        entry = Submitted(modem_id, mr, self._number(recipient), submitted_at, key)
        self._outstanding.setdefault((modem_id, mr), []).append(entry)
        return entry

    def match(self, modem_id: str, report: StatusReport, now: datetime) -> Matched[K] | Unmatched:
        """Place a report read from ``modem_id``; a final report removes its entry."""
        recipient = self._number(report.recipient)
        same = [
            entry
            for entry in self._outstanding.get((modem_id, report.mr), [])
            if entry.recipient == recipient
        ]
        if not same:
            return Unmatched(modem_id, report, "no-submit")
        fresh = [entry for entry in same if now - entry.submitted_at <= self.window]
        if not fresh:
            return Unmatched(modem_id, report, "outside-window")
        # The SC stamped the submit when it took it: a submit made after that (beyond clock
        # skew) is a later use of the same wrapped MR. A wrong SC clock must not lose the
        # report, so with no such candidate the most recent one is still taken.
        before = [e for e in fresh if e.submitted_at <= report.scts + self.clock_skew]
        entry = max(before or fresh, key=lambda e: e.submitted_at)
        final = not report.pending
        if final:
            self._remove(entry)
        return Matched(entry, report, final)

    def _remove(self, entry: Submitted[K]) -> None:
        slot = (entry.modem_id, entry.mr)
        entries = self._outstanding[slot]
        entries.remove(entry)
        if not entries:
            del self._outstanding[slot]

    def expire(self, now: datetime) -> list[Submitted[K]]:
        """Drop and return entries older than the window: their report will not come."""
        gone: list[Submitted[K]] = []
        for slot, entries in list(self._outstanding.items()):
            keep = [e for e in entries if now - e.submitted_at <= self.window]
            gone.extend(e for e in entries if now - e.submitted_at > self.window)
            if keep:
                self._outstanding[slot] = keep
            else:
                del self._outstanding[slot]
        gone.sort(key=lambda e: e.submitted_at)
        return gone
