"""The simulated modem's fault profiles by name: what config and the CLI may name.

Its own module so that reading a config file does not import the simulator's interpreter
(``engine.py`` implements each profile; :data:`PROFILES` is the list it checks names against).
"""

from __future__ import annotations

from typing import Final

PROFILES: Final = (
    "generic",
    "huawei",
    "busy",
    "flaky",
    "silent",
    "garbage",
    "unplug",
    "reboot",
    "network-down",
    "slow",
    "sim-full",
    "barred",  # the operator bars the SIM: every submit gets +CMS ERROR: 8
    "reject",  # the network refuses submits (of part ``part`` only, if given) with ``code``
)
