"""The JSON API over real HTTP, against a whole daemon with the built-in simulated modem.

What a hospital's front end codes against: each endpoint's shape, each refusal as
``application/problem+json`` (Chinese by default, English on request, never a traceback and
never what was typed), masking on the public board, and hostile text kept as data.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from aiohttp import web
from multidict import CIMultiDictProxy
from schemathesis.specs.openapi.definitions import OPENAPI_31

from smscat.relay.daemon.app import Daemon
from smscat.web.api import MAX_BODY, add_routes
from smscat.web.api_schema import PROBLEM
from smscat.web.texts import render
from tests.support.daemon import EXPERT_LI, EXPERT_ZHANG, PATIENT, PATIENT_2, Client, daemon

CJK = re.compile(r"[\u4e00-\u9fff]")
EXPERT_KEYS = {
    "id",
    "name",
    "title",
    "department",
    "specialty",
    "accepting",
    "accepting_reason",
    "median_first_answer_s",
}
PROBLEM_KEYS = {"type", "title", "status", "detail", "field", "code"}
MARKER = "SECRET-MARKER-7d1f"  # typed by a visitor; must never come back in an error


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[Daemon, Client]]:
    async with daemon(tmp_path) as running:
        yield running


@pytest.fixture
def client(api: tuple[Daemon, Client]) -> Client:
    return api[1]


Raw = tuple[int, CIMultiDictProxy[str], bytes]


async def request(
    client: Client,
    method: str,
    path: str,
    *,
    data: bytes | None = None,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> Raw:
    """One request with full control over the body and headers; the raw answer."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body, ensure_ascii=False).encode()
        sent.setdefault("Content-Type", "application/json")
    async with client.http.request(method, client.api + path, data=data, headers=sent) as resp:
        return resp.status, resp.headers, await resp.read()


def problem(answer: Raw, status: int, *, field: str | None = None, lang: str = "zh") -> Any:
    """Check ``answer`` is the problem+json refusal described, and return its body."""
    got, headers, raw = answer
    text = raw.decode()
    assert got == status, text
    assert headers["Content-Type"].split(";")[0] == PROBLEM
    assert "Traceback" not in text
    assert MARKER not in text
    body = json.loads(text)
    assert set(body) <= PROBLEM_KEYS
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    # the title is words (the kind of refusal, in the client's language); the key is ``code``
    assert re.fullmatch(r"[a-z0-9_]+", body["code"]), body
    assert body["title"] != body["code"]
    assert body["title"] == render(f"error.status_{status}", "en" if lang == "en" else "zh-CN")
    assert body.get("field") == field
    if lang == "zh":
        assert CJK.search(body["detail"]), body["detail"]
    else:
        assert body["detail"].isascii()
        assert body["detail"].strip()
    return body


async def ask(client: Client, **fields: Any) -> dict[str, Any]:
    """An anonymous question (no phone) unless ``fields`` say otherwise; 201 expected."""
    question: dict[str, Any] = {
        "expert_id": "zhang",
        "nickname": "小王",
        "text": "头疼三天了",
        "public": True,
    }
    question.update(fields)
    status, body = await client.call("POST", "/api/questions", **question)
    assert status == 201, body
    return dict(body)


def utc(at: str) -> datetime:
    when = datetime.fromisoformat(at)
    assert when.utcoffset() == timedelta(0)
    return when


# -- happy paths ---------------------------------------------------------------------------------


async def test_experts_are_listed_with_the_contract_fields(client: Client) -> None:
    status, experts = await client.call("GET", "/api/experts")

    assert status == 200
    assert [e["id"] for e in experts] == ["zhang", "li"]
    assert all(set(e) == EXPERT_KEYS for e in experts)
    zhang, li = experts
    assert zhang == {
        "id": "zhang",
        "name": "张明",
        "title": "主任医师",
        "department": "心血管内科",
        "specialty": "高血压",
        "accepting": True,
        "accepting_reason": None,
        "median_first_answer_s": None,
    }
    assert li["specialty"] is None
    assert EXPERT_ZHANG not in json.dumps(experts)


