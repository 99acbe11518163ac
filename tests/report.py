"""Facts a test wants printed at the end of the run (counts of vectors checked, …).

Tests call :func:`report`; the root conftest prints every line in the terminal summary, so a
reader of the CI log sees how much an oracle actually checked, not only that it passed.
"""

from collections import Counter

_COUNTS: Counter[str] = Counter()


def report(key: str, n: int = 1) -> None:
    """Add ``n`` to the counter named ``key``."""
    _COUNTS[key] += n


def lines() -> list[str]:
    return [f"{key}: {n}" for key, n in sorted(_COUNTS.items())]
