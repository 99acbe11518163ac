"""Retention: patients' phone numbers and private threads are kept no longer than configured.

A daily job, :func:`purge`, does two things, in this order:

(a) a patient's phone number with no activity (new thread message, verification) for
    ``phone_days`` is erased from every table that can hold it: ``phones`` (the row stays as
    ``erased:<id>``, with ``erased_at``; migration 004 allows that form), its verifications, the
    ``outbox`` rows to it (queued ones are cancelled), ``recipient_modem``, the ``inbound`` rows
    from it and their raw parts (a PDU carries the sender's number in semi-octets), and wherever
    it was typed into a message or an SMS text. Its threads stay, without the link to the phone.
    On the same schedule, SMS from unknown numbers (neither an expert's nor a verified
    patient's; never posted, kept only for admins) older than ``phone_days`` are deleted with
    their raw parts.
(b) a private thread whose last message is older than ``thread_days`` is deleted, with its
    messages, its outbox rows and the SMS received for it. Public threads stay (they are the
    board); so do younger threads.

:func:`erase_phone` does (a) for one number at once, on the patient's request (``smscat erase``).
An expert's number is refused: experts come from config.yaml, not from requests.

Nothing of what went may stay on disk. Both run with ``PRAGMA secure_delete=ON`` (what they
delete or replace is zeroed), then, when they changed anything, rebuild the file (``VACUUM``
drops the old row images that routine updates, such as an SMS's status change, left in free
page space while ``secure_delete`` was off, SQLite's default unless built otherwise) and
truncate the WAL. A backup taken afterwards holds no trace of the number. Both write one audit
entry (``retention.purge``, ``retention.erase``) holding counts and a phone id, never a
number. Outer ring: it reads SMS senders with the modem package's PDU decoder and
address normaliser, so that "13912345678" and "+8613912345678" are one number.

It must never: log, audit, print or raise with a phone number in it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiosqlite
import phonenumbers

from smscat.modem import pdu
from smscat.modem.address import AddressError, is_short_code, normalise
from smscat.modem.errors import PduError
from smscat.relay import texts
from smscat.relay.errors import Conflict, Invalid
from smscat.relay.service import iso
from smscat.storage import relay as relay_store
from smscat.storage import retention as store
from smscat.storage.db import Database
from smscat.storage.retention import DeletedRows, ErasedRows

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What a purge or an erasure changed: counts only."""

    erased: ErasedRows = field(default_factory=ErasedRows)
    deleted: DeletedRows = field(default_factory=DeletedRows)
    vacuumed: bool = False  # the file was rebuilt afterwards (no old row images left in it)
    checkpointed: bool = False  # the WAL was emptied into the database file afterwards

    @property
    def changed(self) -> bool:
        counts = self.counts()
        return any(n for group in counts.values() for n in group.values())

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            "erased": dataclasses.asdict(self.erased),
            "deleted": dataclasses.asdict(self.deleted),
        }


async def purge(
    db: Database, *, phone_days: int | None, thread_days: int | None, now: datetime
) -> PurgeReport:
    """The daily retention job (see the module docstring); None keeps that kind of data."""
    erased, deleted = ErasedRows(), DeletedRows()
    async with store.secure_delete(db), db.transaction() as conn:
        if phone_days is not None:
            stale = await store.stale_phones(conn, iso(now - timedelta(days=phone_days)))
            erased = await _erase(
                conn, [int(row["id"]) for row in stale], [row["e164"] for row in stale], now
            )
            sms, parts = await store.delete_unknown_senders(
                conn, iso(now - timedelta(days=phone_days))
            )
            erased = dataclasses.replace(erased, unknown_sms=sms, unknown_parts=parts)
        if thread_days is not None:
            old = await store.stale_private_threads(conn, iso(now - timedelta(days=thread_days)))
            deleted = await store.delete_threads(conn, old)
        report = PurgeReport(erased, deleted)
        await db.audit(conn, "retention", "retention.purge", None, report.counts())
    report = await _overwrite(db, report)
    log.info(
        "retention: %d phone number(s) erased, %d SMS from unknown numbers and %d private"
        " thread(s) deleted",
        erased.phones,
        erased.unknown_sms,
        deleted.threads,
    )
    return report


