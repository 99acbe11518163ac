"""SIGKILL rounds during a flow, at a larger scale than the test suite: what is lost, what doubles.

Usage: python bench/crash.py [--quick] [--table] [--rounds R] [--questions N] [--seed S]
                             [--settle S] [--workdir DIR]

The crash test's driver (tests/support/crash.py, as tests/relay/daemon/test_crash.py runs it with 12
rounds and 150 questions): ``smscat sim`` as its own process at 38400 baud, ``smscat run`` as a
subprocess on it, SIGKILLed R times (20; ``--quick``: 6) — in turn while the modem shows the
``> `` prompt, between +CMGR and +CMGD, and at a random moment — and restarted each time, while
N questions (500; ``--quick``: 60) are posted over HTTP and each expert answers by SMS
(``POST /sms`` on the simulator) as soon as the question reaches their phone. The test's
configuration, with the SIM's caps off (its default 200 parts an hour would hold 500 questions
back). A last run goes to the end (every question asked, every reply in its thread; bounded by
``--settle`` seconds, default 90 + 0.3 s per question), then SIGTERM.

Reported: rounds; kills by kind (attempted, and whether the moment was really seen); questions
posted and acknowledged (a kill can cut off the answer to a POST); replies sent; lost questions
(acknowledged, never on the expert's phone); lost replies (not in their thread); replies posted
twice; SMS repeated (whole SMS to an expert twice, and parts a phone got twice: the issue
allows at most one per kill, the part in flight); whether the last run settled and exited 0,
and what was still queued in the daemon then (a run that did not settle has not lost what is
still queued: give it more ``--settle``); wall time. The seed is printed; ``--seed`` replays a
run (as far as timing allows). Full run: about 1–2 minutes; ``--quick``: about 20 seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import random
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

import common  # bench/common.py

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))  # tests.support: the crash test's driver (python bench/crash.py)

from tests.support.crash import EXPERTS, CrashRun, Flow, crash_rounds  # noqa: E402


def _die_with_parent() -> None:
    """In each child before exec: SIGTERM when this script dies, however it dies."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _harness_failure(exc: BaseException) -> str | None:
    """The assertions' messages when ``exc`` is one (or a group of nothing else), else None."""
    if isinstance(exc, AssertionError):
        return str(exc) or repr(exc)
    if isinstance(exc, BaseExceptionGroup):
        inner = [_harness_failure(e) for e in exc.exceptions]
        return None if None in inner else "; ".join(m for m in inner if m is not None)
    return None


def _parts(run: CrashRun) -> float | None:
    experts = set(run.flow.experts.values())
    sizes = [int(m["parts"]) for m in run.messages if m["to"] in experts]
    return round(sum(sizes) / len(sizes), 2) if sizes else None


def summarise(run: CrashRun, seed: int) -> dict[str, Any]:
    flow = run.flow
    kinds = {
        kind: {"attempted": run.attempts[kind], "hit": run.hits[kind]} for kind in run.attempts
    }
    lost_q, lost_r, twice = run.lost_questions, run.lost_replies, run.posted_twice
    return {
        "seed": seed,
        "rounds": run.kills,
        "kills": kinds,
        "questions": {
            "planned": flow.questions,
            "posted": flow.next_question,
            "acknowledged": len(flow.asked),
        },
        "replies": len(flow.replies),
        "lost_questions": len(lost_q),
        "lost_replies": len(lost_r),
        "replies_posted_twice": len(twice),
        "sms_sent_twice": run.sent_twice,
        "duplicate_parts": run.duplicate_parts,
        "repeated": run.repeated,
        "repeated_allowed": run.kills,  # the part in flight at each kill
        "settled": run.settled,
        "still_queued": run.queued,  # in the daemon's outbox at the end (not settled: not lost)
        "parts_per_question_sms": _parts(run),
        "exit_code": run.exit_code,
        "wall_s": round(run.seconds, 1),
        "examples": {"lost_questions": lost_q[:5], "lost_replies": lost_r[:5], "twice": twice[:5]},
        "goal_met": {
            "nothing_lost": run.settled and not lost_q and not lost_r,
            "nothing_posted_twice": not twice,
            "repeats_within_kills": run.repeated <= run.kills,
            "settled_and_exit_0": run.settled and run.exit_code == 0,
        },
    }


async def run(args: argparse.Namespace) -> None:
    rounds = args.rounds or (6 if args.quick else 20)
    questions = args.questions or (60 if args.quick else 500)
    settle = args.settle or 90.0 + 0.3 * questions
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    common.note(f"seed {seed} (--seed {seed} replays it): {rounds} rounds, {questions} questions")
    flow = Flow(random.Random(seed), questions, EXPERTS)
    with contextlib.ExitStack() as stack:
        if args.workdir is not None:
            workdir = args.workdir.resolve()
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="smscat-crash-")))
        try:
            outcome = await crash_rounds(
                workdir,
                flow,
                rounds,
                settle_seconds=settle,
                sim_caps=False,  # 500 questions are more than the SIM's default 200 parts/hour
                preexec=_die_with_parent,
                progress=common.note,
            )
        except (AssertionError, ExceptionGroup) as exc:
            # the harness's footing gave way (a refused question, a thread the API does not
            # know): no count describes it. Anything else is a bug of the bench: raised.
            message = _harness_failure(exc)
            if message is None:
                raise
            result: dict[str, Any] = {
                "seed": seed,
                "error": message,
                "questions": {"posted": flow.next_question, "acknowledged": len(flow.asked)},
                "replies": len(flow.replies),
            }
            common.emit(
                args,
                result,
                title="crash rounds (failed)",
                n=f"{rounds} rounds",
                columns=("seed", "error"),
                rows=[(seed, result["error"])],
            )
            sys.exit(1)
    result = summarise(outcome, seed)
    kills = ", ".join(f"{k} {v['hit']}/{v['attempted']}" for k, v in result["kills"].items())
    q = result["questions"]
    rows = [
        ("rounds (SIGKILL)", result["rounds"]),
        ("kills by kind (moment seen / attempted)", kills),
        ("questions posted / acknowledged", f"{q['posted']} / {q['acknowledged']}"),
        ("replies sent by the experts", result["replies"]),
        ("lost questions", result["lost_questions"]),
        ("lost replies", result["lost_replies"]),
        ("replies posted twice", result["replies_posted_twice"]),
        ("SMS sent twice / parts repeated", f"{result['sms_sent_twice']} / "
         f"{result['duplicate_parts']} (allowed ≤ {result['repeated_allowed']})"),
        ("last run settled / exit code", f"{result['settled']} / {result['exit_code']}"),
        ("SMS still queued in the daemon at the end", result["still_queued"]),
        ("wall time (s)", result["wall_s"]),
    ]  # fmt: skip
    common.emit(
        args,
        result,
        title="crash rounds",
        n=f"{rounds} rounds, {questions} questions, seed {seed}",
        columns=("what", "value"),
        rows=rows,
    )


def main() -> None:
    p = common.parser(__doc__)
    p.add_argument("--rounds", type=int, help="SIGKILLs (default 20; --quick 6)")
    p.add_argument("--questions", type=int, help="questions, each answered (500; --quick 60)")
    p.add_argument("--seed", type=int, help="replay a run (the seed is printed)")
    p.add_argument("--settle", type=float, help="seconds for the last run (90 + 0.3 per question)")
    p.add_argument("--workdir", type=Path, help="run here and keep the files (log, database)")
    common.main(run, p.parse_args())


if __name__ == "__main__":
    main()
