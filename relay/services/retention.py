"""Retention: patients' phone numbers and private threads are kept no longer than configured.

A daily job, :func:`purge`, does two things, in this order:

(a) a patient's phone number with no activity (new thread message, verification) for
    ``phone_days`` is erased from every table that can hold it: ``phones`` (the row stays as
    ``erased:<id>``, with ``erased_at``; migration 004 allows that form), its verifications, the
    ``outbox`` rows to it (queued ones are cancelled), ``recipient_modem``, the ``inbound`` rows
    from it and their raw parts (a PDU carries the sender's number in semi-octets), and wherever
    it was written, in whatever form: every free-text cell (messages, SMS texts in and out, SMS
    errors, nicknames, audit and alert entries) is read by the same detector that masks public
    pages (:func:`~smscat.relay.core.numbers.find_number`: spaced, slashed, full-width, Chinese
    numerals, across a line break…) and each form of the number becomes ``[号码已删除]``; the
    raw parts of an SMS whose text held it are blanked, and a part still waiting for the rest
    of its message goes when it came from the number or its text so far holds it. Its threads
    stay, without the link to the phone.
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
import json
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
from smscat.relay.core import texts
from smscat.relay.core.errors import Conflict, Invalid
from smscat.relay.core.masking import erase_number
from smscat.relay.core.numbers import holds
from smscat.relay.core.records import InboundPart
from smscat.storage import experts as experts_db
from smscat.storage import phones as phones_db
from smscat.storage import retention as store
from smscat.storage.db import Database, iso
from smscat.storage.retention import DeletedRows, ErasedRows, TextCell

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
                conn, [phone.id for phone in stale], [phone.e164 for phone in stale], now
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
        if await experts_db.expert_by_phone(conn, number) is not None:
            raise Conflict("expert_phone", field="phone")
        phone = await phones_db.phone(conn, number)
        phone_ids = [phone.id] if phone is not None else []
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
    needles = sorted({_national(number) for number in numbers})
    senders = [raw for raw in await store.inbound_senders(conn) if _as_e164(raw) in wanted]
    pending = _pending_holding(await store.pending_parts(conn), wanted, needles)
    rows = await store.erase_numbers(
        conn,
        phone_ids=phone_ids,
        numbers=numbers,
        senders=sorted({*senders, *numbers}),
        pending_part_ids=pending,
        now=iso(now),
    )
    scrubbed = await _scrub_texts(conn, needles)
    # a received SMS whose text held the number: its raw parts hold it too (UCS2 or GSM-7)
    blanked = await store.blank_parts(
        conn, [cell.id for cell in scrubbed if (cell.table, cell.column) == ("inbound", "text")]
    )
    return dataclasses.replace(
        rows, texts=len(scrubbed), inbound_parts=rows.inbound_parts + blanked
    )


async def _scrub_texts(conn: aiosqlite.Connection, needles: list[str]) -> list[TextCell]:
    """Replace the numbers, in every form they were written in, in every free-text cell."""
    placeholder = texts.render("erased_number")
    cells = await store.cells_where(conn, store.TEXT_COLUMNS, lambda t: _holds(t, needles))
    for cell in cells:
        await store.replace_text(conn, cell, _erased(cell.text, needles, placeholder))
    json_cells = await store.cells_where(
        conn, store.JSON_COLUMNS, lambda t: any(_holds(v, needles) for v in _json_texts(t))
    )
    for cell in json_cells:
        await store.replace_text(conn, cell, _erased_json(cell.text, needles, placeholder))
    return [*cells, *json_cells]


def _national(e164: str) -> str:
    """``+8613912345678`` → ``13912345678``: the digits every written form of it holds."""
    return str(phonenumbers.national_significant_number(phonenumbers.parse(e164)))


def _holds(text: str, needles: Iterable[str]) -> bool:
    return any(holds(text, needle) for needle in needles)


def _erased(text: str, needles: Iterable[str], placeholder: str) -> str:
    for needle in needles:
        text = erase_number(text, needle, placeholder)
    return text


def _json_texts(raw: str) -> list[str]:
    """Every key, string and number in a JSON document, as text (the raw text if not JSON)."""
    try:
        value = json.loads(raw)
    except ValueError:
        return [raw]
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                found.append(str(key))
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str | int | float) and not isinstance(node, bool):
            found.append(str(node))

    walk(value)
    return found


def _erased_json(raw: str, needles: list[str], placeholder: str) -> str:
    """A JSON document with the numbers erased from its keys, strings and numbers."""
    try:
        value = json.loads(raw)
    except ValueError:
        return _erased(raw, needles, placeholder)

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {_erased(str(k), needles, placeholder): rewrite(v) for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if isinstance(node, str):
            return _erased(node, needles, placeholder)
        if isinstance(node, int | float) and not isinstance(node, bool):
            text = str(node)
            return node if _erased(text, needles, placeholder) == text else placeholder
        return node

    return json.dumps(rewrite(value))


def _pending_holding(
    pending: Iterable[InboundPart], wanted: set[str], needles: list[str]
) -> list[int]:
    """Raw parts not yet assembled that were sent from one of the numbers, or whose message
    (its parts so far, in order) holds one in its text."""
    found: list[int] = []
    messages: dict[tuple[str, int, int], list[tuple[int, int, str]]] = {}
    for part in pending:
        part_id = part.id
        try:
            deliver = pdu.decode_deliver(part.pdu)
        except PduError:
            if any(_semi_octets(n) in part.pdu.upper() for n in needles):
                found.append(part_id)  # undecodable, but the number is there in semi-octets
            continue
        if _as_e164(deliver.sender) in wanted:
            found.append(part_id)
            continue
        concat = deliver.concat
        key = (
            (deliver.sender, concat.ref, concat.total) if concat else (deliver.sender, -1, part_id)
        )
        messages.setdefault(key, []).append((concat.seq if concat else 1, part_id, deliver.text))
    for parts in messages.values():
        parts.sort()
        if _holds(pdu.join_texts([text for _, _, text in parts]), needles):
            found.extend(part_id for _, part_id, _ in parts)
    return sorted(found)


def _semi_octets(digits: str) -> str:
    """``13912345678`` as an SMS address carries it: ``3119325476F8``."""
    padded = digits + "F" * (len(digits) % 2)
    return "".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2))


def _as_e164(raw: str) -> str | None:
    try:
        return normalise(raw)
    except AddressError:
        return None  # an alphanumeric sender (an operator): not a patient's number
