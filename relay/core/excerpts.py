"""Several messages shortened into one text: what waited for an expert's answer, in one SMS.

Pure: standard library only. It shapes a text; it never decides who gets it or when.
"""

from __future__ import annotations

SHARE_MIN = 20  # characters of each waiting message at least, when many waited
FIRST_WORDS = 12  # characters of a question that name it in a list (an SMS, an admin's select)


def first_words(text: str, limit: int = FIRST_WORDS) -> str:
    """The start of ``text`` on one line, to tell one question from another in a list: runs of
    white space (a line break too) are one space, and a longer text ends in "…"."""
    flat = " ".join(text.split())
    return flat[:limit] + ("…" if len(flat) > limit else "")


def digest(messages: list[str], budget: int) -> str:
    """``messages`` numbered in one text of about ``budget`` characters at most: each shortened
    to its share (with …), and those that no longer fit left out with an ellipsis."""
    overhead = len(str(len(messages))) + 3  # "7." before it, "…" and a space after
    share = max(SHARE_MIN, budget // len(messages) - overhead)
    items: list[str] = []
    used = 0
    for n, message in enumerate(messages, 1):
        text = " ".join(message.split())
        item = f"{n}.{text[:share]}{'…' if len(text) > share else ''}"
        if items and used + len(item) > budget:
            items.append("…")
            break
        items.append(item)
        used += len(item) + 1
    return " ".join(items)
