"""Fixtures: a running simulator on a fresh pty, and a serial port opened on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from smscat.hwsim.service import SimOptions, Simulator, running
from tests.support.atport import AtPort


@pytest.fixture
async def sim(tmp_path: Path) -> AsyncIterator[Simulator]:
    async with running(SimOptions(link=tmp_path / "modem")) as simulator:
        yield simulator


@pytest.fixture
async def port(sim: Simulator) -> AsyncIterator[AtPort]:
    async with AtPort(sim.link) as at:
        yield at


@pytest.fixture
async def control(sim: Simulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=sim.control_url) as session:
        yield session
