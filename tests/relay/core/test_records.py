"""The traffic records: a repr never shows a number or what someone wrote, and a stored value
outside a column's choices is refused without being echoed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smscat.relay.core.outbox_states import OutboxStatus
from smscat.relay.core.records import (
    INBOUND_OUTCOMES,
    MESSAGE_SENDERS,
    OUTBOX_KINDS,
    Alert,
    InboundPart,
    InboundSms,
    Message,
    OutboxPart,
    OutboxSms,
    member,
)

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
NUMBER = "+8613912345678"
SECRET = "我的电话 13912345678，胸口疼"


def _shown(record: object) -> str:
    return repr(record) + str(record)


@pytest.mark.parametrize(
    "record",
    [
        OutboxSms(
            id=1,
            kind="to_patient",
            priority=1,
            recipient=NUMBER,
            text=SECRET,
            thread_id=4,
            ref=7,
            status=OutboxStatus.FAILED,
            next_attempt_at=AT,
            created_at=AT,
            error=f"+CMS ERROR 500 for {NUMBER}",
        ),
        InboundSms(
            id=2,
            modem_id="sim1",
            sender=NUMBER,
            text=SECRET,
            parts=2,
            complete=False,
            received_at=AT,
            outcome="unmatched",
            missing=(2,),
        ),
        InboundPart(id=3, modem_id="sim1", pdu="0791683108" + "3119325476F8", received_at=AT),
        Message(
            id=4,
            thread_id=4,
            sender="patient",
            text=SECRET,
            public_text=SECRET,
            at=AT,
        ),
        Alert(id=5, kind="short_code", subject=NUMBER, opened_at=AT, detail=f'{{"n": "{NUMBER}"}}'),
    ],
    ids=lambda r: type(r).__name__,
)
def test_a_repr_shows_no_number_and_no_text(record: object) -> None:
    shown = _shown(record)
    assert "13912345678" not in shown
    assert "3119325476F8" not in shown  # the number as a PDU carries it
    assert "胸口疼" not in shown
    assert type(record).__name__ in shown


def test_a_repr_still_says_what_the_record_is() -> None:
    sms = OutboxSms(
        id=9, kind="notice", priority=3, recipient=NUMBER, text="x", ref=1,
        status=OutboxStatus.QUEUED, next_attempt_at=AT, created_at=AT,
    )  # fmt: skip
    assert "id=9" in repr(sms)
    assert "kind='notice'" in repr(sms)
    assert "recipient=" in repr(sms)  # there, masked
    part = OutboxPart(outbox_id=9, seq=1, total=2, modem_id="sim1", mr=17, sent_at=AT)
    assert "mr=17" in repr(part)


def test_records_are_frozen() -> None:
    part = OutboxPart(outbox_id=9, seq=1, total=2, modem_id="sim1", mr=17, sent_at=AT)
    with pytest.raises(AttributeError):
        part.mr = 18  # type: ignore[misc]


@pytest.mark.parametrize("choices", [OUTBOX_KINDS, INBOUND_OUTCOMES, MESSAGE_SENDERS])
def test_member_takes_each_choice_and_nothing_else(choices: tuple[str, ...]) -> None:
    for choice in choices:
        assert member(choice, choices, "column") == choice
    with pytest.raises(ValueError, match="not a valid column") as caught:
        member("13912345678", choices, "column")
    assert "13912345678" not in str(caught.value)
    with pytest.raises(ValueError, match="not a valid column"):
        member(None, choices, "column")
