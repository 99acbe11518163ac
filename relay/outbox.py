"""The outbox pump: queued SMS out through the modems, one part at a time, each part committed.

The next due SMS (highest priority, oldest first) is planned into parts; the parts a modem has
already accepted (``outbox_parts``) are skipped, each other part is submitted and its TP-MR
committed before the next part goes. So after a crash only the part that was in flight can go
twice. A failure is sorted by :func:`smscat.modem.failures.classify`: permanent fails the SMS
at once; transient and modem-level failures retry with backoff (:mod:`.retry`) until the
attempts run out. Nothing here decides what an SMS says or who gets it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from datetime import datetime

import aiosqlite

from smscat.modem import pdu
from smscat.modem.errors import ModemError
from smscat.modem.failures import FailureKind, classify
from smscat.modem.supervisor import ModemSupervisor
from smscat.relay import retry
from smscat.relay.service import Relay, iso
from smscat.storage import relay as store

log = logging.getLogger(__name__)

IDLE_WAIT = 30.0  # seconds between looks at the queue when nothing wakes the pump
ERROR_PAUSE = 5.0  # seconds after an unexpected error before the pump looks again


class OutboxPump:
    def __init__(
        self,
        relay: Relay,
        modems: Mapping[str, ModemSupervisor],
        *,
        rng: random.Random | None = None,
        retry_base: float = 30.0,
        retry_cap: float = 3600.0,
    ) -> None:
        self.relay = relay
        self.modems = dict(modems)
        self.rng = rng or random.Random()
        self.retry_base = retry_base  # seconds before the first retry, doubled per attempt
        self.retry_cap = retry_cap
        self.stopping = False
        self.busy = False  # a part is being submitted (shutdown waits for it)
        self.sent_parts = 0

    def stop(self) -> None:
        """Finish the part in flight, then return from :meth:`run`."""
        self.stopping = True
        self.relay.outbox_changed.set()  # wake an idle pump

    async def run(self) -> None:
        """Send until cancelled, or until :attr:`stopping` is set between two parts."""
        while not self.stopping:
            try:
                await self.send_due()
                await self._wait(await store.next_due_at(self.relay.db), self.relay.clock())
            except Exception:  # a database hiccup must not end the daemon: the rows wait
                log.exception("outbox pump: an error; trying again in %g s", ERROR_PAUSE)
                await asyncio.sleep(ERROR_PAUSE)

    async def send_due(self) -> int:
        """Send every SMS due now (those that fail are rescheduled); return how many rows."""
        handled = 0
        while not self.stopping:
            row = await store.next_due(self.relay.db, iso(self.relay.clock()))
            if row is None:
                break
            await self._send(row)
            handled += 1
        return handled

    async def _wait(self, due: str | None, now: datetime) -> None:
        seconds = IDLE_WAIT
        if due is not None:
            seconds = min(seconds, max(0.0, (datetime.fromisoformat(due) - now).total_seconds()))
        changed = self.relay.outbox_changed
        if self.stopping:
            return
        changed.clear()
        try:
            async with asyncio.timeout(seconds):
                await changed.wait()
        except TimeoutError:
            pass

    def _modem(self) -> tuple[str, ModemSupervisor] | None:
        """A ready modem if there is one, else the first (its submit waits for it)."""
        if not self.modems:
            return None
        for modem_id, supervisor in self.modems.items():
            if supervisor.state == "ready":
                return modem_id, supervisor
        return next(iter(self.modems.items()))

    async def _send(self, row: aiosqlite.Row) -> None:
        outbox_id = int(row["id"])
        if await self._recipient_stopped(row):
            async with self.relay.db.transaction() as conn:
                await conn.execute(
                    "UPDATE outbox SET status = 'cancelled' WHERE id = ?", (outbox_id,)
                )
            return
        picked = self._modem()
        if picked is None:
            await self._retry(row, "modem", "no modem is configured")
            return
        modem_id, supervisor = picked
        parts = pdu.plan_submit(row["recipient"], row["text"], ref=int(row["ref"]), report=True)
        done = await store.sent_parts(self.relay.db, outbox_id)
        for part in parts:
            if part.seq in done:
                continue
            self.busy = True
            try:
                sent = await supervisor.submit(part)
            except ModemError as exc:
                await self._retry(row, classify(exc), type(exc).__name__)
                return
            finally:
                self.busy = False
            async with self.relay.db.transaction() as conn:
                await store.record_part(
                    conn,
                    outbox_id,
                    part.seq,
                    part.total,
                    modem_id,
                    sent.mr,
                    iso(self.relay.clock()),
                )
            self.sent_parts += 1
            if self.stopping:
                return  # the rest goes after the restart; what went is recorded
        await self.relay.sent(outbox_id, modem_id)

    async def _recipient_stopped(self, row: aiosqlite.Row) -> bool:
        if row["kind"] not in ("to_patient", "verification"):
            return False
        rows = await self.relay.db.fetchall(
            "SELECT stopped_at FROM phones WHERE e164 = ?", (row["recipient"],)
        )
        return bool(rows) and rows[0]["stopped_at"] is not None

    async def _retry(self, row: aiosqlite.Row, kind: FailureKind, reason: str) -> None:
        attempts = int(row["attempts"]) + 1
        if retry.should_give_up(attempts, kind):
            await self.relay.failed(int(row["id"]), attempts, reason)
            return
        now = self.relay.clock()
        next_at = retry.next_attempt(
            attempts, now, self.rng, base=self.retry_base, cap=self.retry_cap
        )
        async with self.relay.db.transaction() as conn:
            await store.reschedule(conn, int(row["id"]), attempts, iso(next_at), reason)
        log.info("outbox %d: attempt %d failed (%s, %s)", row["id"], attempts, kind, reason)
