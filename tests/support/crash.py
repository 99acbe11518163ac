"""SIGKILL rounds against a daemon subprocess while questions and replies flow, and what came out.

The simulator runs as its own process in its own session (it is the modem: it outlives the
daemon), at a real serial line rate so that a PDU takes a few milliseconds to arrive. The daemon
is ``smscat run`` as a subprocess, killed with SIGKILL at chosen moments — while the modem shows
the ``> `` prompt (``prompt``), while a message has been read (+CMGR) but not yet deleted
(``read``), and at random (``random``) — and restarted each time. A last run goes to the end:
every question asked, every reply sent, routed and visible in its thread (bounded).

:func:`crash_rounds` drives it and returns a :class:`CrashRun`, the raw facts (what the flow was
told, what the simulator's phones received, what each thread shows); the counts — lost,
posted twice, repeated parts — are its properties. ``tests/relay/daemon/test_crash.py`` asserts on
them (12 rounds); ``bench/crash.py`` reports them (20 rounds and more messages).

It must never judge: no assertion on the outcome here, only on the harness's own footing (a
refused question, an expert SMS without a code, a thread the API does not know are reported as
they happen, by AssertionError, because no count can describe them).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.daemon import EXPERT_LI, EXPERT_ZHANG

TRIGGERS = ("prompt", "read", "random")
EXPERTS = {"zhang": EXPERT_ZHANG, "li": EXPERT_LI}
CONFIG = """\
department: {{name: 心内科咨询}}
modems:
  - {{id: m1, port: "{link}"{limits}}}
experts:
  - {{id: zhang, name: 张明, title: 主任医师, department: 心血管内科, phone: "{zhang}"}}
  - {{id: li, name: 李华, title: 副主任医师, department: 心血管内科, phone: "{li}"}}
storage: {{path: "{db}"}}
web: {{host: 127.0.0.1, port: 0, secret_key: a-test-key-of-more-than-32-bytes!,
  rate_limits: {{asks_per_hour: null, followups_per_hour: null, codes_per_hour: null,
    links_per_hour: null}}}}
log_level: INFO
"""
WEB = re.compile(r"web on (http://127\.0\.0\.1:\d+)")
QUEUED = re.compile(r'^smscat_queue_depth\{status="queued"\} (\S+)$', re.MULTILINE)
NO_CAPS = ", limits: {per_minute: null, per_hour: null, per_day: null}"  # the SIM's caps off
SETTLE_SECONDS = 90.0  # the last run: every question asked, every reply in its thread
PreExec = Callable[[], Any] | None  # run in each child before exec (bench: die with the parent)


@dataclass
class Flow:
    """What the driver has done and what it was told, to compare with the end state."""

    rng: random.Random
    questions: int  # how many questions to ask in all
    experts: Mapping[str, str] = field(default_factory=lambda: dict(EXPERTS))  # id → phone
    asked: dict[str, tuple[int, str]] = field(default_factory=dict)  # text → (id, token)
    unanswered: list[str] = field(default_factory=list)  # asked, not yet replied to
    replies: dict[str, str] = field(default_factory=dict)  # question text → reply text
    next_question: int = 0

    @property
    def done(self) -> bool:
        """Every question asked and every reply sent."""
        return self.next_question >= self.questions and not self.unanswered


@dataclass
class CrashRun:
    """What a run of :func:`crash_rounds` did and what the simulator and the API show after."""

    flow: Flow
    attempts: Counter[str]  # kills by trigger
    hits: Counter[str]  # kills whose moment was really seen (``random`` always is)
    settled: bool  # the last run reached the end within its bound
    exit_code: int | None  # of the last run, on SIGTERM (None: it did not stop in time)
    messages: list[dict[str, Any]]  # the simulator's GET /sent at the end
    queued: int | None  # SMS still queued in the daemon's outbox at the end (its /metrics)
    views: dict[int, dict[str, Any]]  # thread id → GET /api/questions/{id}
    seconds: float

    @property
    def kills(self) -> int:
        return sum(self.attempts.values())

    @property
    def copies(self) -> Counter[str]:
        """Complete SMS to the experts, by text."""
        experts = set(self.flow.experts.values())
        return Counter(m["text"] for m in self.messages if m["to"] in experts and m["complete"])

    @property
    def lost_questions(self) -> list[str]:
        """Acknowledged questions that never reached their expert's phone."""
        copies = self.copies
        return [text for text in self.flow.asked if not any(text in sms for sms in copies)]

    @property
    def sent_twice(self) -> int:
        """Whole SMS to the experts that went more than once (each extra copy counts)."""
        return sum(n - 1 for n in self.copies.values())

    @property
    def duplicate_parts(self) -> int:
        """Parts the simulator's phones got twice within one message."""
        return sum(int(m["duplicate_parts"]) for m in self.messages)

    @property
    def repeated(self) -> int:
        """Everything that went twice: whole SMS and parts."""
        return self.sent_twice + self.duplicate_parts

    def posts(self, text: str) -> list[str]:
        """What the question ``text``'s thread shows from the expert."""
        return expert_posts(self.views, self.flow, text)

    @property
    def lost_replies(self) -> list[str]:
        """Replies an expert sent that are not in their thread."""
        return [
            text
            for text, reply in self.flow.replies.items()
            if reply.split(" ", 1)[1] not in self.posts(text)
        ]

    @property
    def posted_twice(self) -> list[str]:
        """Replies that are in their thread more than once."""
        return [
            text
            for text, reply in self.flow.replies.items()
            if self.posts(text).count(reply.split(" ", 1)[1]) > 1
        ]


