"""What relay tests share: a clock they move by hand, and SMS as a modem would hand them over."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from smscat.hwsim import pdu as simpdu
from smscat.modem import pdu
from smscat.modem.inbox import StoredPart
from smscat.relay.services.context import RelayOptions
from smscat.relay.services.relay import Relay
from smscat.storage.db import Database, ExpertRow


@dataclass
class Clock:
    """Injected as the relay's clock; a test sets or advances ``now``."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


def received(sender: str, text: str, when: datetime, ref: int) -> list[StoredPart]:
    """The parts a phone's SMS arrives as, built by the simulator's own encoder."""
    out = []
    for tpdu in simpdu.deliver_parts(sender, text, when, ref & 0xFF):
        pdu_hex = (simpdu.encode_smsc(None) + tpdu).hex().upper()
        out.append(StoredPart(None, pdu.decode_deliver(pdu_hex), pdu_hex))
    return out


@dataclass
class World:
    """A relay on a real database with a hand-moved clock; ``sms`` is a phone texting the SIM.

    Test modules subclass it with the questions their tests ask of it.
    """

    relay: Relay
    db: Database
    clock: Clock
    refs: int = 0

    async def sms(self, sender: str, text: str) -> None:
        """``sender`` texts ``text`` to the hospital's SIM; the relay routes it."""
        self.refs += 1
        for part in received(sender, text, self.clock.now, self.refs):
            await self.relay.inbound.store_part("m1", part)
        await self.relay.inbound.process_inbound()

    async def verified(self, phone: str) -> dict[str, str]:
        """Ask a code for ``phone`` and read it off the SMS: what ``Asking.ask`` takes for it."""
        verification_id = await self.relay.asking.start_verification(phone)
        (row,) = await self.db.fetchall(
            "SELECT text FROM outbox WHERE recipient = ? ORDER BY id DESC LIMIT 1", (phone,)
        )
        digits = "".join(c if c.isdigit() else " " for c in row["text"]).split()
        code = next(d for d in digits if len(d) == 6)
        return {"phone": phone, "verification_id": verification_id, "code": code}


W = TypeVar("W")
MONDAY_MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@asynccontextmanager
async def world_on(
    tmp_path: Path,
    experts: Iterable[ExpertRow],
    options: RelayOptions | None = None,
    *,
    now: datetime = MONDAY_MORNING,
    kind: Callable[[Relay, Database, Clock], W] = World,  # type: ignore[assignment]
) -> AsyncIterator[W]:
    """A ``kind`` of :class:`World` on a new database file with ``experts`` (a fixture's body)."""
    async with Database.open(tmp_path / "smscat.db") as db:
        await db.sync_experts(list(experts))
        clock = Clock(now)
        options = options or RelayOptions(department="心内科")
        yield kind(Relay(db, options, clock=clock), db, clock)
