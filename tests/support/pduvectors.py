"""Fixed values and oracle helpers shared by the PDU codec tests (simulator's and driver's)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.oracles import oracle_handles

CST = timezone(timedelta(hours=8))
WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=CST)

Concats = list[tuple[int, int, int] | None]


def concat_headers(total: int, ref: int) -> Concats:
    """The (ref, total, seq) of each part of a ``total``-part message; ``[None]`` for one part."""
    return [None] if total == 1 else [(ref, total, seq) for seq in range(1, total + 1)]


def oracle_handles_parts(
    oracle: str,
    address: str,
    parts: list[str],
    concats: Concats,
    ucs2: bool,
    scts: datetime | None = None,
) -> bool:
    """Whether ``oracle`` has no known defect for any of these parts (``oracle_handles`` each)."""
    return all(
        oracle_handles(oracle, part, address=address, concat=concat, ucs2=ucs2, scts=scts)
        for part, concat in zip(parts, concats, strict=True)
    )
