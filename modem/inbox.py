"""Reading SMS off the modem: +CMTI → +CMGR, routed +CMT, a +CMGL sweep, +CMGD on confirmation.

Store first, delete second: nothing here deletes a message on its own. The caller takes a
:class:`StoredPart`, makes it durable, and only then calls :meth:`Inbox.delete`. Storage indexes
are opaque numbers (EC25 counts from 0, SIM800 from 1). A PDU that cannot be decoded stays on the
SIM and is counted, never deleted blindly.

+CMGR, +CMGL and +CMGD act on mem1 (27.005), which is wherever the last program left it. A +CMTI
names the memory its SMS is in; the read and the delete go to that memory (``AT+CPMS="ME"``
selects mem1 alone). An :class:`Inbox` lives for one session and remembers the mem1 it
selected, so it sends ``AT+CPMS`` only when the memory changes; a new session starts unknown.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass, field

from smscat.modem import pdu, storages
from smscat.modem.atparser import Unsolicited
from smscat.modem.errors import CmsError, CommandError, PduError
from smscat.modem.quirks import DEFAULTS, Quirks
from smscat.modem.session import AtSession

log = logging.getLogger(__name__)

_HEADER = re.compile(r"\+CMG[LR]:\s*(?:(\d+),)?\s*(\d+),")
INVALID_INDEX = 321  # +CMS ERROR: invalid memory index


@dataclass(frozen=True, slots=True)
class StoredPart:
    """One SMS-DELIVER read from the modem; ``index`` is None for a routed +CMT.

    ``memory`` is where it is stored ("SM", "ME"…): a delete goes there. None for a routed
    +CMT, and for a read from a mem1 nobody selected (the modem did not say which it is).
    """

    index: int | None
    deliver: pdu.Deliver
    pdu_hex: str = field(repr=False)
    memory: str | None = None

    @property
    def key(self) -> tuple[int | None, str]:
        """What makes a read the same read again (a sweep sees kept messages twice).

        The memory is left out: the PDU, with its service-centre time stamp, already tells two
        messages apart, and a read whose memory the modem did not name gets the same key.
        """
        return (self.index, self.pdu_hex)


class Inbox:
    """The modem's received messages, through one open session."""

    def __init__(self, session: AtSession, quirks: Quirks = DEFAULTS) -> None:
        self.session = session
        self.quirks = quirks
        self.undecodable = 0
        self.mem1: str | None = None  # selected through this inbox; None: not known
        self._memories: tuple[str, ...] | None = None  # to sweep (AT+CPMS=?, asked once)
        # mem2 and mem3 as they are, once a modem refused AT+CPMS with mem1 alone
        self._kept: tuple[str, ...] | None = None

    def _decode(self, index: int | None, pdu_hex: str) -> StoredPart | None:
        try:
            message = pdu.decode(pdu_hex)
        except PduError as exc:
            self.undecodable += 1
            log.warning(
                "SMS at index %s in %s cannot be decoded and stays there: %s",
                index,
                self.mem1 or "the selected memory",
                exc,
            )
            return None
        if not isinstance(message, pdu.Deliver):
            return None  # a stored submit or report is not an inbound SMS
        return StoredPart(index, message, pdu_hex, None if index is None else self.mem1)

    async def memories(self) -> tuple[str, ...]:
        """The memories that can hold received SMS, from ``AT+CPMS=?``; () if it does not say."""
        if self._memories is None:
            try:
                offered = storages.parse_offered(await self.session.command("AT+CPMS=?"))
            except CommandError:
                return ()  # (a busy SIM, perhaps: asked again at the next sweep)
            if offered is None:
                log.warning("the modem does not list its SMS memories: sweeping mem1 only")
            self._memories = () if offered is None else storages.sweep_memories(offered)
        return self._memories

    async def select(self, memory: str) -> None:
        """Make ``memory`` mem1, where +CMGR/+CMGL/+CMGD act; nothing is sent if it already is."""
        if memory == self.mem1:
            return
        self.mem1 = None  # until the modem says yes (a timeout leaves it unknown)
        if self._kept is None:
            try:
                await self.session.command(storages.set_command([memory]))
                self.mem1 = memory
                return
            except CommandError as exc:
                refused = exc
            # Some modules take AT+CPMS only with all three memories (Huawei/Brovi E3372-325,
            # gammu issues #829 and #908): then mem2 and mem3 are given as they are.
            current = storages.parse_current(await self.session.command("AT+CPMS?"))
            if current is None or len(current) < 3:
                raise refused
            await self.session.command(storages.set_command([memory, *current[1:3]]))
            self._kept = current[1:3]
            self.mem1 = memory
            return
        await self.session.command(storages.set_command([memory, *self._kept]))
        self.mem1 = memory

    async def sweep(self, memory: str | None = None) -> list[StoredPart]:
        """Every received SMS in ``memory`` (None: mem1 as it is), oldest index first."""
        if memory is not None:
            await self.select(memory)
        stat = '"ALL"' if self.quirks.cmgl_text_stat_in_pdu else "4"
        lines = await self.session.command(f"AT+CMGL={stat}", timeout=30)
        parts = []
        for header, body in itertools.pairwise(lines):
            match = _HEADER.match(header)
            if match and match[1] is not None and re.fullmatch(r"[0-9A-Fa-f]+", body):
                part = self._decode(int(match[1]), body)
                if part is not None:
                    parts.append(part)
        return parts

    async def read(self, index: int, memory: str | None = None) -> StoredPart | None:
        """The SMS at ``index`` of ``memory`` (AT+CMGR; None: of mem1 as it is), or None."""
        if memory is not None:
            await self.select(memory)
        try:
            lines = await self.session.command(f"AT+CMGR={index}")
        except CmsError as exc:
            if exc.code == INVALID_INDEX:
                return None
            raise
        if len(lines) < 2 or not _HEADER.match(lines[0]):
            return None
        return self._decode(index, lines[1])

    async def delete(self, index: int, memory: str | None = None) -> None:
        """Delete one message: call only after its content is durably stored.

        ``memory`` is the one it was read from (:attr:`StoredPart.memory`); None: mem1 as it is.
        """
        if memory is not None:
            await self.select(memory)
        await self.session.command(f"AT+CMGD={index}")

    @staticmethod
    def notified_location(urc: Unsolicited) -> tuple[str | None, int] | None:
        """Where a +CMTI says the new SMS is: (memory, index); the memory None if none named."""
        return storages.parse_cmti(urc.line) if urc.name == "+CMTI" else None

    @staticmethod
    def notified_index(urc: Unsolicited) -> int | None:
        """The storage index a +CMTI names (:meth:`notified_location` has its memory too)."""
        location = Inbox.notified_location(urc)
        return None if location is None else location[1]

    def routed(self, urc: Unsolicited) -> StoredPart | None:
        """A +CMT (routed, not stored) with its PDU line."""
        if urc.name != "+CMT" or urc.pdu is None:
            return None
        return self._decode(None, urc.pdu)
