"""Per-expert thread codes: the short ``#12`` an expert writes to say which question they answer.

A code is the smallest positive number not used by that expert's threads created within the last
:data:`REUSE_AFTER` (the caller passes those codes in), so codes stay short, and a code is never
reused while an old reply to it could still arrive. Codes have at most four digits, because that
is all :mod:`smscat.relay.core.commands` recognises.

It must never: do I/O, read a clock, or choose a code the parser could not read back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Final

REUSE_AFTER: Final = timedelta(days=90)
MAX_CODE: Final = 9999  # four digits, see the module docstring


class CodesExhausted(ValueError):
    """Every code from 1 to MAX_CODE is in use for one expert (about 111 new threads a day)."""


def allocate(in_use: Iterable[int]) -> int:
    """The smallest code from 1 up that is not in ``in_use`` (values outside 1–9999 are ignored)."""
    taken = set(in_use)
    for code in range(1, MAX_CODE + 1):
        if code not in taken:
            return code
    raise CodesExhausted(f"all {MAX_CODE} thread codes are in use")


def format_code(n: int) -> str:
    """The code as an expert sees and types it: ``format_code(12) == "#12"``."""
    if not 1 <= n <= MAX_CODE:
        raise ValueError(f"a thread code is 1 to {MAX_CODE}, got {n}")
    return f"#{n}"
