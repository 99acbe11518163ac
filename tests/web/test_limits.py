"""Per-client-network limits on every request that makes the hospital send an SMS (issue 14).

A client is its network (IPv4 /24, IPv6 /64), behind a trusted proxy or not; questions,
follow-ups (API and the thread page), codes (API and the board's "send code") and link SMS each
have an hourly cap per network; over it, 429 with Retry-After and the reason (problem+json on the
API, the friendly page on the board); and the codes for everyone together cannot be used up by
fewer than 50 networks.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from smscat.relay.core.limits import RateLimit
from smscat.relay.daemon.config import CODE_BUDGET_NETWORKS, Settings
from smscat.web.admin_auth import network_of
from smscat.web.texts import render
from tests.support.daemon import Client, daemon

T0 = datetime(2026, 11, 23, tzinfo=UTC)
LIMITS = {  # turned on for these tests (other tests run with NO_LIMITS)
    "asks_per_hour": 10,
    "followups_per_hour": 10,
    "codes_per_hour": 10,
    "links_per_hour": 5,
    "codes_all_per_hour": 10 * CODE_BUDGET_NETWORKS,
}
PROXY = ["127.0.0.1/32"]  # the test's requests come through a "proxy" that names the client


def test_a_window_allows_the_limit_then_refuses_until_it_slides() -> None:
    limit = RateLimit(3, timedelta(minutes=10))
    assert [limit.allow("a", T0 + timedelta(minutes=i)) for i in range(4)] == [True] * 3 + [False]
    assert limit.allow("b", T0)  # another key has its own count
    assert limit.retry_after("a", T0 + timedelta(minutes=3)) == 7 * 60 + 1
    assert limit.allow("a", T0 + timedelta(minutes=10))  # the first hit has left the window


@given(st.lists(st.integers(0, 3600), max_size=40), st.integers(1, 5))
def test_never_more_than_the_limit_in_any_window(offsets: list[int], cap: int) -> None:
    limit = RateLimit(cap, timedelta(minutes=10))
    allowed = [
        T0 + timedelta(seconds=s)
        for s in sorted(offsets)
        if limit.allow("k", T0 + timedelta(seconds=s))
    ]
    for i, start in enumerate(allowed):
        inside = [t for t in allowed[i:] if t - start < timedelta(minutes=10)]
        assert len(inside) <= cap


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.5", "203.0.113.0/24"),
        ("203.0.113.250", "203.0.113.0/24"),
        ("203.0.114.5", "203.0.114.0/24"),
        ("::ffff:203.0.113.77", "203.0.113.0/24"),  # IPv4 in IPv6 clothing
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("not-an-address", "unknown"),
    ],
)
def test_a_client_is_its_network(address: str, network: str) -> None:
    assert network_of(address) == network


@given(st.ip_addresses(v=6), st.integers(0, 2**64 - 1))
def test_every_address_of_a_slash_64_is_one_client(ip: Any, host: int) -> None:
    other = type(ip)((int(ip) >> 64 << 64) | host)
    if ip.ipv4_mapped is None and other.ipv4_mapped is None:
        assert network_of(str(ip)) == network_of(str(other))


def test_no_code_limit_lets_fewer_than_50_networks_use_every_code() -> None:
    with pytest.raises(ValidationError, match="fewer than 50 client networks"):
        Settings(web={"rate_limits": {"codes_per_hour": 3, "codes_all_per_hour": 100}})
    Settings(web={"rate_limits": {"codes_per_hour": 3, "codes_all_per_hour": 150}})
    defaults = Settings().web.rate_limits
    assert defaults.codes_per_hour is not None
    assert defaults.codes_per_hour * CODE_BUDGET_NETWORKS <= defaults.codes_all_per_hour


async def send(
    client: Client,
    path: str,
    who: str | None,
    *,
    body: Any = None,
    data: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, str]:
    """POST as the client at ``who`` (X-Forwarded-For): ``body`` as JSON, or form ``data``."""
    sent = {"X-Forwarded-For": who} if who else {}
    async with client.http.post(
        client.api + path, json=body, data=data, headers=sent | (headers or {}),
        allow_redirects=False,
    ) as resp:  # fmt: skip
        return resp.status, resp.headers, await resp.text()


async def codes(client: Client, n: int, forwarded: str | None, first: int = 0) -> list[int]:
    statuses = []
    for i in range(first, first + n):
        status, headers, _ = await send(
            client, "/api/verifications", forwarded, body={"phone": f"+861391234{i:04d}"}
        )
        statuses.append(status)
        if status == 429:
            assert headers["Retry-After"].isdigit()
            assert headers["Content-Type"].startswith("application/problem+json")
    return statuses


async def test_codes_per_network_behind_a_trusted_proxy(tmp_path: Path) -> None:
    web = {"trusted_proxies": PROXY, "rate_limits": LIMITS}
    async with daemon(tmp_path, web=web) as (_, client):
        assert await codes(client, 6, "203.0.113.5") == [202] * 6
        # another address of the same /24 is the same client
        assert await codes(client, 5, "203.0.113.77", 6) == [202] * 4 + [429]
        assert await codes(client, 1, "203.0.114.6", 11) == [202]  # another network


async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(tmp_path: Path) -> None:
    async with daemon(tmp_path, web={"rate_limits": LIMITS}) as (_, client):
        first = await codes(client, 6, "198.51.100.1")
        second = await codes(client, 6, "198.51.200.2", 6)  # same real client: 127.0.0.1
    assert first + second == [202] * 10 + [429, 429]


async def test_an_ipv6_client_is_its_slash_64(tmp_path: Path) -> None:
    web = {"trusted_proxies": PROXY, "rate_limits": LIMITS}
    async with daemon(tmp_path, web=web) as (_, client):
        rotated = [f"2001:db8:1:2:{i:x}::{i + 1:x}" for i in range(11)]
        got = [(await codes(client, 1, address, i))[0] for i, address in enumerate(rotated)]
        assert got == [202] * 10 + [429]
        assert await codes(client, 1, "2001:db8:1:3::1", 20) == [202]


async def test_follow_ups_are_limited_per_network_on_the_api_and_the_page(
    tmp_path: Path,
) -> None:
    web = {"trusted_proxies": PROXY, "rate_limits": LIMITS}
    async with daemon(tmp_path, web=web) as (_, client):
        question = {"expert_id": "zhang", "nickname": "小王", "text": "头晕", "public": False}
        status, _, body = await send(client, "/api/questions", "203.0.113.5", body=question)
        assert status == 201, body
        asked = json.loads(body)
        bearer = {"Authorization": f"Bearer {asked['token']}"}
        api = f"/api/questions/{asked['id']}/messages"
        page = f"/t/{asked['id']}/{asked['token']}/messages"
        for n in range(5):
            status, _, _ = await send(
                client, api, "203.0.113.9", body={"text": f"追问{n}"}, headers=bearer
            )
            assert status == 201
            status, _, _ = await send(client, page, "203.0.113.10", data={"text": f"又问{n}"})
            assert status == 303
        # the eleventh from the same /24: refused, with the reason and when to come back
        status, headers, body = await send(
            client, api, "203.0.113.11", body={"text": "再问"}, headers=bearer
        )
        assert status == 429
        assert headers["Content-Type"].startswith("application/problem+json")
        assert int(headers["Retry-After"]) > 0
        problem = json.loads(body)
        assert problem["code"] == "too_many_followups"
        assert problem["detail"] == render("error.too_many_followups")
        status, headers, body = await send(
            client, page + "?lang=en", "203.0.113.12", data={"text": "again"}
        )
        assert status == 429
        assert headers["Content-Type"].startswith("text/html")
        assert int(headers["Retry-After"]) > 0
        assert render("error.too_many_followups", "en") in body
        assert render("page.retry_after", "en", minutes=60) in body
        # the page's script asks for JSON: the reason comes as JSON
        status, _, body = await send(
            client, page, "203.0.113.13", data={"text": "x"}, headers={"Accept": "application/json"}
        )
        assert status == 429
        assert json.loads(body)["detail"] == render("error.too_many_followups")
        # another network still may
        status, _, _ = await send(
            client, api, "198.51.100.1", body={"text": "别的网络"}, headers=bearer
        )
        assert status == 201


async def test_the_boards_send_code_counts_as_a_code_not_a_question(tmp_path: Path) -> None:
    limits = {**LIMITS, "asks_per_hour": 1, "codes_per_hour": 2, "codes_all_per_hour": 100}
    web = {"trusted_proxies": PROXY, "rate_limits": limits}
    async with daemon(tmp_path, web=web) as (_, client):
        form = {"action": "send_code", "nickname": "小王", "text": "头晕", "public": "0"}
        for n in range(2):
            status, _, body = await send(
                client,
                "/experts/zhang/ask",
                "203.0.113.5",
                data={**form, "phone": f"1391234000{n}"},
            )
            assert status == 200, body
            assert render("page.code_sent") in body
        status, headers, body = await send(
            client, "/experts/zhang/ask", "203.0.113.5", data={**form, "phone": "13912340009"}
        )
        assert status == 429
        assert render("error.too_many_codes") in body
        assert headers["Retry-After"].isdigit()
        # the question itself is still allowed: codes did not use the ask limit up
        status, _, body = await send(
            client, "/experts/zhang/ask", "203.0.113.5", data={**form, "action": "ask"}
        )
        assert status == 303, body


async def test_fewer_than_50_networks_cannot_use_up_every_code(tmp_path: Path) -> None:
    """The global code budget is 50 here, one code per network and hour: 49 networks that take
    all they can leave a code for the 50th; only then is every code gone."""
    limits = {**LIMITS, "codes_per_hour": 1, "codes_all_per_hour": CODE_BUDGET_NETWORKS}
    web = {"trusted_proxies": PROXY, "rate_limits": limits}
    async with daemon(tmp_path, web=web) as (_, client):
        taken = 0
        for n in range(CODE_BUDGET_NETWORKS - 1):
            got = await codes(client, 2, f"10.{n}.0.1", 2 * n)
            assert got == [202, 429]
            taken += got.count(202)
        assert taken == CODE_BUDGET_NETWORKS - 1
        assert await codes(client, 1, "192.0.2.1", 500) == [202]  # the 50th network: a code
        status, headers, body = await send(
            client, "/api/verifications", "192.0.3.1", body={"phone": "+8613912349999"}
        )
        assert status == 429  # now every code of the hour is gone, for everyone
        assert json.loads(body)["code"] == "codes_per_hour"
        assert headers["Retry-After"].isdigit()
