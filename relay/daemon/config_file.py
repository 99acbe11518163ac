"""config.yaml → :class:`~.config.Settings`, or a :class:`ConfigError` naming every bad key.

Loading never half-succeeds: either every key is valid or the error lists each offending key
by its YAML path (``modems[0].port``) with the reason, in words an admin can act on; a key
an environment variable set (``SMSCAT_WEB__PORT``) also names the variable, since the file
then holds nothing wrong and the admin must look elsewhere. The effective configuration can
be shown with secrets and phone numbers hidden (:func:`dump_effective`). What the keys are and
what they accept is :mod:`.config`'s business.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from smscat.relay.daemon.config import ENV_PREFIX, Settings


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` are ``(yaml_path, reason)`` pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {path}: {reason}" for path, reason in problems)
        super().__init__(f"{source}: invalid configuration\n{lines}")


def _yaml_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _reason(error: Mapping[str, Any], variable: str | None) -> str:
    if error["type"] == "extra_forbidden":
        if variable is not None:
            return (
                "unknown key (not a setting smscat knows; check the spelling of the"
                f" environment variable {variable})"
            )
        return "unknown key (not a setting smscat knows; check the spelling)"
    if error["type"] == "missing":
        return "required key is missing"
    msg = str(error["msg"]).removeprefix("Value error, ")
    return msg if variable is None else f"{msg} (from the environment variable {variable})"


def _environment_keys(environ: Mapping[str, str]) -> list[tuple[tuple[str, ...], str]]:
    """``(key path, variable)`` for each ``SMSCAT_…`` variable, as pydantic-settings reads them:
    the prefix and the names in any case, ``__`` between nested keys."""
    delimiter = str(Settings.model_config.get("env_nested_delimiter") or "__")
    found = []
    for name in environ:
        if name.upper().startswith(ENV_PREFIX):
            path = name[len(ENV_PREFIX) :].lower().split(delimiter)
            found.append((tuple(path), name))
    return found


def _variable(loc: tuple[int | str, ...], keys: list[tuple[tuple[str, ...], str]]) -> str | None:
    """The variable whose value holds ``loc`` (the environment wins over the file), if any."""
    for path, name in keys:
        if tuple(str(part) for part in loc[: len(path)]) == path:
            return name
    return None


def load_config(path: Path | str) -> Settings:
    """Read, validate and resolve ``path``; raise :class:`ConfigError` naming each bad key."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, [("(file)", exc.strerror or "cannot be read")]) from None
    except UnicodeDecodeError:
        raise ConfigError(source, [("(file)", "not UTF-8 text")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(source, [(where, str(problem))]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, [("(top level)", "expected a mapping of settings")])
    try:
        settings = Settings(**{str(k): v for k, v in data.items()})
    except ValidationError as exc:
        keys = _environment_keys(os.environ)
        problems = [
            (_yaml_path(tuple(e["loc"])), _reason(e, _variable(tuple(e["loc"]), keys)))
            for e in exc.errors()
        ]
        raise ConfigError(source, problems) from None
    return settings.resolve_paths(path.resolve().parent)


def dump_effective(settings: Settings) -> str:
    """The effective configuration as JSON with secrets and phone numbers hidden."""
    data = settings.model_dump(mode="json")
    for expert in data["experts"]:
        expert["phone"] = "(hidden)"
    data["alerts"]["phones"] = ["(hidden)" for _ in data["alerts"]["phones"]]
    return json.dumps(data, ensure_ascii=False, indent=2)
