"""Codes only where they belong, as the API and the board say it (issue 14): a foreign number or
a landline is refused with its reason, a number that sent STOP is told how to come back, and an
expert's number gets the same answer as anyone's and no SMS.
"""

from __future__ import annotations

from pathlib import Path

from smscat.relay.core import texts as relay_texts
from smscat.web.texts import render
from tests.support.daemon import DEPARTMENT, EXPERT_ZHANG, PATIENT, Client, daemon, settled


async def code_refused(client: Client, phone: str, status: int, key: str) -> None:
    got, problem = await client.call("POST", "/api/verifications", phone=phone)
    assert got == status, problem
    assert problem["code"] == key
    assert problem["detail"] == render(f"error.{key}")
    assert problem["field"] == "phone"


async def test_the_api_and_the_board_say_why_no_code_goes(tmp_path: Path) -> None:
    async with daemon(tmp_path) as (running, client):
        for foreign in ("+1 202 555 0123", "+44 7911 123456", "+234 803 123 4567"):
            await code_refused(client, foreign, 422, "phone_country")
        await code_refused(client, "010-1234 5678", 422, "phone_not_mobile")

        # a patient who sent STOP: the board says how to turn SMS back on
        verification_id, code = await client.verify(PATIENT)
        status, _ = await client.call(
            "POST", "/api/questions", expert_id="zhang", nickname="小王", text="头晕",
            public=False, phone=PATIENT, verification_id=verification_id, code=code,
        )  # fmt: skip
        assert status == 201
        await client.phone_sends(PATIENT, "TD")
        await client.wait_for_sms(
            PATIENT, lambda t: t == relay_texts.render("stop_confirmed", dept=DEPARTMENT)
        )
        await code_refused(client, PATIENT, 409, "phone_stopped")
        form = {"action": "send_code", "phone": PATIENT, "nickname": "小王", "text": "头晕"}
        async with client.http.post(client.api + "/experts/zhang/ask", data=form) as resp:
            assert resp.status == 409
            assert render("error.phone_stopped") in await resp.text()
        await client.phone_sends(PATIENT, "开通")
        await client.wait_for_sms(
            PATIENT, lambda t: t == relay_texts.render("start_confirmed", dept=DEPARTMENT)
        )
        await client.verify(PATIENT)  # a code again

        # an expert's number: an answer like anyone's, and nothing on the expert's phone
        await settled(running)
        before = await client.received_by(EXPERT_ZHANG)
        status, body = await client.call("POST", "/api/verifications", phone=EXPERT_ZHANG)
        assert status == 202
        assert set(body) == {"verification_id"}
        await settled(running)
        assert await client.received_by(EXPERT_ZHANG) == before
