"""What every bench script shares: output, statistics, the machine, the bench config, processes.

Imported as ``import common`` (the scripts run as ``python bench/x.py``, so bench/ is on
sys.path). Output: one JSON object on stdout and a Markdown table on stderr; ``--table`` swaps
them, so that the table (with N, the machine, the date and the command above it) can go into
README.md as it is. Processes started here die with the script (SIGTERM, Ctrl-C, or the
script's own death: PR_SET_PDEATHSIG) and their temporary files go with them.

Nothing here asserts a goal: results carry ``goal_met`` flags, never exceptions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import dataclasses
import json
import math
import os
import platform
import pstats
import re
import shlex
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import aiohttp
import yaml

from smscat.relay.core import codes, texts
from smscat.relay.daemon.config_file import load_config

BENCH = Path(__file__).resolve().parent
CONFIG = BENCH / "config.yaml"  # the bench configuration: every safety limit off
Result = dict[str, Any]
Row = Sequence[object]


# -- statistics ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100), linear between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float) -> float:
    """Seconds as milliseconds, rounded for a report."""
    return round(seconds * 1000, 2)


def summary_ms(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """n, p50, p99 and max of durations, in milliseconds (None when there are none)."""
    if not seconds:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "n": len(seconds),
        "p50_ms": ms(percentile(seconds, 50)),
        "p99_ms": ms(percentile(seconds, 99)),
        "max_ms": ms(max(seconds)),
    }


# -- the machine and processes -------------------------------------------------------------------


def _first(path: str, pattern: str) -> str | None:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(pattern, text, re.MULTILINE)
    return match[1].strip() if match else None


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    memory_kb = _first("/proc/meminfo", r"^MemTotal:\s+(\d+)")
    return {
        "arch": platform.machine(),
        "cpu": _first("/proc/cpuinfo", r"^model name\s*:\s*(.+)$") or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gb": round(int(memory_kb) / 2**20, 1) if memory_kb else None,
        "os": _first("/etc/os-release", r'^PRETTY_NAME="?([^"\n]+)') or platform.system(),
        "kernel": platform.release(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
    }


def machine_line(m: Mapping[str, Any]) -> str:
    return (
        f"{m['arch']}, {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB, {m['os']},"
        f" {m['python']}"
    )


def _status_kb(pid: int, field: str) -> int:
    value = _first(f"/proc/{pid}/status", rf"^{field}:\s+(\d+) kB")
    return int(value) if value else 0


def rss_mb(pid: int) -> dict[str, float]:
    """A process's resident memory now and at its peak (VmRSS, VmHWM), in MB."""
    return {
        "rss_mb": round(_status_kb(pid, "VmRSS") / 1024, 1),
        "peak_rss_mb": round(_status_kb(pid, "VmHWM") / 1024, 1),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (/proc/PID/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return math.nan
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the bench script dies, however it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


async def start(
    *argv: str,
    stdout: int | IO[Any] | None = asyncio.subprocess.PIPE,
    stderr: int | IO[Any] | None = None,
    stdin: int | IO[Any] | None = asyncio.subprocess.DEVNULL,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> asyncio.subprocess.Process:
    """A child process that gets SIGTERM if this script dies (pair with :func:`stop`)."""
    return await asyncio.create_subprocess_exec(
        *argv,
        stdout=stdout,
        stderr=stderr,
        stdin=stdin,
        env=None if env is None else {**os.environ, **env},
        cwd=cwd,
        preexec_fn=_die_with_parent,
    )


async def stop(proc: asyncio.subprocess.Process, grace: float = 20.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds; always reaps the child."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            async with asyncio.timeout(grace):
                await proc.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


# -- the bench configuration -------------------------------------------------------------------


def write_config(
    directory: Path,
    modems: Sequence[Mapping[str, Any]],
    *,
    database: Path | None = None,
    log_level: str | None = None,
) -> Path:
    """bench/config.yaml for one run: its database in ``directory`` (or ``database``), web on
    port 0, and one modem per entry of ``modems`` (``{"id", "port"}`` and any other modem key),
    each a copy of the file's modem entry (the caps that are off). Validated; returns its path."""
    data = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    template = data["modems"][0]
    data["modems"] = [{**template, **modem} for modem in modems]
    data["storage"] = {"path": str(database or directory / "smscat.db")}
    data["web"] = {**data["web"], "port": 0}
    if log_level:
        data["log_level"] = log_level
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    load_config(path)  # a ConfigError here is a bench bug: say so before anything starts
    return path


def experts(config: Path = CONFIG) -> dict[str, str]:
    """Expert id → phone (E.164) from a bench configuration."""
    return {e.id: e.phone for e in load_config(config).experts}


def department(config: Path = CONFIG) -> str:
    return load_config(config).department.name


# -- the workload -------------------------------------------------------------------------------

# The SMS to an expert carries the question inside a Chinese template (relay/texts.py
# "question_to_expert", about 48 characters here), so every SMS is UCS2: an ASCII or a short
# Chinese question is one part, a 200-character one four parts (67 UCS2 characters a part).
LONG = (
    "医生您好，我父亲今年六十八岁，高血压十余年，一直服用氨氯地平和厄贝沙坦，最近一周早上起床"
    "时常觉得头晕，量血压在一百五十到一百六十之间，下午会降到一百三十左右，心率七十多次。去年"
    "做过冠脉造影，提示前降支狭窄百分之五十，没有放支架。请问现在需要调整药物吗？要不要提前来"
    "门诊复查？平时饮食和运动方面还要注意什么？另外阿司匹林需要一直吃下去吗？谢谢您。"
)
KINDS = ("ascii", "short_zh", "long_zh")
SHORT = ("头晕三天需要复查吗", "胸闷气短怎么办", "血压偏高能运动吗", "支架术后能喝茶吗")


@dataclasses.dataclass(frozen=True, slots=True)
class Question:
    expert_id: str
    nickname: str
    text: str
    kind: str  # "ascii", "short_zh" or "long_zh"

    def body(self) -> dict[str, Any]:
        """The JSON body of ``POST /api/questions``."""
        return {
            "expert_id": self.expert_id,
            "nickname": self.nickname,
            "text": self.text,
            "public": True,
        }


def workload(n: int, expert_ids: Sequence[str]) -> list[Question]:
    """``n`` questions, a third each ASCII, short Chinese and long Chinese, round-robin over the
    experts (40 in the bench config: 40 distinct recipients); every text is distinct."""
    out = []
    for i in range(n):
        kind = KINDS[i % 3]
        if kind == "ascii":
            text = f"Q{i:04d} dose ok?"
        elif kind == "short_zh":
            text = f"{SHORT[i % len(SHORT)]}{i:04d}"
        else:
            text = f"{i:04d}{(LONG * 2)[:196]}"
        out.append(Question(expert_ids[i % len(expert_ids)], f"患者{i % 1000:03d}", text, kind))
    return out


def rendered(questions: Sequence[Question], config: Path = CONFIG) -> list[tuple[str, str]]:
    """(recipient, SMS text) the daemon sends for these questions, in order: the expert's phone
    and relay/texts.py's "question_to_expert", thread codes 1, 2, … per expert in posting
    order (as a fresh database allocates them when questions arrive one by one)."""
    phones, dept = experts(config), department(config)
    seen: dict[str, int] = {}
    out = []
    for q in questions:
        seen[q.expert_id] = seen.get(q.expert_id, 0) + 1
        sms = texts.render(
            "question_to_expert",
            dept=dept,
            code=codes.format_code(seen[q.expert_id]),
            nickname=q.nickname,
            text=q.text,
        )
        out.append((phones[q.expert_id], sms))
    return out


# -- the daemon in its own process --------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Daemon:
    url: str
    pid: int
    log: Path


@contextlib.asynccontextmanager
async def daemon(
    config: Path,
    *,
    profile: Path | None = None,
    welcomed: bool = True,
    ready_timeout: float = 600.0,
) -> AsyncIterator[Daemon]:
    """``bench/daemon.py`` (the smscat daemon, in its own process) for the life of the block.

    Its log goes to ``daemon.log`` next to the config. With ``profile``, cProfile runs in the
    daemon and the stats are written there when it stops.
    """
    log = config.parent / "daemon.log"
    argv = [sys.executable, str(BENCH / "daemon.py"), "-c", str(config)]
    if profile is not None:
        argv += ["--profile", str(profile)]
    if welcomed:
        argv.append("--welcomed")
    with log.open("ab") as log_file:
        proc = await start(*argv, stderr=log_file, stdin=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(ready_timeout):
            line = (await proc.stdout.readline()).decode()
        if not line.startswith("READY "):
            tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"the daemon did not start; its log ends:\n{tail}")
        info = json.loads(line.removeprefix("READY "))
        yield Daemon(info["url"], proc.pid, log)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()  # the daemon also stops on EOF
        await stop(proc, grace=30.0)


async def poll_until(done: Callable[[], Awaitable[bool]], interval: float) -> None:
    """Until ``done()`` says so, looking every ``interval`` seconds (another process's state:
    there is no event to wait for)."""
    while True:
        if await done():
            return
        await asyncio.sleep(interval)


async def wait_registered(
    http: aiohttp.ClientSession, url: str, modems: int, timeout: float = 60.0
) -> None:
    """Until /healthz shows ``modems`` modems registered (the daemon can send)."""
    async with asyncio.timeout(timeout):
        while True:
            async with http.get(f"{url}/healthz") as resp:
                body = await resp.json()
            if sum(bool(m.get("registered")) for m in body.get("modems", [])) >= modems:
                return
            await asyncio.sleep(0.05)


async def queue_depth(http: aiohttp.ClientSession, url: str) -> int:
    """SMS still queued in the daemon's outbox (its /metrics)."""
    async with http.get(f"{url}/metrics") as resp:
        text = await resp.text()
    match = re.search(r'^smscat_queue_depth\{status="queued"\} (\S+)$', text, re.MULTILINE)
    return int(float(match[1])) if match else 0


async def ask_all(
    http: aiohttp.ClientSession,
    url: str,
    questions: Sequence[Question],
    concurrency: int = 4,
) -> list[tuple[int, str]]:
    """POST every question as a patient does; (thread id, token) in the workload's order."""
    out: list[tuple[int, str] | None] = [None] * len(questions)
    todo = iter(range(len(questions)))

    async def worker() -> None:
        for i in todo:
            async with http.post(f"{url}/api/questions", json=questions[i].body()) as resp:
                if resp.status != 201:
                    raise RuntimeError(f"POST /api/questions: {resp.status} {await resp.text()}")
                answer = await resp.json()
            out[i] = (int(answer["id"]), str(answer["token"]))

    async with asyncio.TaskGroup() as tasks:
        for _ in range(concurrency):
            tasks.create_task(worker())
    return [item for item in out if item is not None]


# -- profiles ----------------------------------------------------------------------------------


# Where a thread waits for work, not work: left out of the top lists.
IDLE = (
    "<method 'poll' of 'select.epoll' objects>",
    "<method 'get' of '_queue.SimpleQueue' objects>",
    "<method 'acquire' of '_thread.lock' objects>",
)
# The event loop's own frames: every callback's time is under them.
PLUMBING = ("asyncio/runners.py", "asyncio/base_events.py", "asyncio/events.py", "selectors.py")


def profile_top(path: Path, n: int = 15) -> dict[str, list[dict[str, Any]]]:
    """The top ``n`` functions of a cProfile dump: by own time, by cumulative time, and
    smscat's own functions by cumulative time. Idle waits (epoll, the SQLite thread's queue)
    and the event loop's frames are left out: with asyncio, the cumulative time of a coroutine
    is the CPU it used between its suspensions, not the time it waited."""
    stats = pstats.Stats(str(path))
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    ours = str(Path(load_config.__code__.co_filename).resolve().parents[1])
    rows = []
    for (file, line, name), (_cc, calls, tottime, cumtime, _callers) in table.items():
        if name in IDLE or file.endswith(PLUMBING) or name.startswith("<method 'run' of"):
            continue
        label = f"{Path(file).name}:{line}({name})" if line else name
        if file.endswith("aiosqlite/core.py") and name == "_connection_worker_thread":
            # queries run inside this frame (cProfile sees no call into SQLite): its own time
            # is the time SQLite spent executing statements
            label = "aiosqlite worker thread: SQL execution (own time)"
        rows.append(
            {
                "function": label,
                "calls": calls,
                "tottime_s": round(tottime, 3),
                "cumtime_s": round(cumtime, 3),
                "ours": file.startswith(ours),
            }
        )
    by_cum = sorted(rows, key=lambda r: -float(r["cumtime_s"]))
    return {
        "by_tottime": sorted(rows, key=lambda r: -float(r["tottime_s"]))[:n],
        "by_cumulative": by_cum[:n],
        "smscat_by_cumulative": [r for r in by_cum if r["ours"]][:n],
    }


def profile_text(top: Mapping[str, Any]) -> str:
    """The lists of :func:`profile_top` as text (other keys are skipped)."""
    lines = []
    for key, rows in top.items():
        if not isinstance(rows, list):
            continue
        lines.append(f"{key}:")
        lines += [
            f"  {r['cumtime_s']:>9.3f} cum {r['tottime_s']:>9.3f} own {r['calls']:>9} "
            f"{r['function']}"
            for r in rows
        ]
    return "\n".join(lines)


# -- the command line and the output ------------------------------------------------------------


def parser(doc: str | None) -> argparse.ArgumentParser:
    """The options every script has: ``--quick`` and ``--table``."""
    text = doc or ""
    p = argparse.ArgumentParser(
        description=text.splitlines()[0] if text else None,
        epilog="Output: one JSON object on stdout, the table on stderr (--table swaps them).",
    )
    p.add_argument("--quick", action="store_true", help="a short run, to see that it works")
    p.add_argument(
        "--table", action="store_true", help="the Markdown table on stdout, the JSON on stderr"
    )
    return p


def table(columns: Sequence[str], rows: Sequence[Row]) -> str:
    """A Markdown table."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def command_line() -> str:
    script = Path(sys.argv[0]).resolve()
    with contextlib.suppress(ValueError):
        script = script.relative_to(BENCH.parent)
    return shlex.join(["python", str(script), *sys.argv[1:]])


def emit(
    args: argparse.Namespace,
    result: Result,
    *,
    title: str,
    n: str,
    columns: Sequence[str],
    rows: Sequence[Row],
    notes: Sequence[str] = (),
) -> None:
    """Print the result: JSON (with the machine, date and command) and the table."""
    m = machine()
    date = datetime.now(UTC).date().isoformat()
    command = command_line()
    full = {
        "benchmark": title,
        "date": date,
        "machine": m,
        "command": command,
        "quick": bool(args.quick),
        **result,
    }
    head = f"**{title}** — N: {n}; {machine_line(m)}; {date}; `{command}`"
    text = "\n\n".join([head, table(columns, rows), *notes]) + "\n"
    document = json.dumps(full, ensure_ascii=False)
    json_out, table_out = (sys.stderr, sys.stdout) if args.table else (sys.stdout, sys.stderr)
    print(document, file=json_out, flush=True)
    print(text, file=table_out, flush=True)


def note(message: str) -> None:
    """Progress for the person watching (stderr, never part of the result)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(run: Callable[[argparse.Namespace], Awaitable[None]], args: argparse.Namespace) -> None:
    """Run ``run(args)``; SIGTERM and Ctrl-C cancel it, so every cleanup runs."""

    async def guarded() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
        try:
            await run(args)
        finally:
            loop.remove_signal_handler(signal.SIGTERM)

    try:
        asyncio.run(guarded())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; subprocesses and temporary files were cleaned up", file=sys.stderr)
        sys.exit(130)
