"""Must-show 1 of issue 14, through a whole daemon: one client network floods one thread.

30 follow-ups of 500 characters (the API and the thread page, from rotating addresses of one
/24) and 10 more questions, all at once, with the default limits. The expert's phone gets the
question and three follow-ups for that thread, no more; a code that another patient asks for in
the middle of it leaves within seconds; the thread page says the rest wait for the doctor; and
when the expert answers, what waited reaches the expert in one SMS.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from smscat.relay.core.texts import render
from tests.support.daemon import EXPERT_ZHANG, PATIENT_2, Client, daemon, settled

FLOODER = "203.0.113.{}"  # one /24: every address of it is one client
OTHER = "198.51.100.7"  # another patient, another network
WEB = {"trusted_proxies": ["127.0.0.1/32"], "rate_limits": {}}  # the default limits, on


def long(prefix: str) -> str:
    return (prefix + "胸口闷，晚上睡不好，血压忽高忽低，" * 40)[:500]


async def post(
    client: Client, path: str, who: str, *, body: Any = None, data: Any = None, token: str = ""
) -> int:
    headers = {"X-Forwarded-For": who}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with client.http.post(
        client.api + path, json=body, data=data, headers=headers, allow_redirects=False
    ) as resp:
        await resp.read()
        return resp.status


async def test_one_network_cannot_spend_the_sms_budget(tmp_path: Path) -> None:
    # 50 ms per submit: the flood takes seconds to send, as on a real modem (1-3 s each)
    async with daemon(tmp_path, web=WEB, send_latency=0.05) as (running, client):
        await settled(running)  # the experts' welcome SMS
        question = {"expert_id": "zhang", "nickname": "小王", "public": False}
        async with client.http.post(
            client.api + "/api/questions",
            json={**question, "text": long("问题零：")},
            headers={"X-Forwarded-For": FLOODER.format(5)},
        ) as resp:
            assert resp.status == 201
            asked = await resp.json()
        thread, token = asked["id"], asked["token"]
        page = f"/t/{thread}/{token}"

        flood = [
            *(
                post(client, f"/api/questions/{thread}/messages", FLOODER.format(10 + n),
                     body={"text": long(f"追问{n:02d}：")}, token=token)
                for n in range(0, 30, 2)
            ),
            *(
                post(client, page + "/messages", FLOODER.format(10 + n),
                     data={"text": long(f"追问{n:02d}：")})
                for n in range(1, 30, 2)
            ),
            *(
                post(client, "/api/questions", FLOODER.format(100 + n),
                     body={**question, "nickname": f"小李{n}", "text": long(f"问题{n}：")})
                for n in range(10)
            ),
        ]  # fmt: skip
        statuses = await asyncio.gather(*flood)
        follow_ups, questions = statuses[:30], statuses[30:]
        assert follow_ups.count(429) == 25  # 5 an hour, the API's and the page's together
        assert set(follow_ups[:15]) <= {201, 429}  # (the API)
        assert set(follow_ups[15:]) <= {303, 429}  # (the page)
        assert sorted(questions) == [201] * 4 + [429] * 6  # 5 an hour, the first included

        # in the middle of it, another patient asks for a code
        loop = asyncio.get_running_loop()
        asked_at = loop.time()
        assert await post(client, "/api/verifications", OTHER, body={"phone": PATIENT_2}) == 202
        await client.wait_for_sms(PATIENT_2, lambda t: "验证码" in t, seconds=10)
        code_took = loop.time() - asked_at
        still_queued = (await running.relay.read.outbox_counts()).get("queued", 0)
        assert code_took < 5, code_took
        assert still_queued > 0  # the flood was still going out when the code had gone

        await settled(running)
        to_expert = await client.received_by(EXPERT_ZHANG)
        ours = [t for t in to_expert if "「小王」" in t]
        asked_sms = [t for t in ours if "提问：" in t]
        assert len(asked_sms) == 1
        code = re.search(r"#\d+", asked_sms[0])
        assert code is not None
        assert len([t for t in ours if "「小王」追问：" in t]) == 3
        assert len(ours) == 4  # the question and three follow-ups, nothing else
        assert len([t for t in to_expert if "提问：" in t]) == 5  # the questions allowed

        async with client.http.get(client.api + page) as resp:
            html = await resp.text()
        assert render("page.followups_waiting", count=2) in html
        status, view = await client.call("GET", f"/api/questions/{thread}", token=token)
        assert status == 200
        assert view["waiting"] == 2
        assert view["notice"] == render("page.followups_waiting", count=2)

        await client.phone_sends(EXPERT_ZHANG, f"{code.group(0)} 请明天上午来门诊复查")
        waited = await client.wait_for_sms(EXPERT_ZHANG, lambda t: "另有2条追问" in t)
        assert waited.startswith(f"【心内科咨询】{code.group(0)} 患者「小王」")
        await settled(running)
        after = [t for t in await client.received_by(EXPERT_ZHANG) if "「小王」" in t]
        assert after == [*ours, waited]  # one SMS, no more
        view = await client.wait_thread(thread, token, lambda v: v["status"] == "answered")
        assert view["waiting"] == 0
        parts = sum(int(m["parts"]) for m in await client.simulator("/sent"))
        assert parts <= 160  # all of it within the bulk lane of one SIM's hourly cap (200)