async def test_a_verification_is_accepted_and_its_code_sent_by_sms(client: Client) -> None:
    status, body = await client.call("POST", "/api/verifications", phone=PATIENT)

    assert status == 202
    assert set(body) == {"verification_id"}
    assert isinstance(body["verification_id"], str)
    assert len(body["verification_id"]) >= 16
    code_sms = await client.wait_for_sms(PATIENT, lambda t: "验证码" in t)
    assert re.search(r"\d{6}", code_sms)


async def test_a_verified_question_is_asked_and_shown_to_its_owner(client: Client) -> None:
    verification_id, code = await client.verify(PATIENT)

    status, asked = await client.call(
        "POST",
        "/api/questions",
        expert_id="zhang",
        nickname="小王",
        text="血压 150/95 需要吃药吗？",
        public=False,
        phone=PATIENT,
        verification_id=verification_id,
        code=code,
    )

    assert status == 201
    assert set(asked) == {"id", "token", "status"}
    assert isinstance(asked["id"], int)
    assert len(asked["token"]) >= 24
    assert asked["status"] == "queued"
    view = await client.thread(asked["id"], asked["token"])
    assert set(view) <= {"id", "status", "status_text", "messages", "notice", "waiting"}
    assert view["waiting"] == 0  # follow-ups kept until the expert answers: none yet
    assert view["id"] == asked["id"]
    assert view["status"] in {"queued", "sent", "delivered"}
    assert CJK.search(view["status_text"])
    assert view.get("notice") is None
    [message] = view["messages"]
    assert set(message) == {"from", "text", "at"}
    assert message["from"] == "patient"
    assert message["text"] == "血压 150/95 需要吃药吗？"
    assert abs(utc(message["at"]) - datetime.now(UTC)) < timedelta(minutes=1)


async def test_the_status_text_follows_accept_language(client: Client) -> None:
    asked = await ask(client)

    _, _, zh = await request(client, "GET", f"/api/questions/{asked['id']}", token=asked["token"])
    got, headers, en = await request(
        client,
        "GET",
        f"/api/questions/{asked['id']}",
        token=asked["token"],
        headers={"Accept-Language": "en-US,en;q=0.8"},
    )

    assert got == 200
    assert headers["Content-Type"].split(";")[0] == "application/json"
    assert CJK.search(json.loads(zh)["status_text"])
    english = json.loads(en)["status_text"]
    assert english.isascii()
    assert english


async def test_a_follow_up_is_posted_and_reaches_the_expert(client: Client) -> None:
    asked = await ask(client, nickname="老李")

    status, body = await client.call(
        "POST", f"/api/questions/{asked['id']}/messages", token=asked["token"], text="还有点头晕"
    )

    assert status == 201
    assert body is None
    view = await client.thread(asked["id"], asked["token"])
    assert [(m["from"], m["text"]) for m in view["messages"]] == [
        ("patient", "头疼三天了"),
        ("patient", "还有点头晕"),
    ]
    sms = await client.wait_for_sms(EXPERT_ZHANG, lambda t: "还有点头晕" in t)
    assert "老李" in sms


async def test_an_experts_sms_reply_appears_on_the_thread(client: Client) -> None:
    asked = await ask(client)
    await client.wait_for_sms(EXPERT_ZHANG, lambda t: "头疼三天了" in t)

    await client.phone_sends(EXPERT_ZHANG, "多喝水，注意休息")

    view = await client.wait_thread(
        asked["id"], asked["token"], lambda v: any(m["from"] == "expert" for m in v["messages"])
    )
    assert view["status"] == "answered"
    assert view["messages"][-1]["text"] == "多喝水，注意休息"
    assert EXPERT_ZHANG[-8:] not in json.dumps(view)


