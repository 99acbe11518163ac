"""随访 statistics: a month's enrolments per plan, department and doctor, counted.

Pure: it gets :class:`EnrolmentFacts` (one per enrolment created in the month, everything that
happened to it since, as of the facts given) and returns figures. Like the thread report
(:mod:`.stats`), a month is a calendar month in the department's time zone, and a row follows the
enrolments *created* in it (a cohort): a step delivered or answered in the next month still
counts for the month the patient was enrolled in.

What counts, of the enrolments created in the month:

* **enrolled**: all of them;
* **reached**: those with at least one of their plan's SMS (a step or a reminder) delivered;
* **replied**: those with at least one reply recorded;
* **red flags**: their replies that raised one (a warning answer or a red-flag word), so one
  enrolment may count several;
* **median time to acknowledge**: over their acknowledged escalations, minutes from raising to
  acknowledgement (:func:`.stats.median`); None when none was acknowledged. The total pools every
  escalation, so it is not a median of the rows' medians;
* **completed**: status ``completed``;
* **opted out**: cancelled because the patient said so (:data:`OPTED_OUT`: the hospital's
  ``opted_out`` event, or the patient's STOP);
* **ended early**: cancelled for any other reason (readmitted, deceased, or the relay's own:
  the number may no longer be texted, the plan left the configuration). Enrolled = completed +
  opted out + ended early + those still running.

It must never: do I/O, read the clock, or import anything outside the standard library and the
relay core; nothing in it holds a phone number or a nickname.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from smscat.relay.core.stats import median

OPTED_OUT: Final = frozenset({"opted_out", "stop"})  # ended_reason of a patient's own choice


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrolmentFacts:
    """What the statistics need of one enrolment."""

    plan: str
    department: str
    doctor_id: str | None
    doctor: str | None  # the doctor's name (None: no doctor, or one no longer on record)
    status: str  # active, paused, completed, cancelled
    ended_reason: str | None
    reached: bool
    replied: bool
    red_flags: int
    ack_delays: tuple[timedelta, ...]  # raised to acknowledged, of each acknowledged escalation


@dataclass(frozen=True, slots=True)
class CareFigures:
    """One row of the 随访 report: a (plan, department, doctor)'s, or the total."""

    enrolled: int
    reached: int
    replied: int
    red_flags: int
    median_ack_minutes: float | None  # None when no escalation was acknowledged
    completed: int
    opted_out: int
    ended_early: int


Group = tuple[str, str, str | None]  # (plan, department, doctor_id)


def figures(enrolments: Iterable[EnrolmentFacts]) -> CareFigures:
    """The figures of ``enrolments`` (all of one month)."""
    enrolled = reached = replied = red_flags = completed = opted_out = ended_early = 0
    acks: list[float] = []
    for e in enrolments:
        enrolled += 1
        reached += e.reached
        replied += e.replied
        red_flags += e.red_flags
        acks.extend(delay.total_seconds() / 60 for delay in e.ack_delays)
        if e.status == "completed":
            completed += 1
        elif e.status == "cancelled" and e.ended_reason in OPTED_OUT:
            opted_out += 1
        elif e.status == "cancelled":
            ended_early += 1
    return CareFigures(
        enrolled, reached, replied, red_flags, median(acks), completed, opted_out, ended_early
    )


def by_group(enrolments: Iterable[EnrolmentFacts]) -> dict[Group, CareFigures]:
    """Figures per (plan, department, doctor), in the order each group first appears."""
    groups: dict[Group, list[EnrolmentFacts]] = {}
    for e in enrolments:
        groups.setdefault((e.plan, e.department, e.doctor_id), []).append(e)
    return {group: figures(mine) for group, mine in groups.items()}
