"""The JSON API: the contract a hospital's own front end (a WeChat account, an app) codes against.

Thin: request body → pydantic model → a :class:`Relay` call → response.
Errors are ``application/problem+json`` with a Chinese ``detail`` (``Accept-Language: en`` for
English), the field at fault in ``field``, never a stack trace and never what was typed. The
OpenAPI document (``GET /api/openapi.json``) is generated from the same models. Public views mask
anything that looks like a phone number.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.json_schema import models_json_schema

from smscat.relay.core import texts
from smscat.relay.core.errors import Invalid, RelayError
from smscat.relay.core.masking import mask_numbers

if TYPE_CHECKING:
    from smscat.relay.services.service import Relay

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
PER_PAGE = 20
RELAY_KEY: web.AppKey[Relay] = web.AppKey("relay")
MODELS_KEY: web.AppKey[RequestModels] = web.AppKey("request_models")
DOCUMENT_KEY: web.AppKey[dict[str, Any]] = web.AppKey("openapi")
PROBLEM = "application/problem+json"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)


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
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    field: str | None = None


def _lang(request: web.Request) -> str:
    accept = request.headers.get("Accept-Language", "")
    return "en" if accept.lower().startswith("en") else "zh-CN"


# The last resort when ``relay.core.texts`` has no ``error.<key>`` text: rendering an error
# must never itself fail, or every refusal would become a 500.
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")


def _detail(key: str, status: int, lang: str) -> str:
    """The text for ``key``, else the one for the status (both in relay/texts.py)."""
    for candidate in (key, f"status_{status}", "status_500" if status >= 500 else "status_400"):
        if f"error.{candidate}" in texts.TEXTS:
            return texts.render(f"error.{candidate}", lang)
    raise AssertionError("relay/texts.py has error.status_400 and error.status_500")


def _problem(request: web.Request, status: int, key: str, field: str | None = None) -> web.Response:
    detail = _detail(key, status, _lang(request))
    body = Problem(title=key, status=status, detail=detail, field=field)
    return web.Response(
        status=status,
        text=body.model_dump_json(exclude_none=True),
        content_type=PROBLEM,
        charset="utf-8",
    )


_HTTP_KEYS = {
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    429: "status_429",
}


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error as problem+json; nothing a visitor typed, and no stack trace, goes back."""
    try:
        return await handler(request)
    except RelayError as exc:
        response = _problem(request, exc.status, exc.key, exc.field)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = _problem(request, exc.status, _HTTP_KEYS.get(exc.status, "bad_request"))
        if isinstance(exc, web.HTTPMethodNotAllowed):
            response.headers["Allow"] = ",".join(sorted(exc.allowed_methods))
        if "Retry-After" in exc.headers:  # a rate limit says when to come back
            response.headers["Retry-After"] = exc.headers["Retry-After"]
        return response
    except Exception:
        log.exception("internal error on %s %s", request.method, request.path)
        return _problem(request, 500, "internal")


