"""Quirks change what the driver sends: checked by what the simulated modem received."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest

from smscat.hwsim.service import SimOptions, Simulator, running
from smscat.modem.device import Modem
from smscat.modem.quirks import QuirkConfigError
from smscat.modem.session import AtSession
from smscat.relay.daemon.config_file import ConfigError, load_config

LONG = "请按时服药。" * 30  # 180 UCS2 units: 3 parts


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[Simulator]:
    async with running(SimOptions(link=tmp_path / "modem")) as simulator:
        yield simulator


async def test_defaults_keep_the_link_up_between_parts(sim: Simulator) -> None:
    async with AtSession.open(str(sim.link)) as session:
        modem = Modem(session)
        await modem.initialise(reports=True)
        for ref in (9, 10, 11):
            await modem.send("+8613800138000", LONG, ref=ref)
    assert sim.engine.by_command["+CMMS"] == 1  # AT+CMMS=2, once for the session
    assert sim.engine.settings.cmms == 2
    assert sim.engine.settings.cnmi == (2, 1, 0, 1, 0)  # reports as +CDS


async def test_overrides_skip_cmms_pick_cdsi_and_silence_periodic_urcs(sim: Simulator) -> None:
    overrides: dict[str, object] = {
        "cmms_supported": False,
        "cnmi_ds_modes": [0, 2],
        "periodic_urcs_off_command": "AT^CURC=0",
    }
    async with AtSession.open(str(sim.link)) as session:
        modem = Modem(session, overrides)
        await modem.initialise(reports=True)  # the simulator refuses ^CURC: that is tolerated
        sent = await modem.send("+8613800138000", LONG, ref=9)
    assert len(sent) == 3
    assert "+CMMS" not in sim.engine.by_command
    assert sim.engine.by_command["^CURC"] == 1
    assert sim.engine.settings.cnmi == (2, 1, 0, 2, 0)  # reports as +CDSI
    assert sim.engine.sent[0].text == LONG


async def test_an_unreliable_cdsi_and_no_ds_1_means_no_reports_asked(sim: Simulator) -> None:
    overrides = {"cnmi_ds_modes": [0, 2], "cdsi_location_unreliable": True}
    async with AtSession.open(str(sim.link)) as session:
        modem = Modem(session, overrides)
        await modem.initialise(reports=True)
    assert sim.engine.settings.cnmi[3] == 0


def test_an_unknown_override_is_refused_by_name() -> None:
    with pytest.raises(QuirkConfigError, match="'cmms_suported'"):
        Modem(cast(AtSession, None), {"cmms_suported": False})


KEY = "web:\n  secret_key: a-real-modem-needs-a-key-of-32-bytes-or-more\n"  # (not the point here)


def test_config_names_a_bad_quirk_by_its_yaml_path(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "modems:\n  - id: ec25\n    port: /dev/ttyUSB2\n    quirks: {storage_index_base: zero}\n"
        + KEY,
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(config)
    [(path, reason)] = info.value.problems
    assert path == "modems[0].quirks"
    assert "storage_index_base" in reason
    config.write_text(
        "modems:\n  - id: ec25\n    port: /dev/ttyUSB2\n    quirks: {storage_index_base: 0}\n"
        + KEY,
        encoding="utf-8",
    )
    assert load_config(config).modems[0].quirks == {"storage_index_base": 0}
