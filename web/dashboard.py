"""What the admin's dashboard shows, gathered in one place for the page and its live updates.

:func:`snapshot` reads the modems (through :class:`ModemView`, what a supervisor exposes), the
outbox, the inbound SMS and the alerts, and returns plain values for the templates
(``admin/live.html`` renders them; the page includes it, and the live stream sends it again
whenever it changes). Times are rendered in the department's zone; words come from
:mod:`smscat.web.texts` (a modem's ``block.*`` reason from the relay's, which its alerts use).

It must never: show a patient's or an expert's full number (the last four digits at most; short
codes, which belong to operators, are shown whole), or write anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Protocol

from smscat.relay.core import texts as relay_texts
from smscat.relay.core.masking import mask_numbers, number_tail
from smscat.relay.core.outbox_states import OutboxStatus
from smscat.relay.core.retry import resendable
from smscat.relay.services.care_pages import CarePages
from smscat.web import texts

if TYPE_CHECKING:
    from smscat.relay.services.relay import Relay

QUEUE_STATUSES = tuple(OutboxStatus)  # in the table's order
LIST_LIMIT = 20  # rows per list on the dashboard
SHORT_CODE_DAYS = 30
INBOUND_DAYS = 30  # SMS from unknown numbers and SMS that lost a part: listed this long
SIGNAL_BARS = (-109, -93, -83, -73)  # dBm at which the 1st…4th bar lights (CSQ 2, 10, 15, 20)


class HealthView(Protocol):
    @property
    def manufacturer(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def sim(self) -> str: ...
    @property
    def signal_dbm(self) -> int | None: ...
    @property
    def registration(self) -> str: ...
    @property
    def operator(self) -> str | None: ...


class ModemView(Protocol):
    """What the dashboard reads of a modem supervisor."""

    @property
    def state(self) -> str: ...
    @property
    def health(self) -> HealthView | None: ...
    @property
    def last_contact(self) -> float | None: ...
    @property
    def recent_errors(self) -> Iterable[tuple[float, str]]: ...

    def blocked(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class DashboardOptions:
    ports: Mapping[str, str] = field(default_factory=dict)  # modem id → configured port
    day_caps: Mapping[str, int | None] = field(default_factory=dict)  # modem id → parts a day
    answer_within: timedelta = timedelta(hours=24)  # longer without an answer: listed
    simulators: Mapping[str, str] = field(default_factory=dict)  # modem id → virtual phones URL


@dataclass(frozen=True, slots=True)
class Numbers:
    """The dashboard's numbers, as the summary on top counts them."""

    modems: int = 1  # configured
    modems_ready: int = 1  # of them, those that may send now
    queued: int = 0  # SMS waiting to go (the queue moving is no trouble: a stall is an alert)
    overdue: int = 0  # questions unanswered past ``answer_within``
    unmatched: int = 0  # an expert's reply held for an admin to assign
    failed: int = 0  # SMS that failed for good and an admin may send again
    incomplete: int = 0  # SMS posted without a part (nothing to do: a late part completes it)
    alerts: int = 0  # open alerts (a modem down, a stalled queue, an operator SMS…)
    red_flags: int = 0  # 随访 red flags nobody has acknowledged yet


def needs_attention(n: Numbers) -> bool:
    """Whether the verdict is 需要处理: something waits for an admin, or nothing can send.

    Counted: no modem, a modem that cannot send, an overdue question, an unmatched SMS, a failed
    SMS, an open alert, a 随访 red flag not yet acknowledged. Not counted: the queue (it moves on
    its own; a stalled one opens an alert) and SMS that lost a part (posted as they are; no
    admin action completes them).
    """
    return (
        n.modems == 0
        or n.modems_ready < n.modems
        or n.overdue > 0
        or n.unmatched > 0
        or n.failed > 0
        or n.alerts > 0
        or n.red_flags > 0
    )


def signal_bars(dbm: int | None) -> int:
    """0–4 bars for a signal level, as a phone would draw them."""
    if dbm is None:
        return 0
    return sum(dbm >= threshold for threshold in SIGNAL_BARS)


def mask_number(number: str) -> str:
    """A phone number as admins see it: its last four digits (:func:`.masking.number_tail`)."""
    tail = number_tail(number)
    return f"•••• {tail}" if tail else "••••"


def _when(at: datetime, zone: tzinfo, today: datetime) -> str:
    local = at.astimezone(zone)
    if local.date() == today.date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M")


