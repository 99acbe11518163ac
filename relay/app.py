"""The composition root: config → database → modems (or simulators) → web, in one TaskGroup.

The only module that imports every package. It starts the built-in simulator for each modem
configured with ``port: sim``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from smscat.hwsim.service import SimOptions, running
from smscat.relay.config import ModemConfig, Settings
from smscat.storage.db import Database, ExpertRow
from smscat.web.health import build_app

log = logging.getLogger("smscat")


def expert_rows(settings: Settings) -> list[ExpertRow]:
    return [
        ExpertRow(e.id, e.name, e.title, e.department, e.phone, e.specialty)
        for e in settings.experts
    ]


async def serve(settings: Settings, stop: Callable[[], Awaitable[None]]) -> None:
    """Run until ``stop()`` returns."""
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    async with contextlib.AsyncExitStack() as stack:
        db = await stack.enter_async_context(Database.open(settings.storage.path))
        report = await db.sync_experts(expert_rows(settings))
        log.info(
            "database %s ready: %d expert(s) added, %d updated from config",
            settings.storage.path,
            len(report.inserted),
            len(report.updated),
        )
        modems: list[dict[str, Any]] = []
        for modem in settings.modems:
            modems.append(await _modem_status(stack, settings, modem))
        runner = web.AppRunner(
            build_app(lambda: {"department": settings.department.name, "modems": modems}),
            access_log=None,
        )
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, settings.web.host, settings.web.port)
        await site.start()
        host, port = runner.addresses[0][:2]
        log.info("web on http://%s:%s (GET /healthz)", host, port)
        await stop()
        log.info("stopping")


async def _modem_status(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    modem: ModemConfig,
) -> dict[str, Any]:
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
            )
        )
    )
    log.info("modem %s: simulated on %s (control %s)", modem.id, sim.link, sim.control_url)
    return {"id": modem.id, "port": str(sim.link), "simulator": sim.control_url}
