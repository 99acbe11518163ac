"""A soak: the daemon at a fixed rate of questions and expert replies for minutes; errors and RSS.

Usage: python bench/soak.py [--quick] [--table] [--minutes M] [--rate R] [--latency S]
                            [--sample S] [--drain S]

The daemon (``bench/daemon.py``, bench/config.yaml: every rate limit, cap and the duplicate guard
off; 40 experts, so 40 distinct recipients) in its own process on one ``smscat sim`` process
(send latency ``--latency``, 0.05 s; the simulator is a process of its own so that what it keeps
— every SMS it ever accepted — is not counted in the daemon's memory). For M minutes (10;
``--quick``: 1):

* questions at R a second (2), open loop (each is posted on schedule, whether or not the ones
  before it have been answered), as a patient posts them (``POST /api/questions``), a third each
  ASCII, short Chinese and 200-character Chinese (1, 1 and 4 SMS parts), to the 40 experts in
  turn;
* each expert answers by SMS (``POST /sms`` on the simulator, the thread's code first) as soon
  as the question is on their phone (``GET /sent``, looked at every second);
* each answer is looked for in its thread (``GET /api/questions/{id}``, as the patient's page
  does) from 2 seconds after the reply, until it is there;
* the daemon's RSS (VmRSS in /proc/PID/status), CPU time and outbox queue are sampled every
  10 seconds (``--sample``).

Then no new question; up to ``--drain`` seconds (120) for the last SMS and answers. Errors: HTTP
answers ≥ 400 (or no answer) to the questions and thread views, SMS never sent (an acknowledged
question not on its expert's phone), replies not delivered (not in the thread), and ERROR lines
in the daemon's log. RSS: first, last and max sample, and the slope of a least-squares line over
the samples after the warm-up (the first minute; ``--quick``: the first 20 s) until the last
question, in MB per 10 minutes; and the same over the second half of that span (``rss_flat``:
at most 1 MB per 10 minutes there; caches that fill while the database grows make a plateau,
a leak keeps the slope). POST latency p50/p99. Full run: about 11 minutes; ``--quick``: about
70 seconds.

Not counted as errors, reported beside them: WARNING lines in the log, SMS to experts that carry
no question (a "which thread?" notice would be one), the parts the simulator saw twice, and
concatenation-reference collisions: the daemon picks each SMS's 8-bit reference at random, so
two long SMS to one phone share it now and then, and the simulator, which takes a repeated
(reference, part) to the same phone within 10 minutes for a resent part, puts the second
message into the first one's ``/sent`` entry (4 "duplicate" parts). The bench still answers the
second question (it looks at entries whose text changed) and counts the collision.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import re
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import common  # bench/common.py
from simproc import sim_process, sim_sent  # bench/simproc.py

MAX_IN_FLIGHT = 64  # questions posted and not yet answered by the API
RECHECK = 2.0  # seconds from a reply to the first look at its thread, and between looks
CODE = re.compile(r"#(\d+)")
ERROR_LINE = re.compile(r" (ERROR|CRITICAL) |Traceback")
WARNING_LINE = re.compile(r" WARNING ")


@dataclass
class Asked:
    question: common.Question
    thread: tuple[int, str] | None = None  # (id, token) once the API said 201
    reply: str | None = None  # what the expert's answer shows in the thread
    replied_at: float | None = None
    seen_at: float | None = None  # the answer was in the thread


@dataclass
class Soak:
    """The run's state: what was asked and answered, what went wrong, the samples."""

    asked: list[Asked] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # POST /api/questions, seconds
    http_errors: Counter[str] = field(default_factory=Counter)  # "POST 500", "GET timeout" …
    late_starts: int = 0  # questions posted more than 1 s behind their schedule
    samples: list[dict[str, float]] = field(default_factory=list)
    pending_replies: dict[str, list[Asked]] = field(default_factory=dict)  # phone → unanswered
    answered_sms: dict[int, str] = field(default_factory=dict)  # /sent index → text answered
    # /sent entries whose text changed after they were answered: the simulator took a new long
    # SMS for a repeat of an earlier one to the same phone (same concatenation reference, within
    # its 10-minute duplicate window) and put the new parts in the old entry
    ref_collisions: int = 0
    sim_errors: int = 0  # POST /sms refused by the simulator (a bench problem)


