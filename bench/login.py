"""The admin login under a flood: memory and argon2 work of 200 wrong logins at once.

Usage: python bench/login.py [--quick] [--table] [--attempts N]

The daemon (``bench/daemon.py``, bench/config.yaml with its built-in simulated modem, one admin,
loopback as a trusted proxy so that X-Forwarded-For picks the client's network) starts on a
fresh database. Then, each phase after resetting the daemon's peak RSS (``/proc/PID/clear_refs``):

* ``one network``: N (200; ``--quick``: 40) wrong logins for the admin's name at once, all from
  203.0.113.7: the guard lets five be checked, the rest are refused before argon2;
* ``N networks``: N wrong logins at once, each from its own /24: the global slow-down lets
  about fifty be checked and the rest come back later;
* then the admin logs in from another network.

Each argon2id check takes 64 MiB; at most two run at once
(``web/admin_session.py``: CHECKS_AT_ONCE).
Reported per phase: answers by status, seconds, the daemon's RSS before, its peak during, and
after. Before the guard reserved attempts and the checks were bounded, the audit measured 200 at
once taking the daemon from 66 to 460 MB. About 20 seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import common
import yaml
from argon2 import PasswordHasher

PASSWORD = "the admin's long password"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5", encoding="ascii")  # VmHWM := VmRSS


async def _logins(
    http: aiohttp.ClientSession, url: str, forwarded: list[str], password: str
) -> collections.Counter[int]:
    async with http.get(url + "/admin") as resp:
        found = CSRF.search(await resp.text())
    assert found, "no login form"
    form = {"csrf": found.group(1), "username": "root", "password": password}

    async def one(address: str) -> int:
        async with http.post(
            url + "/admin/login",
            data=form,
            headers={"X-Forwarded-For": address},
            allow_redirects=False,
        ) as resp:
            await resp.read()
            return resp.status

    return collections.Counter(await asyncio.gather(*(one(a) for a in forwarded)))


async def _run(args: argparse.Namespace) -> None:
    n = 40 if args.quick else args.attempts
    with tempfile.TemporaryDirectory(prefix="smscat-login-") as name:
        tmp = Path(name)
        config = common.write_config(tmp, [{"id": "m1", "port": "sim"}])
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["admins"] = [{"username": "root", "password_hash": PasswordHasher().hash(PASSWORD)}]
        data["web"]["trusted_proxies"] = ["127.0.0.1/32"]
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        phases = [
            ("one network", ["203.0.113.7"] * n, "wrong guess"),
            (f"{n} networks", [f"10.{i // 250}.{i % 250}.9" for i in range(n)], "wrong guess"),
            ("the admin, elsewhere", ["198.51.100.20"], PASSWORD),
        ]
        results: list[dict[str, Any]] = []
        async with (
            common.daemon(config) as daemon,
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                cookie_jar=aiohttp.CookieJar(unsafe=True),
                timeout=aiohttp.ClientTimeout(total=120),
            ) as http,
        ):
            for phase, addresses, password in phases:
                await asyncio.sleep(1.0)  # the previous phase's threads have settled
                before = common.rss_mb(daemon.pid)["rss_mb"]
                _reset_peak(daemon.pid)
                common.note(f"{phase}: {len(addresses)} login(s) at once")
                started = time.perf_counter()
                statuses = await _logins(http, daemon.url, addresses, password)
                seconds = time.perf_counter() - started
                memory = common.rss_mb(daemon.pid)
                results.append(
                    {
                        "phase": phase,
                        "attempts": len(addresses),
                        "statuses": {str(k): v for k, v in sorted(statuses.items())},
                        "seconds": round(seconds, 2),
                        "rss_before_mb": before,
                        "peak_rss_mb": memory["peak_rss_mb"],
                        "rss_after_mb": memory["rss_mb"],
                    }
                )
    rows = [
        [
            r["phase"],
            r["attempts"],
            ", ".join(f"{k}: {v}" for k, v in r["statuses"].items()),
            r["seconds"],
            r["rss_before_mb"],
            r["peak_rss_mb"],
            r["rss_after_mb"],
        ]
        for r in results
    ]
    common.emit(
        args,
        {"phases": results},
        title="admin logins at once",
        n=str(n),
        columns=["phase", "logins", "answers", "s", "RSS before MB", "peak MB", "after MB"],
        rows=rows,
        notes=["401: a wrong password checked; 429: refused before any check; 303: logged in."],
    )


def main() -> None:
    p = common.parser(__doc__)
    p.add_argument("--attempts", type=int, default=200, metavar="N")
    common.main(_run, p.parse_args())


if __name__ == "__main__":
    main()
