"""The reads behind the 随访 statistics: a month's enrolments, each with what happened to it.

Reads only, and no decisions: what counts as reached, opted out or ended early, and how a median
is taken, belong to :mod:`smscat.relay.core.care_stats`; this module hands it one
:class:`~smscat.relay.core.care_stats.EnrolmentFacts` per enrolment created in ``[start, end)``
(stored UTC times compared as text, as :mod:`.stats` does). It returns the doctor's name, never
a phone number or the patient's nickname.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from smscat.relay.core.care_stats import EnrolmentFacts
from smscat.relay.core.outbox_states import OutboxStatus
from smscat.storage.db import Database, iso
from smscat.storage.sql import moment


async def enrolment_facts(db: Database, start: datetime, end: datetime) -> list[EnrolmentFacts]:
    """Every enrolment created in ``[start, end)``, oldest first, with its plan SMS delivered
    (any), replies (any), red-flag replies (how many) and acknowledged escalations' delays."""
    bounds = (iso(start), iso(end))
    rows = await db.fetchall(
        "SELECT c.id, c.plan, c.department, c.doctor_id, e.name AS doctor, c.status,"
        " c.ended_reason,"
        " EXISTS (SELECT 1 FROM care_sends s JOIN outbox o ON o.id = s.outbox_id"
        "  WHERE s.enrolment_id = c.id AND o.status = ?) AS reached,"
        " EXISTS (SELECT 1 FROM care_replies r WHERE r.enrolment_id = c.id) AS replied,"
        " (SELECT COUNT(*) FROM care_replies r WHERE r.enrolment_id = c.id AND r.red_flag = 1)"
        "  AS red_flags"
        " FROM care_enrolments c LEFT JOIN experts e ON e.id = c.doctor_id"
        " WHERE c.created_at >= ? AND c.created_at < ? ORDER BY c.id",
        (OutboxStatus.DELIVERED, *bounds),
    )
    acks = await db.fetchall(
        "SELECT x.enrolment_id, x.raised_at, x.acked_at FROM care_escalations x"
        " JOIN care_enrolments c ON c.id = x.enrolment_id"
        " WHERE c.created_at >= ? AND c.created_at < ? AND x.acked_at IS NOT NULL ORDER BY x.id",
        bounds,
    )
    delays: dict[int, list[timedelta]] = {}
    for ack in acks:
        delay = moment(ack["acked_at"]) - moment(ack["raised_at"])
        delays.setdefault(int(ack["enrolment_id"]), []).append(delay)
    return [
        EnrolmentFacts(
            plan=str(row["plan"]),
            department=str(row["department"]),
            doctor_id=row["doctor_id"],
            doctor=row["doctor"],
            status=str(row["status"]),
            ended_reason=row["ended_reason"],
            reached=bool(row["reached"]),
            replied=bool(row["replied"]),
            red_flags=int(row["red_flags"]),
            ack_delays=tuple(delays.get(int(row["id"]), ())),
        )
        for row in rows
    ]