async def ask(
    http: aiohttp.ClientSession,
    url: str,
    soak: Soak,
    item: Asked,
    phone: str,
    gate: asyncio.Semaphore,
) -> None:
    started = time.perf_counter()
    try:
        async with http.post(f"{url}/api/questions", json=item.question.body()) as resp:
            if resp.status >= 400:
                soak.http_errors[f"POST /api/questions {resp.status}"] += 1
                return
            body = await resp.json()
        soak.latencies.append(time.perf_counter() - started)
        item.thread = (int(body["id"]), str(body["token"]))
        soak.pending_replies.setdefault(phone, []).append(item)
    except (aiohttp.ClientError, TimeoutError) as exc:
        soak.http_errors[f"POST /api/questions {type(exc).__name__}"] += 1
    finally:
        gate.release()


async def patients(
    http: aiohttp.ClientSession,
    url: str,
    soak: Soak,
    questions: list[common.Question],
    phones: dict[str, str],
    rate: float,
) -> None:
    """Post the questions on a fixed schedule (open loop, bounded in flight)."""
    gate = asyncio.Semaphore(MAX_IN_FLIGHT)
    start = time.perf_counter()
    async with asyncio.TaskGroup() as tasks:
        for i, question in enumerate(questions):
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await gate.acquire()
            if time.perf_counter() - due > 1.0:
                soak.late_starts += 1
            item = Asked(question)
            soak.asked.append(item)
            tasks.create_task(ask(http, url, soak, item, phones[question.expert_id], gate))


async def experts(http: aiohttp.ClientSession, control: str, soak: Soak) -> None:
    """Each expert answers every question that reached their phone (forever; cancelled)."""
    while True:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            await answer_new(http, control, soak)
        await asyncio.sleep(1.0)


async def answer_new(http: aiohttp.ClientSession, control: str, soak: Soak) -> None:
    sent = await sim_sent(http, control)
    for index, sms in enumerate(sent):
        if not sms["complete"] or soak.answered_sms.get(index) == sms["text"]:
            continue
        waiting = soak.pending_replies.get(sms["to"], [])
        item = next((a for a in waiting if a.question.text in sms["text"]), None)
        if item is None:
            continue  # not (yet) a question we know the thread of: looked at again next time
        code = CODE.search(sms["text"])
        if code is None:
            continue
        assert item.thread is not None  # (only acknowledged questions wait for a reply)
        answer = f"答复{item.thread[0]}：按时服药，少盐饮食，下周复查"
        reply = {"from": sms["to"], "text": f"#{code[1]} {answer}"}
        async with http.post(f"{control}/sms", json=reply) as resp:
            if resp.status != 202:
                soak.sim_errors += 1
                continue
        waiting.remove(item)
        item.reply, item.replied_at = answer, time.perf_counter()
        if index in soak.answered_sms:
            soak.ref_collisions += 1
        soak.answered_sms[index] = sms["text"]


async def thread_watch(http: aiohttp.ClientSession, url: str, soak: Soak) -> None:
    """Look for each answer in its thread, as the patient's page does (forever; cancelled)."""
    while True:
        now = time.perf_counter()
        due = [
            a
            for a in soak.asked
            if a.reply is not None and a.seen_at is None and now - (a.replied_at or now) >= RECHECK
        ]
        for item in due:
            await look(http, url, soak, item)
        await asyncio.sleep(0.5)


async def look(http: aiohttp.ClientSession, url: str, soak: Soak, item: Asked) -> None:
    assert item.thread is not None
    thread_id, token = item.thread
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with http.get(f"{url}/api/questions/{thread_id}", headers=headers) as resp:
            if resp.status >= 400:
                soak.http_errors[f"GET /api/questions/{{id}} {resp.status}"] += 1
                return
            view = await resp.json()
    except (aiohttp.ClientError, TimeoutError) as exc:
        soak.http_errors[f"GET /api/questions/{{id}} {type(exc).__name__}"] += 1
        return
    posts = [m["text"] for m in view["messages"] if m["from"] == "expert"]
    if item.reply in posts:
        item.seen_at = time.perf_counter()
    else:
        item.replied_at = time.perf_counter()  # look again in RECHECK seconds


async def sampler(
    http: aiohttp.ClientSession, url: str, pid: int, soak: Soak, start: float, every: float
) -> None:
    """RSS, CPU and queue depth every ``every`` seconds (forever; cancelled)."""
    while True:
        depth = math.nan
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            depth = await common.queue_depth(http, url)
        soak.samples.append(
            {
                "t_s": round(time.perf_counter() - start, 1),
                "rss_mb": common.rss_mb(pid)["rss_mb"],
                "cpu_s": round(common.cpu_seconds(pid), 2),
                "queued": depth,
                "asked": len(soak.asked),
                "answered": sum(a.seen_at is not None for a in soak.asked),
            }
        )
        await asyncio.sleep(every)


