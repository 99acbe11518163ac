"""The receive path under a supervisor: every SMS on the SIM reaches the consumer, then leaves.

Three ways in: a +CMTI names a storage index (read it), a +CMT carries the PDU (routed, nothing
to delete), and a +CMGL sweep — after every (re)connect and periodically, because
notifications get lost (a reboot, an unplug, a +CMTI while the port was closed, a full SIM).

The contract with the consumer is per *part*: ``await consume(part)`` returns once the part is
durably stored, and only then is it deleted from the SIM. If the consumer raises, the part stays
on the SIM and the next sweep offers it again. So a part can be offered more than once (a sweep
after the consumer stored it but before the delete went through): the consumer recognises a
repeat by :attr:`StoredPart.key` (the relay keeps it as a dedup key). Reassembly is the
consumer's, on stored parts (:mod:`smscat.modem.reassembly`). Modem errors propagate: an error
result leaves the message on the SIM and the supervisor sweeps again soon; a timeout or a failed
port makes it reopen, and the sweep after the reconnect picks up where this stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from smscat.modem.atparser import Unsolicited
from smscat.modem.inbox import Inbox, StoredPart
from smscat.modem.session import AtSession

log = logging.getLogger(__name__)

PartConsumer = Callable[[StoredPart], Awaitable[None]]


@dataclass(slots=True)
class ReceiverStats:
    offered: int = 0  # parts handed to the consumer (repeats included)
    deleted: int = 0
    consumer_failures: int = 0
    sweeps: int = 0


class Receiver:
    """Reads received SMS through whichever session the supervisor has open."""

    def __init__(self, consume: PartConsumer) -> None:
        self._consume = consume
        self.stats = ReceiverStats()

    async def sweep(self, session: AtSession) -> None:
        """Offer every received SMS in storage, oldest index first."""
        inbox = Inbox(session)
        self.stats.sweeps += 1
        for part in await inbox.sweep():
            await self._take(inbox, part)

    async def on_urc(self, session: AtSession, urc: Unsolicited) -> bool:
        """Handle a +CMTI or +CMT; False for any other URC (the caller's to handle)."""
        inbox = Inbox(session)
        index = inbox.notified_index(urc)
        if index is not None:
            part = await inbox.read(index)
            if part is not None:
                await self._take(inbox, part)
            return True
        if urc.name == "+CMT":
            routed = inbox.routed(urc)
            if routed is not None:
                await self._take(inbox, routed)
            return True
        return False

    async def _take(self, inbox: Inbox, part: StoredPart) -> None:
        self.stats.offered += 1
        try:
            await self._consume(part)
        except Exception as exc:
            # Whatever went wrong downstream (a full disk, a locked database), the SMS is safe
            # where it is; the next sweep offers it again. (Only the type is logged: the
            # exception's text could quote the content.)
            self.stats.consumer_failures += 1
            log.error(
                "an SMS could not be stored (%s); it stays on the SIM at index %s",
                type(exc).__name__,
                part.index,
            )
            return
        if part.index is not None:
            await inbox.delete(part.index)
            self.stats.deleted += 1
