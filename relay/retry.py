"""Outbox retry policy: which SMS goes first, when a failed one is tried again, when to stop.

* :data:`PRIORITY` orders the outbox (lower first): a verification code the patient is waiting
  for on the page, then answers to patients, then questions to experts, then notices.
* :func:`next_attempt` backs off exponentially (``base · 2^(attempt-1)``, at most ``cap``
  seconds) with jitter: the wait is drawn from [0.5, 1.0] of that delay, so messages that failed
  together (a modem that went away) do not all come back in the same second, and none comes back
  at once.
* :func:`should_give_up`: a permanent failure at once; a transient or modem one after
  :data:`MAX_ATTEMPTS` attempts. Both kinds count alike, one per failed attempt: kept simple on
  purpose. A modem failure (no SIM, barred) also needs a person, but telling the admins is the
  caller's job (it sees the kind), not a reason to count the attempt twice or not at all.

It must never: read the clock (``now`` is passed in, timezone-aware UTC), use randomness other
than the injected :class:`random.Random`, or do I/O.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Final, Literal

OutboxKind = Literal["verification", "to_patient", "to_expert", "notice"]
FailureKind = Literal["transient", "modem", "permanent"]  # as smscat.modem.failures sorts them

PRIORITY: Final[Mapping[OutboxKind, int]] = MappingProxyType(
    {"verification": 0, "to_patient": 1, "to_expert": 2, "notice": 3}
)
MAX_ATTEMPTS: Final = 8
JITTER: Final = (0.5, 1.0)  # the fraction of the backoff delay actually waited

# 2^64 times any sensible base is far beyond any cap; stopping the exponent there keeps a
# huge attempt number from overflowing a float.
_MAX_EXPONENT: Final = 64


def backoff_ceiling(attempt: int, *, base: float = 30.0, cap: float = 3600.0) -> float:
    """The longest wait, in seconds, after failed attempt number ``attempt`` (1 = the first)."""
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    if not (0 < base < math.inf and 0 < cap < math.inf):
        raise ValueError("base and cap must be positive and finite")
    return min(cap, base * 2.0 ** min(attempt - 1, _MAX_EXPONENT))


def next_attempt(
    attempt: int,
    now: datetime,
    rng: random.Random,
    *,
    base: float = 30.0,
    cap: float = 3600.0,
) -> datetime:
    """When to try again after failed attempt number ``attempt``: now + a jittered backoff."""
    if now.utcoffset() != timedelta(0):
        raise ValueError("now must be timezone-aware UTC")
    ceiling = backoff_ceiling(attempt, base=base, cap=cap)
    return now + timedelta(seconds=ceiling * rng.uniform(*JITTER))


def should_give_up(attempt: int, kind: FailureKind) -> bool:
    """After failed attempt number ``attempt`` of this ``kind``: stop trying (see the docstring)."""
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    return kind == "permanent" or attempt >= MAX_ATTEMPTS
