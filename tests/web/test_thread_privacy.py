"""What a thread's address and a phone number must not give away, over real HTTP.

A thread's pages (``/t/{id}/{token}``…) send ``Referrer-Policy: no-referrer``: the page's own
CSS and script, or anything else, never get the address (the thread's key) as a Referer. The
department's "find my question links" answers before it looks at the number at all, so neither
its words nor its time say whether the number ever asked: with the database held by another
transaction, it still answers at once, for a known number and an unknown one alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smscat.relay.daemon.app import Daemon
from tests.support.daemon import PATIENT, Client, daemon
from tests.web.test_pages import get, html_page, post
from tests.web.test_thread_extras import STRANGER, ask, link_sms, neutral


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[tuple[Daemon, Client]]:
    async with daemon(tmp_path) as running:
        yield running


async def test_a_threads_pages_send_no_referrer(app: tuple[Daemon, Client]) -> None:
    _, client = app
    thread_id, path = await ask(client, "头晕", phone=PATIENT)
    status, headers, _ = await get(client, path)
    assert status == 200
    assert headers["Referrer-Policy"] == "no-referrer"
    answered = await post(client, path + "/messages", {"text": "还在头晕"})
    assert answered[0] == 303
    assert answered[1]["Referrer-Policy"] == "no-referrer"
    wrong = await get(client, f"/t/{thread_id}/{'C' * 32}")
    assert wrong[0] == 404
    assert wrong[1]["Referrer-Policy"] == "no-referrer"
    for other in ("/", "/experts/zhang"):  # elsewhere, as before
        assert (await get(client, other))[1]["Referrer-Policy"] == "same-origin"


async def test_find_my_links_answers_before_it_looks_at_the_number(
    app: tuple[Daemon, Client],
) -> None:
    running, client = app
    await ask(client, "胸闷", phone=PATIENT)
    async with running.relay.db.transaction():  # nothing can read or write meanwhile
        async with asyncio.timeout(5):
            known = await neutral(client, PATIENT)
            unknown = await neutral(client, STRANGER)
    assert known[2] == unknown[2]
    sms = await link_sms(client, PATIENT, 0)  # the work, done after the answer
    assert "/t/" in sms
    html_page(await get(client, "/?links=sent"))
