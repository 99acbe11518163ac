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

# Real modules the simulator can pretend to be (``smscat sim --module NAME``, config
# ``modems[].sim.module``): identity strings and behaviour live in ``modules.py``.
MODULES: Final = ("generic", "ec20", "ec25", "eg25", "ec200u", "sim7600", "a7670", "me909s")