async def erase_phone(db: Database, e164: str, actor: str, now: datetime) -> PurgeReport:
    """Erase one number everywhere, now (a patient's request). Invalid / Conflict if refused.

    A number that never verified (no ``phones`` row) is still erased from the SMS it sent and
    received; the audit entry then names no phone id.
    """
    number = _mobile(e164)
    async with store.secure_delete(db), db.transaction() as conn:
        if await relay_store.expert_by_phone(conn, number) is not None:
            raise Conflict("expert_phone", field="phone")
        row = await relay_store.phone(conn, number)
        phone_ids = [int(row["id"])] if row is not None else []
        erased = await _erase(conn, phone_ids, [number], now)
        report = PurgeReport(erased)
        subject = str(phone_ids[0]) if phone_ids else None
        await db.audit(conn, actor, "retention.erase", subject, report.counts())
    report = await _overwrite(db, report)
    log.info("retention: a phone number erased on request by %s", actor)
    return report


async def _overwrite(db: Database, report: PurgeReport) -> PurgeReport:
    """Rebuild the file and empty the WAL, so no old copy of what went stays on disk."""
    if not report.changed:
        return report
    vacuumed = await store.vacuum(db)
    if not vacuumed:
        log.warning("retention: the database could not be rebuilt now (busy); next time")
    return dataclasses.replace(report, vacuumed=vacuumed, checkpointed=await store.checkpoint(db))


def _mobile(raw: str) -> str:
    try:
        number = normalise(raw)
    except AddressError:
        raise Invalid("phone_invalid", field="phone") from None
    if is_short_code(number):
        raise Invalid("phone_invalid", field="phone")
    return number


async def _erase(
    conn: aiosqlite.Connection, phone_ids: list[int], numbers: list[str], now: datetime
) -> ErasedRows:
    if not numbers:
        return ErasedRows()
    wanted = set(numbers)
    senders = [raw for raw in await store.inbound_senders(conn) if _as_e164(raw) in wanted]
    pending = [
        int(row["id"])
        for row in await store.pending_parts(conn)
        if _sender_of(row["pdu"]) in wanted
    ]
    rows = await store.erase_numbers(
        conn,
        phone_ids=phone_ids,
        numbers=numbers,
        senders=sorted({*senders, *numbers}),
        pending_part_ids=pending,
        now=iso(now),
    )
    scrubbed = await _scrub_texts(conn, numbers)
    return dataclasses.replace(rows, texts=scrubbed)


async def _scrub_texts(conn: aiosqlite.Connection, numbers: Iterable[str]) -> int:
    """Replace the numbers, as typed in E.164 or national form, in every free-text column."""
    needles = sorted({form for number in numbers for form in _typed_forms(number)}, key=len)
    placeholder = texts.render("erased_number")
    changed = 0
    for cell in await store.texts_with_digit_runs(conn):
        text = cell.text
        for needle in reversed(needles):  # the longest first: "+86139…" before "139…"
            text = text.replace(needle, placeholder)
        if text != cell.text:
            await store.replace_text(conn, cell, text)
            changed += 1
    return changed


def _typed_forms(e164: str) -> set[str]:
    """``+8613912345678`` → itself, ``8613912345678``, ``13912345678`` (what people type)."""
    national = phonenumbers.national_significant_number(phonenumbers.parse(e164))
    return {e164, e164[1:], str(national)}


def _as_e164(raw: str) -> str | None:
    try:
        return normalise(raw)
    except AddressError:
        return None  # an alphanumeric sender (an operator): not a patient's number


def _sender_of(pdu_hex: Any) -> str | None:
    try:
        return _as_e164(pdu.decode_deliver(str(pdu_hex)).sender)
    except PduError:
        return None  # undecodable: the inbound router keeps it for admins
