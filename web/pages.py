"""The patient's pages: the department board, an expert's page with the ask form, a thread's page.

Thin like the API (:mod:`.api`): request → a :class:`Relay` call → a page
rendered by Jinja2 with autoescape on for every template. No front-end build: one CSS file and
one vanilla JS file from ``web/static/``. The script asks through the JSON API and keeps the
thread page up to date by polling it; without the script every form still works by a plain POST
to a page route that answers 303 (or the form again, with the error in words from
:mod:`smscat.relay.core.texts`, Chinese by default, English with ``?lang=en`` or Accept-Language).
The small forms beside a conversation (helpful, thanks, the link by SMS, "find my links") are
posted by the script to the same routes, which answer JSON when it asks for it.

Every response here carries a Content-Security-Policy without inline script or style, and every
error on a page route (404, 405, 413, 500…) is a friendly HTML page.

It must never: show a phone number on a public page (nicknames and texts go through
:func:`~smscat.relay.core.masking.mask_numbers`, though the board is masked already), put a thread's
token (it is in the thread page's path) into a log line, or show an exception's text.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web

from smscat.relay.core import texts
from smscat.relay.core.errors import Invalid, RelayError, TooMany
from smscat.relay.core.lifecycle import OPEN, Status
from smscat.relay.core.masking import mask_numbers

if TYPE_CHECKING:
    from smscat.relay.services.service import Relay

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PER_PAGE = 10
RECENT = 5  # public threads on the department page
POLL_MS = 3000  # how often the thread page asks the API for news
RESEND_SECONDS = 60  # the "send code" button rests this long after a code went out
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # A thread's address is its key: never send it to another site as a Referer.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# ... nor to anyone from a thread's pages, this site's own files included (logs, caches).
THREAD_HEADERS = {**SECURITY_HEADERS, "Referrer-Policy": "no-referrer"}
_DIGITS = re.compile(r"[0-9]{1,5}")
_API = ("/api/", "/healthz")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Pages:
    relay: Relay
    department: str
    # Where patients reach the board: links in SMS start with it. Never the request's Host
    # header, which anyone can forge (a link SMS from the hospital to an attacker's site).
    public_url: str | None = None


PAGES_KEY: web.AppKey[Pages] = web.AppKey("smscat_pages", Pages)
JINJA_KEY: web.AppKey[jinja2.Environment] = web.AppKey("smscat_pages_jinja2", jinja2.Environment)


# -- language, links, words ---------------------------------------------------------------------


def _lang(request: web.Request) -> tuple[str, str | None]:
    """The page's language, and the ``lang`` query value to keep in links (None: none given)."""
    asked = request.query.get("lang", "")
    if asked.lower().startswith("en"):
        return "en", "en"
    if asked.lower().startswith("zh"):
        return "zh-CN", "zh-CN"
    accept = request.headers.get("Accept-Language", "")
    return ("en" if accept.strip().lower().startswith("en") else "zh-CN"), None


def _href(pinned: str | None, path: str, **params: str | int | None) -> str:
    query = {k: str(v) for k, v in params.items() if v not in (None, "")}
    if pinned:
        query["lang"] = pinned
    return f"{path}?{urlencode(query)}" if query else path


def _error_text(key: str, status: int, lang: str) -> str:
    """The words for a refusal (``error.<key>``, else its status), as the API gives them."""
    for candidate in (f"error.{key}", f"page.{key}", f"error.status_{status}"):
        if candidate in texts.TEXTS:
            return texts.render(candidate, lang)
    return texts.render("error.status_500" if status >= 500 else "error.status_400", lang)


