"""A modem the outbox pump can drive without a port: it behaves (takes parts, hands out TP-MRs,
refuses the way a real modem's +CMS ERROR does, reports itself blocked); the database stays real."""

from __future__ import annotations

import random
from collections.abc import Callable

from smscat.modem import pdu
from smscat.modem.device import SentPart
from smscat.modem.errors import ModemError
from smscat.modem.supervisor import ModemSupervisor
from smscat.relay.services.outbox import OutboxPump
from smscat.relay.services.relay import Relay


class FakeModem:
    """Accepts parts (TP-MR counting up) unless told to refuse the next ones.

    ``block`` is what :meth:`ModemSupervisor.blocked` would say (None: it may send).
    """

    state = "ready"

    def __init__(self) -> None:
        self.refusals: list[ModemError] = []
        self.accepted: list[pdu.SubmitPart] = []
        self.block: str | None = None
        self.down_for = 0.0  # seconds it has been blocked
        self.listeners: list[Callable[[], None]] = []

    def blocked(self) -> str | None:
        return self.block

    def blocked_for(self) -> float:
        return 0.0 if self.block is None else self.down_for

    def on_change(self, listener: Callable[[], None]) -> None:
        self.listeners.append(listener)

    async def submit(self, part: pdu.SubmitPart) -> SentPart:
        if self.refusals:
            raise self.refusals.pop(0)
        self.accepted.append(part)
        return SentPart(part.seq, part.total, len(self.accepted) % 256)


def pump(relay: Relay, modem: FakeModem) -> OutboxPump:
    fake: ModemSupervisor = modem  # type: ignore[assignment]  # the pump's part of a supervisor
    return OutboxPump(relay, {"m1": fake}, rng=random.Random(7))
