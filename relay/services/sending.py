"""The one way an SMS is queued, and the one answer to "may this number be texted, and when".

Every service queues its SMS through :meth:`Sender.enqueue`, in the caller's transaction, so
that a state change and the SMS it causes commit together; the outbox pump
(:mod:`.outbox`) sends them. No other module of the relay writes an outbox row. Who may get an
SMS (:meth:`Sender.refusal`) and when a person may be texted (quiet hours, a daily cap, a
pause: :meth:`Sender.question_time`, :meth:`Sender.send_time`) are decided here, once.

It must never log a number or a text: refusals are audited by kind and reason only.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import aiosqlite

from smscat.modem import pdu
from smscat.modem.address import line_kind
from smscat.modem.errors import EncodeError
from smscat.relay.core import schedule, texts
from smscat.relay.core.errors import Invalid
from smscat.relay.core.retry import PRIORITY, OutboxKind
from smscat.relay.services.context import Context, parse_iso
from smscat.storage import experts as experts_db
from smscat.storage import outbox as outbox_db
from smscat.storage import phones as phones_db
from smscat.storage import threads as threads_db
from smscat.storage.db import iso

PATIENT_KINDS: frozenset[OutboxKind] = frozenset({"to_patient", "verification"})  # never staff's


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
    ) -> bool:
        """Queue one SMS, in the caller's transaction: every SMS goes through here; whether it
        was queued. The pump is woken once the transaction commits (:meth:`wake_pump`).

        Who may get it, one rule for every kind: a patient's SMS (``to_patient``,
        ``verification``, or ``patient``: a notice for a patient, as a link) goes where
        :meth:`refusal` lets it (never to staff; a code to a number not yet verified;
        ``confirms_command``: the confirmation of the number's own STOP or START, which a
        stopped or never-verified number gets). Anything else is staff's: an expert's, an
        assistant's or an admin's number gets it; a question (``to_expert``) goes to nobody
        else, and a notice to any other number is a patient's. A refused SMS is not queued
        (audited as ``sms.refused`` with its kind and the reason, never the number).

        The duplicate guard (``duplicate_guard``): carriers flag (and people hate) the same
        text twice a day, so a text the system writes (a notice, a list, a confirmation) goes
        to one number once a day; ``guard=False`` lets a deliberate repeat through (an alert's
        reminder). ``typed``: the SMS carries what a person typed (a question, a follow-up, an
        answer), which is never dropped — said twice, it arrives twice, the repeat numbered
        (``sms_repeat``: "（第2次）") so that it differs visibly from the first.
        """
        patient = patient or confirms_command or kind in PATIENT_KINDS
        refused = await self._recipient_refusal(conn, kind, recipient, patient, confirms_command)
        if refused is not None:
            await self.db.audit(conn, "relay", "sms.refused", kind, {"reason": refused})
            return False
        if self.options.duplicate_guard and (guard or typed):
            since = iso(now - timedelta(days=1))
            if typed:
                text = await self._numbered(conn, recipient, text, since)
            elif await outbox_db.same_sms_since(conn, recipient, text, since):
                await self.db.audit(conn, "relay", "sms.duplicate_skipped", kind)
                return False
        try:
            pdu.plan_submit(recipient, text, ref=0)
        except EncodeError:
            raise Invalid("text_length", field="text") from None
        sms = outbox_db.NewSms(kind, PRIORITY[kind], recipient, text, thread_id)
        await outbox_db.enqueue(conn, sms, iso(max(now, not_before or now)))
        self.wake_pump()
        return True

    def wake_pump(self) -> None:
        """The caller's transaction changed what the outbox has due: wake the pump after the
        commit (nothing happens on a rollback). :meth:`enqueue` does it for every SMS."""
        self.db.after_commit(self.ctx.outbox_changed.set)

    async def may_still_text(self, kind: str, recipient: str) -> bool:
        """At submit time: may this queued SMS still go? A patient may have sent STOP or been
        erased since it was queued (:meth:`refusal` decides; experts' and admins' SMS go)."""
        if kind not in PATIENT_KINDS:
            return True  # (a notice's flags are gone by now: enqueue decided for it)
        async with self.db.reading() as conn:
            refused = await self._recipient_refusal(conn, kind, recipient, True, False)
        return refused is None

    def takes_sms(self, phone: aiosqlite.Row) -> bool:
        """A patient's phone (a phones row) that may get an SMS from us now (:meth:`refusal`)."""
        return self.refusal(str(phone["e164"]), phone) is None

    def refusal(self, e164: str, phone: aiosqlite.Row | None, *, code: bool = False) -> str | None:
        """Why the relay may not text ``e164`` as a patient; None: it may. The one answer to
        "may this phone get an SMS" for codes, links, answers, replies to a patient's SMS and
        what an admin sends again (the outbox looks once more before a submit:
        :meth:`may_still_text`).

        ``phone`` is the number's phones row (with ``staff``), None when it has none yet;
        ``code``: for a verification code, which goes before the number is verified. The
        reason is an ``error.<key>`` of :mod:`.texts`:

        * ``phone_country``: not a number of a country in ``code_countries`` (SMS pumping
          sends codes to foreign premium ranges; +86 only by default);
        * ``phone_not_mobile``: a landline, or anything else that is not a mobile;
        * ``phone_staff``: an expert's, an assistant's or an admin's (``alerts.phones``);
        * ``phone_erased``, ``phone_stopped`` (STOP, and no START since), and, for anything but
          a code, ``phone_unverified``.
        """
        if phone is not None and phone["erased_at"]:
            return "phone_erased"
        kind = line_kind(e164)
        if kind is None:
            return "phone_invalid"
        country, mobile = kind
        if country not in self.options.code_countries:
            return "phone_country"
        if not mobile:
            return "phone_not_mobile"
        if e164 in self.options.admin_phones or (phone is not None and phone["staff"]):
            return "phone_staff"
        if phone is not None and phone["stopped_at"]:
            return "phone_stopped"
        if not code and (phone is None or not phone["verified_at"]):
            return "phone_unverified"
        return None

    async def _recipient_refusal(
        self,
        conn: aiosqlite.Connection,
        kind: OutboxKind,
        recipient: str,
        patient: bool,
        confirms: bool,
    ) -> str | None:
        """Why :meth:`enqueue` may not text ``recipient`` (None: it may)."""
        expert = await experts_db.expert_by_phone(conn, recipient) is not None  # or assistant
        if patient and expert:
            return "phone_staff"  # (a number without a phones row has no ``staff`` in it)
        if not patient:
            if expert:
                return None
            if kind == "to_expert":
                return "not_staff"  # a question goes to an expert (or an assistant) only
            if recipient in self.options.admin_phones:
                return None
        phone = await phones_db.phone(conn, recipient)
        refused = self.refusal(recipient, phone, code=kind == "verification" or confirms)
        if confirms and refused == "phone_stopped":
            return None  # the confirmation of its own STOP
        return refused

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
        self, conn: aiosqlite.Connection, person: aiosqlite.Row, now: datetime
    ) -> datetime | None:
        """When a new question may reach ``person`` (None: now): quiet hours, cap, pause."""
        scheduled = []
        if person["daily_cap"] is not None:  # (without a cap, what is scheduled does not matter)
            since = iso(now - timedelta(days=2))
            times = await threads_db.question_times(conn, person["phone"], since)
            scheduled = [parse_iso(t) for t in times]
        return schedule.question_time(
            now,
            self._windows(person),
            self.options.zone,
            cap=person["daily_cap"],
            scheduled=scheduled,
            paused_until=paused_until(person, now),
        )

    def quiet_until(self, person: aiosqlite.Row, now: datetime) -> datetime | None:
        """When ``person``'s quiet hours let an SMS through (None: now); a pause aside."""
        return schedule.send_time(now, self._windows(person), self.options.zone)

    def send_time(self, person: aiosqlite.Row, now: datetime) -> datetime | None:
        """When anything else may reach ``person`` (None: now): quiet hours and a pause."""
        return schedule.send_time(
            now, self._windows(person), self.options.zone, paused_until(person, now)
        )

    @staticmethod
    def _windows(person: aiosqlite.Row) -> list[str]:
        return list(json.loads(person["quiet_hours"] or "[]"))


def paused_until(expert: aiosqlite.Row, now: datetime) -> datetime | None:
    """When ``expert``'s pause ends, while one holds now (None: not paused)."""
    value = expert["paused_until"]
    if value is None:
        return None
    until = parse_iso(value)
    return until if until > now else None
