"""The JSON API: the contract a hospital's own front end (a WeChat account, an app) codes against.

Thin: request body → pydantic model → a :class:`Relay` call → response.
Errors are ``application/problem+json`` with a Chinese ``title`` and ``detail``
(``Accept-Language: en`` for English), the refusal's key in ``code`` and the field at fault in
``field``, never a stack trace and never what was typed. The OpenAPI document
(``GET /api/openapi.json``) is generated from the same models (:mod:`.api_schema`). Public
views mask anything that looks like a phone number. The hospital's systems enrol patients in
随访 plans (``POST /api/followups``) and report what happened to them (``…/events``) with an API
token (:mod:`.api_auth`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from smscat.relay.core.errors import Invalid, RelayError
from smscat.relay.core.masking import mask_numbers
from smscat.relay.services.care import EnrolRequest
from smscat.web import api_auth, language, texts
from smscat.web.api_auth import api_client, client_of
from smscat.web.api_schema import (
    PROBLEM,
    BoardOut,
    BoardThread,
    CareEventIn,
    CareEventOut,
    EnrolmentIn,
    EnrolmentOut,
    ExpertOut,
    MessageOut,
    Problem,
    QuestionOut,
    RequestModels,
    ThreadOut,
    VerificationOut,
    openapi,
    request_models,
)

if TYPE_CHECKING:
    from smscat.relay.services.relay import Relay

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
PER_PAGE = 20
RELAY_KEY: web.AppKey[Relay] = web.AppKey("relay")
MODELS_KEY: web.AppKey[RequestModels] = web.AppKey("request_models")
DOCUMENT_KEY: web.AppKey[dict[str, Any]] = web.AppKey("openapi")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)


def _lang(request: web.Request) -> str:
    """The API speaks as the client's Accept-Language asks (it takes no ``?lang=``)."""
    return language.negotiate(accept=request.headers.get("Accept-Language")).lang


# The last resort when ``web.texts`` has no ``error.<key>`` text: rendering an error
# must never itself fail, or every refusal would become a 500.
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")


def _detail(key: str, status: int, lang: str) -> str:
    """The text for ``key``, else the one for the status (both in web/texts.py)."""
    for candidate in (key, f"status_{status}", "status_500" if status >= 500 else "status_400"):
        if f"error.{candidate}" in texts.TEXTS:
            return texts.render(f"error.{candidate}", lang)
    raise AssertionError("web/texts.py has error.status_400 and error.status_500")


def _problem(request: web.Request, status: int, key: str, field: str | None = None) -> web.Response:
    lang = _lang(request)
    # RFC 9457 4.2.1: with type about:blank the title is the status's (here in words, localised);
    # what exactly went wrong is the detail, and which refusal it is, for a program, the code.
    title = _detail(f"status_{status}", status, lang)
    body = Problem(
        title=title, status=status, detail=_detail(key, status, lang), code=key, field=field
    )
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
    experts = await request.app[RELAY_KEY].read.experts_view()
    return _json([ExpertOut.model_validate(e) for e in experts])


async def post_verification(request: web.Request) -> web.Response:
    body = await _body(request, request.app[MODELS_KEY].verification)
    verification_id = await request.app[RELAY_KEY].asking.start_verification(body.phone)
    return _json(VerificationOut(verification_id=verification_id), 202)


async def post_question(request: web.Request) -> web.Response:
    body = await _body(request, request.app[MODELS_KEY].question)
    asked = await request.app[RELAY_KEY].asking.ask(**body.model_dump())
    return _json(QuestionOut(id=asked.id, token=asked.token, status=asked.status), 201)


async def get_question(request: web.Request) -> web.Response:
    lang = _lang(request)
    view = await request.app[RELAY_KEY].patient_page.thread_view(
        _thread_id(request), _bearer(request), lang
    )
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
    await request.app[RELAY_KEY].patient_page.follow_up(thread_id, token, body.text)
    return web.Response(status=201)


async def get_board(request: web.Request) -> web.Response:
    query = request.query
    expert_id = query.get("expert_id") or None
    q = (query.get("q") or "").strip()[:50] or None
    page_raw = query.get("page", "1")
    if not _ASCII_DIGITS.fullmatch(page_raw) or not 1 <= int(page_raw) <= 10_000:
        raise Invalid("invalid_field", field="page")
    page = int(page_raw)
    found = await request.app[RELAY_KEY].read.board(expert_id, q, page, PER_PAGE)
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


@api_client("followups")
async def post_followup(request: web.Request) -> web.Response:
    """A patient enrolled in a 随访 plan by the hospital's systems (201; 200 when they were
    enrolled in that plan already: one enrolment)."""
    body = await _body(request, EnrolmentIn)
    relay = request.app[RELAY_KEY]
    wanted = EnrolRequest(
        phone=body.phone,
        nickname=body.nickname,
        anchor=body.anchor,
        plan=body.plan,
        consent=body.consent,
        doctor_id=body.doctor,
        department=body.department,
    )
    done = await relay.care.enrol(wanted, f"api:{client_of(request).name}", "api")
    e = done.enrolment
    out = EnrolmentOut(id=e.id, created=done.created, status=e.status, plan=e.plan)
    return _json(out, 201 if done.created else 200)


@api_client("followups")
async def post_care_event(request: web.Request) -> web.Response:
    """An event of the hospital's (readmitted, deceased …) applied to the patient's 随访."""
    body = await _body(request, CareEventIn)
    relay = request.app[RELAY_KEY]
    actor = f"api:{client_of(request).name}"
    changed = await relay.care.event(body.phone, body.event, actor, body.plan)
    return _json(CareEventOut(changed=changed))


async def get_openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[DOCUMENT_KEY])


def add_routes(app: web.Application, relay: Relay) -> None:
    app[RELAY_KEY] = relay
    app[MODELS_KEY] = request_models(relay.options.max_nickname, relay.options.max_text)
    app[DOCUMENT_KEY] = openapi(app[MODELS_KEY])
    app.middlewares.append(problems)
    api_auth.install(app, relay)
    app.router.add_get("/api/experts", get_experts)
    app.router.add_post("/api/verifications", post_verification)
    app.router.add_post("/api/questions", post_question)
    app.router.add_get("/api/questions/{id}", get_question)
    app.router.add_post("/api/questions/{id}/messages", post_message)
    app.router.add_get("/api/board", get_board)
    app.router.add_post("/api/followups", post_followup)
    app.router.add_post("/api/followups/events", post_care_event)
    app.router.add_get("/api/openapi.json", get_openapi)
