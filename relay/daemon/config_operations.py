"""The operations sections of config.yaml: ``backups`` and ``log`` (README "Operations").

Outer ring, beside :mod:`.config`, which puts them into :class:`~.config.Settings`; kept apart
so that the running of a server (where copies go, how the log reads) is found in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class BackupsConfig(BaseModel):
    """Where ``smscat backup`` (without ``--to``; the daily timer in deploy/) puts its copies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dir: Path | None = Field(
        None, description="folder for the copies (default: backups/ beside the database)"
    )
    keep: int = Field(14, ge=1, le=3650, description="copies kept; older ones are deleted")


class LogConfig(BaseModel):
    """The daemon's log on stderr (journald keeps it under systemd)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["text", "json"] = Field(
        "text", description="text: one line for a person; json: one object a line (journald, ELK)"
    )
    level: LogLevel = "INFO"


def legacy_log_level(data: Any) -> Any:
    """The settings' raw ``data`` with ``log_level: X`` (before ``log:`` existed) as ``log.level``.

    The settings sources fill in ``log``'s defaults, so a ``log.level`` of INFO may be the
    default's: only another level can disagree with ``log_level``.
    """
    if not isinstance(data, dict) or "log_level" not in data:
        return data
    data = dict(data)
    level = data.pop("log_level")
    log = data.get("log") or {}
    if not isinstance(log, dict):
        return data  # the log section's own check reports it
    if log.get("level", "INFO") not in ("INFO", level):
        raise ValueError("log_level and log.level disagree: keep only log.level")
    data["log"] = {**log, "level": level}
    return data
