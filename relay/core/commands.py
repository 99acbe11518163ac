"""What an inbound SMS from an expert or a patient means: a command, or a reply to forward.

Commands are whole messages only, recognised on the NFKC-normalised, trimmed text (so full-width
letters, digits and the ideographic space count as their ASCII forms, and Latin words ignore
case). Experts: 待办/LIST, 暂停/PAUSE [0–999 hours], 恢复/RESUME, 转 #n (transfer),
帮助/HELP, 升 #n (escalate, sent by an expert's assistant). Patients: STOP/TD/退订, and
开通/START, which ends a STOP (the only way back: a number that sent STOP gets no SMS code).
Anything else is a :class:`Reply` — "暂停服用阿司匹林两周" is medical advice, not a pause.

A reply may start with a thread code, ``#`` and 1–4 digits (``＃１２``, ``# 12`` and ``　#12``
all mean 12), optionally followed by one separator (space, ``:``, ``：``, ``,``, ``，``, ``-``).
An expert may follow the code with a quick-reply key ``T`` + 1–2 digits (``#12 T3 周一来``).

Forward as typed: :attr:`Reply.text` is the original characters with only the prefix removed.
NFKC is used to *find* the prefix, never to rewrite what is forwarded ("，" must not become ",").
The prefix is found on the text normalised one character at a time, which equals NFKC for every
character a prefix can contain. Digits that end inside one character's expansion (``#⒈`` is
``#1.`` after NFKC) are not a code, and the whole text is the reply; optional whitespace or a
separator after the code is cut only up to the last whole original character.

It must never: raise for any input string, do I/O, or put message text into a repr or exception.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Final, Literal

CommandName = Literal["list", "pause", "resume", "transfer", "help", "escalate", "stop", "start"]


@dataclass(frozen=True, slots=True)
class Command:
    """A control message: never forwarded to the other party."""

    name: CommandName
    hours: int | None = None  # pause: 0–999 hours given, None when no number was given
    # transfer / escalate: the thread code; None when the number has more than 4 digits and
    # so can name no thread (the caller answers "no such code" rather than forwarding it).
    code: int | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """Text for the other party, with the thread code (if any) it starts with taken off."""

    code: int | None
    text: str = field(repr=False)  # the original characters: patient data, never in a repr
    quick: str | None = None  # a quick-reply key like "T3" (experts only, after a code)


MAX_CODE_DIGITS: Final = 4

# Whole-message commands, matched with fullmatch on the normalised text. ASCII digits only:
# NFKC already turns full-width digits into them, and other scripts' digits are not codes.
_EXPERT_COMMANDS: Final[tuple[tuple[re.Pattern[str], CommandName], ...]] = (
    (re.compile(r"(?:待办|LIST)", re.IGNORECASE), "list"),
    (re.compile(r"(?:暂停|PAUSE)\s*(?P<hours>[0-9]{0,3})", re.IGNORECASE), "pause"),
    (re.compile(r"(?:恢复|RESUME)", re.IGNORECASE), "resume"),
    (re.compile(r"转\s*#(?P<code>[0-9]+)"), "transfer"),
    (re.compile(r"(?:帮助|HELP)", re.IGNORECASE), "help"),
    (re.compile(r"升\s*#(?P<code>[0-9]+)"), "escalate"),
)
_PATIENT_COMMANDS: Final[tuple[tuple[re.Pattern[str], CommandName], ...]] = (
    (re.compile(r"(?:STOP|TD|退订)", re.IGNORECASE), "stop"),
    (re.compile(r"(?:START|开通)", re.IGNORECASE), "start"),
)

# After NFKC, "：" is ":", "，" is "," and "－" is "-": one class covers both widths.
_SEPARATOR: Final = r"[:,\-]"
_CODE_PREFIX: Final = re.compile(
    rf"\s*#\s*(?P<code>[0-9]{{1,{MAX_CODE_DIGITS}}})(?![0-9])\s*{_SEPARATOR}?"
)
_QUICK_PREFIX: Final = re.compile(
    rf"\s*[Tt](?P<n>[0-9]{{1,2}})(?=\Z|\s|{_SEPARATOR})\s*{_SEPARATOR}?"
)


def normalise(text: str) -> str:
    """NFKC, then strip (str.strip removes U+3000 as well)."""
    return unicodedata.normalize("NFKC", text).strip()


# A command typed as a sentence ("待办。", "LIST?", "退订！") is still the command: an expert's
# "待办？" must not be posted to a patient as an answer. A patient's "STOP?" stays a question
# for the expert (a question mark asks; it does not unsubscribe).
_EXPERT_TRAILING: Final = re.compile(r"[\s。.!?~]+\Z")
_PATIENT_TRAILING: Final = re.compile(r"[\s。.!~]+\Z")


def parse_expert(text: str) -> Command | Reply:
    """An expert's (or their assistant's) SMS: a command, or a reply with optional code/quick."""
    command = _command(text, _EXPERT_COMMANDS, _EXPERT_TRAILING)
    return command or _reply(text, quick_allowed=True)


def parse_patient(text: str) -> Command | Reply:
    """A patient's SMS: STOP/TD/退订, 开通/START, or a reply (a follow-up) with an optional
    code."""
    command = _command(text, _PATIENT_COMMANDS, _PATIENT_TRAILING)
    return command or _reply(text, quick_allowed=False)


def _command(
    text: str,
    table: tuple[tuple[re.Pattern[str], CommandName], ...],
    trailing: re.Pattern[str],
) -> Command | None:
    normalised = trailing.sub("", normalise(text))  # (NFKC made ！？～ the ASCII ones)
    for pattern, name in table:
        match = pattern.fullmatch(normalised)
        if match is None:
            continue
        groups = match.groupdict()
        hours = groups.get("hours")
        return Command(
            name,
            hours=int(hours) if hours else None,
            code=_thread_code(groups["code"]) if "code" in groups else None,
        )
    return None


def _thread_code(digits: str) -> int | None:
    # A longer number names no thread; converting it unchecked could even exceed Python's
    # limit on int() of a very long digit string, and parsing must never raise.
    significant = digits.lstrip("0") or "0"
    return int(significant) if len(significant) <= MAX_CODE_DIGITS else None


def _reply(text: str, *, quick_allowed: bool) -> Reply:
    # Normalise character by character and remember where each original character starts in
    # the normalised string, so that a prefix found there can be cut from the original.
    pieces = [unicodedata.normalize("NFKC", char) for char in text]
    normalised = "".join(pieces)
    original_index: dict[int, int] = {}  # offset in `normalised` -> index in `text`
    offset = 0
    for index, piece in enumerate(pieces):
        original_index.setdefault(offset, index)
        offset += len(piece)
    original_index.setdefault(offset, len(text))

    def cut(token_end: int, match_end: int) -> int | None:
        # Where to cut the original: after the code (or quick key) itself, plus as much of the
        # optional whitespace and separator after it as ends on a character boundary.
        if token_end not in original_index:
            return None  # the digits end inside one character's expansion: not a code
        return next(end for end in range(match_end, token_end - 1, -1) if end in original_index)

    code_match = _CODE_PREFIX.match(normalised)
    end = None if code_match is None else cut(code_match.end("code"), code_match.end())
    if code_match is None or end is None:
        return Reply(None, text.strip())
    quick: str | None = None
    quick_match = _QUICK_PREFIX.match(normalised, end) if quick_allowed else None
    if quick_match is not None:
        quick_end = cut(quick_match.end("n"), quick_match.end())
        if quick_end is not None:
            quick = f"T{int(quick_match['n'])}"
            end = quick_end
    return Reply(int(code_match["code"]), text[original_index[end] :].strip(), quick)
