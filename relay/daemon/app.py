"""The composition root: config → database → modems (or simulators) → relay → web, one TaskGroup.

The only module that imports every package. It starts the built-in simulator for each modem
configured with ``port: sim``, a supervisor per modem (its receiver stores parts through the
relay, its +CDS reports go to the relay), the outbox pump, the inbound router, the auto-closer,
the 随访 planner and the web server; SIGTERM lets the part in flight finish, then everything stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from smscat.hwsim.control import add_pages as add_sim_pages
from smscat.hwsim.service import SimOptions, Simulator, running
from smscat.modem import pdu
from smscat.modem.address import line_kind
from smscat.modem.atparser import Unsolicited
from smscat.modem.errors import PduError
from smscat.modem.inbox import StoredPart
from smscat.modem.receiver import Receiver
from smscat.modem.supervisor import ModemSupervisor, SupervisorSettings
from smscat.relay.core import routing
from smscat.relay.daemon import daemonlock
from smscat.relay.daemon.config import ModemConfig, Settings
from smscat.relay.daemon.config_operations import LogConfig
from smscat.relay.services.alerting import Alerter, AlertOptions
from smscat.relay.services.context import RelayOptions
from smscat.relay.services.management import expert_row
from smscat.relay.services.outbox import OutboxPump
from smscat.relay.services.pins import StoredPins
from smscat.relay.services.relay import Relay
from smscat.relay.services.reporting import DigestOptions, queue_digests
from smscat.relay.services.retention import purge
from smscat.storage.db import Database, ExpertRow
from smscat.web.admin import AdminOptions
from smscat.web.admin import add_routes as add_admin
from smscat.web.api import MAX_BODY
from smscat.web.api import add_routes as add_api
from smscat.web.dashboard import DashboardOptions
from smscat.web.deadlines import body_deadline, server_options
from smscat.web.health import add_routes as add_health
from smscat.web.limits import rate_limits
from smscat.web.metrics import add_routes as add_metrics
from smscat.web.pages import add_routes as add_pages
from smscat.web.pages import set_public_url

log = logging.getLogger("smscat")
DRAIN_SECONDS = 10.0  # SIGTERM → exit within 15 s: the part in flight gets this long
RETRY_BASE = 30.0  # seconds before a failed SMS is first tried again (doubled per attempt)
CARE_LOOK = 60.0  # seconds: the 随访 planner looks at least this often
CARE_BATCH = 200  # enrolments a planner tick looks at (a full tick: it looks again)
# the simulated modems' virtual phones (``port: sim`` only), at an address that does not move
SIM_PAGES = "/sim/"


TEXT_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLogFormatter(logging.Formatter):
    """One JSON object a line (``log.format: json``) for journald's and ELK's parsers.

    The message is the text format's own, word for word: the redaction is the log calls' (no
    number or patient text is ever an argument at INFO), so both formats carry the same facts.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def log_handler(config: LogConfig, stream: TextIO | None = None) -> logging.Handler:
    """The daemon's log handler on ``stream`` (stderr), in the format ``config`` names."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        JsonLogFormatter() if config.format == "json" else logging.Formatter(TEXT_LOG_FORMAT)
    )
    return handler


def expert_rows(settings: Settings) -> list[ExpertRow]:
    return [expert_row(e) for e in settings.experts]


def relay_options(settings: Settings) -> RelayOptions:
    return RelayOptions(
        department=settings.department.name,
        auto_close=timedelta(days=settings.relay.auto_close_days),
        max_text=settings.relay.max_text,
        zone=ZoneInfo(settings.timezone),
        quick_replies=dict(settings.quick_replies),
        duplicate_guard=settings.relay.duplicate_guard,
        reassembly_timeout=timedelta(minutes=settings.relay.reassembly_timeout_minutes),
        codes_all_per_hour=settings.web.rate_limits.codes_all_per_hour,
        code_countries=frozenset(settings.relay.code_countries),
        admin_phones=frozenset(settings.alerts.phones),
        line_kind=line_kind,  # (the core's policy has no numbering plan of its own)
        care=settings.care.options(ZoneInfo(settings.timezone)),
        public_url=settings.web.public_url,
    )


def admin_options(settings: Settings, simulators: dict[str, str] | None = None) -> AdminOptions:
    """What the admin pages take from config (``simulators``: modem id → virtual phones URL)."""
    key = settings.web.secret_key
    return AdminOptions(
        secret_key=key.get_secret_value().encode() if key is not None else None,
        admins={a.username: a.password_hash.get_secret_value() for a in settings.admins},
        trusted_proxies=tuple(settings.web.trusted_proxies),
        board=DashboardOptions(
            ports={m.id: m.port for m in settings.modems},
            day_caps={m.id: m.limits.per_day for m in settings.modems},
            answer_within=timedelta(hours=settings.relay.answer_within_hours),
            simulators=dict(simulators or {}),
        ),
    )


def alert_options(settings: Settings) -> AlertOptions:
    a = settings.alerts
    return AlertOptions(
        phones=tuple(a.phones),
        webhook=a.webhook,
        modem_silent=timedelta(minutes=a.modem_silent_minutes),
        queue_stalled=timedelta(minutes=a.queue_stalled_minutes),
        cap_warn_ratio=a.cap_warn_ratio,
        repeat=timedelta(minutes=a.repeat_minutes),
    )


@dataclass
class Daemon:
    """A running daemon (see :func:`running_daemon`): what tests and the CLI may look at."""

    relay: Relay
    supervisors: dict[str, ModemSupervisor]
    pump: OutboxPump
    url: str  # the web server's base URL
    simulators: dict[str, str] = field(default_factory=dict)  # modem id → control URL
    alerter: Alerter | None = None


async def serve(settings: Settings, stop: Callable[[], Awaitable[None]]) -> None:
    """Run until ``stop()`` returns, then drain: the part in flight finishes (≤ 10 s)."""
    logging.basicConfig(level=settings.log.level, handlers=[log_handler(settings.log)])
    async with running_daemon(settings):
        await stop()
        log.info("stopping")


@contextlib.asynccontextmanager
async def running_daemon(
    settings: Settings,
    *,
    supervision: SupervisorSettings | None = None,
    retry_base: float = RETRY_BASE,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> AsyncIterator[Daemon]:
    """Database, simulators, modems, relay, web: all running for the life of the block.

    ``supervision`` (the modem supervisors' timings) and ``retry_base`` (seconds before an SMS
    whose send failed is tried again) are for tests that must not wait as long as a hospital;
    ``clock`` (aware UTC) is the relay's clock; it also stamps the experts config adds now.
    Raises :class:`~smscat.relay.daemon.daemonlock.StartRefused` when another daemon holds the
    database or the web port is taken.
    """
    async with contextlib.AsyncExitStack() as stack:
        # one daemon per database, refused before anything is touched (database, modem links)
        stack.enter_context(daemonlock.hold(settings.storage.path))
        daemonlock.check_web_port(settings.web.host, settings.web.port)
        db = await stack.enter_async_context(Database.open(settings.storage.path))
        report = await db.sync_experts(expert_rows(settings), at=clock())
        log.info(
            "database %s ready: %d expert(s) added, %d updated from config",
            settings.storage.path,
            len(report.inserted),
            len(report.updated),
        )
        relay = Relay(db, relay_options(settings), clock=clock)
        welcomed = await relay.experts.welcome_new()
        if welcomed:
            log.info("%d new expert(s) or assistant(s) get a welcome SMS", welcomed)
        modems: list[dict[str, Any]] = []
        supervisors: dict[str, ModemSupervisor] = {}
        sims: dict[str, Simulator] = {}
        for modem in settings.modems:
            status = await _modem_status(stack, settings, modem, sims)
            modems.append(status)
            supervisors[modem.id] = _supervisor(relay, modem, status["port"], supervision)
        limits = {
            m.id: routing.Limits(m.limits.per_minute, m.limits.per_hour, m.limits.per_day)
            for m in settings.modems
        }
        pump = OutboxPump(relay, supervisors, limits=limits, retry_base=retry_base)
        app = web.Application(client_max_size=MAX_BODY)
        add_health(
            app,
            lambda: _health(settings, modems, supervisors),
            lambda: db.fetchall("SELECT 1"),
            allow=settings.web.metrics_allow,
        )
        add_metrics(app, relay, supervisors, settings.web.metrics_allow)
        add_api(app, relay)
        add_pages(app, relay, settings.department.name, public_url=settings.web.public_url)
        simulators = {m["id"]: m["simulator"] for m in modems if "simulator" in m}
        phones = {modem_id: f"{SIM_PAGES}{modem_id}" for modem_id in simulators}  # (stable)
        setup = add_admin(app, relay, admin_options(settings, phones), supervisors)
        if sims:
            add_sim_pages(app, SIM_PAGES, sims)
        app.middlewares.append(body_deadline(settings.web.timeouts.body_seconds))
        # innermost: its 429 becomes a problem (API) or the friendly page (board); the body is
        # in by then (the board's "send code" and "ask" differ by a form field)
        per_client = settings.web.rate_limits.model_dump(exclude={"codes_all_per_hour"})
        app.middlewares.append(rate_limits(**per_client))
        runner = web.AppRunner(
            app, access_log=None, **server_options(settings.web.timeouts.idle_seconds)
        )
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, settings.web.host, settings.web.port)
        await site.start()
        host, port = runner.addresses[0][:2]
        url = f"http://{host}:{port}"
        log.info("web on %s (GET /healthz, /api/…)", url)
        if sims:
            log.info("virtual phones: %s%s", url, SIM_PAGES)
        if settings.web.public_url is None:
            set_public_url(app, url)
            log.warning("web.public_url is not set: links in SMS point to %s", url)
        if setup is not None:
            log.warning("no admin is configured: create the first one, once, at %s%s", url, setup)
        http = await stack.enter_async_context(aiohttp.ClientSession())
        alerter = Alerter(relay, supervisors, alert_options(settings), pump=pump, http=http)
        async with asyncio.TaskGroup() as tasks:
            workers = [
                *(tasks.create_task(s.run(), name=f"modem-{i}") for i, s in supervisors.items()),
                tasks.create_task(_inbound(relay), name="inbound"),
                tasks.create_task(_closer(relay), name="closer"),
                tasks.create_task(_care(relay), name="care"),
                tasks.create_task(relay.links.serve_link_requests(), name="link-requests"),
                tasks.create_task(alerter.run(), name="alerts"),
                tasks.create_task(_housekeeping(relay, settings), name="housekeeping"),
            ]
            pumping = tasks.create_task(pump.run(), name="outbox")
            try:
                yield Daemon(relay, supervisors, pump, url, simulators, alerter)
            finally:
                pump.stop()  # no new part after the one in flight
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(DRAIN_SECONDS):
                        await asyncio.shield(pumping)
                for task in (*workers, pumping):
                    task.cancel()


def _supervisor(
    relay: Relay, modem: ModemConfig, port: str, supervision: SupervisorSettings | None
) -> ModemSupervisor:
    async def on_urc(urc: Unsolicited) -> None:
        if urc.name == "+CDS" and urc.pdu is not None:
            try:
                report = pdu.decode_status_report(urc.pdu)
            except PduError:
                log.warning("modem %s: a status report could not be decoded", modem.id)
                return
            await relay.delivery.on_report(modem.id, report)

    async def consume(part: StoredPart) -> None:
        await relay.inbound.store_part(modem.id, part)

    pin = modem.pin.get_secret_value() if modem.pin else None
    return ModemSupervisor(
        port,
        pin=pin,
        pins=StoredPins(relay.db, modem.id, pin, relay.clock) if pin else None,
        receiver=Receiver(consume),
        on_urc=on_urc,
        baudrate=modem.baudrate,
        quirks=modem.quirks,
        smsc=modem.smsc,
        settings=supervision,
    )


def _health(
    settings: Settings, modems: list[dict[str, Any]], supervisors: dict[str, ModemSupervisor]
) -> dict[str, Any]:
    return {
        "department": settings.department.name,
        "modems": [
            {**m, **supervisors[m["id"]].status()} for m in modems if m["id"] in supervisors
        ],
    }


async def _inbound(relay: Relay) -> None:
    """Route stored parts whenever one arrives (and every minute, for reassembly time-outs)."""
    while True:
        relay.inbound.changed.clear()
        with _survive("inbound router"):
            await relay.inbound.process_inbound()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(60):
                await relay.inbound.changed.wait()


async def _closer(relay: Relay) -> None:
    while True:
        with _survive("auto-close"):
            await relay.threads.close_due()
        await asyncio.sleep(600)


async def _care(relay: Relay) -> None:
    """随访: the planner sends what is due and escalations past their deadline move on, when an
    enrolment may have become due (``relay.care.changed``), when the next one is, and at least
    every minute (a deadline is not in ``next_look``)."""
    while True:
        relay.care.changed.clear()
        wait = CARE_LOOK
        with _survive("care planner"):
            while await relay.care.tick(CARE_BATCH) == CARE_BATCH:
                pass  # a full batch: more may be due now
            await relay.care_replies.move_overdue()
            at = await relay.care.next_look()
            if at is not None:  # (an error above: a minute, not a busy loop)
                wait = min(wait, max(0.0, (at - relay.clock()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await relay.care.changed.wait()


async def _housekeeping(relay: Relay, settings: Settings) -> None:
    """Hourly: the weekly digests (each goes once a week); daily: the retention purge."""
    digests = DigestOptions(settings.department.name, settings.timezone)
    last_purge: datetime | None = None
    while True:
        now = relay.clock()
        with _survive("weekly digest"):
            await queue_digests(relay, digests, now)  # (Sender.enqueue wakes the pump)
        if last_purge is None or now - last_purge >= timedelta(days=1):
            with _survive("retention purge"):
                retention = settings.retention
                if retention.phone_days or retention.thread_days:
                    report = await purge(
                        relay.db,
                        phone_days=retention.phone_days,
                        thread_days=retention.thread_days,
                        now=now,
                    )
                    log.info("retention purge: %s", report.counts())
                last_purge = now
        await asyncio.sleep(3600)


@contextlib.contextmanager
def _survive(what: str) -> Iterator[None]:
    """An unexpected error in a background job is logged; the job (and the daemon) go on."""
    try:
        yield
    except Exception:
        log.exception("%s: an error; the work stays stored and is tried again", what)


async def _modem_status(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    modem: ModemConfig,
    sims: dict[str, Simulator],
) -> dict[str, Any]:
    """The modem's health entry; a ``port: sim`` modem's simulator starts and joins ``sims``."""
    if modem.port != "sim":
        log.info("modem %s on %s", modem.id, modem.port)
        return {"id": modem.id, "port": modem.port}
    link = settings.storage.path.parent / f"{modem.id}.tty"
    sim = await stack.enter_async_context(
        running(
            SimOptions(
                link=link,
                profile=modem.sim.profile,
                send_latency=modem.sim.send_latency,
                report_delay=modem.sim.report_delay,
                slots=modem.sim.storage_slots,
                index_base=modem.sim.index_base,
                pin=modem.sim.pin,
                storages=modem.sim.storages,
                module=modem.sim.module,
            )
        )
    )
    log.info("modem %s: simulated on %s", modem.id, sim.link)
    sims[modem.id] = sim
    return {"id": modem.id, "port": str(sim.link), "simulator": sim.control_url}
