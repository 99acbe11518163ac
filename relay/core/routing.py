"""Which SIM sends an SMS: the recipient's usual one while it is healthy, caps counted in parts.

A recipient keeps hearing from the same number: the modem that first wrote to them is their
*home*, and stays so. When the home modem is down or full, another healthy modem with room
takes the SMS (the home does not change, so the recipient returns to it when it is back). So
does an idle modem when the home is busy and the SMS has already waited :data:`SPILL_AFTER`
for it: a backlog on one SIM (a burst of questions for a few doctors) must not leave the others
idle. In ordinary traffic a home is idle when an SMS comes, and nothing spills. A new
recipient's home is an idle healthy modem, the one with the most room. Caps are per SIM in parts
over rolling windows (the last minute, hour and day): an SMS of n parts goes only where all n
fit, so a cap holds exactly. "Healthy" is the modem's own answer to "may it send now"
(:meth:`smscat.modem.supervisor.ModemSupervisor.blocked`): a modem that cannot send is never
chosen, so its failures cannot keep it idle and first in line.

A long SMS whose first parts went through one SIM (:func:`after_start`) goes on there: a phone
joins parts from one number only. When that SIM cannot send and has not been able to for
:data:`MOVE_AFTER` (it vanished), the SMS goes again, whole, from another SIM. Pure: counts and
states in, a modem id (or None: wait) out.

**Lanes.** A SIM's caps are shared by two lanes: verification codes and answers to patients
(someone is waiting on a page, :data:`URGENT`) may use all of a window; questions to experts
and notices only :data:`BULK_SHARE` of it, so a flood of questions can never take the room a
code needs. (The outbox also lets a code in between the parts of a long bulk SMS.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

SPILL_AFTER: Final = 10.0  # seconds an SMS waits for its busy home before an idle SIM sends it
MOVE_AFTER: Final = 60.0  # seconds a half-sent SMS waits for its SIM before going whole elsewhere
URGENT: Final = frozenset({"verification", "to_patient"})  # someone waits for these on a page
BULK_SHARE: Final = 0.8  # the part of each cap window questions and notices may use


def share_of(kind: str) -> float:
    """The part of a SIM's caps an SMS of this outbox ``kind`` may use (see Lanes)."""
    return 1.0 if kind in URGENT else BULK_SHARE


def _cap(cap: int | None, share: float) -> int | None:
    """A cap as seen from a lane: never below one part, or nothing could ever go."""
    return None if cap is None else max(1, int(cap * share))


@dataclass(frozen=True, slots=True)
class Limits:
    per_minute: int | None = None
    per_hour: int | None = None
    per_day: int | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Parts a modem sent in the last minute, hour and day."""

    minute: int = 0
    hour: int = 0
    day: int = 0


@dataclass(frozen=True, slots=True)
class ModemView:
    id: str
    healthy: bool
    limits: Limits
    usage: Usage
    busy: bool = False  # sending an SMS right now
    down_for: float = 0.0  # seconds since it last could send (0 while healthy)


def room(modem: ModemView, share: float = 1.0) -> int | None:
    """Parts this modem may still send now in a lane of ``share`` (None: no cap at all)."""
    left = [
        limit - used
        for cap, used in (
            (modem.limits.per_minute, modem.usage.minute),
            (modem.limits.per_hour, modem.usage.hour),
            (modem.limits.per_day, modem.usage.day),
        )
        if (limit := _cap(cap, share)) is not None
    ]
    return max(0, min(left)) if left else None


def fits(modem: ModemView, parts: int, share: float = 1.0) -> bool:
    left = room(modem, share)
    return modem.healthy and (left is None or left >= parts)


def fits_ever(modem: ModemView, parts: int, share: float = 1.0) -> bool:
    """True when an SMS of ``parts`` parts fits this modem's caps at all (an empty window)."""
    caps = (modem.limits.per_minute, modem.limits.per_hour, modem.limits.per_day)
    return all((limit := _cap(cap, share)) is None or limit >= parts for cap in caps)


def choose(
    modems: Sequence[ModemView],
    home: str | None,
    parts: int,
    waited: float = 0.0,
    avoid: str | None = None,
    share: float = 1.0,
) -> str | None:
    """The modem for an SMS of ``parts`` parts to a recipient whose home is ``home``.

    ``waited``: seconds the SMS has been due. A busy home keeps it until :data:`SPILL_AFTER`.
    ``avoid``: a modem that refused this SMS in a way that may be its own (never chosen).
    ``share``: the SMS's lane (:func:`share_of`).
    """
    modems = [m for m in modems if m.id != avoid]
    by_id = {m.id: m for m in modems}
    usable = [m for m in modems if fits(m, parts, share)]
    if home is not None and home in by_id and fits(by_id[home], parts, share):
        spill = by_id[home].busy and waited >= SPILL_AFTER and any(not m.busy for m in usable)
        if not spill:
            return home
    if not usable:
        return None

    # an idle modem first, then the most room (no cap counts as endless), then the least used
    # today; ties keep the configured order
    def preference(m: ModemView) -> tuple[bool, float, int]:
        left = room(m, share)
        return (not m.busy, float("inf") if left is None else left, -m.usage.day)

    return max(usable, key=preference).id


def after_start(
    modems: Sequence[ModemView],
    started: str,
    left: int,
    whole: int,
    avoid: str | None = None,
    share: float = 1.0,
) -> tuple[str | None, bool]:
    """Where the rest of an SMS goes whose first parts went through ``started``.

    ``left``: parts still to send; ``whole``: all its parts. Returns ``(modem, again)``:
    ``again`` is True when the modem must send the SMS again from its first part.
    """
    by_id = {m.id: m for m in modems}
    own = by_id.get(started)
    if own is not None and started != avoid:
        if own.healthy:
            return (started, False) if fits(own, left, share) else (None, False)  # room comes
        if own.down_for < MOVE_AFTER:
            return None, False  # a blip (a reconnect): it is worth waiting for
    other = choose([m for m in modems if m.id != started], None, whole, avoid=avoid, share=share)
    return (other, True) if other is not None else (None, False)


def near_cap(modem: ModemView, ratio: float) -> bool:
    """True when some window of this modem has used ``ratio`` of its cap (for an alert)."""
    return any(
        cap is not None and used >= ratio * cap
        for cap, used in (
            (modem.limits.per_minute, modem.usage.minute),
            (modem.limits.per_hour, modem.usage.hour),
            (modem.limits.per_day, modem.usage.day),
        )
    )
