"""``GET /metrics``: what Prometheus scrapes — queues, SMS counts, signal, per-SIM usage.

Served only to loopback and to the networks in ``allow`` (a scrape from elsewhere gets 403):
the figures are operational, not public. The address looked at is the real client's: behind a
trusted proxy (``web.trusted_proxies``) the one it forwarded, never the proxy's own. Values are
read from the database and the modems' supervisors at scrape time; no phone number or text is
ever a label.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Protocol

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from smscat.relay.core.outbox_states import OutboxStatus
from smscat.relay.services.relay import Relay
from smscat.web.clients import allowed, client_ip

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ModemLike(Protocol):
    @property
    def state(self) -> str: ...

    def blocked(self) -> str | None: ...

    @property
    def health(self) -> object: ...


class _Snapshot(Collector):
    def __init__(self, metrics: list[Metric]) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        yield from self._metrics


async def _gather(relay: Relay, modems: Mapping[str, ModemLike]) -> list[Metric]:
    queue = GaugeMetricFamily(
        "smscat_queue_depth", "SMS in the outbox by status", labels=["status"]
    )
    outbox = await relay.read.outbox_counts()
    for status, count in outbox.items():
        queue.add_metric([status], count)
    totals = await relay.read.monitoring_counts()
    sent = CounterMetricFamily(
        "smscat_sms_parts_sent", "SMS parts accepted by a modem", labels=["modem"]
    )
    for modem_id, count in totals["parts_by_modem"].items():
        sent.add_metric([modem_id], count)
    failed = CounterMetricFamily("smscat_sms_failed", "SMS given up on")
    failed.add_metric([], outbox.get(OutboxStatus.FAILED, 0))
    received = CounterMetricFamily(
        "smscat_sms_received", "SMS received, by what they were", labels=["outcome"]
    )
    for outcome, count in totals["received_by_outcome"].items():
        received.add_metric([outcome], count)
    up = GaugeMetricFamily(
        "smscat_modem_up",
        "1 when the modem can send now (ready, SIM ready, registered, not barred)",
        labels=["modem"],
    )
    blocked = GaugeMetricFamily(
        "smscat_modem_blocked", "1 for why the modem cannot send now", labels=["modem", "reason"]
    )
    signal = GaugeMetricFamily("smscat_modem_signal_dbm", "signal strength", labels=["modem"])
    usage = GaugeMetricFamily(
        "smscat_modem_parts_last_day", "parts sent in the last 24 hours", labels=["modem"]
    )
    since = relay.clock() - timedelta(days=1)
    for modem_id, modem in modems.items():
        reason = modem.blocked()
        up.add_metric([modem_id], 1 if reason is None else 0)
        if reason is not None:
            blocked.add_metric([modem_id, reason], 1)
        dbm = getattr(modem.health, "signal_dbm", None)
        if isinstance(dbm, int):
            signal.add_metric([modem_id], dbm)
        usage.add_metric([modem_id], await relay.read.parts_sent_since(modem_id, since))
    return [queue, sent, failed, received, up, blocked, signal, usage]


def add_routes(
    app: web.Application,
    relay: Relay,
    modems: Mapping[str, ModemLike],
    allow: Iterable[str] = (),
) -> None:
    networks = [ipaddress.ip_network(n, strict=False) for n in allow]

    async def metrics(request: web.Request) -> web.Response:
        if not allowed(client_ip(request), networks):
            raise web.HTTPForbidden()
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Snapshot(await _gather(relay, modems)))
        return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get("/metrics", metrics)