async def test_the_board_masks_numbers_and_hides_private_threads(client: Client) -> None:
    public = await ask(
        client, nickname="王13800138000", text="我的电话13912345678，心慌 2 天", public=True
    )
    private = await ask(client, nickname="私密", text="这是私密问题", public=False)
    await ask(client, expert_id="li", nickname="赵", text="胸闷", public=True)

    status, board = await client.call("GET", "/api/board?expert_id=zhang")

    assert status == 200
    assert set(board) == {"threads", "total", "page", "per_page"}
    assert (board["total"], board["page"], board["per_page"]) == (1, 1, 20)
    [thread] = board["threads"]
    assert set(thread) == {"id", "expert_id", "nickname", "status", "created_at", "messages"}
    assert thread["id"] == public["id"]
    assert thread["expert_id"] == "zhang"
    assert thread["nickname"] == "王***********"
    assert [(m["from"], m["text"]) for m in thread["messages"]] == [
        ("patient", "我的电话***********，心慌 2 天")
    ]
    assert "13912345678" not in json.dumps(board)
    owner = await client.thread(public["id"], public["token"])
    assert owner["messages"][0]["text"] == "我的电话13912345678，心慌 2 天"

    _, everyone = await client.call("GET", "/api/board")
    assert everyone["total"] == 2
    assert private["id"] not in {t["id"] for t in everyone["threads"]}
    assert "私密" not in json.dumps(everyone, ensure_ascii=False)


async def test_the_board_searches_and_pages(client: Client) -> None:
    for n in range(21):
        await ask(client, nickname=f"患者{n}", text=f"第{n}个问题 心悸" if n % 2 else f"第{n}个")

    _, first = await client.call("GET", "/api/board")
    _, second = await client.call("GET", "/api/board?page=2")
    _, found = await client.call("GET", "/api/board?q=%E5%BF%83%E6%82%B8")  # 心悸
    _, none = await client.call("GET", "/api/board?q=nothing-like-this")
    _, nobody = await client.call("GET", "/api/board?expert_id=no-such-expert")

    assert (first["total"], len(first["threads"]), first["page"]) == (21, 20, 1)
    assert (second["total"], len(second["threads"]), second["page"]) == (21, 1, 2)
    assert second["threads"][0]["nickname"] == "患者0"  # newest activity first
    assert found["total"] == 10
    assert all("心悸" in t["messages"][0]["text"] for t in found["threads"])
    assert (none["total"], none["threads"]) == (0, [])
    assert (nobody["total"], nobody["threads"]) == (0, [])


async def test_the_board_search_does_not_reveal_a_masked_number(client: Client) -> None:
    await ask(client, text="我的电话13912345678", public=True)

    for probe in ("13912345678", "3912345", "1234567"):
        _, board = await client.call("GET", f"/api/board?q={probe}")
        assert board["total"] == 0, probe
    _, board = await client.call("GET", "/api/board?q=我的电话")
    assert board["total"] == 1


# -- the OpenAPI document ------------------------------------------------------------------------


async def test_the_openapi_document_is_valid_and_names_every_route(
    api: tuple[Daemon, Client],
) -> None:
    running, client = api

    status, doc = await client.call("GET", "/api/openapi.json")

    assert status == 200
    assert doc["openapi"].startswith("3.1")
    jsonschema_rs.Draft202012Validator(OPENAPI_31).validate(doc)
    app = web.Application()
    add_routes(app, running.relay)
    routes = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    assert routes == documented
    operation_ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids))
    schemas = doc["components"]["schemas"]
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(doc)))
    assert refs <= set(schemas)
    for schema in schemas.values():
        documented_schema(doc, schema)
    _, experts = await client.call("GET", "/api/experts")
    _, board = await client.call("GET", "/api/board")
    for path, answer in (("/api/experts", experts), ("/api/board", board)):
        response = doc["paths"][path]["get"]["responses"]["200"]
        documented_schema(doc, response["content"]["application/json"]["schema"]).validate(answer)


def documented_schema(doc: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A validator for ``schema`` whose ``#/components/...`` references resolve in ``doc``."""
    return jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]})


# -- the published limits are the enforced ones --------------------------------------------------

