"""The quirk table: its invariants, lookups with real +CGMI/+CGMM strings, config overrides."""

from __future__ import annotations

import dataclasses

import pytest

from smscat.modem.errors import ModemError
from smscat.modem.quirks import (
    DEFAULTS,
    MODELS,
    ModelEntry,
    QuirkConfigError,
    Quirks,
    find_entry,
    lookup,
    non_default_flags,
    override,
)


@pytest.mark.parametrize("entry", MODELS, ids=lambda e: e.name)
def test_every_entry_deviates_and_says_where_that_is_written(entry: ModelEntry) -> None:
    assert non_default_flags(entry.quirks)
    assert len(entry.source) > 20


def test_table_names_are_unique_and_cover_the_deployed_models() -> None:
    names = [e.name for e in MODELS]
    assert len(names) == len(set(names))
    assert {"SIMCom SIM800", "SIMCom A7670", "Quectel EC25", "Huawei E3372"} <= set(names)


@pytest.mark.parametrize(
    ("cgmi", "cgmm", "name"),
    [
        ("SIMCOM_Ltd", "SIMCOM_SIM800", "SIMCom SIM800"),
        ("SIMCOM_Ltd", "SIMCOM_SIM800L", "SIMCom SIM800"),
        ("SIMCOM INCORPORATED", "A7670E-LASE", "SIMCom A7670"),
        ("SIMCOM INCORPORATED", "A7670G-LLSE", "SIMCom A7670"),
        ("Quectel", "EC25", "Quectel EC25"),
        ("QUECTEL", " ec25 ", "Quectel EC25"),
        ("huawei", "E3372", "Huawei E3372"),
        ("HUAWEI", "E3372h-153", "Huawei E3372"),
        # as the real modules report them (sources in hw-sim/modules.py and the corpus)
        ("Quectel", "EG25", "Quectel EG25"),
        ("Quectel", "EC20F", "Quectel EC20"),
        ("Quectel", "EC200U", "Quectel EC200U"),
        ("SIMCOM INCORPORATED", "A7670E-LNXY-UBL", "SIMCom A7670"),
        ("SIMCOM INCORPORATED", "SIMCOM_SIM7600G-H", "SIMCom SIM7600"),
        ("Huawei Technologies Co., Ltd.", "ME909s-821", "Huawei ME909s"),
    ],
)
def test_lookup_with_strings_modems_really_report(cgmi: str, cgmm: str, name: str) -> None:
    entry = find_entry(cgmi, cgmm)
    assert entry is not None
    assert entry.name == name
    assert lookup(cgmi, cgmm) is entry.quirks


@pytest.mark.parametrize(
    ("cgmi", "cgmm"),
    [("Telit", "LE910"), ("Quectel", "EG800K"), ("huawei", "E173"), ("", ""), ("SIMCOM", "")],
)
def test_unknown_model_gets_the_standard_defaults(cgmi: str, cgmm: str) -> None:
    assert find_entry(cgmi, cgmm) is None
    assert lookup(cgmi, cgmm) == DEFAULTS == Quirks()


def test_facts_the_driver_relies_on() -> None:
    assert lookup("Quectel", "EC25").storage_index_base == 0
    assert lookup("SIMCOM_Ltd", "SIMCOM_SIM800").storage_index_base == 1
    assert 2 not in lookup("SIMCOM_Ltd", "SIMCOM_SIM800").cnmi_ds_modes
    huawei = lookup("huawei", "E3372")
    assert huawei.command_not_support_result
    assert huawei.urcs_inside_responses
    assert "^RSSI:" in huawei.extra_urc_prefixes


def test_override_applies_typed_values() -> None:
    q = override(
        DEFAULTS,
        {
            "storage_index_base": 0,
            "echo_off_works": False,
            "cnmi_ds_modes": [0, 1],
            "extra_urc_prefixes": ["+ZDONR"],
            "periodic_urcs_off_command": None,
            "default_charset": "IRA",
            "max_baud": 921600,
        },
    )
    assert q.storage_index_base == 0
    assert not q.echo_off_works
    assert q.cnmi_ds_modes == frozenset({0, 1})
    assert q.extra_urc_prefixes == ("+ZDONR",)
    assert (q.default_charset, q.max_baud) == ("IRA", 921600)
    assert Quirks() == DEFAULTS  # the original is untouched


def test_override_round_trips_every_flag() -> None:
    """Every field type is one override() knows: a new flag cannot slip past config."""
    for f in dataclasses.fields(Quirks):
        value = getattr(DEFAULTS, f.name)
        if isinstance(value, frozenset | tuple):
            value = list(value)
        assert override(DEFAULTS, {f.name: value}) == DEFAULTS


def test_override_names_an_unknown_flag() -> None:
    with pytest.raises(QuirkConfigError, match="'storage_index_bsae'") as info:
        override(DEFAULTS, {"storage_index_bsae": 0})
    assert isinstance(info.value, ModemError)
    assert isinstance(info.value, ValueError)
    assert "storage_index_base" in str(info.value)  # the known names are listed


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("echo_off_works", "no"),
        ("echo_off_works", 0),
        ("storage_index_base", True),
        ("storage_index_base", -1),
        ("storage_index_base", "0"),
        ("cnmi_ds_modes", "012"),
        ("cnmi_ds_modes", [True]),
        ("extra_urc_prefixes", "^RSSI"),
        ("periodic_urcs_off_command", 1),
        ("default_charset", "UTF-8"),
    ],
)
def test_override_refuses_wrong_types_naming_the_flag(name: str, value: object) -> None:
    with pytest.raises(QuirkConfigError, match=repr(name)):
        override(DEFAULTS, {name: value})
