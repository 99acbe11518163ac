"""Which language a visitor reads: one answer for the patient's pages, the admin's and the API.

Chinese (``zh-CN``) unless the visitor asks for English. ``?lang=`` in the address wins (``en…``
or ``zh…``), and is kept in every link of the page (:attr:`Language.pinned`), so a visitor who
chose stays in their choice; else the browser's ``Accept-Language``: its ranges by their
``q`` (highest first, in their order on a tie, ``q=0`` meaning "not this"), the first that is
English or Chinese decides. The API reads the header only (its clients send no ``?lang=``).

It never reads a request's body, and answers one of :data:`LANGS` only.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from smscat.web.texts import DEFAULT_LANG, LANGS

__all__ = ["LANGS", "Language", "from_accept", "negotiate", "of_request"]

_MAX_RANGES = 32  # ranges of a header worth reading (a forged header may hold thousands)


@dataclass(frozen=True, slots=True)
class Language:
    """The page's language, and the ``lang`` query value its links keep (None: none given)."""

    lang: str
    pinned: str | None = None


def _ours(tag: str) -> str | None:
    """``en`` or ``zh-CN`` for a language range of one of them (any region), else None."""
    primary = tag.strip().lower().split("-", 1)[0]
    return {"en": "en", "zh": "zh-CN"}.get(primary)


def _weight(params: list[str]) -> float:
    """The ``q`` of a range's parameters: 1 when absent, 0 when unreadable."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


def from_accept(header: str | None) -> str:
    """The language an ``Accept-Language`` header asks for first, of those we speak."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")[:_MAX_RANGES]):
        tag, *params = item.split(";")
        ours = _ours(tag)
        q = _weight(params)
        if ours is not None and q > 0:
            ranked.append((-q, position, ours))
    return min(ranked)[2] if ranked else DEFAULT_LANG


def negotiate(query: str | None = None, accept: str | None = None) -> Language:
    """The language for a ``?lang=`` value (None: absent) and an ``Accept-Language`` header."""
    asked = (query or "").lower()
    if asked.startswith("en"):
        return Language("en", "en")
    if asked.startswith("zh"):
        return Language("zh-CN", "zh-CN")
    return Language(from_accept(accept))


def of_request(request: web.Request) -> Language:
    """A page request's language: its ``?lang=``, else its ``Accept-Language``."""
    return negotiate(request.query.get("lang"), request.headers.get("Accept-Language"))