def write_config(directory: Path, link: str, *, sim_caps: bool = True) -> Path:
    """The daemon's configuration: the simulator's link, two experts, rate limits off; with
    ``sim_caps`` the SIM's default caps (200 parts an hour: more than the test sends)."""
    config = directory / "config.yaml"
    config.write_text(
        CONFIG.format(
            link=link,
            limits="" if sim_caps else NO_CAPS,
            zhang=EXPERT_ZHANG,
            li=EXPERT_LI,
            db=directory / "db",
        ),
        encoding="utf-8",
    )
    return config


@contextlib.asynccontextmanager
async def simulator(directory: Path, preexec: PreExec = None) -> AsyncIterator[tuple[str, str]]:
    """``smscat sim`` at 38400 baud in its own session; yields (link, control URL)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smscat.relay.daemon.cli", "sim",
        "--link", str(directory / "modem"), "--baud", "38400", "--report-delay", "0.2",
        stdout=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        start_new_session=True,  # its own process group: a kill of the daemon spares it
        preexec_fn=preexec,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 15)).decode()
        match = re.match(r"READY link=(\S+) control=(\S+)", line)
        assert match, line
        yield match[1], match[2]
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        # bounded: a control request cut off by an interruption can hold its stop for a minute
        # (hw-sim cancels its pump before its web server waits for that request's handler)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await proc.wait()
        await _kill(proc)


async def start_daemon(
    config: Path, log: Path, preexec: PreExec = None
) -> tuple[asyncio.subprocess.Process, str]:
    """``smscat run`` with its output appended to ``log``; returns it and its web URL."""
    offset = len(await asyncio.to_thread(log.read_bytes)) if log.exists() else 0  # noqa: ASYNC240
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "smscat.relay.daemon.cli", "run", "-c", str(config),
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out, preexec_fn=preexec,
        )  # fmt: skip
    try:
        async with asyncio.timeout(20):
            while not (
                match := WEB.search((await asyncio.to_thread(log.read_bytes))[offset:].decode())
            ):
                assert proc.returncode is None, "the daemon exited at start"
                await asyncio.sleep(0.05)
    except BaseException:
        await _kill(proc)
        raise
    return proc, match[1]


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


async def _queued(http: aiohttp.ClientSession, api: str) -> int | None:
    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
        async with http.get(f"{api}/metrics") as resp:
            match = QUEUED.search(await resp.text())
        return int(float(match[1])) if match else 0
    return None


async def sent(http: aiohttp.ClientSession, sim: str) -> list[dict[str, Any]]:
    async with http.get(f"{sim}/sent") as resp:
        return list(await resp.json())


async def step(http: aiohttp.ClientSession, api: str, sim: str, flow: Flow) -> None:
    """Ask a few questions; answer those whose SMS has reached the expert."""
    for _ in range(flow.rng.randint(1, 3)):
        if flow.next_question >= flow.questions:
            break
        i = flow.next_question
        flow.next_question += 1  # each text once, even when the answer to the POST is lost
        text = f"第{i}号问题：血压偏高怎么办"
        expert = flow.rng.choice(list(flow.experts))
        body = {"expert_id": expert, "nickname": f"患者{i}", "text": text, "public": True}
        async with http.post(f"{api}/api/questions", json=body) as resp:
            if resp.status != 201:
                raise AssertionError(f"question {i}: {resp.status} {await resp.text()}")
            asked = await resp.json()
        flow.asked[text] = (asked["id"], asked["token"])
        flow.unanswered.append(text)
    messages = await sent(http, sim)
    for text in list(flow.unanswered):
        sms = next((m for m in messages if text in m["text"] and m["complete"]), None)
        if sms is None:
            continue
        code = re.search(r"#(\d+)", sms["text"])
        assert code, sms["text"]
        reply = f"#{code[1]} 答复{text[:6]}：少盐饮食"
        async with http.post(f"{sim}/sms", json={"from": sms["to"], "text": reply}) as resp:
            assert resp.status == 202
        flow.replies[text] = reply
        flow.unanswered.remove(text)


async def until_killed(
    http: aiohttp.ClientSession, api: str, sim: str, flow: Flow, proc: asyncio.subprocess.Process
) -> None:
    with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
        while proc.returncode is None:
            await step(http, api, sim, flow)
            await asyncio.sleep(0.02)


async def kill_when(
    http: aiohttp.ClientSession, sim: str, trigger: str, rng: random.Random
) -> bool:
    """Wait for the moment ``trigger`` names (bounded); True when it was seen."""
    if trigger == "random":
        await asyncio.sleep(rng.uniform(0.3, 1.5))
        return True
    await asyncio.sleep(rng.uniform(0.1, 0.4))  # let some traffic start
    try:
        async with asyncio.timeout(10):
            while True:
                async with http.get(f"{sim}/state") as resp:
                    state = await resp.json()
                if trigger == "prompt" and state["prompt"]:
                    return True
                if trigger == "read" and state["storage"]["read"] > 0 and not state["prompt"]:
                    return True
    except TimeoutError:
        return False


async def thread_views(
    http: aiohttp.ClientSession, api: str, flow: Flow
) -> dict[int, dict[str, Any]]:
    views = {}
    for thread_id, token in flow.asked.values():
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get(f"{api}/api/questions/{thread_id}", headers=headers) as resp:
            assert resp.status == 200, "an acknowledged question is always there"
            views[thread_id] = dict(await resp.json())
    return views


def expert_posts(views: dict[int, dict[str, Any]], flow: Flow, text: str) -> list[str]:
    thread_id, _ = flow.asked[text]
    return [m["text"] for m in views[thread_id]["messages"] if m["from"] == "expert"]


async def crash_rounds(
    directory: Path,
    flow: Flow,
    kills: int,
    *,
    settle_seconds: float = SETTLE_SECONDS,
    sim_caps: bool = True,
    preexec: PreExec = None,
    progress: Callable[[str], None] | None = None,
) -> CrashRun:
    """``kills`` SIGKILL rounds (the triggers in turn), then a last run to the end.

    Every process started here is gone when this returns or raises (cancellation included).
    """
    started = time.perf_counter()
    log = directory / "daemon.log"
    attempts: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    timeout = aiohttp.ClientTimeout(total=5)
    async with (
        simulator(directory, preexec) as (link, sim),
        aiohttp.ClientSession(timeout=timeout) as http,
    ):
        config = write_config(directory, link, sim_caps=sim_caps)
        for round_ in range(kills):
            proc, api = await start_daemon(config, log, preexec)
            trigger = TRIGGERS[round_ % len(TRIGGERS)]
            try:
                async with asyncio.TaskGroup() as tasks:
                    tasks.create_task(until_killed(http, api, sim, flow, proc))
                    hit = await kill_when(http, sim, trigger, flow.rng)
                    proc.send_signal(signal.SIGKILL)
                    await proc.wait()
            finally:
                await _kill(proc)
            attempts[trigger] += 1
            hits[trigger] += hit
            if progress is not None:
                progress(
                    f"round {round_ + 1}/{kills}: {trigger} {'hit' if hit else 'missed'}; "
                    f"{len(flow.asked)} asked, {len(flow.replies)} replies sent"
                )

        # a last run to the end: every question asked, every reply sent and routed
        proc, api = await start_daemon(config, log, preexec)
        settled = False
        views: dict[int, dict[str, Any]] = {}
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(settle_seconds):
                    while True:
                        await step(http, api, sim, flow)
                        if flow.done:
                            views = await thread_views(http, api, flow)
                            if all(expert_posts(views, flow, text) for text in flow.replies):
                                settled = True
                                break
                        await asyncio.sleep(0.05)
            if not settled:
                views = await thread_views(http, api, flow)
            queued = await _queued(http, api)
            proc.send_signal(signal.SIGTERM)
            exit_code: int | None = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(15):
                    exit_code = await proc.wait()
        finally:
            await _kill(proc)
        messages = await sent(http, sim)
    return CrashRun(
        flow=flow,
        attempts=attempts,
        hits=hits,
        settled=settled,
        exit_code=exit_code,
        messages=messages,
        queued=queued,
        views=views,
        seconds=time.perf_counter() - started,
    )
