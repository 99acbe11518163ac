"""The JSON API's contract: its request and response models, and the OpenAPI document made of them.

The request models are the ones :mod:`.api` checks bodies with, built with the relay's limits
(:func:`request_models`), so the document's ``maxLength`` of a field is the limit that refuses
it; the document (``GET /api/openapi.json``) is pydantic's schemas of the same models.

It must never publish a limit that the API does not hold, or hold one it does not publish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.json_schema import models_json_schema

PROBLEM = "application/problem+json"


class _In(BaseModel):
    """A request body: every string field carries its own ``max_length`` (published as
    ``maxLength``); no limit of the model's that the document would not show."""

    model_config = ConfigDict(extra="forbid")


class VerificationIn(_In):
    phone: str = Field(min_length=1, max_length=32, description="the patient's mobile number")


class VerificationOut(BaseModel):
    verification_id: str


class QuestionIn(_In):
    """A question; ``nickname`` and ``text`` take the relay's limits in :func:`request_models`."""

    expert_id: str = Field(min_length=1, max_length=32)
    nickname: str = Field(min_length=1)
    text: str = Field(min_length=1)
    public: bool
    phone: str | None = Field(None, max_length=32)
    verification_id: str | None = Field(None, max_length=64)
    code: str | None = Field(None, max_length=12)


class QuestionOut(BaseModel):
    id: int
    token: str = Field(description="shown once: the key to the thread's page")
    status: str


class MessageOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: Literal["patient", "expert", "assistant", "system"] = Field(alias="from")
    text: str
    at: str


class ThreadOut(BaseModel):
    id: int
    status: str
    status_text: str
    messages: list[MessageOut]
    notice: str | None = None
    waiting: int = Field(
        0, description="follow-ups kept until the expert answers, then sent in one SMS"
    )


class FollowUpIn(_In):
    """A follow-up; ``text`` takes the relay's limit in :func:`request_models`."""

    text: str = Field(min_length=1)


class EnrolmentIn(_In):
    """A patient to follow up (随访), from the hospital's systems; their consent must be recorded
    (``consent``: how they agreed). The same patient in the same plan twice is one enrolment."""

    phone: str = Field(min_length=1, max_length=32, description="the patient's mobile")
    nickname: str = Field(min_length=1, max_length=20, description="称呼, e.g. 张先生; no number")
    anchor: date = Field(description="the visit, discharge or operation date (local)")
    plan: str = Field(min_length=1, max_length=32, description="a plan's name (config.yaml care)")
    consent: Literal["verbal", "written", "electronic"]
    doctor: str | None = Field(None, max_length=32, description="a staff id")
    department: str | None = Field(None, max_length=60)


class EnrolmentOut(BaseModel):
    id: int
    created: bool = Field(description="false: the patient was enrolled in this plan already")
    status: str
    plan: str


class CareEventIn(_In):
    """What happened to a patient: ``returned`` pauses their follow-up, ``resumed`` resumes it,
    ``readmitted``, ``deceased`` and ``opted_out`` end it at once (queued SMS are cancelled)."""

    phone: str = Field(min_length=1, max_length=32)
    event: Literal["returned", "readmitted", "deceased", "opted_out", "resumed"]
    plan: str | None = Field(None, max_length=32, description="only this plan (default: all)")


class CareEventOut(BaseModel):
    changed: list[int] = Field(description="the enrolments it changed")


@dataclass(frozen=True, slots=True)
class RequestModels:
    """The request bodies as this daemon validates them, and as its OpenAPI document shows them."""

    verification: type[VerificationIn]
    question: type[QuestionIn]
    follow_up: type[FollowUpIn]


def request_models(max_nickname: int, max_text: int) -> RequestModels:
    """The request models with the relay's limits (``RelayOptions.max_nickname``, ``max_text``,
    the latter from ``relay.max_text`` in config): a body over them is refused here with the
    field named, and the document publishes the same numbers."""
    text = (str, Field(min_length=1, max_length=max_text))
    return RequestModels(
        verification=VerificationIn,
        question=create_model(
            "QuestionIn",
            __base__=QuestionIn,
            __module__=__name__,
            nickname=(str, Field(min_length=1, max_length=max_nickname)),
            text=text,
        ),
        follow_up=create_model("FollowUpIn", __base__=FollowUpIn, __module__=__name__, text=text),
    )


class ExpertOut(BaseModel):
    id: str
    name: str
    title: str
    department: str
    specialty: str | None
    accepting: bool
    accepting_reason: str | None
    median_first_answer_s: float | None


class BoardThread(BaseModel):
    id: int
    expert_id: str
    nickname: str
    status: str
    created_at: str
    messages: list[MessageOut]


class BoardOut(BaseModel):
    threads: list[BoardThread]
    total: int
    page: int
    per_page: int


class Problem(BaseModel):
    """RFC 9457 problem details. ``type`` is ``about:blank``, so ``title`` is the words for the
    status (localised, as the RFC allows); ``code`` says which refusal it is, for programs."""

    type: str = "about:blank"
    title: str = Field(description="what kind of refusal, in words (the status's)")
    status: int
    detail: str = Field(description="what went wrong, in words a patient can act on")
    code: str = Field(description="the refusal's stable key (expert, phone_country…): code on this")
    field: str | None = None


