"""The abuse budget: the most SMS parts one client network can make the hospital send in an hour.

An attacker with a script, on the default configuration (config.yaml's limits, not the bench
file's): from each client network (IPv4 /24s behind a trusted proxy, X-Forwarded-For) it asks
questions of 500 characters to every expert, sends follow-ups of 500 characters on every thread
it opened, asks SMS codes for numbers it makes up and link SMS for them — as fast as the server
answers, so that everything an hour's limits allow is spent at once (the limits are sliding
hour windows: what one burst gets is the hour's most). Then the SMS the hospital queued are
counted in parts (as the SIM's caps count them), by kind. Once for one network, once for 100.

The modems are simulated and keep sending; what is counted is what was queued, sent or not.
``--quick``: 1 and 10 networks.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import common
import yaml

from smscat.modem import pdu
from smscat.relay.daemon.app import running_daemon
from smscat.relay.daemon.config import Settings

ROOT = common.BENCH.parent
TEXT = "请问" + "胸闷心悸气短，夜里加重，" * 41  # 500 characters, the most a message may have
ATTEMPTS = {"ask": 30, "followup": 40, "code": 30, "link": 30}  # per network: more than allowed


def _settings(directory: Path) -> Settings:
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["storage"] = {"path": str(directory / "smscat.db")}
    data["web"] = {**data.get("web", {}), "host": "127.0.0.1", "port": 0}
    data["web"]["trusted_proxies"] = ["127.0.0.1/32"]  # the attackers come through a proxy
    data["log_level"] = "WARNING"
    return Settings(**data)


def _network(i: int) -> str:
    """A client address in the ``i``-th /24."""
    return f"10.{i // 250}.{i % 250}.7"


async def _attack(
    http: aiohttp.ClientSession, url: str, network: int, experts: list[str]
) -> Counter[str]:
    """Everything one network tries; the answers by status, per kind."""
    headers = {"X-Forwarded-For": _network(network)}
    answers: Counter[str] = Counter()
    threads: list[tuple[int, str]] = []
    for n in range(ATTEMPTS["ask"]):
        body = {
            "expert_id": experts[n % len(experts)],
            "nickname": "小王",
            "text": TEXT,
            "public": True,
        }
        async with http.post(url + "/api/questions", json=body, headers=headers) as resp:
            answers[f"ask {resp.status}"] += 1
            if resp.status == 201:
                data = await resp.json()
                threads.append((int(data["id"]), str(data["token"])))
    for n in range(ATTEMPTS["followup"]):
        if not threads:
            break
        thread_id, token = threads[n % len(threads)]
        async with http.post(
            f"{url}/api/questions/{thread_id}/messages",
            json={"text": TEXT},
            headers={**headers, "Authorization": f"Bearer {token}"},
        ) as resp:
            answers[f"followup {resp.status}"] += 1
    for n in range(ATTEMPTS["code"]):
        phone = f"139{network:04d}{n:04d}"
        async with http.post(
            url + "/api/verifications", json={"phone": phone}, headers=headers
        ) as resp:
            answers[f"code {resp.status}"] += 1
    for n in range(ATTEMPTS["link"]):
        phone = f"139{network:04d}{n:04d}"
        async with http.post(
            url + "/links", data={"phone": phone}, headers=headers, allow_redirects=False
        ) as resp:
            answers[f"link {resp.status}"] += 1
    return answers


async def _one_run(networks: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="smscat-abuse-") as tmp:
        settings = _settings(Path(tmp))
        async with (
            running_daemon(settings) as running,
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http,
        ):
            db = running.relay.db
            (before,) = await db.fetchall("SELECT COALESCE(MAX(id), 0) FROM outbox")
            experts = [e.id for e in settings.experts]
            answers: Counter[str] = Counter()
            for network in range(networks):
                answers += await _attack(http, running.url, network, experts)
            rows = await db.fetchall(
                "SELECT kind, recipient, text FROM outbox WHERE id > ? AND status != 'cancelled'",
                (before[0],),
            )
            parts: Counter[str] = Counter()
            for row in rows:
                parts[row["kind"]] += len(pdu.plan_submit(row["recipient"], row["text"], ref=0))
    return {
        "networks": networks,
        "parts": dict(parts),
        "parts_total": sum(parts.values()),
        "parts_per_network": sum(parts.values()) / networks,
        "answers": dict(sorted(answers.items())),
    }


async def run(args: argparse.Namespace) -> None:
    results = []
    for networks in (1, 10) if args.quick else (1, 100):
        common.note(f"{networks} network(s) attacking")
        results.append(await _one_run(networks))
    rows = [
        (
            r["networks"],
            r["parts_total"],
            round(r["parts_per_network"], 1),
            r["parts"].get("to_expert", 0),
            r["parts"].get("verification", 0),
            r["parts"].get("notice", 0),
            ", ".join(f"{k}: {v}" for k, v in r["answers"].items()),
        )
        for r in results
    ]
    common.emit(
        args,
        {"runs": results},
        title="Abuse budget: SMS parts client networks can cause in one hour (default limits)",
        n=f"{ATTEMPTS} attempts per network",
        columns=[
            "networks",
            "parts queued",
            "per network",
            "to experts",
            "codes",
            "links/notices",
            "answers",
        ],
        rows=rows,
    )


if __name__ == "__main__":
    common.main(run, common.parser(__doc__).parse_args())
