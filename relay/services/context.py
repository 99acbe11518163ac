"""What every relay service shares: the options, the database, the clock, and a few small helpers.

The services (:mod:`.asking`, :mod:`.inbound`, :mod:`.sending` …) are built once per daemon by
:class:`smscat.relay.services.relay.Relay` around one :class:`Context`. It must never hold a
job's own state (a cache, a queue): that lives in the service that owns the job.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from smscat.modem.address import AddressError, is_short_code, line_kind, normalise
from smscat.relay.core import policy
from smscat.relay.core.care import CareOptions
from smscat.relay.core.errors import Invalid
from smscat.storage.db import Database


@dataclass(frozen=True, slots=True)
class RelayOptions:
    department: str
    auto_close: timedelta = timedelta(days=7)
    code_ttl: timedelta = timedelta(minutes=10)
    code_attempts: int = 5  # wrong codes per verification
    codes_per_hour: int = 5  # verification SMS per phone
    codes_all_per_hour: int = 100  # verification SMS for all phones together
    links_per_day: int = 3  # SMS with thread links per phone
    links_all_per_hour: int = 60  # SMS with thread links for all phones together
    links_in_sms: int = 3  # threads in one SMS of links (open ones first, then the latest)
    max_text: int = 500  # characters in a question or follow-up
    max_nickname: int = 20
    report_window: timedelta = timedelta(days=3)
    reassembly_timeout: timedelta = timedelta(minutes=30)  # then a long SMS goes out as it is
    late_part_window: timedelta = timedelta(days=3)  # a part this late still completes its SMS
    zone: tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    quick_replies: Mapping[str, str] = field(default_factory=dict)  # "T3" → standard answer
    duplicate_guard: bool = True  # a system SMS once a day per number; typed text numbered
    code_countries: frozenset[str] = frozenset({"86"})  # calling codes of numbers we may text
    admin_phones: frozenset[str] = frozenset()  # alerts.phones: never a patient's number
    # a number's country and whether it is a mobile: the modem driver's numbering plan
    line_kind: Callable[[str], policy.LineKind | None] = field(default=line_kind, repr=False)
    care: CareOptions = field(default_factory=CareOptions)  # 随访 plans, window, escalations
    public_url: str | None = None  # web.public_url: a 随访 SMS's {link} starts with it
    # whom we may text, for policy.patient_refusal / recipient_refusal: made of the three above
    text_rules: policy.TextRules = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rules = policy.TextRules(
            code_countries=self.code_countries,
            line_kind=self.line_kind,
            admin_phones=self.admin_phones,
        )
        object.__setattr__(self, "text_rules", rules)  # (frozen: set once, here)

    @property
    def zone_name(self) -> str:
        """The department's time zone by its IANA name (``Asia/Shanghai``)."""
        return str(getattr(self.zone, "key", "Asia/Shanghai"))


@dataclass(frozen=True, slots=True)
class Asked:
    id: int
    token: str
    status: str


@dataclass(slots=True)
class Context:
    """One per daemon, shared by its services. Not frozen: a test moves time by swapping
    ``clock`` (through :attr:`Relay.clock`), and every service must see the new one."""

    db: Database
    options: RelayOptions
    clock: Callable[[], datetime]
    outbox_changed: asyncio.Event  # set after a commit that queued an SMS (Sender.wake_pump)


def token_hash(value: str) -> str:
    """What is stored of a secret (a page token, a verification code): never the secret."""
    return hashlib.sha256(value.encode()).hexdigest()


def mobile(raw: str) -> str:
    """A number a patient typed, as E.164; :class:`Invalid` ``phone_invalid`` for anything that
    is no phone number, or a short code."""
    try:
        e164 = normalise(raw)
    except AddressError:
        raise Invalid("phone_invalid", field="phone") from None
    if is_short_code(e164):
        raise Invalid("phone_invalid", field="phone")
    return e164
