"""Every storage function that changes an SMS's status moves it as the outbox table says, on a
real SQLite file, from each of the five statuses: to the event's target from a source status,
and not at all (the row as it was) from any other. No other module writes ``outbox.status``."""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiosqlite
import pytest

from smscat.relay.core.outbox_states import (
    INITIAL,
    OutboxEvent,
    OutboxStatus,
    next_status,
    sources,
)
from smscat.relay.core.records import OutboxSms
from smscat.storage import outbox as outbox_db
from smscat.storage import retention
from smscat.storage.db import Database
from tests.support.storage import LATER, NOW, with_a_thread

PATIENT = "+8613900139001"

Move = Callable[[aiosqlite.Connection, int], Awaitable[object]]


async def _one_part_delivered(conn: aiosqlite.Connection, outbox_id: int) -> None:
    assert await outbox_db.mark_part_delivered(conn, outbox_id, 1, 0, LATER)  # every part


async def _erase(conn: aiosqlite.Connection, outbox_id: int) -> None:
    await retention.erase_numbers(
        conn, phone_ids=[], numbers=[PATIENT], senders=[], pending_part_ids=[], now=LATER
    )


# name -> (the event it writes, the call on one SMS: a to_expert SMS of thread 1 to PATIENT)
MOVES: dict[str, tuple[OutboxEvent, Move]] = {
    "mark_sent": (OutboxEvent.SENT, lambda c, i: outbox_db.mark_sent(c, i, "m1", LATER)),
    "mark_part_delivered": (OutboxEvent.DELIVERED, _one_part_delivered),
    "mark_failed": (OutboxEvent.FAILED, lambda c, i: outbox_db.mark_failed(c, i, 3, "cms_500")),
    "cancel_for_thread": (OutboxEvent.CANCELLED, lambda c, i: outbox_db.cancel_for_thread(c, 1)),
    "cancel_for_recipient": (
        OutboxEvent.CANCELLED,
        lambda c, i: outbox_db.cancel_for_recipient(c, PATIENT, ["to_expert"]),
    ),
    "cancel_for_recipients": (
        OutboxEvent.CANCELLED,
        lambda c, i: outbox_db.cancel_for_recipients(c, [PATIENT]),
    ),
    "cancel_outbox": (OutboxEvent.CANCELLED, lambda c, i: outbox_db.cancel_outbox(c, i)),
    "requeue": (OutboxEvent.REQUEUED, lambda c, i: outbox_db.requeue(c, i, LATER)),
    "retention.erase_numbers": (OutboxEvent.CANCELLED, _erase),
}


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with with_a_thread(tmp_path) as opened:
        async with opened.transaction() as conn:
            # the rows an UPDATE that writes the status column matched, changed or not
            await conn.execute("CREATE TEMP TABLE status_written (id INTEGER NOT NULL)")
            await conn.execute(
                "CREATE TEMP TRIGGER status_written AFTER UPDATE OF status ON outbox"
                " BEGIN INSERT INTO status_written VALUES (NEW.id); END"
            )
        yield opened


async def _sms_in(db: Database, status: OutboxStatus, *, one_part: bool) -> OutboxSms:
    """A new SMS to the expert side of thread 1, put straight into ``status``."""
    async with db.transaction() as conn:
        outbox_id = await outbox_db.enqueue(
            conn, outbox_db.NewSms("to_expert", 2, PATIENT, "text", 1), NOW
        )
        await conn.execute("UPDATE outbox SET status = ? WHERE id = ?", (status, outbox_id))
        if one_part:  # a modem accepted its one part
            await outbox_db.record_part(conn, outbox_id, 1, 1, "m1", 7, NOW)
        await conn.execute("DELETE FROM status_written")
        row = await outbox_db.outbox_row(conn, outbox_id)
    assert row is not None
    return row


async def test_an_sms_starts_in_the_initial_status(db: Database) -> None:
    async with db.transaction() as conn:
        outbox_id = await outbox_db.enqueue(
            conn, outbox_db.NewSms("notice", 3, PATIENT, "text", None), NOW
        )
    assert await outbox_db.outbox_status(db, outbox_id) is INITIAL


@pytest.mark.parametrize("status", list(OutboxStatus))
@pytest.mark.parametrize("name", list(MOVES))
async def test_each_status_change_follows_the_table(
    db: Database, name: str, status: OutboxStatus
) -> None:
    event, move = MOVES[name]
    before = await _sms_in(db, status, one_part=name == "mark_part_delivered")
    async with db.transaction() as conn:
        await move(conn, before.id)
        after = await outbox_db.outbox_row(conn, before.id)
    written = [r["id"] for r in await db.fetchall("SELECT id FROM status_written")]
    assert after is not None
    if status in sources(event):
        assert after.status == next_status(status, event)
        assert written == [before.id]
    else:
        assert written == []  # refused: no row changed, the table has no such move
        unchanged = before
        if name == "retention.erase_numbers":  # the number goes whatever the status
            unchanged = dataclasses.replace(before, recipient=retention.ERASED_SENDER)
        assert after == unchanged


async def test_what_moves_carries_its_columns(db: Database) -> None:
    queued = await _sms_in(db, OutboxStatus.QUEUED, one_part=False)
    async with db.transaction() as conn:
        await outbox_db.mark_sent(conn, queued.id, "m1", LATER)
    (sent,) = await db.fetchall("SELECT * FROM outbox WHERE id = ?", (queued.id,))
    assert (sent["status"], sent["modem_id"], sent["sent_at"]) == ("sent", "m1", LATER)

    failed = await _sms_in(db, OutboxStatus.QUEUED, one_part=False)
    async with db.transaction() as conn:
        await outbox_db.mark_failed(conn, failed.id, 3, "cms_500")
        await outbox_db.avoid_modem(conn, failed.id, "m1")
        assert await outbox_db.requeue(conn, failed.id, LATER)
        assert not await outbox_db.requeue(conn, failed.id, LATER)  # queued already
    (row,) = await db.fetchall("SELECT * FROM outbox WHERE id = ?", (failed.id,))
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("queued", 0, LATER)
    assert (row["error"], row["avoid_modem"]) == (None, None)


def test_every_status_writer_of_the_outbox_module_is_covered() -> None:
    """A new function that moves an SMS (it calls ``_move``) must join :data:`MOVES`."""
    source = Path(outbox_db.__file__).read_text(encoding="utf-8")
    writers = {
        node.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.AsyncFunctionDef)
        and any(
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "_move"
            for call in ast.walk(node)
        )
    }
    assert writers == {name for name in MOVES if "." not in name}


def _sql_texts(path: Path) -> list[str]:
    """The string literals of a module, f-strings with ``{}`` for what they interpolate."""
    texts: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            texts.append(
                "".join(
                    str(part.value) if isinstance(part, ast.Constant) else "{}"
                    for part in node.values
                )
            )
    return texts


def test_no_module_but_the_outbox_store_writes_an_outbox_status() -> None:
    root = Path(__file__).resolve().parents[2]
    # an UPDATE of the outbox whose SET list (before its WHERE) names the status column
    writes_status = re.compile(
        r"UPDATE\s+outbox\s+SET\s+(?:(?!\bWHERE\b).)*\bstatus\b", re.I | re.S
    )
    writers = sorted(
        str(path.relative_to(root))
        for folder in ("relay", "storage", "web")
        for path in (root / folder).rglob("*.py")
        if any(writes_status.search(text) for text in _sql_texts(path))
    )
    assert writers == ["storage/outbox.py"]