async def _body(request: web.Request, model: type[M]) -> M:
    raw = await request.read()  # over MAX_BODY: 413, turned into a problem by the middleware
    try:
        data = json.loads(raw or b"null")
        # A lone surrogate ("\ud800") parses but can never be stored or sent: not JSON text.
        json.dumps(data, ensure_ascii=False).encode()
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeError are ValueErrors
        raise RelayError("not_json") from None
    if not isinstance(data, dict):
        raise RelayError("not_json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid("invalid_field", field=_field_at_fault(exc)) from None


def _field_at_fault(exc: ValidationError) -> str | None:
    """The first field named in ``exc``; an unknown key only when it reads as a field name."""
    loc = exc.errors()[0]["loc"]
    path = ".".join(str(p) for p in loc)
    return path if all(_FIELD_NAME.fullmatch(str(p)) for p in loc) and path else None


def _json(model: BaseModel | list[Any], status: int = 200) -> web.Response:
    if isinstance(model, list):
        text = json.dumps(
            [m.model_dump(mode="json", by_alias=True) for m in model], ensure_ascii=False
        )
    else:
        text = model.model_dump_json(by_alias=True)
    return web.Response(status=status, text=text, content_type="application/json", charset="utf-8")


def _bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise RelayError("token_required")
    return token.strip()


def _thread_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not _ASCII_DIGITS.fullmatch(raw):  # str.isdigit() also takes "²", which int() refuses
        raise web.HTTPNotFound()
    return int(raw)


# -- handlers -----------------------------------------------------------------------------------


async def get_experts(request: web.Request) -> web.Response:
    experts = await request.app[RELAY_KEY].experts_view()
    return _json([ExpertOut.model_validate(e) for e in experts])


async def post_verification(request: web.Request) -> web.Response:
    body = await _body(request, request.app[MODELS_KEY].verification)
    verification_id = await request.app[RELAY_KEY].start_verification(body.phone)
    return _json(VerificationOut(verification_id=verification_id), 202)


async def post_question(request: web.Request) -> web.Response:
    body = await _body(request, request.app[MODELS_KEY].question)
    asked = await request.app[RELAY_KEY].ask(**body.model_dump())
    return _json(QuestionOut(id=asked.id, token=asked.token, status=asked.status), 201)


async def get_question(request: web.Request) -> web.Response:
    lang = _lang(request)
    view = await request.app[RELAY_KEY].thread_view(_thread_id(request), _bearer(request), lang)
    status = view["status"]
    return _json(
        ThreadOut(
            id=view["id"],
            status=status,
            status_text=texts.render(f"status.{status}", lang),
            messages=[MessageOut.model_validate(m) for m in view["messages"]],
            notice=view.get("notice"),
            waiting=view["waiting"],
        )
    )


async def post_message(request: web.Request) -> web.Response:
    thread_id = _thread_id(request)
    token = _bearer(request)
    body = await _body(request, request.app[MODELS_KEY].follow_up)
    await request.app[RELAY_KEY].follow_up(thread_id, token, body.text)
    return web.Response(status=201)


async def get_board(request: web.Request) -> web.Response:
    query = request.query
    expert_id = query.get("expert_id") or None
    q = (query.get("q") or "").strip()[:50] or None
    page_raw = query.get("page", "1")
    if not _ASCII_DIGITS.fullmatch(page_raw) or not 1 <= int(page_raw) <= 10_000:
        raise Invalid("invalid_field", field="page")
    page = int(page_raw)
    found = await request.app[RELAY_KEY].board(expert_id, q, page, PER_PAGE)
    threads = [
        BoardThread(
            id=t["id"],
            expert_id=t["expert_id"],
            nickname=mask_numbers(t["nickname"]),
            status=t["status"],
            created_at=t["created_at"],
            messages=[
                MessageOut.model_validate({**m, "text": mask_numbers(m["text"])})
                for m in t["messages"]
            ],
        )
        for t in found["threads"]
    ]
    return _json(BoardOut(threads=threads, total=found["total"], page=page, per_page=PER_PAGE))


async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[DOCUMENT_KEY])


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
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
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


def add_routes(app: web.Application, relay: Relay) -> None:
    app[RELAY_KEY] = relay
    app[MODELS_KEY] = request_models(relay.options.max_nickname, relay.options.max_text)
    app[DOCUMENT_KEY] = openapi(app[MODELS_KEY])
    app.middlewares.append(problems)
    app.router.add_get("/api/experts", get_experts)
    app.router.add_post("/api/verifications", post_verification)
    app.router.add_post("/api/questions", post_question)
    app.router.add_get("/api/questions/{id}", get_question)
    app.router.add_post("/api/questions/{id}/messages", post_message)
    app.router.add_get("/api/board", get_board)
    app.router.add_get("/api/openapi.json", get_openapi)
