"""SIGKILL the daemon again and again while questions and replies flow; nothing is lost or doubled.

The simulator runs as its own process in its own process group (it is the modem: it outlives
the daemon), at a real serial line rate so that a PDU takes a few milliseconds to arrive. The
daemon is `smscat run` as a subprocess, killed with SIGKILL at chosen moments — while the
modem shows the ``> `` prompt, while a message has been read (+CMGR) but not yet deleted
(+CMGD), and at random — and restarted each time. Afterwards:

- every question the API acknowledged exists and reached its expert's phone;
- every reply an expert sent appears in its thread exactly once;
- SMS sent twice: only parts that were in flight at a kill (at most one per kill).

The driver lives in tests/support/crash.py (bench/crash.py runs it bigger). The RNG is seeded;
the seed is printed, and ``SMSCAT_CRASH_SEED`` replays a run.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.support.crash import EXPERTS, Flow, crash_rounds

QUESTIONS = 150  # and as many replies: 300 messages through the relay
KILLS = 12


@pytest.mark.slow
async def test_sigkill_rounds_lose_nothing_and_post_nothing_twice(tmp_path: Path) -> None:
    seed = int(os.environ.get("SMSCAT_CRASH_SEED", random.randrange(2**32)))
    print(f"crash test seed: {seed} (SMSCAT_CRASH_SEED={seed} replays it)")
    flow = Flow(random.Random(seed), QUESTIONS, EXPERTS)
    run = await crash_rounds(tmp_path, flow, KILLS)
    hits = run.hits

    report = f"seed {seed}, kills by trigger {dict(hits)}"
    assert run.settled, f"{report}: the last run did not reach the end in time"
    assert run.exit_code == 0, "SIGTERM: the daemon drains and exits 0"
    assert hits["prompt"] >= 1, report  # the windows were really hit
    assert hits["read"] >= 1, report
    # a kill can cut off the answer to one POST: that question is not counted as acknowledged
    assert len(flow.asked) >= QUESTIONS - KILLS, report

    # every acknowledged question reached its expert; copies only from parts in flight
    assert run.lost_questions == [], report
    repeated = run.repeated
    print(f"{report}: {len(flow.asked)} questions, {len(flow.replies)} replies, {repeated} repeats")
    assert repeated <= KILLS, f"{report}: {repeated} parts sent twice"

    # every reply is in its thread exactly once
    for text, reply in flow.replies.items():
        assert run.posts(text) == [reply.split(" ", 1)[1]], report
