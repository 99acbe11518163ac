"""Every fault profile, switched on while a 5-part send and a 3-part receive are in flight.

The supervisor and its receiver run against the simulator on a real pty. Each test waits until
the send is under way (the network has taken a part), lets a 3-part message arrive, and switches
the fault on at that moment. Then, with nobody helping, every part of the outgoing message
reaches the recipient's handset and the incoming message reaches the consumer, each once: the
handset view (:class:`SentMessage`) shows one complete message, the consumer's store (deduplicated
by the receiver's key, as the relay's is) holds one complete message, and the SIM ends empty.
Each profile also leaves evidence that it really bit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smscat.hwsim.engine import PROFILES
from smscat.hwsim.service import SimOptions, Simulator, running
from smscat.modem.inbox import StoredPart
from smscat.modem.reassembly import Message, Reassembler
from smscat.modem.receiver import Receiver
from smscat.modem.supervisor import ModemSupervisor
from tests.support.supervision import FAULT_TOLERANT, fault, supervised, until

EXPERT = "+8613800138000"
PATIENT = "+8613912345678"
OUTGOING = "".join(f"第{i}句：请按时服药，两周后复查。" for i in range(1, 20))  # 5 UCS2 parts
INCOMING = "".join(f"问题{i}：服药后胃不舒服，可以饭后吃吗？" for i in range(1, 9))  # 3 parts

SETTINGS = FAULT_TOLERANT


@dataclass
class Store:
    """What the relay does with received parts, in memory: keep each once, reassemble."""

    keys: set[tuple[int | None, str]]
    reassembler: Reassembler
    messages: list[Message]

    async def consume(self, part: StoredPart) -> None:
        if part.key in self.keys:
            return
        self.keys.add(part.key)
        message = self.reassembler.add(part.deliver, datetime.now(UTC))
        if message is not None:
            self.messages.append(message)

    def from_(self, sender: str) -> list[Message]:
        return [m for m in self.messages if m.sender == sender]


# What each profile is switched on with, and the evidence that it bit.
Evidence = Callable[[Simulator, ModemSupervisor, Store], bool]
FAULTS: dict[str, tuple[dict[str, object], Evidence]] = {
    "generic": ({}, lambda sim, sup, store: sim.engine.fault.profile == "generic"),
    "huawei": ({"every": 1}, lambda sim, sup, store: sim.engine.fault.ticks >= 3),
    "busy": ({"count": 9}, lambda sim, sup, store: sim.engine.fault.remaining == 0),
    "flaky": ({"every": 2}, lambda sim, sup, store: sim.engine.counters["cmgs_error"] >= 1),
    "silent": ({"seconds": 1.5}, lambda sim, sup, store: sup.stats.resubmits >= 1),
    "garbage": ({"every": 1}, lambda sim, sup, store: sim.engine.fault.ticks >= 3),
    "unplug": ({"seconds": 1.0}, lambda sim, sup, store: sup.stats.reconnects >= 1),
    "reboot": ({"seconds": 0.5}, lambda sim, sup, store: sup.stats.reconnects >= 1),
    "network-down": ({"seconds": 1.5}, lambda sim, sup, store: sup.stats.resubmits >= 1),
    # 4 parts at 0.1 s each take 0.4 s; slowed by 0.4 s each from part 2 or 3 on, ≥ 1.3 s
    "slow": ({"seconds": 0.4}, lambda sim, sup, store: _span(sim) >= 1.2),
    "sim-full": ({}, lambda sim, sup, store: len(store.from_("10086")) >= 1),
}


def _span(sim: Simulator) -> float:
    """Seconds from the network taking the first part to taking the last."""
    return max((m.last_at - m.accepted_at).total_seconds() for m in sim.engine.sent)


def _parts_taken(sim: Simulator) -> int:
    return sum(len(m.parts) for m in sim.engine.sent)


# Refusals a single SIM cannot get past (the network says no to this SIM or this message): the
# outbox moves the SMS to another SIM or fails it, shown in tests/relay/daemon/test_modem_health.py.
REFUSALS = {"barred", "reject"}


def test_every_profile_is_covered() -> None:
    assert set(FAULTS) | REFUSALS == set(PROFILES)
    assert not set(FAULTS) & REFUSALS


@pytest.mark.parametrize("profile", list(FAULTS))
async def test_fault_during_a_send_and_a_receive(tmp_path: Path, profile: str) -> None:
    switch_on, bit = FAULTS[profile]
    store = Store(set(), Reassembler(), [])
    receiver = Receiver(store.consume)
    options = SimOptions(link=tmp_path / "m", send_latency=0.1)
    async with (
        running(options) as sim,
        supervised(sim, receiver=receiver, settings=SETTINGS) as sup,
    ):
        await asyncio.wait_for(sup.wait_ready(), 5)
        sending = asyncio.create_task(sup.send(EXPERT, OUTGOING, ref=42))
        await until(lambda: _parts_taken(sim) >= 1)
        await sim.call(lambda: (None, sim.engine.network_sms(PATIENT, INCOMING)[2]))
        await fault(sim, profile=profile, **switch_on)

        sent = await asyncio.wait_for(sending, 30)
        await until(lambda: len(store.from_(PATIENT)) >= 1 and _sim_is_empty(sim), 30)
        assert bit(sim, sup, store), f"the {profile} profile left no trace: {sup.stats}"
        await fault(sim, profile="none")

    assert [part.seq for part in sent] == [1, 2, 3, 4, 5]
    [message] = [m for m in sim.engine.sent if m.to == EXPERT]
    assert message.complete
    assert message.text == OUTGOING
    # a repeated part is possible only where the driver could not know (and says so)
    assert message.duplicate_parts <= sup.stats.unconfirmed

    [received] = store.from_(PATIENT)
    assert received.complete
    assert received.text == INCOMING
    assert received.total == 3


def _sim_is_empty(sim: Simulator) -> bool:
    return all(store.used == 0 for store in sim.engine.stores.values()) and not sim.engine.pending
