"""+CPMS as another program left it: a preset that power-up restores, and writes that persist.

Real modules keep +CPMS in non-volatile memory, so a driver finds whatever the last program set
(gammu-smsd leaves "ME","ME","SM"). The simulator starts from a preset and keeps every AT+CPMS
write through ATZ, AT&F, a reboot and an unplug; incoming SMS go to mem3 and +CMTI names it,
while +CMGR, +CMGL and +CMGD act on mem1 (27.005 §3.1).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscat.hwsim.engine import Output, SimModem, Timer
from smscat.hwsim.service import SimOptions, running
from tests.support.atport import AtPort
from tests.support.simclient import SENDER, decode_stored, post_sms

START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
GAMMU_SMSD = ("ME", "ME", "SM")  # what gammu-smsd leaves behind
RECEIVE_IN_ME = ("SM", "SM", "ME")


def modem(storages: tuple[str, str, str]) -> SimModem:
    return SimModem(now=lambda: START, storages=storages)


def send(sim: SimModem, data: bytes) -> bytes:
    return b"".join(item for item in sim.receive(data) if isinstance(item, bytes))


def cpms(sim: SimModem) -> bytes:
    """The +CPMS? line (echo and OK stripped)."""
    answer = send(sim, b"AT+CPMS?\r")
    return answer.split(b"\r\n")[1]


def run_timers(sim: SimModem, out: list[Output]) -> None:
    """Let every timer in ``out`` run out at once (a reboot or an unplug ends)."""
    for item in out:
        if isinstance(item, Timer):
            run_timers(sim, sim.on_timer(item.key))


def power_cycle(sim: SimModem, how: str) -> None:
    if how in ("ATZ", "AT&F"):
        assert send(sim, how.encode() + b"\r").endswith(b"OK\r\n")
    else:
        run_timers(sim, sim.set_fault(how, seconds=0.1))
    assert not sim.silent


@pytest.mark.parametrize("how", ["ATZ", "AT&F", "reboot", "unplug"])
@pytest.mark.parametrize("preset", [GAMMU_SMSD, RECEIVE_IN_ME])
def test_power_up_restores_the_preset(preset: tuple[str, str, str], how: str) -> None:
    sim = modem(preset)
    expected = b'+CPMS: "%s",0,30,"%s",0,30,"%s",0,30' % tuple(m.encode() for m in preset)
    assert cpms(sim) == expected
    power_cycle(sim, how)
    assert sim.settings.cnmi == (0, 0, 0, 0, 0)  # volatile settings are gone ...
    assert cpms(sim) == expected  # ... the storages are not


@pytest.mark.parametrize("how", ["ATZ", "reboot", "unplug"])
def test_an_at_cpms_write_is_kept_through_power_cycles_and_reset_goes_back_to_the_preset(
    how: str,
) -> None:
    sim = modem(GAMMU_SMSD)
    assert send(sim, b'AT+CPMS="SM","SM","ME"\r').endswith(b"OK\r\n")
    power_cycle(sim, how)
    assert cpms(sim) == b'+CPMS: "SM",0,30,"SM",0,30,"ME",0,30'
    assert send(sim, b'AT+CPMS="ME"\r').endswith(b"OK\r\n")  # mem1 alone
    power_cycle(sim, how)
    assert cpms(sim) == b'+CPMS: "ME",0,30,"SM",0,30,"ME",0,30'
    sim.reset()  # POST /reset: a new device, as configured
    assert cpms(sim) == b'+CPMS: "ME",0,30,"ME",0,30,"SM",0,30'


@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["SM", "ME", "SR"]),
            st.sampled_from(["SM", "ME"]),
            st.sampled_from(["ATZ", "AT&F", "reboot", "unplug"]),
        ),
        max_size=6,
    )
)
def test_after_any_writes_and_power_cycles_the_last_write_is_in_force(
    steps: list[tuple[str, str, str]],
) -> None:
    sim = modem(GAMMU_SMSD)
    expected = GAMMU_SMSD
    for mem1, mem3, how in steps:
        command = b'AT+CPMS="%s","SM","%s"\r' % (mem1.encode(), mem3.encode())
        assert send(sim, command).endswith(b"OK\r\n")
        expected = (mem1, "SM", mem3)
        power_cycle(sim, how)
    assert sim.settings.cpms == expected
    assert sim.storages == expected


def test_incoming_sms_go_to_mem3_and_reads_and_deletes_act_on_mem1() -> None:
    """The fault as a driver meets it: +CMTI names SM, while mem1 is still gammu's ME."""
    sim = modem(GAMMU_SMSD)
    assert send(sim, b"AT+CNMI=2,1\r").endswith(b"OK\r\n")
    _, _, out = sim.network_sms(SENDER, "专家的回复")
    assert b"".join(i for i in out if isinstance(i, bytes)) == b'\r\n+CMTI: "SM",1\r\n'
    assert send(sim, b"AT+CMGR=1\r") == b"AT+CMGR=1\r\r\nOK\r\n"  # ME slot 1 is empty
    assert send(sim, b"AT+CMGL=4\r") == b"AT+CMGL=4\r\r\nOK\r\n"  # nothing in ME
    assert send(sim, b"AT+CMGD=1\r") == b"AT+CMGD=1\r\r\nOK\r\n"  # deletes nothing
    assert 1 in sim.stores["SM"].messages
    assert send(sim, b'AT+CPMS="SM"\r') == b'AT+CPMS="SM"\r\r\n+CPMS: 1,30,0,30,1,30\r\n\r\nOK\r\n'
    [deliver] = decode_stored(send(sim, b"AT+CMGR=1\r"))
    assert deliver.text == "专家的回复"
    assert send(sim, b"AT+CMGD=1\r") == b"AT+CMGD=1\r\r\nOK\r\n"
    assert not sim.stores["SM"].messages


