"""Suite-wide set-up: the Hypothesis profiles and the end-of-run report."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests import report

# Two slow shared cores in CI: no deadlines, and the same examples on every run.
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    rows = report.lines()
    if rows:
        terminalreporter.section("smscat report")
        for row in rows:
            terminalreporter.write_line(row)
