"""The relay's services, built once per daemon around one database, one set of options, one clock.

:class:`Relay` only wires: each job is its own service, reached as an attribute
(``relay.asking.ask(...)``, ``relay.inbound.process_inbound()``, ``relay.sending.enqueue(...)``).
It has no methods of its own beyond that wiring, so that it never again grows into one class
with every job in it; a new job is a new service module.

Masking holds in every service: the patient's number and the expert's number never enter a
text the other receives, and logs name thread ids and outcomes, never numbers or text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from smscat.relay.services.admin_actions import AdminActions
from smscat.relay.services.api_tokens import ApiTokens
from smscat.relay.services.asking import Asking
from smscat.relay.services.care import CarePlans
from smscat.relay.services.care_replies import CareReplies
from smscat.relay.services.context import Context, RelayOptions
from smscat.relay.services.delivery import Delivery
from smscat.relay.services.expert_sms import ExpertSms
from smscat.relay.services.experts import Experts
from smscat.relay.services.forwarding import Forwarding
from smscat.relay.services.inbound import Inbound
from smscat.relay.services.links import Links
from smscat.relay.services.patient_page import PatientPage
from smscat.relay.services.patient_sms import PatientSms
from smscat.relay.services.read_models import MedianCache, ReadModels
from smscat.relay.services.sending import Sender
from smscat.relay.services.thread_ops import ThreadOps
from smscat.storage.db import Database


class Relay:
    """Use one per daemon; every service is safe to call concurrently (writes are serialised)."""

    def __init__(
        self,
        db: Database,
        options: RelayOptions,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.context = ctx = Context(db, options, clock, asyncio.Event())
        medians = MedianCache(db)
        self.sending = Sender(ctx)
        self.threads = ThreadOps(ctx, medians)
        self.read = ReadModels(ctx, self.sending, medians)
        self.forwarding = Forwarding(ctx, self.sending, self.threads)
        self.experts = Experts(ctx, self.sending, self.forwarding)
        self.asking = Asking(ctx, self.sending, self.threads, self.experts)
        self.links = Links(ctx, self.sending)
        self.patient_page = PatientPage(ctx, self.links, self.forwarding, self.threads)
        self.care = CarePlans(ctx, self.sending)
        self.care_replies = CareReplies(ctx, self.sending, self.care)
        self.expert_sms = ExpertSms(
            ctx, self.sending, self.threads, self.forwarding, self.experts, self.care_replies
        )
        self.patient_sms = PatientSms(ctx, self.sending, self.forwarding, self.care_replies)
        self.inbound = Inbound(ctx, self.forwarding, self.expert_sms, self.patient_sms)
        self.delivery = Delivery(ctx, self.threads)
        self.admin = AdminActions(ctx, self.sending, self.threads, self.forwarding)
        self.api_tokens = ApiTokens(ctx)

    @property
    def db(self) -> Database:
        return self.context.db

    @property
    def options(self) -> RelayOptions:
        return self.context.options

    @property
    def outbox_changed(self) -> asyncio.Event:
        """Set after a commit that queued an SMS (:meth:`.Sender.wake_pump`): wakes the pump."""
        return self.context.outbox_changed

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.context.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        """Every service reads the new clock (tests move time this way)."""
        self.context.clock = clock