BODIES: dict[str, tuple[str, dict[str, Any]]] = {  # request schema → its path and a valid body
    "VerificationIn": ("/api/verifications", {"phone": PATIENT}),
    "QuestionIn": (
        "/api/questions",
        {"expert_id": "zhang", "nickname": "小王", "text": "头疼", "public": True},
    ),
    "FollowUpIn": ("/api/questions/{id}/messages", {"text": "还是疼"}),
}
LENGTH_REFUSALS = {"invalid_field", "nickname_length", "text_length"}  # the problem's code


def _max_length(schema: dict[str, Any]) -> int | None:
    """The ``maxLength`` of a string property (``anyOf`` string or null for an optional one)."""
    for option in schema.get("anyOf", [schema]):
        if option.get("type") == "string":
            assert "maxLength" in option, schema  # no string without a published limit
            return int(option["maxLength"])
    return None


async def published_limits_hold(client: Client) -> dict[str, dict[str, int]]:
    """For each request body's string field: at its published ``maxLength`` it is not refused
    for its length, one character more is a 422 naming it. The limits, by schema and field."""
    _, doc = await client.call("GET", "/api/openapi.json")
    schemas = doc["components"]["schemas"]
    asked = await ask(client)
    limits: dict[str, dict[str, int]] = {}
    for name, (path, valid) in BODIES.items():
        properties = schemas[name]["properties"]
        limits[name] = {
            field: limit
            for field, schema in properties.items()
            if (limit := _max_length(schema)) is not None
        }
        for n, (field, limit) in enumerate(limits[name].items()):
            for length in (limit, limit + 1):
                body = (
                    {**valid, "verification_id": "v", "code": "1"}
                    if "code" in properties
                    else {**valid}
                )
                body[field] = chr(0x4E00 + 37 * n + length % 7) * length  # never one text twice
                answer = await request(
                    client, "POST", path.format(id=asked["id"]), body=body, token=asked["token"]
                )
                status, _, raw = answer
                if length > limit:
                    assert problem(answer, 422, field=field)["code"] == "invalid_field"
                elif field in {"nickname", "text"}:
                    assert status == 201, (name, field, raw.decode())
                else:  # refused for what it says (no such expert, not a phone…), not its length
                    refusal = json.loads(raw) if status >= 400 else {}
                    assert refusal.get("code") not in LENGTH_REFUSALS, (name, field, refusal)
    return limits


async def test_the_published_limits_are_the_relays_by_default(
    api: tuple[Daemon, Client],
) -> None:
    running, client = api

    limits = await published_limits_hold(client)

    options = running.relay.options
    assert limits["QuestionIn"]["nickname"] == options.max_nickname == 20
    assert limits["QuestionIn"]["text"] == limits["FollowUpIn"]["text"] == options.max_text == 500
    assert limits["VerificationIn"] == {"phone": 32}
    assert limits["QuestionIn"].keys() == {
        "expert_id", "nickname", "text", "phone", "verification_id", "code"
    }  # fmt: skip


async def test_the_published_limits_follow_a_configured_max_text(tmp_path: Path) -> None:
    async with daemon(tmp_path, relay={"max_text": 60}) as (running, client):
        limits = await published_limits_hold(client)

        assert running.relay.options.max_text == 60
        assert limits["QuestionIn"]["text"] == limits["FollowUpIn"]["text"] == 60
        assert limits["QuestionIn"]["nickname"] == running.relay.options.max_nickname


# -- refusals ------------------------------------------------------------------------------------


async def test_malformed_json_is_a_400(client: Client) -> None:
    asked = await ask(client)
    for path in ("/api/verifications", "/api/questions", f"/api/questions/{asked['id']}/messages"):
        for data in (b'{"text": "', b"\xff\xfe not utf-8", b"", b"[" * 60_000):
            answer = await request(client, "POST", path, data=data, token=asked["token"])
            problem(answer, 400)


@pytest.mark.parametrize(
    "data",
    [b"[]", b'[{"phone": "13912345678"}]', b'"13912345678"', b"42", b"null", b"true"],
)
async def test_a_body_that_is_not_an_object_is_a_400(client: Client, data: bytes) -> None:
    body = problem(await request(client, "POST", "/api/verifications", data=data), 400)

    assert "13912345678" not in json.dumps(body)


