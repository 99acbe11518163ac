"""Reading SMS off the SIM: +CMTI → +CMGR, routed +CMT, a +CMGL sweep, +CMGD on confirmation.

Store first, delete second: nothing here deletes a message on its own. The caller takes a
:class:`StoredPart`, makes it durable, and only then calls :meth:`Inbox.delete`. Storage indexes
are opaque numbers (EC25 counts from 0, SIM800 from 1). A PDU that cannot be decoded stays on the
SIM and is counted, never deleted blindly.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass, field

from smscat.modem import pdu
from smscat.modem.atparser import Unsolicited
from smscat.modem.errors import CmsError, PduError
from smscat.modem.session import AtSession

log = logging.getLogger(__name__)

_HEADER = re.compile(r"\+CMG[LR]:\s*(?:(\d+),)?\s*(\d+),")
_CMTI = re.compile(r'\+CMTI:\s*"?([A-Z_]*)"?,\s*(\d+)')
INVALID_INDEX = 321  # +CMS ERROR: invalid memory index


@dataclass(frozen=True, slots=True)
class StoredPart:
    """One SMS-DELIVER read from the modem; ``index`` is None for a routed +CMT."""

    index: int | None
    deliver: pdu.Deliver
    pdu_hex: str = field(repr=False)

    @property
    def key(self) -> tuple[int | None, str]:
        """What makes a read the same read again (a sweep sees kept messages twice)."""
        return (self.index, self.pdu_hex)


class Inbox:
    """The SIM's received messages, through an open session."""

    def __init__(self, session: AtSession) -> None:
        self.session = session
        self.undecodable = 0

    def _decode(self, index: int | None, pdu_hex: str) -> StoredPart | None:
        try:
            message = pdu.decode(pdu_hex)
        except PduError as exc:
            self.undecodable += 1
            log.warning("SMS at index %s cannot be decoded and stays on the SIM: %s", index, exc)
            return None
        if not isinstance(message, pdu.Deliver):
            return None  # a stored submit or report is not an inbound SMS
        return StoredPart(index, message, pdu_hex)

    async def sweep(self) -> list[StoredPart]:
        """Every received SMS in storage (AT+CMGL=4), oldest index first."""
        lines = await self.session.command("AT+CMGL=4", timeout=30)
        parts = []
        for header, body in itertools.pairwise(lines):
            match = _HEADER.match(header)
            if match and match[1] is not None and re.fullmatch(r"[0-9A-Fa-f]+", body):
                part = self._decode(int(match[1]), body)
                if part is not None:
                    parts.append(part)
        return parts

    async def read(self, index: int) -> StoredPart | None:
        """The SMS at ``index`` (AT+CMGR), or None for an empty slot."""
        try:
            lines = await self.session.command(f"AT+CMGR={index}")
        except CmsError as exc:
            if exc.code == INVALID_INDEX:
                return None
            raise
        if len(lines) < 2 or not _HEADER.match(lines[0]):
            return None
        return self._decode(index, lines[1])

    async def delete(self, index: int) -> None:
        """Delete one message: call only after its content is durably stored."""
        await self.session.command(f"AT+CMGD={index}")

    @staticmethod
    def notified_index(urc: Unsolicited) -> int | None:
        """The storage index a +CMTI names (the memory is the one +CPMS chose)."""
        match = _CMTI.match(urc.line) if urc.name == "+CMTI" else None
        return int(match[2]) if match else None

    def routed(self, urc: Unsolicited) -> StoredPart | None:
        """A +CMT (routed, not stored) with its PDU line."""
        if urc.name != "+CMT" or urc.pdu is None:
            return None
        return self._decode(None, urc.pdu)
