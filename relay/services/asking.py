"""A patient asks on the web: a verification code by SMS, then the question, routed to the
expert (or to the expert's assistant first), held for quiet hours, a daily cap or a pause.

One transaction per request: the thread, its first message and the SMS to whoever handles it
commit together. Whose number a phone is is never said: an expert's, an assistant's or an
admin's number gets the same answer as any other and no code. It must never log a number, a
code or what was asked; only thread ids and outcomes.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import datetime, timedelta

import aiosqlite

from smscat.relay.core import codes, policy, texts
from smscat.relay.core.errors import Conflict, Forbidden, Invalid, NotFound, TooMany
from smscat.relay.core.lifecycle import Status
from smscat.relay.core.types import Expert
from smscat.relay.services.context import Asked, Context, mobile, token_hash
from smscat.relay.services.experts import Experts
from smscat.relay.services.sending import Sender
from smscat.relay.services.thread_ops import ThreadOps
from smscat.storage import experts as experts_db
from smscat.storage import phones as phones_db
from smscat.storage import threads as threads_db
from smscat.storage.db import iso

log = logging.getLogger(__name__)


class Asking:
    """Verification codes and new questions; safe to call concurrently."""

    def __init__(self, ctx: Context, sender: Sender, threads: ThreadOps, experts: Experts) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.options = ctx.options
        self.sender = sender
        self.threads = threads
        self.experts = experts

    async def start_verification(self, phone_raw: str) -> str:
        """Send a code to a patient's mobile; return the verification's id.

        Only to a number :func:`.policy.patient_refusal` lets us text: a mobile (:class:`Invalid`
        ``phone_not_mobile`` for a landline) of a country in ``code_countries`` (else
        ``phone_country``) that has not sent STOP since its last START (:class:`Conflict`
        ``phone_stopped``; the words say how to come back). An expert's, an assistant's or an
        admin's number gets the same answer as any other and no SMS: the answer must not tell
        anyone whose number it is (the code, never sent, is never known).
        """
        e164 = mobile(phone_raw)
        rules = self.options.text_rules
        _refuse(policy.patient_refusal(e164, None, rules, code=True))  # the number: no row yet
        now = self.ctx.clock()
        verification_id = secrets.token_urlsafe(16)
        code = f"{secrets.randbelow(10**6):06d}"
        async with self.db.transaction() as conn:
            phone = await phones_db.ensure_phone(conn, e164, iso(now))
            phone_id = phone.id
            refused = policy.patient_refusal(e164, phone, rules, code=True)
            _refuse(refused)
            recent = await phones_db.verifications_since(
                conn, phone_id, iso(now - timedelta(hours=1))
            )
            if recent >= self.options.codes_per_hour:
                raise TooMany("codes_per_hour", retry_after=3600, field="phone")
            # and for everyone together: codes for many numbers must not eat the SIMs' caps
            if await phones_db.verifications_total_since(conn, iso(now - timedelta(hours=1))) >= (
                self.options.codes_all_per_hour
            ):
                raise TooMany("codes_per_hour", retry_after=600, field="phone")
            await phones_db.insert_verification(
                conn,
                verification_id,
                phone_id,
                token_hash(f"{verification_id}:{code}"),
                iso(now),
                iso(now + self.options.code_ttl),
            )
            if refused == "phone_staff":
                await self.db.audit(conn, "relay", "verification.withheld", verification_id)
                return verification_id
            minutes = int(self.options.code_ttl.total_seconds() // 60)
            text = texts.render(
                "verification_code", dept=self.options.department, code=code, minutes=minutes
            )
            await self.sender.enqueue(conn, "verification", e164, text, None, now)
        return verification_id

    async def ask(
        self,
        *,
        expert_id: str,
        nickname: str,
        text: str,
        public: bool,
        phone: str | None = None,
        verification_id: str | None = None,
        code: str | None = None,
    ) -> Asked:
        """A new question to ``expert_id``: with a phone, only with its right code."""
        nickname, text = nickname.strip(), text.strip()
        self._check_text(nickname, text)
        now = self.ctx.clock()
        token = secrets.token_urlsafe(24)
        wrong_code = False
        async with self.db.transaction() as conn:
            expert = await experts_db.expert(conn, expert_id)
            if expert is None or not policy.is_present(expert):
                raise NotFound("expert", field="expert_id")
            phone_id = None
            if phone is not None:
                phone_id = await self._verified(conn, phone, verification_id, code, now)
                wrong_code = phone_id is None
            if not wrong_code:
                thread_id, status = await self._open_thread(
                    conn, expert, nickname, text, public, phone_id, token, now
                )
        if wrong_code:  # the attempt is counted (committed above); the question is not taken
            raise Forbidden("code_wrong", field="code")
        log.info("thread %d: asked (%s)", thread_id, status)
        return Asked(thread_id, token, status)

    def _check_text(self, nickname: str, text: str) -> None:
        if not 1 <= len(nickname) <= self.options.max_nickname:
            raise Invalid("nickname_length", field="nickname")
        if not 1 <= len(text) <= self.options.max_text:
            raise Invalid("text_length", field="text")

    async def _verified(
        self,
        conn: aiosqlite.Connection,
        phone: str,
        verification_id: str | None,
        code: str | None,
        now: datetime,
    ) -> int | None:
        """The phone's id when the code is right; None for a wrong code (attempt counted)."""
        e164 = mobile(phone)
        if not verification_id or not code:
            raise Invalid("code_required", field="code")
        found = await phones_db.verification(conn, verification_id)
        if found is None or not hmac.compare_digest(found.e164, e164):
            raise Forbidden("verification_unknown", field="verification_id")
        if found.used_at is not None:
            raise Conflict("verification_used", field="verification_id")
        if found.expires_at <= now:
            raise Invalid("code_expired", field="code")
        if found.attempts >= self.options.code_attempts:
            raise TooMany("code_attempts", retry_after=3600, field="code")
        given = token_hash(f"{verification_id}:{code.strip()}")
        if not hmac.compare_digest(found.code_hash, given):
            await phones_db.count_attempt(conn, verification_id)
            return None
        phone_id = found.phone_id
        # STOP since the code went (only START ends it), or a number that is no patient's now
        phone_now = await phones_db.phone_by_id(conn, phone_id)
        refused = policy.patient_refusal(e164, phone_now, self.options.text_rules, code=True)
        if refused == "phone_staff":  # its code was never sent: a lucky guess is a wrong code
            await phones_db.count_attempt(conn, verification_id)
            return None
        _refuse(refused)
        await phones_db.use_verification(conn, verification_id, iso(now))
        await phones_db.mark_phone_verified(conn, phone_id, iso(now))
        return phone_id

    async def _open_thread(
        self,
        conn: aiosqlite.Connection,
        expert: Expert,
        nickname: str,
        text: str,
        public: bool,
        phone_id: int | None,
        token: str,
        now: datetime,
    ) -> tuple[int, str]:
        # The SMS go to the expert's assistant first, when there is one.
        handler = await self.experts.first_holder(conn, expert)
        # Unique for the expert and the assistant, and for the patient too: a patient who
        # asked two experts replies to "#1" and "#2", never to two different "#1".
        since = iso(now - codes.REUSE_AFTER)
        people = {expert.id, handler.id}
        code = codes.allocate(await threads_db.codes_in_use(conn, people, phone_id, since))
        not_before = await self.sender.question_time(conn, handler, now)
        status = Status.HELD if not_before else Status.QUEUED
        thread_id = await threads_db.insert_thread(
            conn,
            threads_db.NewThread(
                expert.id, code, token_hash(token), nickname, public, phone_id, status,
                iso(now), handler_id=handler.id,
            ),
        )  # fmt: skip
        await self.threads.post(conn, thread_id, "patient", text, now)
        sms = texts.render(
            "question_to_expert",
            dept=self.options.department,
            code=codes.format_code(code),
            nickname=nickname,
            text=text,
        )
        await self.sender.enqueue(
            conn, "to_expert", handler.phone, sms, thread_id, now, not_before=not_before,
            typed=True,
        )  # fmt: skip
        return thread_id, str(status)


def _refuse(reason: str | None) -> None:
    """Raise what a patient is told about a number we do not text
    (:func:`.policy.patient_refusal`).
    Nothing for None, nor for a staff number: whose number it is is never said."""
    if reason is None or reason == "phone_staff":
        return
    if reason == "phone_stopped":
        raise Conflict(reason, field="phone")
    raise Invalid(reason, field="phone")
