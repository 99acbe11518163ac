"""What every HTML page of the site shares: templates, links, forms, headers and error pages.

The patient's pages (:mod:`.board`, :mod:`.thread_page`) and the admin's (``admin_*``) render
through :func:`render_page`: Jinja2 with autoescape on for every template, and in every
template ``t`` (words from :mod:`smscat.web.texts` in the visitor's language, see
:mod:`.language`), ``href`` (a link that keeps a chosen ``?lang=``), ``lang`` and the
department's name. No front-end build: one CSS file and one vanilla JS file from ``static/``.

Every response to a page route carries a Content-Security-Policy without inline script or style
(:func:`page_errors`), and every error on a page route (404, 405, 413, 429, 500…) is a friendly
HTML page.

It must never: put a thread's token (it is in the thread page's path) into a log line, or show an
exception's text.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web

from smscat.relay.core.errors import RelayError, TooMany
from smscat.web import language, texts

if TYPE_CHECKING:
    from smscat.relay.services.relay import Relay

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
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
# ... nor from a thread's pages or a 随访 plan's (/f/), our own files included (logs, caches).
THREAD_HEADERS = {**SECURITY_HEADERS, "Referrer-Policy": "no-referrer"}
DIGITS = re.compile(r"[0-9]{1,5}")  # a page number as a query may give it
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


# -- links, forms, words --------------------------------------------------------------------------


def href(pinned: str | None, path: str, **params: str | int | None) -> str:
    """A link to ``path`` with ``params`` (empty ones left out), keeping a chosen language."""
    query = {k: str(v) for k, v in params.items() if v not in (None, "")}
    if pinned:
        query["lang"] = pinned
    return f"{path}?{urlencode(query)}" if query else path


def form_value(form: Mapping[str, Any], name: str, limit: int = 4000) -> str:
    """A form's (or a query's) field as text, at most ``limit`` characters; "" when absent."""
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def error_text(key: str, status: int, lang: str) -> str:
    """The words for a refusal (``error.<key>``, else its status), as the API gives them."""
    for candidate in (f"error.{key}", f"page.{key}", f"error.status_{status}"):
        if candidate in texts.TEXTS:
            return texts.render(candidate, lang)
    return texts.render("error.status_500" if status >= 500 else "error.status_400", lang)


def same_origin(request: web.Request) -> None:
    """A form POST from another site is refused (no forged questions, no forged admin forms)."""
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        raise web.HTTPForbidden()


def wants_json(request: web.Request) -> bool:
    """The page's script posted the form and wants the outcome as JSON, not a page."""
    return "application/json" in request.headers.get("Accept", "")


def base_url(request: web.Request) -> str:
    """The address links in SMS start with: ``web.public_url``, or the server's own."""
    public_url = request.app[PAGES_KEY].public_url
    if not public_url:
        raise web.HTTPServiceUnavailable()  # not serving yet: the composition root sets it
    return public_url


def set_public_url(app: web.Application, url: str) -> None:
    """Links in SMS start with ``url`` (when config has no ``web.public_url``: the bound one)."""
    app[PAGES_KEY].public_url = url.rstrip("/")


# -- rendering ------------------------------------------------------------------------------------


def render_page(
    request: web.Request,
    template: str,
    status: int = 200,
    *,
    here: str | None = None,
    **context: Any,
) -> web.Response:
    """``template`` with what every page needs: texts in the visitor's language, links, names."""
    return aiohttp_jinja2.render_template(
        template, request, {**page_context(request, here), **context}, status=status,
        app_key=JINJA_KEY,
    )  # fmt: skip


def page_context(request: web.Request, here: str | None = None) -> dict[str, Any]:
    """What every template may use: ``t``, ``href``, ``lang``, the department's name."""
    pages = request.app[PAGES_KEY]
    chosen = language.of_request(request)
    lang, pinned = chosen.lang, chosen.pinned
    path = here if here is not None else request.path
    other = "zh-CN" if lang == "en" else "en"

    def t(key: str, **params: object) -> str:
        return texts.render(key, lang, **params)

    def link(target: str, **params: str | int | None) -> str:
        return href(pinned, target, **params)

    return {
        "lang": lang,
        "t": t,
        "href": link,
        "department": pages.department,
        "switch_href": f"{path}?{urlencode({'lang': other})}",
        "noindex": False,
    }


def template(request: web.Request, name: str) -> jinja2.Template:
    """A template of the site's environment (for a stream that renders one again and again)."""
    return aiohttp_jinja2.get_env(request.app, app_key=JINJA_KEY).get_template(name)


# -- errors ---------------------------------------------------------------------------------------


def error_page(
    request: web.Request, status: int, *, reason: str | None = None, retry_after: int = 0
) -> web.Response:
    """The friendly page for ``status``; ``reason`` (an ``error.<key>``) says why, when known,
    and ``retry_after`` (seconds) when to come back."""
    which = status if status in (404, 405, 413, 429, 500) else "other"
    body_key = f"page.error_{which}"
    if reason is not None and f"error.{reason}" in texts.TEXTS:
        body_key = f"error.{reason}"
    try:
        return render_page(
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
        return web.Response(
            status=status,
            text=texts.render(f"page.error_{which}", language.of_request(request).lang),
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
    headers = THREAD_HEADERS if request.path.startswith(("/t/", "/f/")) else SECURITY_HEADERS
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            exc.headers.update(headers)
            raise
        response = error_page(request, exc.status)
        if isinstance(exc, web.HTTPMethodNotAllowed):
            response.headers["Allow"] = ",".join(sorted(exc.allowed_methods))
    except TooMany as exc:  # a per-client limit (web/limits.py): why, and when to come back
        if wants_json(request):
            detail = error_text(exc.key, exc.status, language.of_request(request).lang)
            response = web.json_response({"detail": detail}, status=exc.status)
        else:
            response = error_page(request, exc.status, reason=exc.key, retry_after=exc.retry_after)
        response.headers["Retry-After"] = str(exc.retry_after)
    except RelayError as exc:  # a handler lets through only what has no better page: 404s
        response = error_page(request, exc.status)
    except Exception:
        log.exception("page %s %s failed", request.method, _route_name(request))
        response = error_page(request, 500)
    response.headers.update(headers)
    return response


# -- the CSS and the script -----------------------------------------------------------------------


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


# -- wiring ---------------------------------------------------------------------------------------


def setup(
    app: web.Application, relay: Relay, department: str, *, public_url: str | None = None
) -> None:
    """The templates, the error pages and headers, and ``/static/``: before any page route."""
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
    app.router.add_get("/static/{name}", static_file)


def page_number(raw: str | None) -> int:
    """A list's page from the query (the board's, an admin list's): 1 to 10,000, 1 for anything
    else (a huge page would only cost a huge OFFSET)."""
    if raw is None or not DIGITS.fullmatch(raw):
        return 1
    return min(max(int(raw), 1), 10_000)