async def test_a_lone_surrogate_is_a_400_not_a_crash(client: Client) -> None:
    data = b'{"expert_id": "zhang", "nickname": "x", "text": "\\ud800", "public": true}'

    problem(await request(client, "POST", "/api/questions", data=data), 400)


async def test_an_unknown_field_is_a_422_naming_it(client: Client) -> None:
    answer = await request(
        client, "POST", "/api/verifications", body={"phone": PATIENT, "pin": MARKER}
    )
    problem(answer, 422, field="pin")

    hostile = {"expert_id": "zhang", "nickname": "x", "text": "y", "public": True, MARKER: 1}
    problem(await request(client, "POST", "/api/questions", body=hostile), 422)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("nickname", "长" * 21),  # over the relay's limit
        ("nickname", "长" * 41),  # over the model's limit
        ("nickname", "   "),
        ("text", MARKER + "问" * 500),
        ("text", MARKER * 300),
        ("text", ""),
        ("expert_id", 7),
        ("public", "maybe"),
    ],
)
async def test_a_bad_question_field_is_a_422_naming_it(
    client: Client, field: str, value: object
) -> None:
    question = {"expert_id": "zhang", "nickname": "小王", "text": "头疼", "public": True}
    question[field] = value

    problem(await request(client, "POST", "/api/questions", body=question), 422, field=field)


async def test_a_missing_field_is_a_422_naming_it(client: Client) -> None:
    question = {"expert_id": "zhang", "nickname": "小王", "text": "头疼"}

    problem(await request(client, "POST", "/api/questions", body=question), 422, field="public")


async def test_a_too_long_follow_up_is_a_422(client: Client) -> None:
    asked = await ask(client)
    path = f"/api/questions/{asked['id']}/messages"

    for text in (MARKER + "问" * 500, " \t ", MARKER * 300):
        answer = await request(client, "POST", path, body={"text": text}, token=asked["token"])
        problem(answer, 422, field="text")
    view = await client.thread(asked["id"], asked["token"])
    assert len(view["messages"]) == 1


async def test_an_unknown_expert_is_a_404(client: Client) -> None:
    question = {"expert_id": "wang", "nickname": "小王", "text": "头疼", "public": True}

    problem(await request(client, "POST", "/api/questions", body=question), 404, field="expert_id")


async def test_a_problem_title_is_words_and_its_key_is_the_code(client: Client) -> None:
    """Issue 16: ``"title": "expert"`` told a client's developer a key, not what went wrong."""
    question = {"expert_id": "wang", "nickname": "小王", "text": "头疼", "public": True}
    for header, lang in (("zh-CN", "zh-CN"), ("en", "en")):
        answer = await request(
            client, "POST", "/api/questions", body=question, headers={"Accept-Language": header}
        )
        body = json.loads(answer[2])
        assert body["code"] == "expert"
        assert body["title"] == render("error.status_404", lang)
        assert body["detail"] == render("error.expert", lang)


async def test_an_invalid_phone_is_a_422(client: Client) -> None:
    for phone in ("hello", "10086", MARKER):
        answer = await request(client, "POST", "/api/verifications", body={"phone": phone})
        problem(answer, 422, field="phone")


async def test_a_thread_needs_its_own_token(client: Client) -> None:
    mine = await ask(client)
    theirs = await ask(client, text="别人的问题")
    path = f"/api/questions/{mine['id']}"

    problem(await request(client, "GET", path), 400)
    problem(await request(client, "GET", path, headers={"Authorization": "Bearer "}), 400)
    basic = {"Authorization": f"Basic {mine['token']}"}
    problem(await request(client, "GET", path, headers=basic), 400)
    wrong = problem(await request(client, "GET", path, token=theirs["token"]), 404)
    absent = problem(await request(client, "GET", "/api/questions/999", token=mine["token"]), 404)
    assert wrong == absent  # a wrong token looks exactly like no such thread
    posted = await request(client, "POST", path + "/messages", body={"text": "x"}, token="nope")
    problem(posted, 404)
    problem(await request(client, "POST", path + "/messages", body={"text": "x"}), 400)
    assert len((await client.thread(mine["id"], mine["token"]))["messages"]) == 1


