"""SMS memories (27.005 +CPMS): what a modem offers, which to set, which to sweep, what +CMTI names.

A modem keeps received SMS in one of several memories: "SM" (the SIM), "ME" (the module's own),
combined views of both ("MT"; SIM800's "SM_P"/"ME_P"), "SR" for status reports and "BM" for
cell broadcasts. ``AT+CPMS`` chooses three of them: mem1 (list, read, delete), mem2 (write,
send from storage) and mem3 (where new SMS are stored, and what +CMTI names). Modules keep that
choice across power cycles, so a driver meets whatever the last program set.

Pure: parses ``AT+CPMS=?``/``AT+CPMS?`` answers and +CMTI lines and makes the choices; never
does I/O or imports asyncio. A reply it cannot read gives None: the caller falls back, it is
never guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

SIM: Final = "SM"
PHONE: Final = "ME"
# The two plain memories that hold SMS; the ones a preference may name besides "MT".
PLAIN: Final = (SIM, PHONE)
PREFERABLE: Final = (SIM, PHONE, "MT")
# Memories that never hold a received SMS-DELIVER: status reports, cell broadcasts.
NOT_SMS: Final = frozenset({"SR", "BM"})
# Views over SM and ME together: their indexes alias the plain ones, so listing them too would
# offer each message twice (ModemManager skips "MT" when other memories are listed, likewise).
COMBINED: Final = frozenset({"MT", "SM_P", "ME_P"})
# What to set when the preference is refused: the SIM, which every GSM module has.
LAST_RESORT: Final = (SIM, SIM, SIM)

_CMTI = re.compile(r'\+CMTI:\s*(?:"([^"]*)"|([A-Za-z_]*))\s*,\s*(\d+)')
_QUOTED = re.compile(r'"([^"]*)"')


@dataclass(frozen=True, slots=True)
class Offered:
    """The memories ``AT+CPMS=?`` lists for mem1, mem2 and mem3 (upper case, in its order).

    A list the modem left out is empty (a 2G module may answer with the first list only).
    """

    read: tuple[str, ...]
    write: tuple[str, ...] = ()
    receive: tuple[str, ...] = ()

    @property
    def parameters(self) -> int:
        """How many memories ``AT+CPMS=`` takes here: one per list the modem gave (at most 3)."""
        return 1 + bool(self.write or self.receive) + bool(self.receive)


def parse_offered(lines: Iterable[str]) -> Offered | None:
    """``+CPMS: ("SM","ME","SR"),("SM","ME"),("SM","ME")`` → :class:`Offered`, or None.

    Takes parenthesised lists and bare quoted names alike (Huawei MU609 answers
    ``+CPMS: "ME","MT","SM"``), with or without spaces. None when no line names a memory
    for mem1 (Samsung's empty ``+CPMS:``, Nokia's ``(),(),()``).
    """
    for line in lines:
        body = line.strip()
        if not body.upper().startswith("+CPMS:"):
            continue
        groups = [_names(group) for group in _top_level_groups(body[len("+CPMS:") :])[:3]]
        groups += [()] * (3 - len(groups))
        if groups[0]:
            return Offered(groups[0], groups[1], groups[2])
    return None


def _top_level_groups(text: str) -> list[str]:
    """Split at the commas outside parentheses and quotes."""
    groups: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth = max(depth - 1, 0)
        elif not quoted and depth == 0 and char == ",":
            groups.append("".join(current))
            current = []
            continue
        current.append(char)
    groups.append("".join(current))
    return groups


def _names(group: str) -> tuple[str, ...]:
    quoted = _QUOTED.findall(group)
    raw = quoted if quoted else re.split(r"[\s,()]+", group)
    names: list[str] = []
    for name in raw:
        name = name.strip().upper()
        if name and name not in names:
            names.append(name)
    return tuple(names)


def parse_current(lines: Iterable[str]) -> tuple[str, ...] | None:
    """``+CPMS: "ME",0,23,"ME",0,23,"SM",1,50`` (``AT+CPMS?``) → ("ME", "ME", "SM"), or None."""
    for line in lines:
        if line.strip().upper().startswith("+CPMS:"):
            names = tuple(name.strip().upper() for name in _QUOTED.findall(line))
            return names if names and all(names) else None
    return None


def parse_cmti(line: str) -> tuple[str | None, int] | None:
    """``+CMTI: "ME",3`` → ("ME", 3); the memory is None where the line names none."""
    match = _CMTI.match(line.strip())
    if match is None:
        return None
    memory = (match[1] if match[1] is not None else match[2]).strip().upper()
    return (memory or None), int(match[3])


def choose(preferred: Sequence[str], offered: Offered | None) -> tuple[str, ...]:
    """The storages to set: ``preferred`` where the modem lists them, else what it does list.

    A position whose list is empty takes the mem1 list's word; with nothing offered at all the
    preference goes as it is (the modem's answer to ``AT+CPMS=`` decides). The result has as
    many memories as the modem takes (:attr:`Offered.parameters`).
    """
    if offered is None:
        return tuple(preferred)
    lists = (offered.read, offered.write or offered.read, offered.receive or offered.read)
    chosen = []
    for want, listed in zip(preferred, lists, strict=True):
        if want in listed:
            chosen.append(want)
        else:
            usable = [m for m in (*PLAIN, *listed) if m in listed and m not in NOT_SMS]
            chosen.append(usable[0] if usable else want)
    return tuple(chosen[: offered.parameters])


def attempts(preferred: Sequence[str], offered: Offered | None) -> list[tuple[str, ...]]:
    """What to try, in order, until the modem takes one: the choice, then the SIM everywhere."""
    first = choose(preferred, offered)
    resort = LAST_RESORT[: len(first)]
    return [first] if first == resort else [first, resort]


def sweep_memories(offered: Offered) -> tuple[str, ...]:
    """The memories to list for received SMS, in the modem's order.

    From the mem1 list (what can be read): never status reports or broadcasts, and where the
    modem says which memories receive SMS, only those. A combined view ("MT") only when no
    plain memory is readable, as on a module that offers nothing else: where only "MT"
    receives but "SM" and "ME" can be read, those two are listed (MT would show each SMS
    again beside them).
    """
    readable = [m for m in offered.read if m not in NOT_SMS]
    receiving = [m for m in readable if m in offered.receive]
    candidates = receiving or readable
    plain = [m for m in candidates if m not in COMBINED]
    if not plain:  # only a combined view receives: the plain memories it shows are readable
        plain = [m for m in readable if m not in COMBINED]
    return tuple(plain or candidates)


def set_command(memories: Sequence[str]) -> str:
    """``AT+CPMS="ME","ME","SM"`` (one memory sets mem1 alone)."""
    return "AT+CPMS=" + ",".join(f'"{m}"' for m in memories)
