"""The one way an SMS is queued, and the one answer to "may this number be texted, and when".

Every service queues its SMS through :meth:`Sender.enqueue`, in the caller's transaction, so
that a state change and the SMS it causes commit together; the outbox pump
(:mod:`.outbox`) sends them. No other module of the relay writes an outbox row. Who may get an
SMS and when a person may be texted (quiet hours, a daily cap, a pause) are
:mod:`smscat.relay.core.policy`'s to say (:func:`~smscat.relay.core.policy.recipient_refusal`,
:func:`~smscat.relay.core.policy.question_time`, :func:`~smscat.relay.core.policy.send_time`);
this module loads what they need and asks them, once for every SMS.

It must never log a number or a text: refusals are audited by kind and reason only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import aiosqlite

from smscat.modem import pdu
from smscat.modem.errors import EncodeError
from smscat.relay.core import policy, texts
from smscat.relay.core.errors import Invalid
from smscat.relay.core.retry import PRIORITY, OutboxKind
from smscat.relay.core.types import Expert
from smscat.relay.services.context import Context
from smscat.storage import care as care_db
from smscat.storage import outbox as outbox_db
from smscat.storage import phones as phones_db
from smscat.storage import threads as threads_db
from smscat.storage.db import iso


class Sender:
    """Queues SMS and says who may get one when; safe to share between all services."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.options = ctx.options

    async def enqueue(
        self,
        conn: aiosqlite.Connection,
        kind: OutboxKind,
        recipient: str,
        text: str,
        thread_id: int | None,
        now: datetime,
        *,
        not_before: datetime | None = None,
        guard: bool = True,
        typed: bool = False,
        patient: bool = False,
        confirms_command: bool = False,
    ) -> int | None:
        """Queue one SMS, in the caller's transaction: every SMS goes through here; its outbox
        id, or None when it was not queued. The pump is woken once the transaction commits
        (:meth:`wake_pump`).

        Who may get it is :func:`.policy.recipient_refusal`'s one rule for every kind
        (``patient``: a notice for a patient, as a link; ``confirms_command``: the
        confirmation of the number's own STOP or START, which a stopped or never-verified
        number gets). A refused SMS is not queued (audited as ``sms.refused`` with its kind
        and the reason, never the number).

        The duplicate guard (``duplicate_guard``): carriers flag (and people hate) the same
        text twice a day, so a text the system writes (a notice, a list, a confirmation) goes
        to one number once a day; ``guard=False`` lets a deliberate repeat through (an alert's
        reminder). ``typed``: the SMS carries what a person typed (a question, a follow-up, an
        answer), which is never dropped — said twice, it arrives twice, the repeat numbered
        (``sms_repeat``: "（第2次）") so that it differs visibly from the first.
        """
        refused = await self.refusal(conn, kind, recipient, patient, confirms_command)
        if refused is not None:
            await self.db.audit(conn, "relay", "sms.refused", kind, {"reason": refused})
            return None
        if self.options.duplicate_guard and (guard or typed):
            since = iso(now - timedelta(days=1))
            if typed:
                text = await self._numbered(conn, recipient, text, since)
            elif await outbox_db.same_sms_since(conn, recipient, text, since):
                await self.db.audit(conn, "relay", "sms.duplicate_skipped", kind)
                return None
        try:
            pdu.plan_submit(recipient, text, ref=0)
        except EncodeError:
            raise Invalid("text_length", field="text") from None
        sms = outbox_db.NewSms(kind, PRIORITY[kind], recipient, text, thread_id)
        sms_id = await outbox_db.enqueue(conn, sms, iso(max(now, not_before or now)))
        self.wake_pump()
        return sms_id

    def wake_pump(self) -> None:
        """The caller's transaction changed what the outbox has due: wake the pump after the
        commit (nothing happens on a rollback). :meth:`enqueue` does it for every SMS."""
        self.db.after_commit(self.ctx.outbox_changed.set)

    async def may_still_text(self, kind: str, recipient: str) -> bool:
        """At submit time: may this queued SMS still go? A patient may have sent STOP or been
        erased since it was queued (:func:`.policy.recipient_refusal` decides; experts' and
        admins' SMS go)."""
        if kind not in policy.PATIENT_KINDS:
            return True  # (a notice's flags are gone by now: enqueue decided for it)
        async with self.db.reading() as conn:
            refused = await self.refusal(conn, kind, recipient, True, False)
        return refused is None

    async def refusal(
        self,
        conn: aiosqlite.Connection,
        kind: OutboxKind,
        recipient: str,
        patient: bool = False,
        confirms: bool = False,
    ) -> policy.Refusal | None:
        """Why :meth:`enqueue` may not text ``recipient`` (None: it may): the facts
        :func:`.policy.recipient_refusal` needs, loaded."""
        staff, phone = await phones_db.recipient(conn, recipient)
        return policy.recipient_refusal(
            kind,
            recipient,
            phone,
            is_staff_number=staff,
            patient=patient,
            confirms=confirms,
            rules=self.options.text_rules,
            consented=kind == "care" and await care_db.consented(conn, recipient),
        )

    @staticmethod
    async def _numbered(conn: aiosqlite.Connection, recipient: str, text: str, since: str) -> str:
        """``text``, or ``text`` with the first repeat number not yet sent to ``recipient``."""
        numbered, n = text, 1
        while await outbox_db.same_sms_since(conn, recipient, numbered, since):
            n += 1
            numbered = text + texts.render("sms_repeat", n=n)
        return numbered

    # -- when a person may be texted -------------------------------------------------------

    async def question_time(
        self, conn: aiosqlite.Connection, person: Expert, now: datetime
    ) -> datetime | None:
        """When a new question may reach ``person`` (None: now): :func:`.policy.question_time`,
        with the recent questions' times loaded when a daily cap makes them matter."""
        return policy.question_time(
            person, self.options.zone, now, await self.scheduled(conn, person, now)
        )

    def send_time(self, person: Expert, now: datetime) -> datetime | None:
        """When anything but a new question may reach ``person`` (None: now):
        :func:`.policy.send_time` in the department's time zone."""
        return policy.send_time(person, self.options.zone, now)

    @staticmethod
    async def scheduled(
        conn: aiosqlite.Connection, person: Expert, now: datetime
    ) -> list[datetime]:
        """When ``person``'s recent questions were set to go, for a daily cap; without a cap
        they do not matter, and nothing is loaded."""
        if person.daily_cap is None:
            return []
        return await threads_db.question_times(conn, person.phone, iso(now - timedelta(days=2)))