def _stored(at: str) -> datetime:
    parsed = datetime.fromisoformat(at)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def snapshot(
    relay: Relay,
    modems: Mapping[str, ModemView],
    options: DashboardOptions,
    lang: str,
    *,
    wall: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Everything the live part of the dashboard shows, ready for ``admin/live.html``."""
    zone = relay.options.zone
    now = relay.clock()
    today = now.astimezone(zone)
    rows = []
    for modem_id, supervisor in modems.items():
        health = supervisor.health
        contact = supervisor.last_contact
        sent_today = await relay.read.parts_sent_since(
            modem_id, now - timedelta(days=1)
        )  # as caps count
        cap = options.day_caps.get(modem_id)
        rows.append(
            {
                "id": modem_id,
                "port": options.ports.get(modem_id, ""),
                "model": " ".join(p for p in (health.manufacturer, health.model) if p)
                if health
                else None,
                "state": supervisor.state,
                "state_words": texts.render_or(
                    f"admin.state.{supervisor.state}", supervisor.state, lang
                ),
                "ok": (block := supervisor.blocked()) is None,
                # why it cannot send: the relay's words (its alerts say the same)
                "why": relay_texts.render_or(f"block.{block}", block, lang) if block else None,
                "signal": health.signal_dbm if health else None,
                "bars": signal_bars(health.signal_dbm if health else None),
                "registration": texts.render_or(
                    f"admin.reg.{health.registration}", health.registration, lang
                )
                if health
                else None,
                "operator": health.operator if health else None,
                "sim": health.sim if health else None,
                "last_contact": _when(datetime.fromtimestamp(contact, UTC), zone, today)
                if contact is not None
                else None,
                "sent_today": sent_today,
                "cap": cap,
                "near_cap": cap is not None and sent_today >= 0.9 * cap,
                "errors": [
                    {"at": _when(datetime.fromtimestamp(at, UTC), zone, today), "what": what}
                    for at, what in list(supervisor.recent_errors)[-3:][::-1]
                ],
                "phones": options.simulators.get(modem_id),
            }
        )
    counts = await relay.read.outbox_counts()
    hour_ago = now - timedelta(hours=1)
    traffic = await relay.read.traffic_since(hour_ago)
    unmatched = [
        {
            "id": r["id"],
            "modem": r["modem_id"],
            "sender": mask_number(str(r["sender"])),
            "text": r["text"],
            "at": _when(_stored(str(r["received_at"])), zone, today),
        }
        for r in await relay.read.unmatched_inbound(LIST_LIMIT)
    ]
    failed = [
        {
            "id": r["id"],
            "kind": texts.render_or(f"admin.kind.{r['kind']}", str(r["kind"]), lang),
            "recipient": mask_number(str(r["recipient"])),
            "thread": r["thread_id"],
            "error": r["error"] or "",
            "attempts": r["attempts"],
            "at": _when(_stored(str(r["created_at"])), zone, today),
            "resendable": resendable(r["kind"]),
        }
        for r in await relay.read.failed_outbox(LIST_LIMIT)
    ]
    waiting = [
        {
            "id": r["id"],
            "code": r["code"],
            "expert": r["expert"],
            "status": texts.render_or(f"status.{r['status']}", str(r["status"]), lang),
            "since": _when(_stored(str(r["last_message_at"])), zone, today),
            "hours": int((now - _stored(str(r["last_message_at"]))).total_seconds() // 3600),
        }
        for r in await relay.read.waiting_since(now - options.answer_within, LIST_LIMIT)
    ]
    notices = [
        {
            "sender": r["sender"],
            "modem": r["modem_id"],
            "text": r["text"],
            "at": _when(_stored(str(r["received_at"])), zone, today),
        }
        for r in await relay.read.short_code_sms(now - timedelta(days=SHORT_CODE_DAYS), LIST_LIMIT)
    ]
    inbound_since = now - timedelta(days=INBOUND_DAYS)
    unknown = [
        {  # someone nobody knows: the number masked, and any number they typed too
            "id": r["id"],
            "sender": mask_number(str(r["sender"])),
            "modem": r["modem_id"],
            "text": mask_numbers(str(r["text"])),
            "at": _when(_stored(str(r["received_at"])), zone, today),
        }
        for r in await relay.read.unknown_sender_sms(inbound_since, LIST_LIMIT)
    ]
    incomplete = [
        {
            "id": r["id"],
            "sender": mask_number(str(r["sender"])),
            "modem": r["modem_id"],
            "parts": texts.render(
                "admin.incomplete_parts",
                lang,
                got=r["parts"] - len(r["missing"]) if r["missing"] else "?",
                total=r["parts"],
                missing=texts.join(map(str, r["missing"]), lang)
                or "?",  # (a message routed before the relay kept the part numbers)
            ),
            "thread": r["thread_id"],
            "at": _when(_stored(str(r["received_at"])), zone, today),
        }
        for r in await relay.read.incomplete_sms(inbound_since, LIST_LIMIT)
    ]
    alerts = [
        {
            "label": texts.render_or(f"admin.alert.{a['kind']}", str(a["kind"]), lang),
            "subject": a["subject"],
            "at": _when(_stored(str(a["opened_at"])), zone, today),
        }
        for a in await relay.read.open_alerts()
    ]
    ready = sum(1 for m in rows if m["ok"])
    numbers = Numbers(
        modems=len(rows),
        modems_ready=ready,
        queued=counts.get(OutboxStatus.QUEUED, 0),
        overdue=len(waiting),
        unmatched=len(unmatched),
        # a code is never sent again (the patient has asked for a new one by then): no action
        failed=sum(1 for f in failed if f["resendable"]),
        incomplete=len(incomplete),
        alerts=len(alerts),
        red_flags=(await CarePages(relay).open_items(0)).escalations_total,
    )
    attention = needs_attention(numbers)
    return {
        "numbers": numbers,
        "modems": rows,
        "modems_ready": ready,
        "queue": [(s, counts.get(s, 0)) for s in QUEUE_STATUSES],
        "queued": counts.get(OutboxStatus.QUEUED, 0),
        "traffic": traffic,
        "unmatched": unmatched,
        "failed": failed,
        "waiting": waiting,
        "answer_within_hours": int(options.answer_within.total_seconds() // 3600),
        "notices": notices,
        "unknown": unknown,
        "incomplete": incomplete,
        "inbound_days": INBOUND_DAYS,
        "alerts": alerts,
        "healthy": not attention,
        "updated": _when(now, zone, today),
    }