def _median_words(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return texts.render("page.median.none", lang)
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 90:
        return texts.render("page.median.minutes", lang, n=minutes)
    hours = math.ceil(seconds / 3600)
    if hours < 48:
        return texts.render("page.median.hours", lang, n=hours)
    return texts.render("page.median.days", lang, n=math.ceil(seconds / 86400))


def _accepting_words(expert: Mapping[str, Any], lang: str) -> str:
    key = "page.accepting." + ("yes" if expert["accepting"] else expert["accepting_reason"] or "")
    return texts.render(key if key in texts.TEXTS else "page.accepting.later", lang)


def _local(at: str, zone: tzinfo) -> str:
    try:
        return datetime.fromisoformat(at).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return ""


def _expert_card(expert: Mapping[str, Any], lang: str, pinned: str | None) -> dict[str, Any]:
    specialty = expert["specialty"]
    said = texts.render("page.specialty", lang, specialty=specialty) if specialty else None
    return {
        "id": expert["id"],
        "name": expert["name"],
        "title": expert["title"],
        "department": expert["department"],
        "specialty": said,
        "accepting": bool(expert["accepting"]),
        "accepting_text": _accepting_words(expert, lang),
        "median_text": _median_words(expert["median_first_answer_s"], lang),
        "href": _href(pinned, f"/experts/{expert['id']}"),
    }


def _message(
    message: Mapping[str, Any], lang: str, zone: tzinfo, *, public: bool
) -> dict[str, str]:
    sender = str(message["from"])
    key = f"page.from.{sender}"
    text = str(message["text"])
    return {
        "from": sender,
        "label": texts.render(key if key in texts.TEXTS else "page.from.system", lang),
        "text": mask_numbers(text) if public else text,
        "at": _local(str(message["at"]), zone),
    }


def _status_words(status: str, lang: str) -> str:
    return texts.render_or(f"status.{status}", status, lang)


def _board_thread(
    thread: Mapping[str, Any], lang: str, zone: tzinfo, names: Mapping[str, str]
) -> dict[str, Any]:
    name = names.get(str(thread["expert_id"]))
    return {
        "id": thread["id"],
        "nickname": mask_numbers(str(thread["nickname"])),
        "status_text": _status_words(str(thread["status"]), lang),
        "asked_to": texts.render("page.asked_to", lang, name=name) if name else None,
        "at": _local(str(thread["created_at"]), zone),
        "messages": [_message(m, lang, zone, public=True) for m in thread["messages"]],
    }


def _page_number(raw: str | None) -> int:
    if raw is None or not _DIGITS.fullmatch(raw):
        return 1
    return min(max(int(raw), 1), 10_000)


def _form_value(form: Mapping[str, Any], name: str, limit: int = 4000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


# -- rendering ----------------------------------------------------------------------------------


def _render(
    request: web.Request,
    template: str,
    status: int = 200,
    *,
    here: str | None = None,
    **context: Any,
) -> web.Response:
    """``template`` with what every page needs: texts in the visitor's language, links, names."""
    return aiohttp_jinja2.render_template(
        template, request, {**_page_context(request, here), **context}, status=status,
        app_key=JINJA_KEY,
    )  # fmt: skip


def _page_context(request: web.Request, here: str | None = None) -> dict[str, Any]:
    """What every template may use: ``t``, ``href``, ``lang``, the department's name."""
    pages = request.app[PAGES_KEY]
    lang, pinned = _lang(request)
    path = here if here is not None else request.path
    other = "zh-CN" if lang == "en" else "en"

    def t(key: str, **params: object) -> str:
        return texts.render(key, lang, **params)

    def href(target: str, **params: str | int | None) -> str:
        return _href(pinned, target, **params)

    return {
        "lang": lang,
        "t": t,
        "href": href,
        "department": pages.department,
        "switch_href": f"{path}?{urlencode({'lang': other})}",
        "noindex": False,
    }


def _error_page(
    request: web.Request, status: int, *, reason: str | None = None, retry_after: int = 0
) -> web.Response:
    """The friendly page for ``status``; ``reason`` (an ``error.<key>``) says why, when known,
    and ``retry_after`` (seconds) when to come back."""
    which = status if status in (404, 405, 413, 429, 500) else "other"
    body_key = f"page.error_{which}"
    if reason is not None and f"error.{reason}" in texts.TEXTS:
        body_key = f"error.{reason}"
    try:
        return _render(
            request,
            "error.html",
            status,
            here="/",
            title_key=f"page.error_{which}_title",
            body_key=body_key,
            retry_minutes=math.ceil(retry_after / 60),
        )
    except Exception:  # rendering an error must never become a second error
        log.exception("the error page could not be rendered")
        lang, _ = _lang(request)
        return web.Response(
            status=status,
            text=texts.render(f"page.error_{which}", lang),
            content_type="text/plain",
            charset="utf-8",
        )


def _route_name(request: web.Request) -> str:
    """The route's pattern (``/t/{id}/{token}``), never the path: the path may hold a token."""
    route = request.match_info.route
    resource = route.resource
    return resource.canonical if resource is not None else "?"


@web.middleware
async def page_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Friendly HTML for every error on a page route; security headers on every page answer."""
    if request.path.startswith(_API):
        return await handler(request)
    headers = THREAD_HEADERS if request.path.startswith("/t/") else SECURITY_HEADERS
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            exc.headers.update(headers)
            raise
        response = _error_page(request, exc.status)
        if isinstance(exc, web.HTTPMethodNotAllowed):
            response.headers["Allow"] = ",".join(sorted(exc.allowed_methods))
    except TooMany as exc:  # a per-client limit (web/limits.py): why, and when to come back
        if _wants_json(request):
            detail = _error_text(exc.key, exc.status, _lang(request)[0])
            response = web.json_response({"detail": detail}, status=exc.status)
        else:
            response = _error_page(request, exc.status, reason=exc.key, retry_after=exc.retry_after)
        response.headers["Retry-After"] = str(exc.retry_after)
    except RelayError as exc:  # a handler lets through only what has no better page: 404s
        response = _error_page(request, exc.status)
    except Exception:
        log.exception("page %s %s failed", request.method, _route_name(request))
        response = _error_page(request, 500)
    response.headers.update(headers)
    return response


def _same_origin(request: web.Request) -> None:
    """A form POST from another site is refused (no cookies here, but no forged questions)."""
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        raise web.HTTPForbidden()


def _wants_json(request: web.Request) -> bool:
    """The page's script posted the form and wants the outcome as JSON, not a page."""
    return "application/json" in request.headers.get("Accept", "")


def _base_url(request: web.Request) -> str:
    """The address links in SMS start with: ``web.public_url``, or the server's own."""
    public_url = request.app[PAGES_KEY].public_url
    if not public_url:
        raise web.HTTPServiceUnavailable()  # not serving yet: the composition root sets it
    return public_url


def set_public_url(app: web.Application, url: str) -> None:
    """Links in SMS start with ``url`` (when config has no ``web.public_url``: the bound one)."""
    app[PAGES_KEY].public_url = url.rstrip("/")


# -- the department page ------------------------------------------------------------------------


async def _department_page(
    request: web.Request, *, status: int = 200, links_error: str | None = None
) -> web.Response:
    relay = request.app[PAGES_KEY].relay
    lang, pinned = _lang(request)
    experts = await relay.experts_view()
    recent = await relay.board(None, None, 1, RECENT)
    names = {e["id"]: e["name"] for e in experts}
    zone = relay.options.zone
    return _render(
        request,
        "department.html",
        status,
        here="/",
        experts=[_expert_card(e, lang, pinned) for e in experts],
        threads=[_board_thread(t, lang, zone, names) for t in recent["threads"]],
        action_links=_href(pinned, "/links"),
        links_sent=request.query.get("links") == "sent",
        links_error=links_error,
        links_per_day=relay.options.links_per_day,
    )


async def department_page(request: web.Request) -> web.Response:
    return await _department_page(request)


async def links_form(request: web.Request) -> web.Response:
    """The department page's "find my question links": one SMS of new links, when the number
    has threads here.

    The answer is the same for every number, known or not, within its limits or not; only
    something that is no mobile number at all is refused, which says nothing about anyone.
    The number is never shown back (not even in the form) nor logged.
    """
    _same_origin(request)
    relay = request.app[PAGES_KEY].relay
    lang, pinned = _lang(request)
    posted = await request.post()
    try:
        await relay.send_links_to(_form_value(posted, "phone", 64), _base_url(request))
    except RelayError as exc:
        error = _error_text(exc.key, exc.status, lang)
        if _wants_json(request):
            return web.json_response({"detail": error}, status=exc.status)
        return await _department_page(request, status=exc.status, links_error=error)
    if _wants_json(request):
        return web.json_response({"notice": texts.render("page.links_sent", lang)})
    raise web.HTTPSeeOther(_href(pinned, "/", links="sent") + "#find-links")


# -- an expert's page and the ask form ----------------------------------------------------------


async def _expert(request: web.Request) -> Mapping[str, Any]:
    expert_id = request.match_info["expert_id"]
    for expert in await request.app[PAGES_KEY].relay.experts_view():
        if expert["id"] == expert_id:
            return expert
    raise web.HTTPNotFound()


async def _expert_page(
    request: web.Request,
    expert: Mapping[str, Any],
    *,
    status: int = 200,
    form: Mapping[str, str] | None = None,
    error: str | None = None,
    error_field: str | None = None,
    notice: str | None = None,
) -> web.Response:
    relay = request.app[PAGES_KEY].relay
    lang, pinned = _lang(request)
    q = (request.query.get("q") or "").strip()[:50]
    page = _page_number(request.query.get("page"))
    found = await relay.board(expert["id"], q or None, page, PER_PAGE)
    pages = max(1, math.ceil(found["total"] / PER_PAGE))
    path = f"/experts/{expert['id']}"
    names = {expert["id"]: expert["name"]}
    zone = relay.options.zone
    return _render(
        request,
        "expert.html",
        status,
        here=path,
        expert=_expert_card(expert, lang, pinned),
        threads=[_board_thread(t, lang, zone, names) for t in found["threads"]],
        total=found["total"],
        q=q,
        page=page,
        pages=pages,
        prev_href=_href(pinned, path, q=q, page=page - 1) if page > 1 else None,
        next_href=_href(pinned, path, q=q, page=page + 1) if page < pages else None,
        form=form or {},
        error=error,
        error_field="code" if error_field == "verification_id" else error_field,
        notice=notice,
        max_text=relay.options.max_text,
        max_nickname=relay.options.max_nickname,
        resend_seconds=RESEND_SECONDS,
        lang_param=pinned or "",
    )


async def expert_page(request: web.Request) -> web.Response:
    return await _expert_page(request, await _expert(request))


async def ask_form(request: web.Request) -> web.Response:
    """The ask form without JavaScript: "send code" or "submit", then 303 or the form again."""
    _same_origin(request)
    relay = request.app[PAGES_KEY].relay
    expert = await _expert(request)
    posted = await request.post()  # over the app's client_max_size: 413
    form = {
        name: _form_value(posted, name)
        for name in ("nickname", "text", "phone", "verification_id", "code", "public")
    }
    lang, pinned = _lang(request)
    try:
        if _form_value(posted, "action") == "send_code":
            form["verification_id"] = await relay.start_verification(form["phone"])
            form["code"] = ""
            notice = texts.render("page.code_sent", lang)
            return await _expert_page(request, expert, form=form, notice=notice)
        if form["public"] not in ("0", "1"):
            raise RelayError("visibility_required", field="public")
        phone = form["phone"].strip() or None
        asked = await relay.ask(
            expert_id=expert["id"],
            nickname=form["nickname"],
            text=form["text"],
            public=form["public"] == "1",
            phone=phone,
            verification_id=(form["verification_id"] or None) if phone else None,
            code=(form["code"] or None) if phone else None,
        )
    except RelayError as exc:
        status = 422 if exc.key == "visibility_required" else exc.status
        return await _expert_page(
            request,
            expert,
            status=status,
            form=form,
            error=_error_text(exc.key, exc.status, lang),
            error_field=exc.field,
        )
    raise web.HTTPSeeOther(_href(pinned, f"/t/{asked.id}/{asked.token}", new="1"))


# -- a thread's page ----------------------------------------------------------------------------


def _thread_key(request: web.Request) -> tuple[int, str]:
    return int(request.match_info["id"]), request.match_info["token"]


async def _thread_page(
    request: web.Request,
    *,
    status: int = 200,
    error: str | None = None,
    followup: str = "",
) -> web.Response:
    relay = request.app[PAGES_KEY].relay
    lang, pinned = _lang(request)
    thread_id, token = _thread_key(request)
    view = await relay.thread_view(thread_id, token, lang)  # a wrong token: NotFound, 404
    extras = await relay.thread_extras(thread_id, token)
    path = f"/t/{thread_id}/{token}"
    is_open = Status(view["status"]) in OPEN
    response = _render(
        request,
        "thread.html",
        status,
        here=path,
        noindex=True,
        thread_id=thread_id,
        status_text=_status_words(view["status"], lang),
        notice=view.get("notice"),
        messages=[_message(m, lang, relay.options.zone, public=False) for m in view["messages"]],
        is_open=is_open,
        open_statuses=" ".join(sorted(str(s) for s in OPEN)),
        new_link=str(request.url.with_query(None)) if request.query.get("new") == "1" else None,
        error=error,
        followup=followup,
        max_text=relay.options.max_text,
        poll_ms=POLL_MS,
        zone=relay.options.zone_name,
        action_messages=_href(pinned, f"{path}/messages"),
        action_withdraw=_href(pinned, f"{path}/withdraw"),
        answered=extras["answered"],
        thanked=extras["thanked"],
        helpful=extras["helpful"],
        link_by_sms=extras["link_by_sms"],
        link_sent=request.query.get("link") == "sent",
        action_thanks=_href(pinned, f"{path}/thanks"),
        action_helpful=_href(pinned, f"{path}/helpful"),
        action_link=_href(pinned, f"{path}/link"),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def thread_page(request: web.Request) -> web.Response:
    return await _thread_page(request)


async def follow_up_form(request: web.Request) -> web.Response:
    _same_origin(request)
    relay = request.app[PAGES_KEY].relay
    lang, pinned = _lang(request)
    thread_id, token = _thread_key(request)
    posted = await request.post()
    text = _form_value(posted, "text")
    try:
        await relay.follow_up(thread_id, token, text)
    except RelayError as exc:
        if exc.status == 404:
            raise
        error = _error_text(exc.key, exc.status, lang)
        return await _thread_page(request, status=exc.status, error=error, followup=text)
    raise web.HTTPSeeOther(_href(pinned, f"/t/{thread_id}/{token}"))


async def withdraw_form(request: web.Request) -> web.Response:
    _same_origin(request)
    relay = request.app[PAGES_KEY].relay
    lang, pinned = _lang(request)
    thread_id, token = _thread_key(request)
    try:
        await relay.withdraw(thread_id, token)
    except RelayError as exc:
        if exc.status == 404:
            raise
        return await _thread_page(
            request, status=exc.status, error=_error_text(exc.key, exc.status, lang)
        )
    raise web.HTTPSeeOther(_href(pinned, f"/t/{thread_id}/{token}"))


ThreadAction = Callable[["Relay", int, str, Mapping[str, Any]], Awaitable[None]]


async def _thread_action(
    request: web.Request, act: ThreadAction, *, done: str | None = None
) -> web.Response:
    """A form of the thread page beside the conversation: 303 back to the page (with
    ``?<done>=sent``, which shows ``page.<done>_sms_sent``), or for the script a JSON answer."""
    _same_origin(request)
    relay = request.app[PAGES_KEY].relay
    lang, pinned = _lang(request)
    thread_id, token = _thread_key(request)
    posted = await request.post()
    try:
        await act(relay, thread_id, token, posted)
    except RelayError as exc:
        if exc.status == 404:
            raise
        error = _error_text(exc.key, exc.status, lang)
        if _wants_json(request):
            return web.json_response({"detail": error}, status=exc.status)
        return await _thread_page(request, status=exc.status, error=error)
    if _wants_json(request):
        extras = await relay.thread_extras(thread_id, token)
        body = {
            "thanked": extras["thanked"],
            "helpful": extras["helpful"],
            "notice": texts.render(f"page.{done}_sms_sent", lang) if done else None,
        }
        return web.json_response(body, headers={"Cache-Control": "no-store"})
    flag = {done: "sent"} if done else {}
    raise web.HTTPSeeOther(_href(pinned, f"/t/{thread_id}/{token}", **flag))


async def thanks_form(request: web.Request) -> web.Response:
    """The thread page's "thank the doctor": recorded once, no SMS to anyone."""

    async def act(relay: Relay, thread_id: int, token: str, _: Mapping[str, Any]) -> None:
        await relay.thank(thread_id, token)

    return await _thread_action(request, act)


async def helpful_form(request: web.Request) -> web.Response:
    """The thread page's "was this answer helpful?": 1 or 0, and the patient may change it."""

    async def act(relay: Relay, thread_id: int, token: str, posted: Mapping[str, Any]) -> None:
        said = _form_value(posted, "helpful", 8)
        if said not in ("0", "1"):
            raise Invalid("helpful_choice", field="helpful")
        await relay.rate(thread_id, token, said == "1")

    return await _thread_action(request, act)


async def link_form(request: web.Request) -> web.Response:
    """The thread page's "send the link to my phone": a new link, by SMS to its verified phone."""

    async def act(relay: Relay, thread_id: int, token: str, _: Mapping[str, Any]) -> None:
        await relay.send_link(thread_id, token, _base_url(request))

    return await _thread_action(request, act, done="link")


# -- the CSS and the script ---------------------------------------------------------------------


STATIC = {
    path.name: path
    for path in (HERE / "static").iterdir()
    if path.suffix in (".css", ".js", ".svg")
}


async def static_file(request: web.Request) -> web.FileResponse:
    """One of our own files, by its exact name (nothing else under the folder is served)."""
    path = STATIC.get(request.match_info["name"])
    if path is None:
        raise web.HTTPNotFound()
    # Revalidated each time (ETag, Last-Modified): a new release's script is never stale.
    return web.FileResponse(path, headers={"Cache-Control": "no-cache"})


# -- wiring -------------------------------------------------------------------------------------


def add_routes(
    app: web.Application, relay: Relay, department: str, *, public_url: str | None = None
) -> None:
    app[PAGES_KEY] = Pages(relay, department, public_url)
    aiohttp_jinja2.setup(
        app,
        app_key=JINJA_KEY,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        default_helpers=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    app.middlewares.append(page_errors)
    expert = "/experts/{expert_id:[a-z0-9_-]{1,32}}"
    thread = "/t/{id:[1-9][0-9]{0,17}}/{token:[A-Za-z0-9_-]{1,64}}"
    app.router.add_get("/", department_page)
    app.router.add_post("/links", links_form)
    app.router.add_get(expert, expert_page)
    app.router.add_post(expert + "/ask", ask_form)
    app.router.add_get(thread, thread_page)
    app.router.add_post(thread + "/messages", follow_up_form)
    app.router.add_post(thread + "/withdraw", withdraw_form)
    app.router.add_post(thread + "/thanks", thanks_form)
    app.router.add_post(thread + "/helpful", helpful_form)
    app.router.add_post(thread + "/link", link_form)
    app.router.add_get("/static/{name}", static_file)
