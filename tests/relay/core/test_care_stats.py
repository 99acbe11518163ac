"""The 随访 statistics' arithmetic: what each column counts of a month's enrolments."""

from __future__ import annotations

from datetime import timedelta

from smscat.relay.core.care_stats import CareFigures, EnrolmentFacts, by_group, figures


def facts(status: str = "active", reason: str | None = None, **kw: object) -> EnrolmentFacts:
    base: dict[str, object] = {
        "plan": "discharge", "department": "心内科", "doctor_id": "li", "doctor": "李医生",
        "status": status, "ended_reason": reason, "reached": False, "replied": False,
        "red_flags": 0, "ack_delays": (),
    }  # fmt: skip
    return EnrolmentFacts(**(base | kw))  # type: ignore[arg-type]


def test_no_enrolment_is_zeros_and_no_median() -> None:
    assert figures([]) == CareFigures(0, 0, 0, 0, None, 0, 0, 0)


def test_how_an_enrolment_ended_is_one_column_of_three() -> None:
    ended = [
        facts("completed"),
        facts("cancelled", "opted_out"),
        facts("cancelled", "stop"),  # the patient's STOP is opting out too
        facts("cancelled", "readmitted"),
        facts("cancelled", "deceased"),
        facts("cancelled", "refused"),  # no longer textable: ended early
        facts("paused", "returned"),  # still running: none of the three
        facts("active"),
    ]
    got = figures(ended)
    assert (got.enrolled, got.completed, got.opted_out, got.ended_early) == (8, 1, 2, 3)


def test_reached_replied_and_red_flags_add_up() -> None:
    got = figures(
        [
            facts(reached=True, replied=True, red_flags=2),
            facts(reached=True),
            facts(replied=True, red_flags=1),  # (a reply to an SMS not yet reported delivered)
        ]
    )
    assert (got.reached, got.replied, got.red_flags) == (2, 2, 3)


def test_the_median_is_in_minutes_and_pools_every_acknowledgement() -> None:
    one = facts(ack_delays=(timedelta(minutes=30), timedelta(minutes=90)))
    two = facts(doctor_id="chen", doctor="陈医生", ack_delays=(timedelta(seconds=45 * 60 + 30),))
    assert figures([one]).median_ack_minutes == 60.0
    assert figures([one, two]).median_ack_minutes == 45.5  # not (60 + 45.5) / 2
    groups = by_group([one, two, facts()])
    assert list(groups) == [("discharge", "心内科", "li"), ("discharge", "心内科", "chen")]
    assert groups[("discharge", "心内科", "li")].enrolled == 2
    assert groups[("discharge", "心内科", "li")].median_ack_minutes == 60.0
