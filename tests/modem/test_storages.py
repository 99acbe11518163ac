"""SMS memories: +CPMS=? and +CMTI as real modules write them, the choices, and mem1 switching.

The pure parts (:mod:`smscat.modem.storages`) are fed the answers of real modules (the corpus,
and the ModemManager test vectors that come from real devices), then Hypothesis-made ones. The
:class:`Inbox` is driven against a fake of a module that takes ``AT+CPMS`` only with all three
memories (gammu issues #829 and #908), a behaviour the simulator does not have.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.modem.atparser import Unsolicited
from smscat.modem.device import Modem
from smscat.modem.errors import CmsError, CommandError
from smscat.modem.inbox import Inbox
from smscat.modem.quirks import DEFAULTS, QuirkConfigError, Quirks, lookup, override
from smscat.modem.session import AtSession
from smscat.modem.storages import (
    LAST_RESORT,
    Offered,
    attempts,
    choose,
    parse_cmti,
    parse_current,
    parse_offered,
    set_command,
    sweep_memories,
)

CORPUS = Path(__file__).parent / "corpus"

# Every AT+CPMS=? capture in the corpus, and the memories a sweep lists on that module.
SWEPT_ON: dict[str, tuple[str, ...] | None] = {
    "alcatel-s320/cpms-test": ("SM", "ME"),  # SM_P, ME_P and MT are views of these two
    "cinterion-mc75i/cpms-test": ("SM",),  # ME is never a receive memory there (gammu #1206)
    "huawei-e3372-brovi/cpms-test": ("SM", "ME"),
    "huawei-k3715/cpms-test": ("ME", "SM"),  # SR holds reports
    "samsung-j700/cpms-test": None,  # "+CPMS: " names nothing: mem1 as it is
    "simcom-sim7600/cpms-test": ("ME", "SM"),
}


def _cpms_test_captures() -> dict[str, list[str]]:
    found = {}
    for path in sorted(CORPUS.rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc["command"] == "AT+CPMS=?":
            infos = [str(e[1]) for e in doc["events"] if e[0] == "Info"]
            found[str(path.relative_to(CORPUS).with_suffix(""))] = infos
    return found


CAPTURES = _cpms_test_captures()


def test_every_cpms_capture_in_the_corpus_is_classified() -> None:
    assert set(CAPTURES) == set(SWEPT_ON)


@pytest.mark.parametrize("name", sorted(SWEPT_ON))
def test_the_memories_swept_on_real_modules(name: str) -> None:
    offered = parse_offered(CAPTURES[name])
    swept = None if offered is None else sweep_memories(offered)
    assert swept == SWEPT_ON[name]


# ModemManager's src/tests/test-modem-helpers.c (test_cpms_response_*): answers real modules
# gave, "different sets for each on purpose, even if weird".
@pytest.mark.parametrize(
    ("line", "offered"),
    [
        (  # Cinterion
            '+CPMS: ("ME","MT"),("ME","SM","MT"),("SM","MT")',
            Offered(("ME", "MT"), ("ME", "SM", "MT"), ("SM", "MT")),
        ),
        ('+CPMS: "ME","MT","SM"', Offered(("ME",), ("MT",), ("SM",))),  # Huawei MU609: no lists
        ('+CPMS: ("ME","MT"),"ME",("SM")', Offered(("ME", "MT"), ("ME",), ("SM",))),
        (
            '+CPMS:     (  "ME"  ,  "MT"  )   ,  "ME" ,   (  "SM"  )',
            Offered(("ME", "MT"), ("ME",), ("SM",)),
        ),
        ("+CPMS: (),(),()", None),  # Nokia C6
        ("+CPMS: (),,(  )", None),
        ('+CPMS: ("SM")', Offered(("SM",))),  # a 2G module that lists mem1 only
        ("+CPMS: (SM,ME),(SM,ME),(SM)", Offered(("SM", "ME"), ("SM", "ME"), ("SM",))),
        ('+cpms: ("sm","me"),("sm"),("sm")', Offered(("SM", "ME"), ("SM",), ("SM",))),
        ("OK", None),
    ],
)
def test_cpms_test_answers_in_every_shape(line: str, offered: Offered | None) -> None:
    assert parse_offered([line]) == offered


MEMORY = st.sampled_from(["SM", "ME", "MT", "SR", "BM", "SM_P", "ME_P"])
MEMORY_LIST = st.lists(MEMORY, min_size=1, max_size=5, unique=True)


@st.composite
def cpms_test_lines(draw: st.DrawFn) -> tuple[str, tuple[tuple[str, ...], ...]]:
    """An AT+CPMS=? answer in one of the shapes modules use, and the lists it carries."""
    lists = draw(st.lists(MEMORY_LIST, min_size=1, max_size=3))
    sep = draw(st.sampled_from([",", ", ", " , "]))
    groups = []
    for names in lists:
        quoted = sep.join(f'"{n}"' for n in names)
        bare = len(names) == 1 and draw(st.booleans())  # ("SM") or just "SM"
        groups.append(quoted if bare else f"({quoted})")
    return "+CPMS: " + sep.join(groups), tuple(tuple(names) for names in lists)


def test_only_a_combined_view_receiving_still_sweeps_the_plain_memories() -> None:
    """Hypothesis found it: mem3 offers only "MT" while "SM" and "ME" can be read."""
    offered = parse_offered(['+CPMS: ("SM","MT"),("SM"),("MT")', "OK"])
    assert offered is not None
    assert sweep_memories(offered) == ("SM",)


@given(cpms_test_lines())
def test_any_cpms_test_answer_gives_back_its_lists(
    case: tuple[str, tuple[tuple[str, ...], ...]],
) -> None:
    line, lists = case
    offered = parse_offered(["", line, "OK"])
    assert offered is not None
    padded = (*lists, (), ())[:3]
    assert (offered.read, offered.write, offered.receive) == padded
    assert offered.parameters == len(lists)
    swept = sweep_memories(offered)
    assert not {"SR", "BM"} & set(swept)
    assert set(swept) <= set(offered.read)
    if {"SM", "ME"} & set(offered.read) - {"SR", "BM"}:
        assert not {"MT", "SM_P", "ME_P"} & set(swept)  # no view aliasing a plain memory


@given(st.text(max_size=60))
def test_no_text_breaks_the_parsers(text: str) -> None:
    parse_offered([text])
    parse_current([text])
    parse_cmti(text)


@pytest.mark.parametrize(
    ("line", "location"),
    [
        ('+CMTI: "ME",3', ("ME", 3)),
        ('+CMTI: "SM",0', ("SM", 0)),
        ("+CMTI: SM,12", ("SM", 12)),
        ('+CMTI: "MT", 7', ("MT", 7)),
        ('+CMTI: "sm",1', ("SM", 1)),
        ('+CMTI: "",4', (None, 4)),
        ("+CMTI: ,4", (None, 4)),
        ('+CMTI: "SM"', None),
        ('+CMT: "",24', None),
    ],
)
def test_cmti_names_memory_and_index(line: str, location: tuple[str | None, int] | None) -> None:
    assert parse_cmti(line) == location


@given(
    memory=st.sampled_from(["SM", "ME", "MT", "SR", "SM_P"]),
    index=st.integers(0, 65535),
    quote=st.booleans(),
    space=st.sampled_from(["", " "]),
)
def test_any_cmti_gives_back_its_memory_and_index(
    memory: str, index: int, quote: bool, space: str
) -> None:
    shown = f'"{memory}"' if quote else memory
    urc = Unsolicited("+CMTI", f"+CMTI: {shown},{space}{index}")
    assert Inbox.notified_location(urc) == (memory, index)
    assert Inbox.notified_index(urc) == index


def test_the_current_storages_from_cpms_query() -> None:
    assert parse_current(['+CPMS: "ME",0,23,"ME",0,23,"SM",1,50']) == ("ME", "ME", "SM")
    assert parse_current(["+CPMS: ,,,,,,,,"]) is None  # Nokia N79 (corpus)
    assert parse_current(["+CPMS: 0,23,0,23,1,50"]) is None  # a set's answer names none


SIM7600 = Offered(("ME", "MT", "SM", "SR"), ("ME", "MT", "SM"), ("ME", "SM"))
MC75I = Offered(("ME", "SM", "MT"), ("ME", "SM", "MT"), ("SM", "MT"))


@pytest.mark.parametrize(
    ("preferred", "offered", "chosen"),
    [
        (("SM", "SM", "SM"), SIM7600, ("SM", "SM", "SM")),
        (("ME", "ME", "ME"), SIM7600, ("ME", "ME", "ME")),
        (("ME", "ME", "ME"), MC75I, ("ME", "ME", "SM")),  # ME is no receive memory there
        (("MT", "MT", "MT"), SIM7600, ("MT", "MT", "SM")),
        (("ME", "ME", "ME"), Offered(("SM",)), ("SM",)),  # a 2G module: one memory, mem1 only
        (("ME", "ME", "ME"), Offered(("SM",), ("SM",)), ("SM", "SM")),
        (("ME", "ME", "ME"), None, ("ME", "ME", "ME")),  # not listed: the modem will say
    ],
)
def test_the_preference_fitted_to_what_the_modem_lists(
    preferred: tuple[str, str, str], offered: Offered | None, chosen: tuple[str, ...]
) -> None:
    assert choose(preferred, offered) == chosen
    tries = attempts(preferred, offered)
    assert tries[0] == chosen
    assert tries[-1] == LAST_RESORT[: len(chosen)]  # the SIM, when all else is refused
    assert len(tries) == len(set(tries))


def test_set_command() -> None:
    assert set_command(["ME"]) == 'AT+CPMS="ME"'
    assert set_command(("ME", "ME", "SM")) == 'AT+CPMS="ME","ME","SM"'


# -- the quirk ------------------------------------------------------------------------------


def test_the_standard_preference_is_the_sim_and_the_ec25_keeps_sms_in_me() -> None:
    assert DEFAULTS.preferred_storages == ("SM", "SM", "SM")
    assert lookup("Quectel", "EC25").preferred_storages == ("ME", "ME", "ME")


def test_preferred_storages_from_config() -> None:
    quirks = override(Quirks(), {"preferred_storages": ["ME", "ME", "SM"]})
    assert quirks.preferred_storages == ("ME", "ME", "SM")


@pytest.mark.parametrize(
    "value", [["ME", "ME"], ["ME", "ME", "SR"], "ME", ["me", "me", "me"], [1, 2, 3], None]
)
def test_preferred_storages_must_be_three_memories(value: object) -> None:
    with pytest.raises(QuirkConfigError, match="'preferred_storages' wants three SMS memories"):
        override(Quirks(), {"preferred_storages": value})


# -- mem1 switching against a module that wants all three memories ----------------------------


class BroviE3372:
    """AT+CPMS as the Brovi E3372-325 answers it (gammu issue #908): all three or ERROR."""

    OFFERS = '+CPMS: ("SM","ME"),("SM","ME"),("SM","ME")'

    def __init__(self, cpms: tuple[str, str, str]) -> None:
        self.cpms = cpms
        self.sent: list[str] = []

    async def command(self, command: str, *, timeout: float | None = None) -> list[str]:
        self.sent.append(command)
        if command == "AT+CPMS=?":
            return [self.OFFERS]
        if command == "AT+CPMS?":
            return ["+CPMS: " + ",".join(f'"{m}",0,50' for m in self.cpms)]
        if command.startswith("AT+CPMS="):
            memories = tuple(m.strip('"') for m in command.removeprefix("AT+CPMS=").split(","))
            if len(memories) != 3 or not set(memories) <= {"SM", "ME"}:
                raise CommandError(command, "ERROR")
            self.cpms = (memories[0], memories[1], memories[2])
            return ["+CPMS: 0,50,0,50,0,50"]
        if command.startswith(("AT+CMGL", "AT+CMGR", "AT+CMGD")):
            return []
        raise CommandError(command, "ERROR")


async def test_mem1_alone_refused_then_all_three_with_mem2_and_mem3_kept() -> None:
    modem = BroviE3372(("SM", "SM", "SM"))
    inbox = Inbox(cast(AtSession, modem))
    assert await inbox.memories() == ("SM", "ME")
    await inbox.select("ME")
    assert modem.cpms == ("ME", "SM", "SM")  # new SMS still go to SM
    assert modem.sent[-3:] == ['AT+CPMS="ME"', "AT+CPMS?", 'AT+CPMS="ME","SM","SM"']
    await inbox.select("ME")  # already selected: nothing sent
    await inbox.read(1, "SM")  # the long form straight away now
    assert modem.sent[-2:] == ['AT+CPMS="SM","SM","SM"', "AT+CMGR=1"]
    assert inbox.mem1 == "SM"


async def test_a_memory_the_modem_refuses_is_an_error_and_mem1_is_then_unknown() -> None:
    modem = BroviE3372(("SM", "SM", "SM"))
    inbox = Inbox(cast(AtSession, modem))
    await inbox.select("SM")
    with pytest.raises(CommandError):
        await inbox.select("XX")
    assert inbox.mem1 is None
    await inbox.delete(3, "SM")  # selected again before the delete
    assert modem.sent[-2:] == ['AT+CPMS="SM","SM","SM"', "AT+CMGD=3"]


async def test_cmgl_with_the_text_stat_where_the_quirk_says_so() -> None:
    modem = BroviE3372(("SM", "SM", "SM"))
    await Inbox(cast(AtSession, modem)).sweep()
    await Inbox(cast(AtSession, modem), Quirks(cmgl_text_stat_in_pdu=True)).sweep()
    assert [c for c in modem.sent if c.startswith("AT+CMGL")] == ["AT+CMGL=4", 'AT+CMGL="ALL"']


# -- initialise when the modem refuses -------------------------------------------------------


class RefusingModule:
    """A module that lists no memories (AT+CPMS=? ERROR) and refuses those in ``refused``."""

    def __init__(self, refused: set[str]) -> None:
        self.refused = refused
        self.cpms: tuple[str, ...] | None = None
        self.sent: list[str] = []

    async def command(self, command: str, *, timeout: float | None = None) -> list[str]:
        self.sent.append(command)
        if command == "AT+CPMS=?":
            raise CommandError(command, "ERROR")
        if command.startswith("AT+CPMS="):
            memories = tuple(m.strip('"') for m in command.removeprefix("AT+CPMS=").split(","))
            if set(memories) & self.refused:
                raise CmsError(command, "+CMS ERROR: 302", 302)
            self.cpms = memories
            return ["+CPMS: 0,20,0,20,0,20"]
        return ["Acme"] if command in ("AT+CGMI", "AT+CGMM") else []


async def test_a_refused_preference_falls_back_to_the_sim_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    module = RefusingModule({"ME"})
    modem = Modem(cast(AtSession, module), {"preferred_storages": ["ME", "ME", "ME"]})
    with caplog.at_level(logging.WARNING, logger="smscat.modem.device"):
        await modem.initialise()
    assert module.cpms == ("SM", "SM", "SM")
    assert modem.storages == ("SM", "SM", "SM")
    [warning] = caplog.records
    assert "ME,ME,ME" in warning.getMessage()
    assert "302" in warning.getMessage()
    assert module.sent.index('AT+CPMS="SM","SM","SM"') < module.sent.index("AT+CNMI=2,1,0,0,0")


async def test_when_every_storage_is_refused_the_start_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    module = RefusingModule({"SM", "ME"})
    modem = Modem(cast(AtSession, module), {"preferred_storages": ["ME", "ME", "ME"]})
    with caplog.at_level(logging.WARNING, logger="smscat.modem.device"):
        await modem.initialise()
    assert module.cpms is None
    assert modem.storages is None
    assert len(caplog.records) == 3  # two refusals, then: left as they are
    assert "AT+CMMS=2" in module.sent  # the rest of the start went on
