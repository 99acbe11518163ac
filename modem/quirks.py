"""Modem quirks as data (STYLE habit 9, after gammu's ``F_*`` feature flags and per-model table).

:class:`Quirks` is a frozen record of documented deviations from 3GPP 27.005/27.007; its defaults
are the standard behaviour. :data:`MODELS` says which models deviate how, each entry naming where
the fact comes from. :func:`lookup` picks the entry for the ``+CGMI``/``+CGMM`` strings a modem
reports; :func:`override` applies a config mapping on top.

It must never: hold code paths (the session reads flags; no ``if manufacturer == ...`` anywhere
else); do I/O or import asyncio; accept an unknown flag name or a value of the wrong type in
silence (:class:`QuirkConfigError` names the flag, never the value).
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, Union, get_args, get_origin, get_type_hints

from .errors import ModemError
from .storages import PREFERABLE


class QuirkConfigError(ModemError, ValueError):
    """A quirk override names an unknown flag or gives it a value of the wrong type."""


@dataclass(frozen=True)
class Quirks:
    """What a modem does differently; every default is the 27.005/27.007 behaviour."""

    # First index of SMS storage in +CMTI/+CMGL/+CMGR/+CMGD (gammu F_SMS_LOCATION_0 when 0).
    storage_index_base: int = 1
    # Unsolicited lines can arrive between a command's echo and its final result.
    urcs_inside_responses: bool = False
    # Extra unsolicited prefixes beyond 27.005/27.007 (+CMTI, +CDS, …) to read as URCs.
    extra_urc_prefixes: tuple[str, ...] = ()
    # Command that silences periodic vendor URCs (sent once after start), if there is one.
    periodic_urcs_off_command: str | None = None
    # A final result "COMMAND NOT SUPPORT" means ERROR.
    command_not_support_result: bool = False
    # AT+CMMS (keep the relay link open between the parts of a long message) is accepted:
    # =2 once per session where the modem takes it, else =1 before each long message.
    cmms_supported: bool = True
    # Values accepted for the <mt> and <ds> parameters of AT+CNMI.
    cnmi_mt_modes: frozenset[int] = frozenset({0, 1, 2, 3})
    cnmi_ds_modes: frozenset[int] = frozenset({0, 1, 2})
    # With <ds>=2 the +CDSI index/memory does not point at the stored report: use <ds>=1 (+CDS).
    cdsi_location_unreliable: bool = False
    # One received SMS may be stored (and announced) twice.
    duplicate_deliveries: bool = False
    # Character set in force before any AT+CSCS (matters only for text-mode fields).
    default_charset: Literal["GSM", "IRA", "UCS2"] = "GSM"
    # AT+COPS=? (network scan) takes minutes, not seconds: give it its own long timeout.
    slow_cops_scan: bool = False
    # AT+CMGL in PDU mode wants the text form of <stat> ("ALL") rather than the number (4).
    cmgl_text_stat_in_pdu: bool = False
    # AT+CMGD=<index>,<delflag> (delete by status) is supported.
    cmgd_delflag_supported: bool = True
    # AT+CFUN=1,1 (reset) is supported.
    cfun_reset_supported: bool = True
    # Highest serial speed worth configuring (USB CDC ports ignore it).
    max_baud: int = 115200
    # ATE0 turns the echo off.
    echo_off_works: bool = True
    # SMS memories to set at start (AT+CPMS mem1 read/delete, mem2 write, mem3 receive), each
    # "SM", "ME" or "MT"; where the modem does not list one, it gets one it lists. The default
    # is the SIM: every GSM module has it, it is non-volatile, and most ship with it (27.005).
    preferred_storages: tuple[str, str, str] = ("SM", "SM", "SM")
    # Command that sends URCs (+CMTI, +CDS) to the AT port the driver listens on, sent once
    # after start: a module may route them to another of its USB ports (Quectel urcport).
    urc_port_command: str | None = None
    # Lines the module prints once SMS commands work (SIMCom "SMS DONE"): before that it
    # refuses them with ERROR. If an SMS command is refused at start, the driver waits for
    # one of these lines, at most ``sms_ready_timeout`` seconds, before setting SMS up.
    sms_ready_lines: tuple[str, ...] = ()
    sms_ready_timeout: int = 60


DEFAULTS: Final = Quirks()

_FIELD_TYPES: Final[dict[str, object]] = get_type_hints(Quirks)


@dataclass(frozen=True)
class ModelEntry:
    """One row of the table: which modems (regexes searched case-insensitively), how, and why."""

    name: str
    manufacturer: re.Pattern[str]
    model: re.Pattern[str]
    quirks: Quirks
    source: str

    def matches(self, manufacturer: str, model: str) -> bool:
        return bool(self.manufacturer.search(manufacturer) and self.model.search(model))


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_QUECTEL_URCPORT: Final = 'AT+QURCCFG="urcport","usbat"'
_QUECTEL_URCPORT_SOURCE: Final = (
    'Quectel AT manual AT+QURCCFG (test answer +QURCCFG: "urcport",("usbat","usbmodem",'
    '"uart1")), as transcribed in github.com/CursedHardware/at-manual '
    "content/docs/quectel/general-commands.md"
)

# The Quectel EC2x/EG2x family (EC20, EC25, EG25): one firmware line, one set of deviations.
_QUECTEL_EC2X: Final = Quirks(
    storage_index_base=0,
    cdsi_location_unreliable=True,
    preferred_storages=("ME", "ME", "ME"),
    urc_port_command=_QUECTEL_URCPORT,
)

MODELS: Final[tuple[ModelEntry, ...]] = (
    ModelEntry(
        name="SIMCom SIM800",
        manufacturer=_re(r"simcom"),
        model=_re(r"sim800"),
        quirks=Quirks(cnmi_ds_modes=frozenset({0, 1})),
        source=(
            "github.com/faucamp/python-gsmmodem issue #60 (SIM800L: AT+CNMI=? gives "
            "(0-3),(0-3),(0,2),(0,1),(0,1); AT+CNMI=2,1,0,2 fails, 2,1,0,1 works), pointing to "
            "SIM800 Series AT Command Manual V1.01 §AT+CNMI"
        ),
    ),
    ModelEntry(
        name="SIMCom A7670",
        manufacturer=_re(r"simcom"),
        model=_re(r"a76[0-9]{2}"),
        quirks=Quirks(
            cnmi_ds_modes=frozenset({0, 2}),
            extra_urc_prefixes=("*ATREADY:", "SMS DONE"),
            duplicate_deliveries=True,
            sms_ready_lines=("SMS DONE",),
        ),
        source=(
            "github.com/morgverd/sms-server issue #12 (A7670X rejects AT+CNMI=2,2,0,1,0, "
            "accepts 2,2,0,0,0: <ds>=1 refused; <ds>=2 unverified); "
            "github.com/Xinyuan-LilyGO/LilyGo-Modem-Series #247 (start-up lines '*ATREADY: 1', "
            "'SMS DONE'; before 'SMS DONE' AT+CMGF=1 and AT+CMGS answer ERROR), #138 ('SMS "
            "DONE' then 'PB DONE') and #155 (A7670E-LASE stores one SMS twice: +CMTI \"SM\",3 "
            "and 4)"
        ),
    ),
    ModelEntry(
        name="SIMCom SIM7600",
        manufacturer=_re(r"simcom"),
        model=_re(r"sim7600"),
        quirks=Quirks(sms_ready_lines=("SMS DONE",)),
        source=(
            "github.com/Xinyuan-LilyGO/T-SIM7600X PR #41 and espressif/esp-protocols issue #789 "
            "(power-up lines RDY, +CPIN: READY, SMS DONE, PB DONE); that SMS commands are "
            "refused before SMS DONE is carried over from the A7670 (same vendor), unverified"
        ),
    ),
    ModelEntry(
        name="Quectel EC25",
        manufacturer=_re(r"quectel"),
        model=_re(r"ec25"),
        quirks=_QUECTEL_EC2X,
        source=(
            f"{_QUECTEL_URCPORT_SOURCE}; "
            "github.com/MengMengCode/VoCat issue #121 (EC25 stores SMS at ME index 0; "
            "AT+CMGD=0 works) and ARMmbed/mbed-os PR #11249 (Quectel BG96 indexes from 0); "
            "IchthysMaranatha/asterisk-chan-quectel PR #75 (EC25/EG25 with <ds>=2 announce "
            'reports as +CDSI: "SM",0 while storing them in "SR": use <ds>=1; and AT+CMGR=0 on '
            '"SM" then reads "an unrelated message that happens to sit in slot 0": received SMS '
            'are kept out of "SM", in "ME", where VoCat #121 reads and deletes them)'
        ),
    ),
    ModelEntry(
        name="Quectel EG25",
        manufacturer=_re(r"quectel"),
        model=_re(r"eg25"),
        quirks=_QUECTEL_EC2X,
        source=(
            f"{_QUECTEL_URCPORT_SOURCE}; IchthysMaranatha/asterisk-chan-quectel PR #75 (EC25/EG25 "
            "announce reports as +CDSI pointing at the wrong memory: use <ds>=1); storage from "
            "ME index 0 carried over from the EC25 (same EC2x/EG2x firmware family), unverified"
        ),
    ),
    ModelEntry(
        name="Quectel EC200U",
        manufacturer=_re(r"quectel"),
        model=_re(r"ec200u"),
        quirks=Quirks(urc_port_command=_QUECTEL_URCPORT),
        source=(
            f"{_QUECTEL_URCPORT_SOURCE} (a general Quectel command; on the EC200U's UNISOC "
            "platform storage and +CDSI behaviour are not known to deviate)"
        ),
    ),
    ModelEntry(
        name="Quectel EC20",
        manufacturer=_re(r"quectel"),
        model=_re(r"ec20(?![0-9])"),
        quirks=_QUECTEL_EC2X,
        source=(
            f"{_QUECTEL_URCPORT_SOURCE}; storage from ME index 0 and +CDSI carried over from the "
            "EC25 (the Quectel EC25&EC21 AT manual covers the same EC2x firmware), unverified"
        ),
    ),
    ModelEntry(
        name="Huawei ME909s",
        manufacturer=_re(r"huawei"),
        model=_re(r"me909"),
        quirks=Quirks(
            urcs_inside_responses=True,
            extra_urc_prefixes=("^RSSI:", "^BOOT:", "^MODE:", "^HCSQ:", "^SRVST:", "^SIMST:"),
            periodic_urcs_off_command="AT^CURC=0",
        ),
        source=(
            "ATI of an ME909s-821 (Manufacturer: Huawei Technologies Co., Ltd.) in "
            "github.com/4IceG/luci-app-modemband issue #2; ModemManager plugins/huawei "
            "(unsolicited ^RSSI, ^MODE, ^HCSQ, ^SRVST, ^SIMST handlers for the Huawei family) and "
            "github.com/kowalczykrafal/sms_gateway HUAWEI_E3372_FIXES.md (AT^CURC=0 stops the "
            "periodic lines); that the ME909s needs ^CURC=0 in particular is unverified"
        ),
    ),
    ModelEntry(
        name="Huawei E3372",
        manufacturer=_re(r"huawei"),
        model=_re(r"e3372"),
        quirks=Quirks(
            urcs_inside_responses=True,
            extra_urc_prefixes=("^RSSI:", "^BOOT:", "^MODE:", "^DSFLOWRPT:"),
            periodic_urcs_off_command="AT^CURC=0",
            command_not_support_result=True,
        ),
        source=(
            "ModemManager plugins/huawei/mm-broadband-modem-huawei.c (unsolicited ^RSSI, ^MODE, "
            "^DSFLOWRPT, ^BOOT handlers); ModemManager src/mm-serial-parsers.c (COMMAND NOT "
            "SUPPORT read as an error result; tying it to the E3372 in particular is unverified); "
            "github.com/kowalczykrafal/sms_gateway HUAWEI_E3372_FIXES.md (AT^CURC=0 stops "
            "periodic status lines that made AT+CSQ time out)"
        ),
    ),
)


def find_entry(manufacturer: str, model: str) -> ModelEntry | None:
    """The first table row matching the ``+CGMI``/``+CGMM`` strings, or None."""
    manufacturer, model = manufacturer.strip(), model.strip()
    return next((entry for entry in MODELS if entry.matches(manufacturer, model)), None)


def lookup(manufacturer: str, model: str) -> Quirks:
    """Quirks for a modem as it names itself; an unknown modem gets :data:`DEFAULTS`."""
    entry = find_entry(manufacturer, model)
    return DEFAULTS if entry is None else entry.quirks


def override(quirks: Quirks, mapping: Mapping[str, object]) -> Quirks:
    """``quirks`` with config values applied: ``{"storage_index_base": 0, …}``.

    Raises :class:`QuirkConfigError` naming the first unknown flag or wrongly typed value.
    Lists are accepted for the ``cnmi_*`` sets, ``extra_urc_prefixes`` and
    ``preferred_storages``.
    """
    changes: dict[str, object] = {}
    for name, value in mapping.items():
        if name not in _FIELD_TYPES:
            known = ", ".join(sorted(_FIELD_TYPES))
            raise QuirkConfigError(f"unknown modem quirk {name!r} (known: {known})")
        changes[name] = _coerce(name, value)
    return dataclasses.replace(quirks, **changes)  # type: ignore[arg-type]


def _coerce(name: str, value: object) -> object:
    kind = _FIELD_TYPES[name]
    origin, args = get_origin(kind), get_args(kind)

    def wrong(expected: str) -> QuirkConfigError:
        return QuirkConfigError(f"modem quirk {name!r} wants {expected}")

    if kind is bool:
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise wrong("a whole number >= 0")
        return value
    if origin is frozenset and args == (int,):
        if not isinstance(value, list | tuple | set | frozenset) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise wrong("a list of whole numbers")
        return frozenset(value)
    if origin is tuple and args == (str, str, str):  # preferred_storages
        memories = value if isinstance(value, list | tuple) else ()
        if len(memories) != 3 or not all(m in PREFERABLE for m in memories):
            raise wrong("three SMS memories [read, write, receive], each SM, ME or MT")
        return tuple(memories)
    if origin is tuple and args == (str, ...):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise wrong("a list of strings")
        return tuple(value)
    if origin in (Union, types.UnionType) and set(args) == {str, type(None)}:
        if value is not None and not isinstance(value, str):
            raise wrong("a string or null")
        return value
    if origin is Literal:
        if value not in args:
            raise wrong("one of " + ", ".join(map(str, args)))
        return value
    raise AssertionError(f"quirk {name!r} has a type override() does not know")  # pragma: no cover


def non_default_flags(quirks: Quirks) -> dict[str, object]:
    """The flags that differ from :data:`DEFAULTS` (for logs and the table's own tests)."""
    return {
        f.name: getattr(quirks, f.name)
        for f in dataclasses.fields(Quirks)
        if getattr(quirks, f.name) != getattr(DEFAULTS, f.name)
    }