def test_the_receive_memory_can_be_me() -> None:
    sim = modem(RECEIVE_IN_ME)
    assert send(sim, b"AT+CNMI=2,1\r").endswith(b"OK\r\n")
    _, _, out = sim.network_sms(SENDER, "hi")
    assert b"".join(i for i in out if isinstance(i, bytes)) == b'\r\n+CMTI: "ME",1\r\n'
    assert (sim.stores["SM"].used, sim.stores["ME"].used) == (0, 1)
    assert sim.state()["storage"]["used"] == 1  # /state shows the receive memory


@pytest.mark.parametrize("storages", [("SM", "SR", "SM"), ("SM", "SM", "MT"), ("sm", "SM", "SM")])
def test_a_preset_names_memories_the_modem_has(storages: tuple[str, str, str]) -> None:
    with pytest.raises(ValueError, match="storages"):
        modem(storages)
    assert modem(("SR", "ME", "SM")).storages == ("SR", "ME", "SM")  # SR is readable: mem1


async def test_the_preset_through_the_pty_survives_a_reboot(tmp_path: Path) -> None:
    options = SimOptions(link=tmp_path / "modem", storages=RECEIVE_IN_ME)
    async with (
        running(options) as sim,
        AtPort(sim.link) as port,
        aiohttp.ClientSession(base_url=sim.control_url) as control,
    ):
        query = b"AT+CPMS?\r"
        expected = query + b'\r\n+CPMS: "SM",0,30,"SM",0,30,"ME",0,30\r\n\r\nOK\r\n'
        assert await port.command(query) == expected
        assert await port.command(b"AT+CNMI=2,1\r") == b"AT+CNMI=2,1\r\r\nOK\r\n"
        await post_sms(control, {"from": SENDER, "text": "在吗"})
        assert await port.quiet(0.3) == b'\r\n+CMTI: "ME",1\r\n'
        async with control.post("/faults", json={"profile": "reboot", "seconds": 0.2}) as r:
            assert r.status == 200
        assert (await port.quiet(0.6)).endswith(b"SMS Ready\r\n")
        expected = query + b'\r\n+CPMS: "SM",0,30,"SM",0,30,"ME",1,30\r\n\r\nOK\r\n'
        assert await port.command(query) == expected
