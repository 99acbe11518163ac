"""SMS in: raw parts committed as they come, whole messages routed once, late parts joined.

The modems' receivers hand raw parts to :meth:`Inbound.store_part`, which commits each before
the SIM copy is deleted. :meth:`Inbound.process_inbound` reassembles them from storage (the
stored parts are the reassembly state, so a restart loses nothing) and routes each whole
message in the same transaction that marks its parts assembled, so a message is posted once even
when it was read twice. Who sent it decides where it goes: an operator's short code and an
unknown number are kept for admins, an expert's SMS goes to :mod:`.expert_sms`, a patient's to
:mod:`.patient_sms`. It must never log a number or a text: inbound ids and outcomes only.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import datetime, timedelta

import aiosqlite

from smscat.modem import pdu
from smscat.modem.address import AddressError, is_short_code, normalise
from smscat.modem.errors import PduError
from smscat.modem.inbox import StoredPart
from smscat.modem.reassembly import Message, Reassembler
from smscat.relay.core import commands, policy, texts
from smscat.relay.core.masking import mask_numbers
from smscat.relay.core.outbox_states import ACCEPTED, OutboxStatus
from smscat.relay.core.records import InboundSms
from smscat.relay.services.context import Context
from smscat.relay.services.expert_sms import ExpertSms
from smscat.relay.services.forwarding import Forwarding
from smscat.relay.services.patient_sms import PatientSms
from smscat.storage import care as care_db
from smscat.storage import experts as experts_db
from smscat.storage import inbound as inbound_db
from smscat.storage import outbox as outbox_db
from smscat.storage import phones as phones_db
from smscat.storage import threads as threads_db
from smscat.storage.db import iso

log = logging.getLogger(__name__)

StoredDeliver = tuple[int, pdu.Deliver, datetime]  # (part id, decoded part, received at)


class Inbound:
    """Stores and routes inbound SMS; one per daemon (``changed`` wakes its worker)."""

    def __init__(
        self,
        ctx: Context,
        forwarding: Forwarding,
        expert_sms: ExpertSms,
        patient_sms: PatientSms,
    ) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.options = ctx.options
        self.forwarding = forwarding
        self.expert_sms = expert_sms
        self.patient_sms = patient_sms
        self.changed = asyncio.Event()  # set after a raw part was stored

    async def store_part(self, modem_id: str, part: StoredPart) -> None:
        """The receiver's consumer: commit the raw part (once); then the SIM copy may go."""
        async with self.db.transaction() as conn:
            await inbound_db.store_part(
                conn, f"{modem_id}:{part.pdu_hex}", modem_id, part.pdu_hex, iso(self.ctx.clock())
            )
        self.changed.set()

    async def process_inbound(self) -> int:
        """Route every whole message among the stored parts; return how many were routed.

        A long SMS still missing parts ``reassembly_timeout`` after its first part is routed as
        it is, with the ``missing_part`` text where each missing part would be. A part that
        such a message went out without joins it when it comes (:meth:`_join_late`) instead
        of starting a message of its own; that counts as routed too.
        """
        now = self.ctx.clock()
        by_modem: dict[str, list[StoredDeliver]] = defaultdict(list)
        for stored in await inbound_db.pending_parts(self.db):
            try:
                deliver = pdu.decode_deliver(stored.pdu)
            except PduError:
                log.warning("inbound part %d cannot be decoded; kept for admins", stored.id)
                continue
            by_modem[stored.modem_id].append((stored.id, deliver, stored.received_at))
        routed = 0
        for modem_id, parts in by_modem.items():
            late: dict[int, list[int]] = defaultdict(list)
            fresh = []
            for part in parts:
                awaited_by = await self._awaited_by(modem_id, part[1], now)
                if awaited_by is None:
                    fresh.append(part)
                else:
                    late[awaited_by].append(part[0])
            for inbound_id, part_ids in late.items():
                if await self._join_late(inbound_id, part_ids):
                    routed += 1
            mark = texts.render("missing_part")
            for message, ids in _assemble(fresh, now, self.options.reassembly_timeout, mark):
                if await self._route(modem_id, message, ids):
                    routed += 1
        return routed

    async def _route(self, modem_id: str, message: Message, part_ids: list[int]) -> bool:
        now = self.ctx.clock()
        received = iso(message.first_received)
        try:
            async with self.db.transaction() as conn:
                inbound = inbound_db.NewInbound(
                    modem_id,
                    message.sender,
                    message.text,
                    message.total,
                    message.complete,
                    received,
                    "ignored",
                    None,
                    concat_ref=message.ref,
                    missing=message.missing,
                )
                inbound_id = await inbound_db.insert_inbound(conn, inbound, part_ids)
                before = await outbox_db.last_outbox_id(conn) if not message.complete else 0
                outcome, thread_id = await self._dispatch(conn, message, inbound_id, now)
                await inbound_db.set_inbound_outcome(conn, inbound_id, outcome, thread_id)
                if not message.complete and thread_id is not None:
                    # the SMS that carries the marked text on: a late part may replace it
                    await inbound_db.note_forwarded(conn, inbound_id, thread_id, before)
        except inbound_db.AlreadyAssembled:
            return False
        if message.complete:
            log.info("inbound %d: %s (thread %s)", inbound_id, outcome, thread_id)
        else:
            log.warning(
                "inbound %d: %s (thread %s) without part(s) %s of %d, which never arrived",
                inbound_id, outcome, thread_id, ",".join(map(str, message.missing)),
                message.total,
            )  # fmt: skip
        return True

    async def _awaited_by(self, modem_id: str, deliver: pdu.Deliver, now: datetime) -> int | None:
        """The message routed without this part (after the timeout) that still lacks it."""
        concat = deliver.concat
        if concat is None or not 1 <= concat.seq <= concat.total:
            return None
        since = iso(now - self.options.late_part_window)
        return await inbound_db.incomplete_awaiting(
            self.db, modem_id, deliver.sender, concat.ref, concat.total, concat.seq, since
        )

    async def _join_late(self, inbound_id: int, part_ids: list[int]) -> bool:
        """Late parts of a message routed without them complete that message, in place.

        Its ``inbound`` row and the thread message it was posted as take the longer text (the
        thread keeps one message; the page shows the whole once the last part is in). Once
        complete, the other party gets it too (:meth:`_repost`); an unmatched
        message is routed again, now that its code may be there. Audited as
        ``inbound.completed`` (or ``inbound.late_part`` while parts are still missing).
        False when another task joined these parts first.
        """
        now = self.ctx.clock()
        try:
            async with self.db.transaction() as conn:
                inbound = await inbound_db.inbound_row(conn, inbound_id)
                if inbound is None or inbound.complete:
                    return False  # completed meanwhile: the parts wait for the next pass
                await inbound_db.attach_parts(conn, inbound_id, part_ids)
                message = await self._reassembled(conn, inbound_id)
                if message is None:
                    return True  # its parts cannot be read any more (erased): nothing to show
                await inbound_db.set_inbound_text(
                    conn, inbound_id, message.text, message.missing, iso(now)
                )
                outcome: str = inbound.outcome
                thread_id = inbound.thread_id
                forwarded = "none"
                if outcome in ("reply", "followup"):
                    forwarded = await self._repost(conn, inbound, message, now)
                elif outcome == "unmatched" and inbound.resolved_at is None and message.complete:
                    outcome, thread_id = await self._dispatch(conn, message, inbound_id, now)
                    await inbound_db.set_inbound_outcome(conn, inbound_id, outcome, thread_id)
                    forwarded = "routed"
                action = "inbound.completed" if message.complete else "inbound.late_part"
                detail = {
                    "thread": thread_id,
                    "parts": len(part_ids),
                    "missing": list(message.missing),
                    "forwarded": forwarded,
                }
                await self.db.audit(conn, "relay", action, str(inbound_id), detail)
        except inbound_db.AlreadyAssembled:
            return False
        log.info(
            "inbound %d: %d late part(s) joined it (%s, thread %s, SMS on: %s)",
            inbound_id, len(part_ids), "complete" if message.complete else "still incomplete",
            thread_id, forwarded,
        )  # fmt: skip
        return True

    async def _reassembled(self, conn: aiosqlite.Connection, inbound_id: int) -> Message | None:
        """The message as its stored parts make it now (complete, or marked where parts lack)."""
        parts = []
        for stored in await inbound_db.inbound_parts_of(conn, inbound_id):
            try:
                deliver = pdu.decode_deliver(stored.pdu)
            except PduError:
                continue  # blanked by an erasure
            parts.append((stored.id, deliver, stored.received_at))
        mark = texts.render("missing_part")
        found = _assemble(parts, policy.FOREVER, self.options.reassembly_timeout, mark)
        return max((m for m, _ in found), key=lambda m: m.parts, default=None)

    async def _repost(
        self, conn: aiosqlite.Connection, inbound: InboundSms, message: Message, now: datetime
    ) -> str:
        """The thread message ``inbound`` was posted as takes ``message``'s text; once the
        message is complete, so does the other party. What happened to the SMS that carried
        the marked text on (``inbound.forwarded_outbox_id``), for the audit:

        * ``replaced``: it had not gone. Still queued, it is cancelled and the whole text is
          queued in its place (a new row, so that a part in flight cannot mix two texts);
          failed, its text becomes the whole one (an admin's "send again" sends that).
        * ``sent_again``: it had gone (a part of it at least): the whole text follows, marked
          as the complete version (``complete_version``), to whoever holds the thread now.
        * ``none``: nothing went on (no phone, STOP, erased, cancelled) or parts still lack.
        """
        posted = await threads_db.posted_message(conn, inbound.id)
        if posted is None:
            return "none"
        role = posted.sender
        text = self._posted_text(role, message.text)
        await threads_db.set_message_text(conn, posted.id, text, mask_numbers(text))
        if not message.complete:
            return "none"
        thread = await threads_db.thread(conn, posted.thread_id)
        assert thread is not None
        sms_id = inbound.forwarded_outbox_id
        sms = await outbox_db.outbox_row(conn, sms_id) if sms_id is not None else None
        carrier = "to_expert" if role == "patient" else "to_patient"
        if sms is None or sms.status is OutboxStatus.CANCELLED or sms.kind != carrier:
            return "none"  # (to_expert after an answer: what waited for it, not the answer)
        gone = sms.status in ACCEPTED
        gone = gone or await outbox_db.parts_sent_of(conn, sms.id) > 0  # (half-sent)
        if not gone and sms.status is OutboxStatus.FAILED:
            whole = await self.forwarding.forward_text(conn, thread, role, text)
            await outbox_db.set_outbox_text(conn, sms.id, whole)
            return "replaced"
        if not gone:
            await outbox_db.cancel_outbox(conn, sms.id)
        else:
            text = texts.render("complete_version", text=text)
        if role == "patient":
            await self.forwarding.follow_up_to_expert(conn, thread, text, now)
        else:
            await self.forwarding.forward_answer(conn, thread, role, text, now)
        return "sent_again" if gone else "replaced"

    def _posted_text(self, role: str, text: str) -> str:
        """What a thread shows of an SMS from ``role``: its code (and command words) taken off,
        a quick reply's standard text put in, as when it was first posted."""
        if role == "patient":
            said_by_patient = commands.parse_patient(text)
            if isinstance(said_by_patient, commands.Command):
                return text
            return said_by_patient.text
        said = commands.parse_expert(text)
        if isinstance(said, commands.Command):
            return text  # (as an admin's assignment posts it)
        standard = self.options.quick_replies.get(said.quick) if said.quick else None
        if standard is None:
            return said.text
        return f"{standard}\n{said.text}" if said.text else standard

    async def _dispatch(
        self, conn: aiosqlite.Connection, message: Message, inbound_id: int, now: datetime
    ) -> tuple[str, int | None]:
        try:
            sender = normalise(message.sender)
        except AddressError:
            return "short_code", None  # an alphanumeric sender: an operator or a service
        if is_short_code(sender):
            return "short_code", None  # 10086 balance, suspension warnings: for admins
        expert = await experts_db.expert_by_phone(conn, sender)
        if expert is not None:
            return await self.expert_sms.received(conn, expert, message.text, inbound_id, now)
        phone = await phones_db.phone(conn, sender)
        if phone is not None and (  # a known patient's: verified, or enrolled in a plan
            phone.verified_at is not None or await care_db.running_of_phone(conn, phone.id)
        ):
            return await self.patient_sms.received(conn, phone, message.text, inbound_id, now)
        said = commands.parse_patient(message.text)
        if phone is not None and isinstance(said, commands.Command):
            # a number that was sent a code (by its owner or by anyone) may stop them, or start
            await self.patient_sms.command(conn, phone, said, now)
            return "command", None
        # kept for admins (masked on the dashboard), never posted or answered; the retention
        # job deletes it on the phone numbers' schedule
        return "unknown_sender", None


def _assemble(
    parts: list[StoredDeliver],
    now: datetime,
    timeout: timedelta,
    missing_mark: str,
) -> list[tuple[Message, list[int]]]:
    """Whole messages among stored parts (in storage order), each with its parts' ids.

    The stored parts are the reassembly state: a fresh :class:`Reassembler` is fed every part
    not yet assembled, so a restart loses nothing. Groups older than ``timeout`` come out
    incomplete, with ``missing_mark`` where each missing part would be.
    """
    reassembler = Reassembler(timeout=timeout, missing_mark=missing_mark)
    ids: dict[tuple[str, int | None, int], list[int]] = defaultdict(list)
    out: list[tuple[Message, list[int]]] = []
    for part_id, deliver, received in parts:
        message = reassembler.add(deliver, received)
        if message is not None and message.ref is None:
            out.append((message, [part_id]))  # a single SMS
            continue
        assert deliver.concat is not None
        key = (deliver.sender, deliver.concat.ref, deliver.concat.total)
        ids[key].append(part_id)
        if message is not None:
            out.append((message, ids.pop(key)))
    for message in reassembler.expire(now):
        out.append((message, ids.pop((message.sender, message.ref, message.total), [])))
    return out