def slope_per_10min(samples: list[dict[str, float]], start: float, end: float) -> float:
    """Least-squares slope of RSS over time from ``start`` to ``end`` s, in MB per 10 minutes."""
    points = [(s["t_s"], s["rss_mb"]) for s in samples if start <= s["t_s"] <= end]
    if len(points) < 2:
        return math.nan
    mean_t = sum(t for t, _ in points) / len(points)
    mean_r = sum(r for _, r in points) / len(points)
    var = sum((t - mean_t) ** 2 for t, _ in points)
    cov = sum((t - mean_t) * (r - mean_r) for t, r in points)
    return cov / var * 600 if var else math.nan


def settled(soak: Soak) -> bool:
    return all(a.thread is None or a.seen_at is not None for a in soak.asked)


async def soak_run(args: argparse.Namespace, minutes: float) -> tuple[Soak, dict[str, Any]]:
    soak = Soak()
    phones = common.experts()
    n = max(1, round(minutes * 60 * args.rate))
    questions = common.workload(n, list(phones))
    timeout = aiohttp.ClientTimeout(total=30)
    facts: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="smscat-soak-") as name:
        tmp = Path(name)
        async with (
            sim_process("--send-latency", str(args.latency), "--report-delay", "0.2") as (
                link,
                control,
            ),
            aiohttp.ClientSession(timeout=timeout) as http,
        ):
            config = common.write_config(tmp, [{"id": "m1", "port": link}])
            async with common.daemon(config) as daemon:
                await common.wait_registered(http, daemon.url, 1)
                common.note(
                    f"soak: {n} questions at {args.rate}/s for {minutes} min, daemon pid "
                    f"{daemon.pid}"
                )
                start = time.perf_counter()
                async with asyncio.TaskGroup() as tasks:
                    background = [
                        tasks.create_task(
                            sampler(http, daemon.url, daemon.pid, soak, start, args.sample)
                        ),
                        tasks.create_task(experts(http, control, soak)),
                        tasks.create_task(thread_watch(http, daemon.url, soak)),
                        tasks.create_task(progress(soak, start)),
                    ]
                    await patients(http, daemon.url, soak, questions, phones, args.rate)
                    facts["posting_s"] = round(time.perf_counter() - start, 1)
                    common.note(f"all {n} questions posted; draining (≤ {args.drain} s)")
                    drained = time.perf_counter()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(args.drain):
                            while not settled(soak):  # noqa: ASYNC110
                                await asyncio.sleep(0.5)
                    facts["drain_s"] = round(time.perf_counter() - drained, 1)
                    for task in background:
                        task.cancel()
                facts["rss_end"] = common.rss_mb(daemon.pid)
                sent = await sim_sent(http, control)
            facts["log_errors"] = [
                line
                for line in daemon.log.read_text(encoding="utf-8", errors="replace").splitlines()
                if ERROR_LINE.search(line)
            ]
            facts["log_warnings"] = [
                line
                for line in daemon.log.read_text(encoding="utf-8", errors="replace").splitlines()
                if WARNING_LINE.search(line)
            ]
    expert_phones = set(phones.values())
    delivered = [m["text"] for m in sent if m["to"] in expert_phones and m["complete"]]
    facts["sms_to_experts"] = len(delivered)
    texts = [a.question.text for a in soak.asked]
    facts["other_sms"] = [
        text[:60] for text in delivered if not any(question in text for question in texts)
    ]
    facts["duplicate_parts"] = sum(int(m["duplicate_parts"]) for m in sent)
    acknowledged = [a for a in soak.asked if a.thread is not None]
    facts["not_sent"] = [
        a.question.text[:40]
        for a in acknowledged
        if a.reply is None and not any(a.question.text in text for text in delivered)
    ]
    return soak, facts


async def progress(soak: Soak, start: float) -> None:
    while True:
        await asyncio.sleep(60)
        last = soak.samples[-1] if soak.samples else {}
        common.note(
            f"{time.perf_counter() - start:.0f} s: {len(soak.asked)} asked, "
            f"{sum(a.reply is not None for a in soak.asked)} replied, "
            f"{sum(a.seen_at is not None for a in soak.asked)} answers seen, "
            f"RSS {last.get('rss_mb')} MB, queue {last.get('queued')}, "
            f"{sum(soak.http_errors.values())} HTTP errors"
        )


