"""What the admin's pages share once the admin is known: the page's frame, a refusal in words,
a form's numbers, paging, and "done: a word for the next page, and a 303 there".

Used by the dashboard (:mod:`.admin_dashboard`) and the management pages (:mod:`.admin_experts`,
:mod:`.admin_threads`, :mod:`.admin_reports`); the session and the handlers' opening are
:mod:`.admin_session`'s.

It must never show an exception's text: a refusal is shown by its key's words only.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from smscat.relay.core.errors import RelayError
from smscat.relay.services.management import FormInvalid
from smscat.web import texts
from smscat.web.admin_session import Caller
from smscat.web.site import href, page_number


def error_words(exc: RelayError, lang: str) -> str:
    """An admin action's refusal in words (``admin.error.<key>``, else "not found")."""
    key = f"admin.error.{exc.key}"
    return texts.render(key if key in texts.TEXTS else "admin.error.not_found", lang)


def form_words(exc: RelayError, lang: str) -> str:
    """A management form's refusal in words: its fields' errors are shown beside them."""
    if isinstance(exc, FormInvalid):
        return texts.render("admin.error.form_invalid", lang)
    return error_words(exc, lang)


def problems(exc: RelayError) -> dict[str, str]:
    """Each wrong field's problem (an ``admin.error.*`` key), for the form to show."""
    return exc.problems if isinstance(exc, FormInvalid) else {}


def positive(value: str) -> int | None:
    """A form's positive whole number (ASCII digits, at most 18), else None."""
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18 or int(value) < 1:
        return None
    return int(value)


def query_page(request: web.Request) -> int:
    """The list page a query asks for (the service keeps it within the list)."""
    return page_number(request.query.get("page"))


def paging(
    pinned: str | None, path: str, filters: dict[str, str], page: int, pages: int
) -> dict[str, str | None]:
    """Links to the page before and after (None at either end), keeping the filters."""

    def at(number: int) -> str:
        return href(pinned, path, **filters, page=number)

    return {
        "prev_href": at(page - 1) if page > 1 else None,
        "next_href": at(page + 1) if page < pages else None,
    }


def frame(request: web.Request, caller: Caller, section: str) -> dict[str, Any]:
    """What every management page's frame shows: the nav, who is in, the form token, the word
    left by the last action (shown once)."""
    session = caller.session
    flash, session.flash = session.flash, None
    return {
        "here": request.path,
        "nav": True,
        "section": section,
        "username": session.username,
        "csrf": session.csrf,
        "notice": flash,
        "lang_param": caller.pinned or "",
    }


def done(caller: Caller, path: str, key: str, **params: Any) -> web.HTTPSeeOther:
    """Done: a word for the next page, and a 303 to ``path`` (for the caller to raise)."""
    caller.session.flash = texts.render(key, caller.lang, **params)
    return web.HTTPSeeOther(href(caller.pinned, path))