# -- the OpenAPI document -----------------------------------------------------------------------


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _content(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return {"content": {media: {"schema": schema}}}


def openapi(requests: RequestModels) -> dict[str, Any]:
    """The document for a daemon whose request bodies are ``requests``: their schemas are
    pydantic's, so a published limit is the one that refuses a request."""
    models: list[type[BaseModel]] = [
        requests.verification,
        VerificationOut,
        requests.question,
        QuestionOut,
        MessageOut,
        ThreadOut,
        requests.follow_up,
        ExpertOut,
        BoardThread,
        BoardOut,
        EnrolmentIn,
        EnrolmentOut,
        CareEventIn,
        CareEventOut,
        Problem,
    ]
    _, schemas = models_json_schema(
        [(m, "validation" if m.__name__.endswith("In") else "serialization") for m in models],
        ref_template="#/components/schemas/{model}",
    )
    problem = {
        str(code): {"description": text, **_content(_ref("Problem"), PROBLEM)}
        for code, text in (
            (400, "bad request"),
            (404, "not found"),
            (413, "body too large"),
            (422, "invalid field"),
            (429, "too many requests"),
        )
    }
    bearer: list[dict[str, list[str]]] = [{"bearer": []}]
    machine: list[dict[str, list[str]]] = [{"apiToken": []}]
    refused = {
        str(code): {"description": text, **_content(_ref("Problem"), PROBLEM)}
        for code, text in ((401, "no live API token"), (403, "the token lacks the scope"))
    }
    thread_id = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**53},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "smscat", "version": "1"},
        "components": {
            "schemas": schemas["$defs"],
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},  # a thread's page token
                # a machine client's token (smscat token create): web/api_auth.py checks it
                "apiToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an API token for the hospital's systems; its scopes"
                    " (followups) say which operations it may call",
                },
            },
        },
        "paths": {
            "/api/experts": {
                "get": {
                    "operationId": "listExperts",
                    "responses": {
                        "200": {
                            "description": "experts",
                            **_content({"type": "array", "items": _ref("ExpertOut")}),
                        }
                    },
                }
            },
            "/api/verifications": {
                "post": {
                    "operationId": "startVerification",
                    "requestBody": {"required": True, **_content(_ref("VerificationIn"))},
                    "responses": {
                        "202": {"description": "code sent", **_content(_ref("VerificationOut"))},
                        **problem,
                    },
                }
            },
            "/api/questions": {
                "post": {
                    "operationId": "ask",
                    "requestBody": {"required": True, **_content(_ref("QuestionIn"))},
                    "responses": {
                        "201": {"description": "asked", **_content(_ref("QuestionOut"))},
                        "403": {"description": "wrong code", **_content(_ref("Problem"), PROBLEM)},
                        "409": {"description": "conflict", **_content(_ref("Problem"), PROBLEM)},
                        **problem,
                    },
                }
            },
            "/api/questions/{id}": {
                "get": {
                    "operationId": "getThread",
                    "parameters": [thread_id],
                    "security": bearer,
                    "responses": {
                        "200": {"description": "the thread", **_content(_ref("ThreadOut"))},
                        **problem,
                    },
                }
            },
            "/api/questions/{id}/messages": {
                "post": {
                    "operationId": "followUp",
                    "parameters": [thread_id],
                    "security": bearer,
                    "requestBody": {"required": True, **_content(_ref("FollowUpIn"))},
                    "responses": {
                        "201": {"description": "posted"},
                        "409": {"description": "closed", **_content(_ref("Problem"), PROBLEM)},
                        **problem,
                    },
                }
            },
            "/api/board": {
                "get": {
                    "operationId": "board",
                    "parameters": [
                        {"name": "expert_id", "in": "query", "schema": {"type": "string"}},
                        {"name": "q", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 10000},
                        },
                    ],
                    "responses": {
                        "200": {"description": "public threads", **_content(_ref("BoardOut"))},
                        **problem,
                    },
                }
            },
            "/api/followups": {
                "post": {
                    "operationId": "enrol",
                    "summary": "enrol a patient in a 随访 plan (an API token with scope followups)",
                    "security": machine,
                    "requestBody": {"required": True, **_content(_ref("EnrolmentIn"))},
                    "responses": {
                        "201": {"description": "enrolled", **_content(_ref("EnrolmentOut"))},
                        "200": {
                            "description": "enrolled already",
                            **_content(_ref("EnrolmentOut")),
                        },
                        **refused,
                        **problem,
                    },
                }
            },
            "/api/followups/events": {
                "post": {
                    "operationId": "careEvent",
                    "summary": "pause, resume or end a patient's 随访 (scope followups)",
                    "security": machine,
                    "requestBody": {"required": True, **_content(_ref("CareEventIn"))},
                    "responses": {
                        "200": {"description": "applied", **_content(_ref("CareEventOut"))},
                        **refused,
                        **problem,
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "responses": {
                        "200": {"description": "this document", **_content({"type": "object"})}
                    },
                }
            },
        },
    }
