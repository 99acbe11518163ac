"""Status reports: +CDS / +CDSI per part, each carrying the TP-MR of its part."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smscat.hwsim import pdu
from smscat.hwsim.service import SimOptions, Simulator, running
from tests.support.atport import AtPort

TO = "+8613800138000"
CDS = re.compile(rb"\r\n\+CDS: (\d+)\r\n([0-9A-F]+)\r\n")
CMGS = re.compile(rb"\r\n\+CMGS: (\d+)\r\n\r\nOK\r\n")


@pytest.fixture
async def fast_reports(tmp_path: Path) -> AsyncIterator[Simulator]:
    async with running(SimOptions(link=tmp_path / "modem", report_delay=0.0)) as sim:
        yield sim


async def submit(port: AtPort, tpdu: bytes) -> int:
    assert await port.command(f"AT+CMGS={len(tpdu)}\r".encode()) == b"\r\n> "
    await port.send((pdu.encode_smsc(None) + tpdu).hex().upper().encode() + b"\x1a")
    reply = await port.read_until(CMGS)
    match = CMGS.fullmatch(reply)
    assert match, reply
    return int(match[1])


async def test_300_submits_wrap_tp_mr_and_every_report_carries_its_parts_mr(
    fast_reports: Simulator,
) -> None:
    async with AtPort(fast_reports.link) as port:
        assert await port.command(b"ATE0;+CNMI=2,1,0,1,0\r") == b"ATE0;+CNMI=2,1,0,1,0\r\r\nOK\r\n"
        mrs: list[int] = []
        reported: list[int] = []
        for message in range(100):  # 100 messages of 3 parts = 300 submits
            for seq in (1, 2, 3):
                concat = pdu.Concat(message & 0xFF, 3, seq)
                tpdu = pdu.encode_submit(TO, f"part {seq}", srr=True, concat=concat)
                mr = await submit(port, tpdu)
                report = CDS.fullmatch(await port.read_until(CDS))
                assert report, "no +CDS after a submit that asked for a report"
                raw = bytes.fromhex(report[2].decode())
                _smsc, tpdu_sr = pdu.split_smsc(raw)
                assert int(report[1]) == len(tpdu_sr)
                status = pdu.decode_status_report(tpdu_sr)
                assert status.ra == TO
                assert status.status == 0
                mrs.append(mr)
                reported.append(status.mr)
    assert reported == mrs
    assert mrs == [n % 256 for n in range(300)]
    assert mrs[255:258] == [255, 0, 1]


async def test_no_report_unless_asked_by_srr_and_cnmi(fast_reports: Simulator) -> None:
    async with AtPort(fast_reports.link) as port:
        assert await port.command(b"ATE0\r") == b"ATE0\r\r\nOK\r\n"
        await submit(port, pdu.encode_submit(TO, "no srr"))
        assert await port.command(b"AT+CNMI=2,1,0,1,0\r") == b"\r\nOK\r\n"
        await submit(port, pdu.encode_submit(TO, "srr, ds=0 first"))
        assert await port.quiet(0.3) == b""
        assert await port.command(b"AT+CNMI=2,1,0,0,0\r") == b"\r\nOK\r\n"
        await submit(port, pdu.encode_submit(TO, "srr but ds=0", srr=True))
        assert await port.quiet(0.3) == b""


async def test_cdsi_stores_the_report_in_sr_for_cmgr(fast_reports: Simulator) -> None:
    async with AtPort(fast_reports.link) as port:
        assert await port.command(b"ATE0;+CNMI=2,1,0,2,0\r") == b"ATE0;+CNMI=2,1,0,2,0\r\r\nOK\r\n"
        mr = await submit(port, pdu.encode_submit(TO, "report me", srr=True))
        assert await port.quiet(0.3) == b'\r\n+CDSI: "SR",1\r\n'
        assert await port.command(b'AT+CPMS="SR"\r') == b"\r\n+CPMS: 1,30,0,30,0,30\r\n\r\nOK\r\n"
        reply = await port.command(b"AT+CMGR=1\r")
        head, hex_pdu = reply.split(b"\r\n")[1:3]
        _smsc, tpdu = pdu.split_smsc(bytes.fromhex(hex_pdu.decode()))
        assert head == f"+CMGR: 0,,{len(tpdu)}".encode()
        assert pdu.decode_status_report(tpdu).mr == mr


async def test_report_arrives_after_the_configured_delay(tmp_path: Path) -> None:
    options = SimOptions(link=tmp_path / "m", report_delay=0.5)
    async with running(options) as sim, AtPort(sim.link) as port:
        reply = await port.command(b"ATE0;+CNMI=2,1,0,1,0\r")
        assert reply == b"ATE0;+CNMI=2,1,0,1,0\r\r\nOK\r\n"
        await submit(port, pdu.encode_submit(TO, "later", srr=True))
        assert await port.quiet(0.25) == b""
        assert CDS.fullmatch(await port.read_until(CDS, timeout=2.0))
