"""An SMS from a patient's phone: STOP / START, a follow-up to one of the phone's threads, or
a reply to a 随访 plan's step (:mod:`.care_replies`): one correlation over both.

Called by :mod:`.inbound` in the transaction that stores the SMS. A follow-up goes on like one
from the page (:meth:`.forwarding.Forwarding.post_follow_up`); an SMS that matches no thread gets
the list of the phone's codes when it has several. It must never log a number or the text.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from smscat.relay.core import codes, commands, correlation, lifecycle, policy, texts
from smscat.relay.core.types import Phone
from smscat.relay.services.care_replies import CareReplies
from smscat.relay.services.context import Context
from smscat.relay.services.forwarding import Forwarding
from smscat.relay.services.sending import Sender
from smscat.storage import care as care_db
from smscat.storage import outbox as outbox_db
from smscat.storage import phones as phones_db
from smscat.storage import threads as threads_db
from smscat.storage.db import iso


class PatientSms:
    """What a patient's SMS does; the inbound path decides that it is a patient's."""

    def __init__(
        self, ctx: Context, sender: Sender, forwarding: Forwarding, care: CareReplies
    ) -> None:
        self.db = ctx.db
        self.care = care
        self.options = ctx.options
        self.sender = sender
        self.forwarding = forwarding

    async def received(
        self,
        conn: aiosqlite.Connection,
        phone: Phone,
        text: str,
        inbound_id: int,
        now: datetime,
    ) -> tuple[str, int | None]:
        """An SMS from a verified patient's ``phone``: the inbound outcome and its thread."""
        said = commands.parse_patient(text)
        e164 = phone.e164
        if isinstance(said, commands.Command):  # STOP / TD / 退订, START / 开通
            await self.command(conn, phone, said, now)
            return "command", None
        open_threads = await threads_db.open_threads_of_phone(
            conn, phone.id, [str(s) for s in lifecycle.OPEN]
        )
        plans = await self.care.items(conn, phone)
        # one correlation over both: a thread waits for no reply of the patient's, a plan's
        # step with a menu does (an enrolment's id goes negative, its code is none: 0)
        chosen_id = correlation.correlate(
            [
                *(correlation.OpenThread(t.id, t.code, False) for t in open_threads),
                *(correlation.OpenThread(-i.enrolment.id, 0, i.waiting) for i in plans),
            ],
            said.code,
        )
        if chosen_id is not None and chosen_id.id < 0 and said.text:
            item = next(i for i in plans if i.enrolment.id == -chosen_id.id)
            await self.care.reply(conn, item, said.text, inbound_id, now)
            return "care_reply", None
        chosen = next((t for t in open_threads if chosen_id and t.id == chosen_id.id), None)
        if chosen is None or not said.text:
            if len(open_threads) > 1 and policy.takes_sms(phone, self.options.text_rules):
                listing = "、".join(codes.format_code(t.code) for t in open_threads)
                sms = texts.render(
                    "unmatched_list_to_patient", codes=listing, dept=self.options.department
                )
                await self.sender.enqueue(conn, "notice", e164, sms, None, now, patient=True)
            return "unmatched", None
        await self.forwarding.post_follow_up(conn, chosen, said.text, now, inbound_id=inbound_id)
        return "followup", chosen.id

    async def command(
        self,
        conn: aiosqlite.Connection,
        phone: Phone,
        command: commands.Command,
        now: datetime,
    ) -> None:
        """STOP: nothing more to this number (a code neither) until START; each confirmed once."""
        e164, phone_id = phone.e164, phone.id
        if command.name == "start":
            if await phones_db.start_phone(conn, phone_id):
                await self.db.audit(conn, "patient", "phone.start", str(phone_id))
                sms = texts.render("start_confirmed", dept=self.options.department)
                await self.sender.enqueue(
                    conn, "notice", e164, sms, None, now, confirms_command=True
                )
            return
        if await phones_db.stop_phone(conn, phone_id, iso(now)):
            await outbox_db.cancel_for_recipient(
                conn, e164, ["to_patient", "notice", "verification", "care"]
            )
            running = await care_db.running_of_phone(conn, phone_id)
            await self.care.care.apply_event(conn, running, "stop", "patient", now)
            await self.db.audit(conn, "patient", "phone.stop", str(phone_id))
            sms = texts.render("stop_confirmed", dept=self.options.department)
            await self.sender.enqueue(conn, "notice", e164, sms, None, now, confirms_command=True)
