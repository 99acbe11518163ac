"""The receive path under a supervisor: every SMS on the SIM reaches the consumer, then leaves.

Three ways in: a +CMTI names a memory and an index (read it there), a +CMT carries the PDU
(routed, nothing to delete), and a +CMGL sweep of every memory that can hold received SMS (from
``AT+CPMS=?``: "SM" and "ME" on most modules) — after every (re)connect and periodically,
because notifications get lost (a reboot, an unplug, a +CMTI while the port was closed, a full
SIM) and another program may have had new SMS stored in a memory we do not use. A part is
deleted from the memory it was read from.

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
from smscat.modem.errors import CommandError
from smscat.modem.inbox import Inbox, StoredPart
from smscat.modem.quirks import Quirks
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
        self._inbox: Inbox | None = None  # of the session now open (it knows mem1)

    def _inbox_for(self, session: AtSession, quirks: Quirks | None) -> Inbox:
        inbox = self._inbox
        if inbox is None or inbox.session is not session:  # a new session: mem1 not known
            inbox = self._inbox = Inbox(session)
        if quirks is not None:
            inbox.quirks = quirks
        return inbox

    async def sweep(self, session: AtSession, quirks: Quirks | None = None) -> None:
        """Offer every received SMS in every memory, one memory after the other.

        ``quirks`` are the modem's (:attr:`Modem.quirks`), for how it wants +CMGL asked. A
        memory the modem refuses to select is passed over and the refusal raised at the end,
        once the others are done: the supervisor sweeps again soon.
        """
        inbox = self._inbox_for(session, quirks)
        self.stats.sweeps += 1
        memories = await inbox.memories()
        if not memories:  # the modem does not say: mem1 as it is
            for part in await inbox.sweep():
                await self._take(inbox, part)
            return
        refused: CommandError | None = None
        # the memory already selected first: one AT+CPMS fewer
        for memory in sorted(memories, key=lambda m: m != inbox.mem1):
            try:
                await inbox.select(memory)
            except CommandError as exc:
                log.warning("SMS memory %s could not be selected: %s", memory, exc)
                refused = refused or exc
                continue
            for part in await inbox.sweep(memory):
                await self._take(inbox, part)
        if refused is not None:
            raise refused

    async def on_urc(
        self, session: AtSession, urc: Unsolicited, quirks: Quirks | None = None
    ) -> bool:
        """Handle a +CMTI or +CMT; False for any other URC (the caller's to handle)."""
        inbox = self._inbox_for(session, quirks)
        location = inbox.notified_location(urc)
        if location is not None:
            memory, index = location  # read (and later delete) where the +CMTI says
            part = await inbox.read(index, memory)
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
                "an SMS could not be stored (%s); it stays in %s at index %s",
                type(exc).__name__,
                part.memory or "the modem",
                part.index,
            )
            return
        if part.index is not None:
            await inbox.delete(part.index, part.memory)  # where it was read from
            self.stats.deleted += 1