async def test_a_wrong_code_is_a_403_and_counted_until_429(client: Client) -> None:
    verification_id, code = await client.verify(PATIENT)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    question = {
        "expert_id": "zhang",
        "nickname": "小王",
        "text": "头疼",
        "public": True,
        "phone": PATIENT,
        "verification_id": verification_id,
        "code": wrong,
    }

    for _ in range(5):
        answer = await request(client, "POST", "/api/questions", body=question)
        problem(answer, 403, field="code")
    limited = await request(client, "POST", "/api/questions", body={**question, "code": code})

    problem(limited, 429, field="code")
    assert int(limited[1]["Retry-After"]) > 0
    _, board = await client.call("GET", "/api/board")
    assert board["total"] == 0


async def test_a_phone_without_a_code_is_a_422(client: Client) -> None:
    question = {"expert_id": "zhang", "nickname": "x", "text": "y", "public": True}

    answer = await request(client, "POST", "/api/questions", body={**question, "phone": PATIENT})

    problem(answer, 422, field="code")


async def test_a_verification_for_another_phone_is_a_403(client: Client) -> None:
    verification_id, code = await client.verify(PATIENT)
    question = {
        "expert_id": "zhang",
        "nickname": "x",
        "text": "y",
        "public": True,
        "verification_id": verification_id,
        "code": code,
    }

    other = await request(client, "POST", "/api/questions", body={**question, "phone": PATIENT_2})
    unknown = {**question, "phone": PATIENT, "verification_id": "no-such-verification"}

    problem(other, 403, field="verification_id")
    problem(
        await request(client, "POST", "/api/questions", body=unknown), 403, field="verification_id"
    )


async def test_a_verification_used_twice_is_a_409(client: Client) -> None:
    verification_id, code = await client.verify(PATIENT)
    question = {
        "expert_id": "zhang",
        "nickname": "小王",
        "text": "头疼",
        "public": True,
        "phone": PATIENT,
        "verification_id": verification_id,
        "code": code,
    }
    await ask(client, **question)

    again = await request(client, "POST", "/api/questions", body={**question, "text": "再问一次"})

    problem(again, 409, field="verification_id")


async def test_an_expired_code_is_refused(api: tuple[Daemon, Client]) -> None:
    running, client = api
    verification_id, code = await client.verify(PATIENT)
    question = {
        "expert_id": "zhang",
        "nickname": "小王",
        "text": "头疼",
        "public": True,
        "phone": PATIENT,
        "verification_id": verification_id,
        "code": code,
    }
    # The relay's clock is injected: eleven minutes pass without waiting for them.
    running.relay.clock = lambda: datetime.now(UTC) + timedelta(minutes=11)

    answer = await request(client, "POST", "/api/questions", body=question)

    problem(answer, 422, field="code")


