"""What the patient's pages show of the relay's rows: plain values in words, for the templates.

An expert's card (whether they take questions now and why not, how fast they usually answer), a
message with its sender in words, a public thread of the board, a thread's status in words,
times in the department's zone. Words come from :mod:`smscat.web.texts`.

It must never: show a phone number on a public page (nicknames and texts of the board go
through :func:`~smscat.relay.core.masking.mask_numbers`), or do I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from smscat.relay.core.masking import mask_numbers
from smscat.web import texts
from smscat.web.site import href


def median_words(seconds: float | None, lang: str) -> str:
    """How fast an expert usually answers, in minutes, hours or days."""
    if seconds is None:
        return texts.render("page.median.none", lang)
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 90:
        return texts.render("page.median.minutes", lang, n=minutes)
    hours = math.ceil(seconds / 3600)
    if hours < 48:
        return texts.render("page.median.hours", lang, n=hours)
    return texts.render("page.median.days", lang, n=math.ceil(seconds / 86400))


def accepting_words(expert: Mapping[str, Any], lang: str) -> str:
    """Whether an expert takes questions now, and why not (paused, daily cap, quiet hours)."""
    key = "page.accepting." + ("yes" if expert["accepting"] else expert["accepting_reason"] or "")
    return texts.render(key if key in texts.TEXTS else "page.accepting.later", lang)


def local_time(at: str, zone: tzinfo) -> str:
    """A stored time in the department's zone, to the minute ("" for what is no time)."""
    try:
        return datetime.fromisoformat(at).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return ""


def status_words(status: str, lang: str) -> str:
    """A thread's status in words (the status itself when the catalogue has none for it)."""
    return texts.render_or(f"status.{status}", status, lang)


def expert_card(expert: Mapping[str, Any], lang: str, pinned: str | None) -> dict[str, Any]:
    specialty = expert["specialty"]
    said = texts.render("page.specialty", lang, specialty=specialty) if specialty else None
    return {
        "id": expert["id"],
        "name": expert["name"],
        "title": expert["title"],
        "department": expert["department"],
        "specialty": said,
        "accepting": bool(expert["accepting"]),
        "accepting_text": accepting_words(expert, lang),
        "median_text": median_words(expert["median_first_answer_s"], lang),
        "href": href(pinned, f"/experts/{expert['id']}"),
    }


def message_view(
    message: Mapping[str, Any], lang: str, zone: tzinfo, *, public: bool
) -> dict[str, str]:
    """A message of a thread; ``public``: on the board, any number in it masked."""
    sender = str(message["from"])
    key = f"page.from.{sender}"
    text = str(message["text"])
    return {
        "from": sender,
        "label": texts.render(key if key in texts.TEXTS else "page.from.system", lang),
        "text": mask_numbers(text) if public else text,
        "at": local_time(str(message["at"]), zone),
    }


def board_thread(
    thread: Mapping[str, Any], lang: str, zone: tzinfo, names: Mapping[str, str]
) -> dict[str, Any]:
    """A public thread on the board: nickname, status, whom it asked, its messages."""
    name = names.get(str(thread["expert_id"]))
    return {
        "id": thread["id"],
        "nickname": mask_numbers(str(thread["nickname"])),
        "status_text": status_words(str(thread["status"]), lang),
        "asked_to": texts.render("page.asked_to", lang, name=name) if name else None,
        "at": local_time(str(thread["created_at"]), zone),
        "messages": [message_view(m, lang, zone, public=True) for m in thread["messages"]],
    }
