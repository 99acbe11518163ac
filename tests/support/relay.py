"""What relay tests share: a clock they move by hand, and SMS as a modem would hand them over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from smscat.hwsim import pdu as simpdu
from smscat.modem import pdu
from smscat.modem.inbox import StoredPart


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