async def run(args: argparse.Namespace) -> None:
    minutes = args.minutes or (1.0 if args.quick else 10.0)
    warmup = min(60.0, minutes * 60 / 3)
    soak, facts = await soak_run(args, minutes)
    acknowledged = [a for a in soak.asked if a.thread is not None]
    replied = [a for a in acknowledged if a.reply is not None]
    not_delivered = [a for a in replied if a.seen_at is None]
    unanswered = [a for a in acknowledged if a.reply is None]  # the SMS never reached the expert
    rss = [s["rss_mb"] for s in soak.samples]
    end = facts["posting_s"]  # the drain's samples are idle ones: left out
    slope = slope_per_10min(soak.samples, warmup, end)
    late = slope_per_10min(soak.samples, (warmup + end) / 2, end)
    errors = {
        "http": dict(soak.http_errors),
        "sms_not_sent": len(facts["not_sent"]),
        "questions_not_answered_by_the_bench": len(unanswered),
        "replies_not_delivered": len(not_delivered),
        "daemon_log_error_lines": len(facts["log_errors"]),
        "daemon_log_warning_lines": len(facts["log_warnings"]),  # not counted as errors
        "other_sms_to_experts": len(facts["other_sms"]),  # e.g. "which thread?": not counted
        "concat_ref_collisions": soak.ref_collisions,  # see Soak.ref_collisions: not counted
        "simulator_refused_sms": soak.sim_errors,
    }
    total_errors = (
        sum(soak.http_errors.values())
        + len(facts["not_sent"])
        + len(not_delivered)
        + len(facts["log_errors"])
    )
    result: dict[str, Any] = {
        "minutes": minutes,
        "rate_per_s": args.rate,
        "send_latency_s": args.latency,
        "questions": {
            "posted": len(soak.asked),
            "acknowledged": len(acknowledged),
            "replied_by_experts": len(replied),
            "answers_seen_in_threads": len(replied) - len(not_delivered),
            "late_starts": soak.late_starts,
        },
        "sms_to_experts": facts["sms_to_experts"],
        "duplicate_parts": facts["duplicate_parts"],
        "errors": errors,
        "total_errors": total_errors,
        "post_latency": common.summary_ms(soak.latencies),
        "rss_mb": {
            "first": rss[0] if rss else None,
            "last": rss[-1] if rss else None,
            "max": max(rss) if rss else None,
            "peak_vmhwm": facts["rss_end"]["peak_rss_mb"],
            "slope_mb_per_10min": round(slope, 2),
            "second_half_slope_mb_per_10min": round(late, 2),
            "warmup_s": warmup,
        },
        "posting_s": facts["posting_s"],
        "drain_s": facts["drain_s"],
        "samples": soak.samples,
        "examples": {
            "log_errors": facts["log_errors"][:5],
            "log_warnings": facts["log_warnings"][:5],
            "other_sms_to_experts": facts["other_sms"][:5],
            "sms_not_sent": facts["not_sent"][:5],
            "replies_not_delivered": [a.question.text[:40] for a in not_delivered[:5]],
        },
        "goal_met": {
            "no_errors": total_errors == 0,
            # caches fill while the database grows (a plateau); a leak still grows at the end
            "rss_flat": not math.isnan(late) and late <= 1.0,
        },
    }
    lat = result["post_latency"]
    rows = [
        ("duration / rate", f"{minutes:g} min at {args.rate:g} questions/s"),
        ("questions posted / acknowledged", f"{len(soak.asked)} / {len(acknowledged)}"),
        ("replies by SMS / seen in their thread", f"{len(replied)} / "
         f"{len(replied) - len(not_delivered)}"),
        ("HTTP errors (≥ 400 or none)", sum(soak.http_errors.values())),
        ("SMS not sent / replies not delivered", f"{len(facts['not_sent'])} / "
         f"{len(not_delivered)}"),
        ("ERROR lines in the daemon's log", len(facts["log_errors"])),
        ("POST /api/questions p50 / p99 (ms)", f"{lat['p50_ms']} / {lat['p99_ms']}"),
        ("RSS first / last / max (MB)", f"{result['rss_mb']['first']} / "
         f"{result['rss_mb']['last']} / {result['rss_mb']['max']}"),
        (f"RSS slope after {warmup:g} s / in the second half (MB per 10 min)",
         f"{slope:.2f} / {late:.2f}"),
        ("drain after the last question (s)", facts["drain_s"]),
    ]  # fmt: skip
    common.emit(
        args,
        result,
        title="soak",
        n=f"{len(soak.asked)} questions, {minutes:g} min at {args.rate:g}/s",
        columns=("what", "value"),
        rows=rows,
    )


def main() -> None:
    p = common.parser(__doc__)
    p.add_argument("--minutes", type=float, help="how long questions come (10; --quick 1)")
    p.add_argument("--rate", type=float, default=2.0, help="questions a second (2)")
    p.add_argument("--latency", type=float, default=0.05, help="simulated send latency, s")
    p.add_argument("--sample", type=float, default=10.0, help="seconds between RSS samples")
    p.add_argument("--drain", type=float, default=120.0, help="seconds for the last answers")
    common.main(run, p.parse_args())


if __name__ == "__main__":
    main()
