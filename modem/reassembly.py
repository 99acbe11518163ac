"""Reassembly of concatenated SMS (23.040 §9.2.3.24.1): parts in, whole messages out.

A pure component: parts and the current time go in (:meth:`Reassembler.add`,
:meth:`Reassembler.expire`), :class:`Message` values come out, and the pending state can be
exported and imported (:meth:`Reassembler.snapshot`, :meth:`Reassembler.restore`) as JSON-able
dicts so that whoever owns persistence (the relay, in SQLite) can keep it across restarts.

Parts are grouped by (sender, reference, total). They may arrive in any order; a repeated part
(same sequence number again) keeps the first copy and is counted. A part whose ``total``
differs belongs to a different message. After a group completes, the same key starts a new group
(references are 8-bit and wrap), except that an exact repeat of a part of a message completed
within ``duplicate_window`` is recognised as a late duplicate (some modems store one SMS twice).

It must never: drop a part silently (a group that does not complete within ``timeout`` comes
out of :meth:`Reassembler.expire` as an explicit incomplete :class:`Message`); do I/O, read a
clock or import asyncio; show a phone number or message text in a repr or exception message.
It has no wording of its own: where a part is missing it writes ``missing_mark``, which whoever
shows the text to people chooses (the relay takes it from its texts); :data:`MISSING_MARK` is a
neutral default.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from .pdu import Concat, Deliver, join_texts

DEFAULT_TIMEOUT: Final = timedelta(hours=24)
DEFAULT_DUPLICATE_WINDOW: Final = timedelta(hours=1)
MISSING_MARK: Final = "[…]"  # stands for each missing part in an incomplete message's text
SNAPSHOT_VERSION: Final = 1

_Key = tuple[str, int, int]  # (sender, reference, total)


class ReassemblyStateError(ValueError):
    """A snapshot that cannot be restored; the message names the field, never the content."""


@dataclass(frozen=True)
class Part:
    """One received part, as reassembly needs it (a :class:`~.pdu.Deliver` converts itself).

    ``concat`` is None for a single SMS. A concatenation element that 23.040 says to ignore
    (total 0, seq 0 or seq > total) is treated as absent, as the PDU decoder does.
    """

    sender: str = field(repr=False)
    text: str = field(repr=False)
    concat: Concat | None
    scts: datetime | None = None

    @classmethod
    def from_deliver(cls, deliver: Deliver) -> Part:
        return cls(deliver.sender, deliver.text, deliver.concat, deliver.scts)


@dataclass(frozen=True)
class Message:
    """A reassembled message, complete or (from :meth:`Reassembler.expire`) incomplete.

    For an incomplete message ``text`` is the parts present, in order, with the reassembler's
    ``missing_mark`` where each missing part would be, and ``missing`` lists their numbers.
    ``ref`` is None for a single SMS. ``scts`` is the service-centre time of the lowest part held.
    """

    sender: str = field(repr=False)
    text: str = field(repr=False)
    complete: bool
    ref: int | None
    total: int
    parts: int  # distinct parts held
    missing: tuple[int, ...]
    duplicates: int  # repeated parts that were ignored
    first_received: datetime
    last_received: datetime
    scts: datetime | None


@dataclass
class _Held:
    text: str = field(repr=False)
    received_at: datetime
    scts: datetime | None


@dataclass
class _Group:
    first_received: datetime
    last_received: datetime
    parts: dict[int, _Held] = field(default_factory=dict)
    duplicates: int = 0


@dataclass
class _Completed:
    """A message completed recently, remembered only to recognise late duplicates of its parts."""

    completed_at: datetime
    parts: dict[int, tuple[str, datetime | None]] = field(repr=False)


def _usable(concat: Concat | None) -> Concat | None:
    if concat is None or concat.total < 1 or not 1 <= concat.seq <= concat.total:
        return None
    return concat


class Reassembler:
    """Groups parts of concatenated SMS by (sender, reference, total); see the module docstring."""

    def __init__(
        self,
        timeout: timedelta = DEFAULT_TIMEOUT,
        duplicate_window: timedelta = DEFAULT_DUPLICATE_WINDOW,
        *,
        missing_mark: str = MISSING_MARK,
    ) -> None:
        if timeout <= timedelta(0) or duplicate_window < timedelta(0):
            raise ValueError("timeout must be positive and duplicate_window not negative")
        self.timeout = timeout
        self.duplicate_window = duplicate_window
        self.missing_mark = missing_mark
        self._groups: dict[_Key, _Group] = {}
        self._completed: dict[_Key, _Completed] = {}
        self.late_duplicates = 0  # repeats of parts of messages already completed

    def __repr__(self) -> str:
        return (
            f"Reassembler(pending={len(self._groups)}, recently_completed={len(self._completed)},"
            f" timeout={self.timeout!r})"
        )

    def __len__(self) -> int:
        """Groups still waiting for parts."""
        return len(self._groups)

    # --- parts in ---------------------------------------------------------------------------

    def add(self, part: Part | Deliver, now: datetime) -> Message | None:
        """Take one part; return the message it completes, or None while parts are missing."""
        if isinstance(part, Deliver):
            part = Part.from_deliver(part)
        concat = _usable(part.concat)
        if concat is None:
            return Message(
                sender=part.sender,
                text=join_texts([part.text]),
                complete=True,
                ref=None,
                total=1,
                parts=1,
                missing=(),
                duplicates=0,
                first_received=now,
                last_received=now,
                scts=part.scts,
            )
        key: _Key = (part.sender, concat.ref, concat.total)
        group = self._groups.get(key)
        if group is None:
            if self._is_late_duplicate(key, concat.seq, part, now):
                self.late_duplicates += 1
                return None
            group = self._groups[key] = _Group(first_received=now, last_received=now)
        group.last_received = max(group.last_received, now)
        if concat.seq in group.parts:
            group.duplicates += 1
            return None
        group.parts[concat.seq] = _Held(part.text, now, part.scts)
        if len(group.parts) < concat.total:
            return None
        del self._groups[key]
        self._completed[key] = _Completed(
            completed_at=now,
            parts={seq: (held.text, held.scts) for seq, held in group.parts.items()},
        )
        return _message(key, group, complete=True, mark=self.missing_mark)

    def _is_late_duplicate(self, key: _Key, seq: int, part: Part, now: datetime) -> bool:
        done = self._completed.get(key)
        if done is None:
            return False
        if now - done.completed_at > self.duplicate_window:
            del self._completed[key]
            return False
        return done.parts.get(seq) == (part.text, part.scts)

    # --- time passes ------------------------------------------------------------------------

    def expire(self, now: datetime) -> list[Message]:
        """Give up on groups whose first part is ``timeout`` old: each comes out incomplete."""
        out: list[Message] = []
        for key, group in list(self._groups.items()):
            if now - group.first_received >= self.timeout:
                del self._groups[key]
                out.append(_message(key, group, complete=False, mark=self.missing_mark))
        for key, done in list(self._completed.items()):
            if now - done.completed_at > self.duplicate_window:
                del self._completed[key]
        out.sort(key=lambda message: message.first_received)
        return out

    def next_deadline(self) -> datetime | None:
        """When :meth:`expire` will next have something to say (None if nothing is pending)."""
        if not self._groups:
            return None
        return min(group.first_received for group in self._groups.values()) + self.timeout

    # --- state out and in -------------------------------------------------------------------

    def snapshot(self) -> list[dict[str, Any]]:
        """The pending state as JSON-able dicts; texts as UTF-16-BE hex, so half pairs survive."""
        rows: list[dict[str, Any]] = []
        for (sender, ref, total), group in self._groups.items():
            rows.append(
                {
                    "v": SNAPSHOT_VERSION,
                    "kind": "pending",
                    "sender": sender,
                    "ref": ref,
                    "total": total,
                    "first_received": group.first_received.isoformat(),
                    "last_received": group.last_received.isoformat(),
                    "duplicates": group.duplicates,
                    "parts": [
                        {
                            "seq": seq,
                            "text_utf16": _hex(held.text),
                            "received_at": held.received_at.isoformat(),
                            "scts": None if held.scts is None else held.scts.isoformat(),
                        }
                        for seq, held in sorted(group.parts.items())
                    ],
                }
            )
        for (sender, ref, total), done in self._completed.items():
            rows.append(
                {
                    "v": SNAPSHOT_VERSION,
                    "kind": "completed",
                    "sender": sender,
                    "ref": ref,
                    "total": total,
                    "completed_at": done.completed_at.isoformat(),
                    "parts": [
                        {
                            "seq": seq,
                            "text_utf16": _hex(text),
                            "scts": None if scts is None else scts.isoformat(),
                        }
                        for seq, (text, scts) in sorted(done.parts.items())
                    ],
                }
            )
        return rows

    def restore(self, rows: Iterable[dict[str, Any]]) -> None:
        """Replace the state with a :meth:`snapshot`; nothing changes if any row is malformed."""
        groups: dict[_Key, _Group] = {}
        completed: dict[_Key, _Completed] = {}
        for row in rows:
            try:
                if row["v"] != SNAPSHOT_VERSION:
                    raise ReassemblyStateError("unknown snapshot version")
                key: _Key = (str(row["sender"]), int(row["ref"]), int(row["total"]))
                if row["kind"] == "pending":
                    group = _Group(
                        first_received=datetime.fromisoformat(row["first_received"]),
                        last_received=datetime.fromisoformat(row["last_received"]),
                        duplicates=int(row["duplicates"]),
                    )
                    for p in row["parts"]:
                        seq = int(p["seq"])
                        if not 1 <= seq <= key[2]:
                            raise ReassemblyStateError("part number out of range")
                        group.parts[seq] = _Held(
                            _unhex(p["text_utf16"]),
                            datetime.fromisoformat(p["received_at"]),
                            _optional_time(p["scts"]),
                        )
                    groups[key] = group
                elif row["kind"] == "completed":
                    completed[key] = _Completed(
                        completed_at=datetime.fromisoformat(row["completed_at"]),
                        parts={
                            int(p["seq"]): (_unhex(p["text_utf16"]), _optional_time(p["scts"]))
                            for p in row["parts"]
                        },
                    )
                else:
                    raise ReassemblyStateError("unknown row kind")
            except ReassemblyStateError:
                raise
            except (KeyError, TypeError, ValueError) as exc:
                raise ReassemblyStateError(
                    f"malformed snapshot row ({type(exc).__name__})"
                ) from None
        self._groups = groups
        self._completed = completed


def _message(key: _Key, group: _Group, *, complete: bool, mark: str) -> Message:
    sender, ref, total = key
    missing = tuple(seq for seq in range(1, total + 1) if seq not in group.parts)
    # Join each run of consecutive parts on its own: a pair cut at a gap becomes U+FFFD.
    pieces: list[str] = []
    run: list[str] = []
    for seq in range(1, total + 1):
        held = group.parts.get(seq)
        if held is not None:
            run.append(held.text)
            continue
        if run:
            pieces.append(join_texts(run))
            run = []
        pieces.append(mark)
    if run:
        pieces.append(join_texts(run))
    lowest = group.parts[min(group.parts)]
    return Message(
        sender=sender,
        text="".join(pieces),
        complete=complete,
        ref=ref,
        total=total,
        parts=len(group.parts),
        missing=missing,
        duplicates=group.duplicates,
        first_received=group.first_received,
        last_received=group.last_received,
        scts=lowest.scts,
    )


def _hex(text: str) -> str:
    return text.encode("utf-16-be", "surrogatepass").hex()


def _unhex(value: object) -> str:
    if not isinstance(value, str):
        raise ReassemblyStateError("text_utf16 is not a string")
    return bytes.fromhex(value).decode("utf-16-be", "surrogatepass")


def _optional_time(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ReassemblyStateError("a timestamp is not a string")
    return datetime.fromisoformat(value)
