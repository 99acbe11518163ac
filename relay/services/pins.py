"""A SIM PIN refusal remembered in the database, so no restart ever tries that PIN again.

Three wrong PINs lock a SIM behind its PUK, and a daemon restarted three times must not be
what does it. The refusal is kept per modem for one PIN: a new PIN in config is tried (its
hash differs), an accepted PIN clears the record. The hash is of the modem id and the PIN; a
4-digit PIN is guessable from it, which is why it is no stronger than the config file that
holds the PIN in the clear, and why it never appears in a log or a page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from smscat.storage import modems as modems_db
from smscat.storage.db import Database, iso


class StoredPins:
    """:class:`smscat.modem.supervisor.PinMemory` over the ``refused_pins`` table."""

    def __init__(
        self, db: Database, modem_id: str, pin: str, clock: Callable[[], datetime]
    ) -> None:
        self.db = db
        self.modem_id = modem_id
        self.clock = clock
        self._hash = hashlib.sha256(f"{modem_id}\0{pin}".encode()).hexdigest()

    async def refused(self) -> bool:
        return await modems_db.pin_refused(self.db, self.modem_id, self._hash)

    async def remember(self, *, refused: bool) -> None:
        async with self.db.transaction() as conn:
            await modems_db.remember_pin(
                conn, self.modem_id, self._hash, refused, iso(self.clock())
            )