async def test_a_body_over_64_kib_is_a_413(client: Client) -> None:
    asked = await ask(client)
    big = json.dumps({"text": MARKER * (MAX_BODY // len(MARKER) + 1)}).encode()

    for path in ("/api/questions", "/api/verifications", f"/api/questions/{asked['id']}/messages"):
        problem(await request(client, "POST", path, data=big, token=asked["token"]), 413)


async def test_an_unknown_route_is_a_404(client: Client) -> None:
    for path in ("/api/nope", "/api/questions/1/nope", "/api/experts/zhang"):
        problem(await request(client, "GET", path), 404)


async def test_a_wrong_method_is_a_405_naming_the_allowed_ones(client: Client) -> None:
    for method, path in (
        ("POST", "/api/experts"),
        ("DELETE", "/api/questions/1"),
        ("GET", "/api/verifications"),
        ("PUT", "/api/board"),
    ):
        answer = await request(client, method, path)
        problem(answer, 405)
        assert answer[1]["Allow"]


@pytest.mark.parametrize(
    "thread_id",
    ["abc", "1.0", "-1", "0", "²", "١", "9" * 19, "9" * 400, "1e3", "%20", "0x1"],
)
async def test_a_thread_id_that_cannot_exist_is_a_404(client: Client, thread_id: str) -> None:
    asked = await ask(client)

    read = await request(client, "GET", f"/api/questions/{thread_id}", token=asked["token"])
    post = await request(
        client,
        "POST",
        f"/api/questions/{thread_id}/messages",
        body={"text": "x"},
        token=asked["token"],
    )

    problem(read, 404)
    problem(post, 404)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "", "²", "10001", "9" * 40])
async def test_a_bad_board_page_is_a_422(client: Client, page: str) -> None:
    problem(await request(client, "GET", f"/api/board?page={page}"), 422, field="page")


async def test_refusals_are_in_english_on_request(client: Client) -> None:
    english = {"Accept-Language": "en"}

    problem(await request(client, "GET", "/api/nope", headers=english), 404, lang="en")
    answer = await request(
        client, "POST", "/api/verifications", data=b"{", headers={"Accept-Language": "en-GB"}
    )
    problem(answer, 400, lang="en")
    answer = await request(
        client,
        "POST",
        "/api/questions",
        body={"expert_id": "zhang", "nickname": "x" * 41, "text": "y", "public": True},
        headers=english,
    )
    problem(answer, 422, field="nickname", lang="en")


# -- hostile text --------------------------------------------------------------------------------

HOSTILE = [
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "a\x00b",
    "\u202eevil\u202c and \u2066isolated\u2069",
    "😀🀄𠀀 and 👩‍⚕️",
    "'; DROP TABLE threads; --",
    "{code} {text} %s %(x)s",
    "\\u0000 \\n literally",
]


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_text_is_kept_as_data(client: Client, text: str) -> None:
    nickname = text[:20]
    asked = await ask(client, nickname=nickname, text=text)
    status, _ = await client.call(
        "POST", f"/api/questions/{asked['id']}/messages", token=asked["token"], text=text + "!"
    )

    view = await client.thread(asked["id"], asked["token"])
    _, board = await client.call("GET", "/api/board")

    assert status == 201
    assert [m["text"] for m in view["messages"]] == [text.strip(), text.strip() + "!"]
    [thread] = board["threads"]
    assert thread["nickname"] == nickname.strip()
    assert [m["text"] for m in thread["messages"]] == [text.strip(), text.strip() + "!"]


async def test_hostile_headers_and_queries_are_not_a_crash(client: Client) -> None:
    asked = await ask(client)
    path = f"/api/questions/{asked['id']}"

    for token in ("a\tb", "a" * 8000, "ÿ" * 10, "x y z"):
        answer = await request(client, "GET", path, headers={"Authorization": f"Bearer {token}"})
        problem(answer, 404)
    for query in (
        "q=%00",
        "q=%ED%A0%80",
        "q=%FF",
        "expert_id=%00&q=" + "x" * 3000,
        "page=1&page=x",
    ):
        status, _, raw = await request(client, "GET", f"/api/board?{query}")
        assert status == 200, raw
    problem(await request(client, "GET", "/api/board?page=%00"), 422, field="page")


async def test_no_number_reaches_the_other_party(client: Client) -> None:
    verification_id, code = await client.verify(PATIENT)
    asked = await ask(
        client, phone=PATIENT, verification_id=verification_id, code=code, public=False
    )

    sms = await client.wait_for_sms(EXPERT_ZHANG, lambda t: "头疼三天了" in t)
    await client.phone_sends(EXPERT_ZHANG, "请按时服药")
    answer = await client.wait_for_sms(PATIENT, lambda t: "请按时服药" in t)

    assert PATIENT[-8:] not in sms
    assert EXPERT_ZHANG[-8:] not in answer
    assert EXPERT_LI[-8:] not in answer
    view = await client.thread(asked["id"], asked["token"])
    assert PATIENT[-8:] not in json.dumps(view)
