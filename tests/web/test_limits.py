"""Rate limits per client on asking and on SMS codes, behind a trusted proxy or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from smscat.relay.limits import RateLimit
from tests.support.daemon import Client, daemon

T0 = datetime(2026, 11, 23, tzinfo=UTC)
LIMITS = {"asks_per_hour": 10, "codes_per_hour": 10}  # the defaults, turned on for these tests


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


async def codes(client: Client, n: int, forwarded: str | None) -> list[int]:
    statuses = []
    for i in range(n):
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        body = {"phone": f"+861391234{i:04d}"}
        async with client.http.post(
            client.api + "/api/verifications", json=body, headers=headers
        ) as resp:
            statuses.append(resp.status)
            if resp.status == 429:
                assert resp.headers["Retry-After"].isdigit()
                assert resp.content_type == "application/problem+json"
    return statuses


async def test_codes_per_client_behind_a_trusted_proxy(tmp_path: Path) -> None:
    web = {"trusted_proxies": ["127.0.0.1/32"], "rate_limits": LIMITS}
    async with daemon(tmp_path, web=web) as (_, client):
        assert await codes(client, 11, "203.0.113.5") == [202] * 10 + [429]
        assert await codes(client, 1, "203.0.113.6") == [202]  # another client behind the proxy


async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(tmp_path: Path) -> None:
    async with daemon(tmp_path, web={"rate_limits": LIMITS}) as (_, client):
        first = await codes(client, 6, "198.51.100.1")
        second = await codes(client, 6, "198.51.100.2")  # same real client: 127.0.0.1
    assert first + second == [202] * 10 + [429, 429]
