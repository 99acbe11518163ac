"""The product, end to end on the simulated modem: question, answer, follow-up, numbers masked."""

from __future__ import annotations

from pathlib import Path

from tests.support.daemon import EXPERT_ZHANG, PATIENT, ask_public, daemon

QUESTION = "血压160/100，已经吃了氨氯地平，需要加药吗？"
ANSWER = "建议先做24小时动态血压，结果出来前不要自行加药。"
FOLLOW_UP = "好的，谢谢医生！做完动态血压再问您。"


def _forms(e164: str) -> list[str]:
    national = e164.removeprefix("+86")
    return [e164, national, f"{national[:3]} {national[3:7]} {national[7:]}", national[-8:]]


async def test_question_answer_and_follow_up_by_sms(tmp_path: Path) -> None:
    async with daemon(tmp_path) as (_, client):
        status, experts = await client.call("GET", "/api/experts")
        assert status == 200
        assert {e["id"] for e in experts} == {"zhang", "li"}

        thread_id, token = await ask_public(client, QUESTION)

        # the expert's phone gets the question, with a code and without the patient's number
        question_sms = await client.wait_for_sms(EXPERT_ZHANG, lambda t: QUESTION in t)
        assert "#1" in question_sms
        assert not any(form in question_sms for form in _forms(PATIENT))
        # the network's status report for that SMS is matched: delivered to the expert
        await client.wait_thread(thread_id, token, lambda v: v["status"] == "delivered")

        # the expert answers without a code: it is their only open thread
        await client.phone_sends(EXPERT_ZHANG, ANSWER)
        view = await client.wait_thread(
            thread_id, token, lambda v: any(m["from"] == "expert" for m in v["messages"])
        )
        assert view["status"] == "answered"
        assert [m["text"] for m in view["messages"]] == [QUESTION, ANSWER]

        answer_sms = await client.wait_for_sms(PATIENT, lambda t: ANSWER in t)
        assert "张明" in answer_sms
        assert not any(form in answer_sms for form in _forms(EXPERT_ZHANG))

        # the patient replies to that SMS: a follow-up on the same thread, sent to the expert
        await client.phone_sends(PATIENT, FOLLOW_UP)
        follow_up_sms = await client.wait_for_sms(EXPERT_ZHANG, lambda t: FOLLOW_UP in t)
        assert "#1" in follow_up_sms
        assert not any(form in follow_up_sms for form in _forms(PATIENT))
        view = await client.wait_thread(thread_id, token, lambda v: len(v["messages"]) == 3)
        assert view["messages"][2] == {**view["messages"][2], "from": "patient", "text": FOLLOW_UP}
