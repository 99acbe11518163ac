"""The outbox pump: queued SMS out through the modems, one part at a time, each part committed.

One worker per modem. A worker whose modem may send (its supervisor's ``blocked()`` is None:
ready, SIM ready, registered, not barred) claims the next due SMS (highest priority, oldest
first) that :func:`smscat.relay.core.routing.choose` gives to its modem — the recipient's usual SIM
while it can send and has room, another one otherwise; caps are counted in parts. The SMS is
planned into parts; the parts a modem has already accepted (``outbox_parts``) are skipped, each
other part is submitted and its TP-MR committed before the next part goes. So after a crash
only the part that was in flight can go twice. A half-sent SMS whose SIM cannot go on goes
again, whole, from another SIM (:func:`smscat.relay.core.routing.after_start`).

A failure is sorted by :func:`smscat.modem.failures.classify` and handled by
:func:`smscat.relay.core.retry.after_failure`: a modem-level failure marks the modem (the
supervisor does) and costs the message nothing — it is due again at once, for another SIM;
transient failures back off and count; a suspect refusal goes once to another SIM; a permanent
one fails the SMS. Every change in a modem's ability to send wakes the workers. Nothing here
decides what an SMS says or who gets it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from datetime import timedelta

from smscat.modem import pdu
from smscat.modem.errors import EncodeError, ModemError
from smscat.modem.failures import classify, summary
from smscat.modem.supervisor import ModemSupervisor
from smscat.relay.core import retry, routing
from smscat.relay.core.outbox_states import WAITING
from smscat.relay.core.records import OutboxSms
from smscat.relay.services.relay import Relay
from smscat.storage import outbox as outbox_db
from smscat.storage.db import iso

log = logging.getLogger(__name__)

IDLE_WAIT = 30.0  # seconds between looks at the queue when nothing wakes the pump
BLOCKED_WAIT = 5.0  # SMS are due but no modem may take them (down, or at a cap)
ERROR_PAUSE = 5.0  # seconds after an unexpected error before the pump looks again
LOOKAHEAD = 50  # due SMS a worker considers at once
MODEM_REST = 1.0  # seconds a modem takes nothing after a modem-level failure (its state catches up)
WINDOWS = (timedelta(minutes=1), timedelta(hours=1), timedelta(days=1))


class OutboxPump:
    def __init__(
        self,
        relay: Relay,
        modems: Mapping[str, ModemSupervisor],
        *,
        limits: Mapping[str, routing.Limits] | None = None,
        rng: random.Random | None = None,
        retry_base: float = 30.0,
        retry_cap: float = 3600.0,
    ) -> None:
        self.relay = relay
        self.modems = dict(modems)
        self.limits = {m: (limits or {}).get(m, routing.Limits()) for m in self.modems}
        self.rng = rng or random.Random()
        self.retry_base = retry_base  # seconds before the first retry, doubled per attempt
        self.retry_cap = retry_cap
        self.stopping = False
        self.sent_parts = 0
        self._claimed: set[int] = set()  # outbox ids a worker is sending
        self._busy: set[str] = set()  # modems whose worker is sending now
        self._rest_until: dict[str, float] = {}  # modem → loop time (see MODEM_REST)
        self._wakes = {modem_id: asyncio.Event() for modem_id in self.modems}
        for supervisor in self.modems.values():  # a modem back, a mark gone: look at once
            supervisor.on_change(self._wake_all)

    def stop(self) -> None:
        """Finish the parts in flight, then return from :meth:`run`."""
        self.stopping = True
        self.relay.outbox_changed.set()  # wake idle workers
        self._wake_all()

    def _wake_all(self) -> None:
        for event in self._wakes.values():
            event.set()

    async def run(self) -> None:
        """Send until cancelled, or until :meth:`stop` (each worker finishes its part)."""
        async with asyncio.TaskGroup() as workers:
            for modem_id in self.modems:
                workers.create_task(self._worker(modem_id), name=f"outbox-{modem_id}")
            workers.create_task(self._relay_wakeups(), name="outbox-wake")

    async def _relay_wakeups(self) -> None:
        """Turn the relay's "something was queued" into a wake-up for every worker."""
        changed = self.relay.outbox_changed
        while not self.stopping:
            await changed.wait()
            changed.clear()
            self._wake_all()

    async def _worker(self, modem_id: str) -> None:
        wake = self._wakes[modem_id]
        while not self.stopping:
            wake.clear()  # before looking: a wake-up from now on is not lost
            try:
                sms = await self._claim(modem_id)
                if sms is None:
                    await self._idle(wake)
                    continue
                self._busy.add(modem_id)
                try:
                    await self._send(sms, modem_id)
                finally:
                    self._claimed.discard(sms.id)
                    self._busy.discard(modem_id)
                self._wake_all()  # what this worker passed over may suit another now
            except Exception:  # a database hiccup must not end the daemon: the rows wait
                log.exception("outbox %s: an error; trying again in %g s", modem_id, ERROR_PAUSE)
                await asyncio.sleep(ERROR_PAUSE)

    async def _idle(self, wake: asyncio.Event) -> None:
        if self.stopping:
            return
        seconds = IDLE_WAIT
        due = await outbox_db.next_due_at(self.relay.db)
        if due is not None:
            until_due = (due - self.relay.clock()).total_seconds()
            # due but not taken (the modem is down or at a cap): look again soon
            seconds = min(seconds, until_due if until_due > 0 else BLOCKED_WAIT)
        try:
            async with asyncio.timeout(seconds):
                await wake.wait()
        except TimeoutError:
            pass

    async def send_due(self) -> int:
        """Send every SMS due now, modem by modem, in this task (for tests and tools)."""
        handled = 0
        progress = True
        while progress and not self.stopping:
            progress = False
            for modem_id in self.modems:
                sms = await self._claim(modem_id)
                if sms is None:
                    continue
                try:
                    await self._send(sms, modem_id)
                finally:
                    self._claimed.discard(sms.id)
                handled += 1
                progress = True
        return handled

    # -- choosing ----------------------------------------------------------------------------

    async def views(self) -> list[routing.ModemView]:
        """Each modem's health, caps and parts sent in the last minute, hour and day."""
        now = self.relay.clock()
        out = []
        for modem_id, supervisor in self.modems.items():
            minute, hour, day = await outbox_db.parts_sent_since(
                self.relay.db, modem_id, [iso(now - w) for w in WINDOWS]
            )
            out.append(
                routing.ModemView(
                    modem_id,
                    supervisor.blocked() is None,
                    self.limits[modem_id],
                    routing.Usage(minute, hour, day),
                    busy=modem_id in self._busy,
                    down_for=supervisor.blocked_for(),
                )
            )
        return out

    async def _claim(self, modem_id: str) -> OutboxSms | None:
        """The next due SMS that routing gives to ``modem_id``, marked as taken."""
        if self.modems[modem_id].blocked() is not None:
            return None
        if self._rest_until.get(modem_id, 0.0) > asyncio.get_running_loop().time():
            return None
        due = await outbox_db.due(self.relay.db, iso(self.relay.clock()), LOOKAHEAD)
        views: list[routing.ModemView] | None = None
        for sms in due:
            if sms.id in self._claimed or sms.avoid_modem == modem_id:
                continue
            views = views or await self.views()
            planned = await self._plan(sms)
            if planned is None:
                continue
            whole, left = planned
            share = routing.share_of(sms.kind)
            again = False
            started = await outbox_db.parts_modem(self.relay.db, sms.id)
            if started is not None:
                # the recipient's phone joins parts from one sender: the rest goes the same way
                chosen, again = routing.after_start(
                    views, started, len(left), len(whole), sms.avoid_modem, share
                )
            else:
                if not any(routing.fits_ever(v, len(whole), share) for v in views):
                    await self.relay.delivery.failed(sms.id, sms.attempts, "over_every_cap")
                    continue
                home = await outbox_db.home_modem(self.relay.db, sms.recipient)
                waited = (self.relay.clock() - sms.next_attempt_at).total_seconds()
                chosen = routing.choose(views, home, len(whole), waited, sms.avoid_modem, share)
            # checked again after the awaits above: another worker may have taken it meanwhile
            if chosen == modem_id and sms.id not in self._claimed:
                self._claimed.add(sms.id)
                if again:
                    return await self._send_whole_again(sms, f"{started} cannot send")
                return sms
        return None

    async def _send_whole_again(self, sms: OutboxSms, why: str) -> OutboxSms:
        """Start the SMS over (a new reference, its first part next); the SMS as it is now."""
        async with self.relay.db.transaction() as conn:
            await outbox_db.send_whole_again(conn, sms.id, sms.recipient)
            fresh = await outbox_db.outbox_row(conn, sms.id)
        assert fresh is not None
        log.info("outbox %d: sent again whole (%s)", sms.id, why)
        return fresh

    async def _plan(
        self, sms: OutboxSms
    ) -> tuple[list[pdu.SubmitPart], list[pdu.SubmitPart]] | None:
        """All the SMS's parts and those not yet sent; None (and the SMS failed) when it
        cannot be encoded."""
        try:
            parts = pdu.plan_submit(sms.recipient, sms.text, ref=sms.ref, report=True)
        except EncodeError as exc:  # (a number erased after it failed, then retried)
            await self.relay.delivery.failed(sms.id, sms.attempts, summary(exc))
            return None
        done = await outbox_db.sent_parts(self.relay.db, sms.id)
        return parts, [part for part in parts if part.seq not in done]

    # -- sending -----------------------------------------------------------------------------

    async def _send(self, sms: OutboxSms, modem_id: str) -> None:
        outbox_id = sms.id
        if await outbox_db.outbox_status(self.relay.db, outbox_id) not in WAITING:
            return  # withdrawn, handed off or erased since it was picked
        if self._code_expired(sms) or not await self.relay.sending.may_still_text(
            sms.kind, sms.recipient
        ):
            async with self.relay.db.transaction() as conn:
                await outbox_db.cancel_outbox(conn, outbox_id)
            return
        supervisor = self.modems[modem_id]
        planned = await self._plan(sms)
        if planned is None:
            return
        left = planned[1]
        for n, part in enumerate(left, 1):
            try:
                sent = await supervisor.submit(part)
            except ModemError as exc:
                await self._after_failure(sms, modem_id, exc)
                return
            async with self.relay.db.transaction() as conn:
                now = iso(self.relay.clock())
                await outbox_db.record_part(
                    conn, outbox_id, part.seq, part.total, modem_id, sent.mr, now
                )
                if part.seq == 1:  # (the rest of a message goes where its first part went)
                    await outbox_db.set_home_modem(conn, sms.recipient, modem_id, now)
            self.sent_parts += 1
            if self.stopping:
                return  # the rest goes after the restart; what went is recorded
            if n < len(left) and await self._urgent_waits(sms):
                return  # a code goes between two parts; the rest follows (same SIM, same ref)
        await self.relay.delivery.sent(outbox_id, modem_id)

    async def _urgent_waits(self, sms: OutboxSms) -> bool:
        """A bulk SMS in flight and a code or an answer due that no worker has taken."""
        if sms.kind in routing.URGENT:
            return False
        due = await outbox_db.due_of_kinds(
            self.relay.db, iso(self.relay.clock()), sorted(routing.URGENT), LOOKAHEAD
        )
        return any(outbox_id not in self._claimed for outbox_id in due)

    def _code_expired(self, sms: OutboxSms) -> bool:
        """A verification code that waited past its lifetime (no modem could send): useless now,
        and the patient has asked for another one. Everything else waits as long as it takes."""
        return sms.kind == "verification" and (
            self.relay.clock() - sms.created_at >= self.relay.options.code_ttl
        )

    async def _after_failure(self, sms: OutboxSms, modem_id: str, exc: ModemError) -> None:
        """Retry, move, send elsewhere or fail the SMS (:func:`.retry.after_failure` decides)."""
        outbox_id, kind, reason = sms.id, classify(exc), summary(exc)
        views = await self.views()
        others = [v for v in views if v.id != modem_id]
        action, attempts = retry.after_failure(
            kind,
            sms.attempts,
            tried_elsewhere=sms.avoid_modem is not None,
            other_sim=any(routing.fits_ever(v, 1) for v in others),
        )
        log.info("outbox %d: failed on %s (%s, %s): %s", outbox_id, modem_id, kind, reason, action)
        if action == "fail":
            await self.relay.delivery.failed(outbox_id, attempts, reason)
            return
        if action == "move":
            loop = asyncio.get_running_loop()
            self._rest_until[modem_id] = loop.time() + MODEM_REST
            loop.call_later(MODEM_REST, self._wake_all)
        now = self.relay.clock()
        next_at = now
        if action == "retry":
            next_at = retry.next_attempt(
                attempts, now, self.rng, base=self.retry_base, cap=self.retry_cap
            )
        started = await outbox_db.sent_parts(self.relay.db, outbox_id)
        # a half-sent SMS goes again whole where it must leave this SIM and another can take it
        whole_again = bool(started) and (
            action == "elsewhere" or (action == "move" and any(v.healthy for v in others))
        )
        async with self.relay.db.transaction() as conn:
            if action == "elsewhere":
                await outbox_db.avoid_modem(conn, outbox_id, modem_id)
            if whole_again:
                await outbox_db.send_whole_again(conn, outbox_id, sms.recipient)
            await outbox_db.reschedule(conn, outbox_id, attempts, iso(next_at), reason)
