"""Outbox retry policy: which SMS goes first, when a failed one is tried again, when to stop.

* :data:`PRIORITY` orders the outbox (lower first): a verification code the patient is waiting
  for on the page, then answers to patients, then questions to experts, then notices, then a
  follow-up plan's steps (:mod:`.care`), which are due for days and can wait minutes.
* :func:`next_attempt` backs off exponentially (``base · 2^(attempt-1)``, at most ``cap``
  seconds) with jitter: the wait is drawn from [0.5, 1.0] of that delay, so messages that failed
  together (a modem that went away) do not all come back in the same second, and none comes back
  at once.
* :func:`after_failure` says what a failed send means for the message, by the failure's kind
  (:mod:`smscat.modem.failures`): a *transient* failure counts one attempt and the message
  backs off, failing after :data:`MAX_ATTEMPTS`; a *modem* failure (no network, barred, no SIM,
  port gone) is the modem's, not the message's: it counts nothing and the message is due again
  at once, for another modem, or for this one when it can send again — it waits as long as no
  modem can (the modem's state, not the message, is what admins are told about); a *suspect*
  refusal (+CMS 21) is tried once, whole, from another SIM, and fails there or where there is
  none; a *permanent* one fails the message at once.

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

OutboxKind = Literal["verification", "to_patient", "to_expert", "notice", "care"]
FailureKind = Literal["transient", "modem", "suspect", "permanent"]  # as modem.failures sorts
Action = Literal["retry", "move", "elsewhere", "fail"]

PRIORITY: Final[Mapping[OutboxKind, int]] = MappingProxyType(
    {"verification": 0, "to_patient": 1, "to_expert": 2, "notice": 3, "care": 4}
)
MAX_ATTEMPTS: Final = 8


def resendable(kind: OutboxKind) -> bool:
    """Whether an admin may send a failed SMS of ``kind`` again: anything but a verification
    code, which has expired by then (the patient asks for a new one)."""
    return kind != "verification"


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
    if kind == "modem":
        return False  # the modem's fault: the message waits for a modem that can send
    return kind in ("permanent", "suspect") or attempt >= MAX_ATTEMPTS


def after_failure(
    kind: FailureKind, attempts: int, *, tried_elsewhere: bool, other_sim: bool
) -> tuple[Action, int]:
    """What to do with a message whose send failed, and its attempts count after it.

    ``attempts``: failed attempts before this one. ``tried_elsewhere``: a suspect refusal sent
    it to another SIM already. ``other_sim``: another SIM is configured that could take it.

    * ``retry``: back off (:func:`next_attempt`), then any modem may take it;
    * ``move``: due again now, this modem marked (it takes nothing until it can send);
    * ``elsewhere``: due again now, whole, from another SIM than this one;
    * ``fail``: the message will not go.
    """
    if kind == "modem":
        return "move", attempts
    counted = attempts + 1
    if kind == "suspect" and not tried_elsewhere and other_sim:
        return "elsewhere", counted
    return ("fail" if should_give_up(counted, kind) else "retry"), counted
