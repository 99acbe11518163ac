"""Patients' phones, their verification codes and the link SMS sent to them. No decisions.

A phone is read as the core's :class:`~smscat.relay.core.types.Phone` (:func:`as_phone`), with
``staff`` worked out here, so that :func:`smscat.relay.core.policy.patient_refusal` decides.

Writes take the connection of the caller's ``async with db.transaction()``, so that a state
change and the SMS it causes commit together; reads that need no transaction take the
:class:`Database`. Nothing here logs.
"""

from __future__ import annotations

import aiosqlite

from smscat.relay.core.types import Phone, Verification
from smscat.storage.sql import Conn, fetch_one, moment, moment_or_none

# A patient's phone row, and ``staff``: whether the number is an expert's (or an assistant's).
_PHONE = (
    "SELECT p.*, EXISTS (SELECT 1 FROM experts e WHERE e.phone = p.e164) AS staff FROM phones p"
)


def as_phone(row: aiosqlite.Row) -> Phone:
    """A row of :func:`phone` / :func:`phone_by_id` (with ``staff``) as the core's fact."""
    return Phone(
        id=int(row["id"]),
        e164=str(row["e164"]),
        created_at=moment(row["created_at"]),
        verified_at=moment_or_none(row["verified_at"]),
        stopped_at=moment_or_none(row["stopped_at"]),
        erased_at=moment_or_none(row["erased_at"]),
        staff=bool(row["staff"]),
    )


async def phone(conn: Conn, e164: str) -> Phone | None:
    row = await fetch_one(conn, f"{_PHONE} WHERE p.e164 = ?", (e164,))
    return None if row is None else as_phone(row)


async def recipient(conn: Conn, e164: str) -> tuple[bool, Phone | None]:
    """Whether ``e164`` is an expert's (or an assistant's) number, and its phones row if it
    has one: what the recipient rule needs of any number, in one query."""
    row = await fetch_one(
        conn,
        "SELECT EXISTS (SELECT 1 FROM experts WHERE phone = ?) AS is_staff, p.*,"
        " EXISTS (SELECT 1 FROM experts e WHERE e.phone = p.e164) AS staff"
        " FROM (SELECT 1) LEFT JOIN phones p ON p.e164 = ?",
        (e164, e164),
    )
    assert row is not None  # (one row always: the LEFT JOIN's left side)
    return bool(row["is_staff"]), None if row["id"] is None else as_phone(row)


async def phone_by_id(conn: Conn, phone_id: int) -> Phone | None:
    row = await fetch_one(conn, f"{_PHONE} WHERE p.id = ?", (phone_id,))
    return None if row is None else as_phone(row)


async def ensure_phone(conn: Conn, e164: str, now: str) -> Phone:
    """``e164``'s phones row, made now if it had none."""
    await conn.execute(
        "INSERT INTO phones (e164, created_at) VALUES (?, ?) ON CONFLICT (e164) DO NOTHING",
        (e164, now),
    )
    found = await phone(conn, e164)
    assert found is not None
    return found


async def mark_phone_verified(conn: Conn, phone_id: int, now: str) -> None:
    await conn.execute(
        "UPDATE phones SET verified_at = COALESCE(verified_at, ?) WHERE id = ?", (now, phone_id)
    )


async def stop_phone(conn: Conn, phone_id: int, now: str) -> bool:
    """Record STOP; False when the number had already stopped."""
    async with conn.execute(
        "UPDATE phones SET stopped_at = ? WHERE id = ? AND stopped_at IS NULL", (now, phone_id)
    ) as cur:
        return cur.rowcount == 1


async def start_phone(conn: Conn, phone_id: int) -> bool:
    """Record START (the end of a STOP); False when the number had not stopped."""
    async with conn.execute(
        "UPDATE phones SET stopped_at = NULL WHERE id = ? AND stopped_at IS NOT NULL", (phone_id,)
    ) as cur:
        return cur.rowcount == 1


async def insert_verification(
    conn: Conn, verification_id: str, phone_id: int, code_hash: str, now: str, expires: str
) -> None:
    await conn.execute(
        "INSERT INTO verifications (id, phone_id, code_hash, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (verification_id, phone_id, code_hash, now, expires),
    )


async def verifications_since(conn: Conn, phone_id: int, since: str) -> int:
    row = await fetch_one(
        conn,
        "SELECT COUNT(*) FROM verifications WHERE phone_id = ? AND created_at >= ?",
        (phone_id, since),
    )
    return int(row[0]) if row else 0


async def verifications_total_since(conn: Conn, since: str) -> int:
    row = await fetch_one(
        conn, "SELECT COUNT(*) FROM verifications WHERE created_at >= ?", (since,)
    )
    return int(row[0]) if row else 0


async def verification(conn: Conn, verification_id: str) -> Verification | None:
    row = await fetch_one(
        conn,
        "SELECT v.*, p.e164 FROM verifications v JOIN phones p ON p.id = v.phone_id WHERE v.id = ?",
        (verification_id,),
    )
    if row is None:
        return None
    return Verification(
        id=str(row["id"]),
        phone_id=int(row["phone_id"]),
        e164=str(row["e164"]),
        code_hash=str(row["code_hash"]),
        created_at=moment(row["created_at"]),
        expires_at=moment(row["expires_at"]),
        attempts=int(row["attempts"]),
        verified_at=moment_or_none(row["verified_at"]),
        used_at=moment_or_none(row["used_at"]),
    )


async def count_attempt(conn: Conn, verification_id: str) -> None:
    await conn.execute(
        "UPDATE verifications SET attempts = attempts + 1 WHERE id = ?", (verification_id,)
    )


async def use_verification(conn: Conn, verification_id: str, now: str) -> None:
    await conn.execute(
        "UPDATE verifications SET verified_at = COALESCE(verified_at, ?), used_at = ? WHERE id = ?",
        (now, now, verification_id),
    )


async def insert_link_sms(conn: Conn, phone_id: int, links: int, now: str) -> None:
    await conn.execute(
        "INSERT INTO link_sms (phone_id, links, created_at) VALUES (?, ?, ?)",
        (phone_id, links, now),
    )


async def link_sms_since(conn: Conn, phone_id: int | None, since: str) -> int:
    """SMS of links sent since ``since`` to one phone (None: to every phone together)."""
    if phone_id is None:
        row = await fetch_one(conn, "SELECT COUNT(*) FROM link_sms WHERE created_at >= ?", (since,))
    else:
        row = await fetch_one(
            conn,
            "SELECT COUNT(*) FROM link_sms WHERE phone_id = ? AND created_at >= ?",
            (phone_id, since),
        )
    return int(row[0]) if row else 0
