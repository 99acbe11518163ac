"""Real modules the simulator can pretend to be: how each names itself and where it deviates.

A row is data the engine reads (no ``if model == ...`` in ``engine.py``): the +CGMI/+CGMM/+CGMR
strings as the module reports them, and the behaviours a driver must cope with on it. Each row
names where its facts come from; a fact marked "unverified" is a plausible stand-in, not a
capture. This module must never import ``smscat.modem``: the simulator is a second opinion of
a modem, so the driver's quirk table and this table are written separately and a test checks
that they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from smscat.hwsim.profiles import MODULES


@dataclass(frozen=True, slots=True)
class Module:
    """One module's identity and behaviour flags; every default is the plain 27.005 modem."""

    name: str
    manufacturer: str
    model: str
    revision: str
    source: str
    # First storage index of +CMTI/+CMGR/+CMGD (EC25 counts from 0).
    index_base: int = 1
    # Lines printed at power-up, before any command (A7670: "*ATREADY: 1", "+CPIN: READY").
    startup_lines: tuple[str, ...] = ()
    # Seconds from power-up until SMS commands work; until then they answer ERROR and at the
    # end the module prints ``ready_lines``. None: ready at once.
    sms_ready_after: float | None = None
    ready_lines: tuple[str, ...] = ()
    # Where URCs go at power-up (+QURCCFG "urcport"); None: the module has no such setting and
    # URCs come on the AT port. Any value but "usbat" means +CMTI/+CDS never reach this port
    # until AT+QURCCFG="urcport","usbat".
    urc_port: str | None = None
    # ^RSSI (and ^MODE) lines every ``periodic_urc_seconds`` until AT^CURC=0.
    periodic_urc_seconds: float | None = None


_QUECTEL_URCPORT: Final = (
    'AT+QURCCFG="urcport",("usbat","usbmodem","uart1") from the Quectel AT manual as '
    "transcribed in github.com/CursedHardware/at-manual content/docs/quectel/general-commands.md; "
    'a power-up value other than "usbat" (another program or the factory set "usbmodem") is '
    "the case simulated"
)

TABLE: Final[dict[str, Module]] = {
    module.name: module
    for module in (
        Module(
            name="ec20",
            manufacturer="Quectel",
            model="EC20F",
            revision="EC20CEFAGR06A09M4G",  # unverified stand-in of the EC20 naming scheme
            source=f"{_QUECTEL_URCPORT}; EC2x storage from 0 as EC25 (same family, unverified)",
            index_base=0,
            urc_port="usbmodem",
        ),
        Module(
            name="ec25",
            manufacturer="Quectel",
            model="EC25",
            revision="EC25EFAR06A06M4G",  # unverified stand-in of the EC25 naming scheme
            source=(
                f"{_QUECTEL_URCPORT}; github.com/MengMengCode/VoCat issue #121 (EC25 stores SMS "
                "at ME index 0)"
            ),
            index_base=0,
            urc_port="usbmodem",
        ),
        Module(
            name="eg25",
            manufacturer="Quectel",
            model="EG25",
            revision="EG25GGBR07A08M2G",
            source=(
                f"{_QUECTEL_URCPORT}; ATI of an EG25-G in github.com/lukejenkins/cwd "
                "documentation/quectel_ec2x_and_eg2x/outputs.md (Quectel / EG25 / Revision: "
                "EG25GGBR07A08M2G)"
            ),
            index_base=0,
            urc_port="usbmodem",
        ),
        Module(
            name="ec200u",
            manufacturer="Quectel",
            model="EC200U",
            revision="EC200UCNAAR02A01M08",  # unverified stand-in of the EC200U naming scheme
            source=f"{_QUECTEL_URCPORT} (EC200U is a UNISOC platform: storage from 1, unverified)",
            urc_port="usbmodem",
        ),
        Module(
            name="sim7600",
            manufacturer="SIMCOM INCORPORATED",
            model="SIMCOM_SIM7600G-H",
            revision="LE20B04SIM7600G22",
            source=(
                "the simulator's long-standing default identity; power-up lines RDY, +CPIN: "
                "READY, SMS DONE, PB DONE after github.com/Xinyuan-LilyGO/T-SIM7600X PR #41 and "
                "espressif/esp-protocols #789 (SMS refused before SMS DONE: as the A7670, "
                "unverified)"
            ),
            startup_lines=("RDY", "+CPIN: READY"),
            sms_ready_after=3.0,
            ready_lines=("SMS DONE", "PB DONE"),
        ),
        Module(
            name="a7670",
            manufacturer="SIMCOM INCORPORATED",
            model="A7670E-LNXY-UBL",
            revision="23110B01A7670M4A_CUS_UBIA_91530228",
            source=(
                "github.com/Xinyuan-LilyGO/LilyGo-Modem-Series #247 (AT+SIMCOMATI of an A7670E; "
                "'*ATREADY: 1', '+CPIN: READY' at power-up; AT+CMGF=1 and AT+CMGS answer ERROR "
                "while 'SMS DONE' has not come) and #138 ('SMS DONE' then 'PB DONE')"
            ),
            startup_lines=("*ATREADY: 1", "+CPIN: READY"),
            sms_ready_after=5.0,
            ready_lines=("SMS DONE", "PB DONE"),
        ),
        Module(
            name="me909s",
            manufacturer="Huawei Technologies Co., Ltd.",
            model="ME909s-821",
            revision="11.617.00.00.00",
            source=(
                "ATI of an ME909s-821 in github.com/4IceG/luci-app-modemband issue #2; ^RSSI/^MODE "
                "URCs and AT^CURC=0 after ModemManager plugins/huawei and "
                "github.com/kowalczykrafal/sms_gateway HUAWEI_E3372_FIXES.md (same Huawei URC "
                "family; the ME909s in particular is unverified)"
            ),
            periodic_urc_seconds=0.5,
        ),
    )
}

assert set(TABLE) | {"generic"} == set(MODULES), "profiles.MODULES and TABLE must agree"


def module(name: str) -> Module | None:
    """The row for ``name`` (one of :data:`profiles.MODULES`); None for "generic"."""
    if name not in MODULES:
        raise ValueError(f"unknown module {name!r}; known: {', '.join(MODULES)}")
    return TABLE.get(name)
