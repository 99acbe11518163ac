"""The SQL filters storage uses say what the core's policy says, over a table of real rows.

``storage.experts.PRESENT`` is :func:`policy.is_present`, ``storage.threads.HOLDER`` is
:func:`policy.holder`, ``storage.threads.ANSWER`` is :func:`policy.is_answer`: each table below
holds the rows on which a differing rule would answer otherwise (an expert deactivated but not
left, left but still active; a thread with no handler; an assistant's answer, a system note),
written to a real SQLite file, read back through every query that filters on the rule, and
compared with the policy over the same rows as the core's facts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smscat.relay.core import policy, stats
from smscat.relay.core.lifecycle import OPEN
from smscat.relay.core.types import Expert
from smscat.storage import admin as admin_db
from smscat.storage import experts as experts_db
from smscat.storage import stats as stats_db
from smscat.storage import threads as threads_db
from smscat.storage.db import Database, ExpertRow, iso
from smscat.storage.experts import PRESENT, as_expert
from smscat.storage.threads import ANSWER, ANSWER_PARAMS, HOLDER, as_thread

JOINED = datetime(2026, 10, 1, tzinfo=UTC)
LEFT = datetime(2026, 10, 20, tzinfo=UTC)
ASKED = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
OPEN_STATUSES = sorted(str(s) for s in OPEN)

# (id, role, active, left_at): every way the two presence columns can be set
PEOPLE = [
    ("zhang", "expert", 1, None),  # present
    ("li", "expert", 0, LEFT),  # left by a hand-off (both columns)
    ("qian", "expert", 0, None),  # deactivated by an admin, never left
    ("zhao", "expert", 1, LEFT),  # left, active never cleared
    ("wang", "assistant", 1, None),  # a present assistant
    ("sun", "assistant", 0, None),  # an assistant deactivated
]
# (thread, owner, handler): who holds each (None: the owner)
THREADS = [
    (1, "zhang", None),
    (2, "zhang", "wang"),
    (3, "zhang", "zhang"),
    (4, "li", "wang"),
    (5, "qian", None),
    (6, "zhao", "sun"),
]
# (thread, sender of its one message after the question, seconds after the question)
REPLIES = [
    (1, "expert", 600),
    (2, "assistant", 60),
    (3, "system", 30),
    (4, "patient", 120),
    (5, "expert", 1800),
    (6, "assistant", 900),
]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(tmp_path / "x.db") as opened:
        await opened.migrate()  # (open migrates already: nothing is left to apply)
        rows = [
            ExpertRow(
                person, person, "医师", "心血管内科", f"+86138001380{n:02d}", None, role=role,
                assistant_id="wang" if role == "expert" else None,
            )
            for n, (person, role, _, _) in enumerate(PEOPLE)
        ]  # fmt: skip
        await opened.sync_experts(rows, at=JOINED)
        async with opened.transaction() as conn:
            for person, _, active, left_at in PEOPLE:
                await conn.execute(
                    "UPDATE experts SET active = ?, left_at = ? WHERE id = ?",
                    (active, None if left_at is None else iso(left_at), person),
                )
            for thread_id, owner, handler in THREADS:
                new = threads_db.NewThread(
                    owner, thread_id, f"hash{thread_id}", "患者", True, None, "sent", iso(ASKED),
                    handler_id=handler,
                )  # fmt: skip
                assert await threads_db.insert_thread(conn, new) == thread_id
                await threads_db.insert_message(
                    conn, threads_db.NewMessage(thread_id, "patient", "问", "问", iso(ASKED))
                )
            for thread_id, sender, after in REPLIES:
                at = iso(ASKED + timedelta(seconds=after))
                await threads_db.insert_message(
                    conn, threads_db.NewMessage(thread_id, sender, "答", "答", at)
                )
        yield opened


async def _experts(db: Database) -> dict[str, Expert]:
    return {r["id"]: as_expert(r) for r in await db.fetchall("SELECT * FROM experts")}


async def test_present_in_sql_is_policy_is_present(db: Database) -> None:
    people = await _experts(db)
    present = {p for p, e in people.items() if policy.is_present(e)}
    assert present == {"zhang", "wang"}  # (the table holds each way of being absent)

    in_sql = await db.fetchall(f"SELECT id FROM experts WHERE {PRESENT}")
    assert {r["id"] for r in in_sql} == present
    board = await experts_db.experts(db)
    assert {e.id for e in board} == {p for p in present if people[p].role == "expert"}
    async with db.reading() as conn:
        assert {e.id for e in await experts_db.unwelcomed(conn)} == present
        naming = await admin_db.experts_naming_assistant(conn, "wang")
    assert set(naming) == {p for p in present if people[p].assistant_id == "wang"}
    async with db.reading() as conn:
        digest = await stats_db.digest_recipients(conn, joined_before=LEFT)
    assert {e.id for e in digest} == {p for p in present if people[p].role == "expert"}
    report = await stats_db.experts(db)
    assert {r["id"]: bool(r["present"]) for r in report} == {
        p: policy.is_present(e) for p, e in people.items()
    }
    overview = await admin_db.experts_overview(db, OPEN_STATUSES)
    order = [policy.is_present(r.expert) for r in overview]
    assert order == sorted(order, reverse=True)  # the present ones first


async def test_holder_in_sql_is_policy_holder(db: Database) -> None:
    threads = [as_thread(r) for r in await db.fetchall("SELECT * FROM threads ORDER BY id")]
    rows = await db.fetchall(f"SELECT id, {HOLDER} AS holder FROM threads ORDER BY id")
    assert [r["holder"] for r in rows] == [policy.holder(t) for t in threads]
    async with db.reading() as conn:
        for person, _, _, _ in PEOPLE:
            held = await threads_db.open_threads_of_expert(conn, person, OPEN_STATUSES)
            mine = [t.id for t in threads if policy.holder(t) == person]
            assert [t.id for t in held] == mine, person
            only_held = [t for t in threads if policy.holder(t) == person != t.expert_id]
            assert await admin_db.threads_held(conn, person, OPEN_STATUSES) == len(only_held)
            in_use = await threads_db.codes_in_use(conn, [person], None, iso(ASKED))
            owns_or_holds = {t.code for t in threads if person in (t.expert_id, policy.holder(t))}
            assert in_use == owns_or_holds, person
    overview = await admin_db.experts_overview(db, OPEN_STATUSES)
    counts = {r.expert.id: r.open_threads for r in overview}
    assert counts == {
        p: sum(p in (t.expert_id, policy.holder(t)) for t in threads) for p, _, _, _ in PEOPLE
    }


async def test_answer_in_sql_is_policy_is_answer(db: Database) -> None:
    rows = await db.fetchall(
        f"SELECT thread_id, sender, {ANSWER} AS answers FROM messages ORDER BY id", ANSWER_PARAMS
    )
    assert {r["sender"] for r in rows} == {"patient", "expert", "assistant", "system"}
    assert [bool(r["answers"]) for r in rows] == [policy.is_answer(r["sender"]) for r in rows]
    answered = {t for t, sender, _ in REPLIES if policy.is_answer(sender)}
    assert answered == {1, 2, 5, 6}
    async with db.reading() as conn:
        for thread_id, _, _ in THREADS:
            assert await threads_db.has_answer(conn, thread_id) is (thread_id in answered)
            posts = await threads_db.thread_messages(conn, thread_id)
            answers = [i for i, p in enumerate(posts) if policy.is_answer(p.sender)]
            after = posts[answers[-1] + 1 :] if answers else posts
            waiting = [p.text for p in after if p.sender == "patient"]
            assert await threads_db.since_last_answer(conn, thread_id) == waiting, thread_id
    facts = await stats_db.thread_facts(db, ASKED, ASKED + timedelta(days=1))
    assert [f.first_answer_at is not None for f in facts] == [t in answered for t, *_ in THREADS]


async def test_the_boards_median_is_the_reports_median(db: Database) -> None:
    """One rule for what answers, one median: the board's "usually answers within" and the
    monthly report's median time to a first answer are the same number for each expert."""
    board = await threads_db.median_first_answer(db, iso(ASKED - timedelta(days=90)))
    period = stats.month_period("2026-11", "Asia/Shanghai")
    facts = await stats_db.thread_facts(db, period.start, period.end)
    owners = sorted({owner for _, owner, _ in THREADS})
    report = stats.month_stats(facts, period, owners)
    assert board == {
        owner: figures.median_first_answer_s
        for owner, figures in report.experts.items()
        if figures.median_first_answer_s is not None
    }
    assert board == {"zhang": 330.0, "qian": 1800.0, "zhao": 900.0}  # assistants' answers count
