"""A thread's page, behind its unguessable link, and the forms on it.

The conversation, its status in words, a follow-up, a withdrawal, and beside the conversation
"thank the doctor", "was this helpful?" and "send the link to my phone". The page's script keeps
it up to date by polling the API and posts the small forms itself (answered in JSON when it asks
for it); without the script each form is a plain POST answered 303, or the page again with the
error in words (:mod:`smscat.web.texts`).

It must never: put the thread's token (it is in the path) into a log line, let the page be
cached or sent as a Referer (:data:`~smscat.web.site.THREAD_HEADERS`), or show an exception's
text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from smscat.relay.core.errors import Invalid, RelayError
from smscat.relay.core.lifecycle import OPEN, Status
from smscat.web import language, texts
from smscat.web.page_views import message_view, status_words
from smscat.web.site import (
    PAGES_KEY,
    base_url,
    error_text,
    form_value,
    href,
    render_page,
    same_origin,
    wants_json,
)

if TYPE_CHECKING:
    from smscat.relay.services.relay import Relay

POLL_MS = 3000  # how often the thread page asks the API for news
THREAD = "/t/{id:[1-9][0-9]{0,17}}/{token:[A-Za-z0-9_-]{1,64}}"
ThreadAction = Callable[["Relay", int, str, Mapping[str, Any]], Awaitable[None]]


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
    chosen = language.of_request(request)
    lang, pinned = chosen.lang, chosen.pinned
    thread_id, token = _thread_key(request)
    view = await relay.patient_page.thread_view(
        thread_id, token, lang
    )  # a wrong token: NotFound, 404
    extras = await relay.patient_page.thread_extras(thread_id, token)
    path = f"/t/{thread_id}/{token}"
    is_open = Status(view["status"]) in OPEN
    response = render_page(
        request,
        "thread.html",
        status,
        here=path,
        noindex=True,
        thread_id=thread_id,
        status_text=status_words(view["status"], lang),
        notice=view.get("notice"),
        messages=[
            message_view(m, lang, relay.options.zone, public=False) for m in view["messages"]
        ],
        is_open=is_open,
        open_statuses=" ".join(sorted(str(s) for s in OPEN)),
        new_link=str(request.url.with_query(None)) if request.query.get("new") == "1" else None,
        error=error,
        followup=followup,
        max_text=relay.options.max_text,
        poll_ms=POLL_MS,
        zone=relay.options.zone_name,
        action_messages=href(pinned, f"{path}/messages"),
        action_withdraw=href(pinned, f"{path}/withdraw"),
        answered=extras["answered"],
        thanked=extras["thanked"],
        helpful=extras["helpful"],
        link_by_sms=extras["link_by_sms"],
        link_sent=request.query.get("link") == "sent",
        action_thanks=href(pinned, f"{path}/thanks"),
        action_helpful=href(pinned, f"{path}/helpful"),
        action_link=href(pinned, f"{path}/link"),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def thread_page(request: web.Request) -> web.Response:
    return await _thread_page(request)


async def follow_up_form(request: web.Request) -> web.Response:
    same_origin(request)
    relay = request.app[PAGES_KEY].relay
    chosen = language.of_request(request)
    thread_id, token = _thread_key(request)
    posted = await request.post()
    text = form_value(posted, "text")
    try:
        await relay.patient_page.follow_up(thread_id, token, text)
    except RelayError as exc:
        if exc.status == 404:
            raise
        error = error_text(exc.key, exc.status, chosen.lang)
        return await _thread_page(request, status=exc.status, error=error, followup=text)
    raise web.HTTPSeeOther(href(chosen.pinned, f"/t/{thread_id}/{token}"))


async def withdraw_form(request: web.Request) -> web.Response:
    same_origin(request)
    relay = request.app[PAGES_KEY].relay
    chosen = language.of_request(request)
    thread_id, token = _thread_key(request)
    try:
        await relay.patient_page.withdraw(thread_id, token)
    except RelayError as exc:
        if exc.status == 404:
            raise
        return await _thread_page(
            request, status=exc.status, error=error_text(exc.key, exc.status, chosen.lang)
        )
    raise web.HTTPSeeOther(href(chosen.pinned, f"/t/{thread_id}/{token}"))


async def _thread_action(
    request: web.Request, act: ThreadAction, *, done: str | None = None
) -> web.Response:
    """A form of the thread page beside the conversation: 303 back to the page (with
    ``?<done>=sent``, which shows ``page.<done>_sms_sent``), or for the script a JSON answer."""
    same_origin(request)
    relay = request.app[PAGES_KEY].relay
    chosen = language.of_request(request)
    thread_id, token = _thread_key(request)
    posted = await request.post()
    try:
        await act(relay, thread_id, token, posted)
    except RelayError as exc:
        if exc.status == 404:
            raise
        error = error_text(exc.key, exc.status, chosen.lang)
        if wants_json(request):
            return web.json_response({"detail": error}, status=exc.status)
        return await _thread_page(request, status=exc.status, error=error)
    if wants_json(request):
        extras = await relay.patient_page.thread_extras(thread_id, token)
        body = {
            "thanked": extras["thanked"],
            "helpful": extras["helpful"],
            "notice": texts.render(f"page.{done}_sms_sent", chosen.lang) if done else None,
        }
        return web.json_response(body, headers={"Cache-Control": "no-store"})
    flag = {done: "sent"} if done else {}
    raise web.HTTPSeeOther(href(chosen.pinned, f"/t/{thread_id}/{token}", **flag))


async def thanks_form(request: web.Request) -> web.Response:
    """The thread page's "thank the doctor": recorded once, no SMS to anyone."""

    async def act(relay: Relay, thread_id: int, token: str, _: Mapping[str, Any]) -> None:
        await relay.patient_page.thank(thread_id, token)

    return await _thread_action(request, act)


async def helpful_form(request: web.Request) -> web.Response:
    """The thread page's "was this answer helpful?": 1 or 0, and the patient may change it."""

    async def act(relay: Relay, thread_id: int, token: str, posted: Mapping[str, Any]) -> None:
        said = form_value(posted, "helpful", 8)
        if said not in ("0", "1"):
            raise Invalid("helpful_choice", field="helpful")
        await relay.patient_page.rate(thread_id, token, said == "1")

    return await _thread_action(request, act)


async def link_form(request: web.Request) -> web.Response:
    """The thread page's "send the link to my phone": a new link, by SMS to its verified phone."""

    async def act(relay: Relay, thread_id: int, token: str, _: Mapping[str, Any]) -> None:
        await relay.links.send_link(thread_id, token, base_url(request))

    return await _thread_action(request, act, done="link")


def add_routes(app: web.Application) -> None:
    """The thread page's routes; call after :func:`smscat.web.site.setup`."""
    app.router.add_get(THREAD, thread_page)
    app.router.add_post(THREAD + "/messages", follow_up_form)
    app.router.add_post(THREAD + "/withdraw", withdraw_form)
    app.router.add_post(THREAD + "/thanks", thanks_form)
    app.router.add_post(THREAD + "/helpful", helpful_form)
    app.router.add_post(THREAD + "/link", link_form)
