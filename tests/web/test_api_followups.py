"""``POST /api/followups`` and ``/api/followups/events`` over real HTTP: the hospital's systems
enrol a patient in a 随访 plan with an API token, once however often they send it; a missing
consent, a STOPped number or no token is refused with a problem; an event ends what is left."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from smscat.relay.services.care_record import CareConfig
from smscat.relay.services.context import RelayOptions
from smscat.web import api
from tests.support.relay import World, world_on
from tests.support.storage import EXPERT

TIMEOUT = aiohttp.ClientTimeout(total=10)
PATIENT = "+8613812345678"
BODY = {
    "phone": "138 1234 5678",
    "nickname": "张先生",
    "anchor": "2026-11-23",
    "plan": "discharge",
    "consent": "written",
    "doctor": "zhang",
}


@dataclass
class Server:
    world: World
    url: str
    http: aiohttp.ClientSession
    secret: str

    async def post(
        self, path: str, body: object, token: str | None = ""
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Accept-Language": "en"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token or self.secret}"
        async with self.http.post(f"{self.url}{path}", json=body, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    options = RelayOptions(
        department="心内科", care=CareConfig().options(ZoneInfo("Asia/Shanghai"))
    )
    async with world_on(tmp_path, [EXPERT], options) as world:
        secret = await world.relay.api_tokens.create("his", ["followups"], "admin")
        app = web.Application(client_max_size=api.MAX_BODY)
        api.add_routes(app, world.relay)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            port = runner.addresses[0][1]
            async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
                yield Server(world, f"http://127.0.0.1:{port}", http, secret)
        finally:
            await runner.cleanup()


async def test_a_patient_is_enrolled_once_with_their_consent_recorded(server: Server) -> None:
    status, first = await server.post("/api/followups", BODY)
    assert status == 201
    assert first["created"] is True
    assert first["status"] == "active"
    status, again = await server.post("/api/followups", BODY | {"phone": PATIENT})
    assert status == 200
    assert again == first | {"created": False}
    (row,) = await server.world.db.fetchall(
        "SELECT source, consent_by, consent_how, doctor_id FROM care_enrolments"
    )
    assert tuple(row) == ("api", "api:his", "written", "zhang")


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"consent": None}, "invalid_field", "consent"),
        ({"consent": "yes"}, "invalid_field", "consent"),
        ({"plan": "nope"}, "plan_unknown", "plan"),
        ({"doctor": "nobody"}, "doctor_unknown", "doctor"),
        ({"nickname": "13812345678"}, "nickname_number", "nickname"),
        ({"phone": "010 6552 8888"}, "phone_not_mobile", "phone"),
        ({"phone": EXPERT.phone}, "phone_staff", "phone"),
        ({"anchor": "tomorrow"}, "invalid_field", "anchor"),
    ],
)
async def test_a_bad_enrolment_is_a_problem_naming_the_field(
    server: Server, change: dict[str, object], code: str, field: str
) -> None:
    status, problem = await server.post("/api/followups", BODY | change)
    assert status == 422
    assert (problem["code"], problem["field"]) == (code, field)
    assert await server.world.db.fetchall("SELECT id FROM care_enrolments") == []


async def test_a_stopped_number_is_never_enrolled(server: Server) -> None:
    await server.post("/api/followups", BODY)
    await server.world.sms(PATIENT, "退订")
    status, problem = await server.post("/api/followups", BODY | {"anchor": "2026-12-01"})
    assert (status, problem["code"]) == (422, "phone_stopped")


async def test_no_token_no_enrolment(server: Server) -> None:
    status, problem = await server.post("/api/followups", BODY, token=None)
    assert (status, problem["code"]) == (401, "token_missing")
    status, problem = await server.post("/api/followups", BODY, token="smscat_wrong")
    assert (status, problem["code"]) == (401, "token_invalid")
    assert await server.world.db.fetchall("SELECT id FROM care_enrolments") == []


async def test_readmitted_ends_the_patients_follow_up(server: Server) -> None:
    _, enrolled = await server.post("/api/followups", BODY)
    event = {"phone": PATIENT, "event": "readmitted"}
    status, done = await server.post("/api/followups/events", event)
    assert (status, done) == (200, {"changed": [enrolled["id"]]})
    status, problem = await server.post("/api/followups/events", event)
    assert (status, problem["code"]) == (404, "enrolment")
    (row,) = await server.world.db.fetchall("SELECT status, ended_reason FROM care_enrolments")
    assert tuple(row) == ("cancelled", "readmitted")
    (actor,) = await server.world.db.fetchall(
        "SELECT actor FROM audit_log WHERE action = 'care.cancel'"
    )
    assert actor[0] == "api:his"


async def test_the_document_publishes_the_operations_and_their_token(server: Server) -> None:
    async with server.http.get(f"{server.url}/api/openapi.json") as resp:
        doc = await resp.json()
    for path in ("/api/followups", "/api/followups/events"):
        operation = doc["paths"][path]["post"]
        assert operation["security"] == [{"apiToken": []}]
        assert {"401", "403", "422"} <= set(operation["responses"])
    consent = doc["components"]["schemas"]["EnrolmentIn"]["properties"]["consent"]
    assert consent["enum"] == ["verbal", "written", "electronic"]
