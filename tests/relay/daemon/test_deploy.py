"""deploy/: the files a hospital's server runs smscat with, checked the way the server would.

The systemd units go through ``systemd-analyze verify`` (the same parser systemd uses; a
warning such as an unknown key counts as a failure) and ``systemd-analyze security``; the udev
rule through ``udevadm verify`` where the machine's systemd has it (253 and later) and always
through the checks of udev(7) below; the example config through smscat's own loader; and the
proxy examples against the config they must match. scripts/test installs systemd, so a missing
tool fails here instead of skipping. ``log.format: json`` is checked on a whole daemon run.
"""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from smscat.relay.daemon.app import JsonLogFormatter, log_handler
from smscat.relay.daemon.config import Settings
from smscat.relay.daemon.config_file import load_config
from smscat.relay.daemon.config_operations import LogConfig
from smscat.web.api import MAX_BODY
from tests.support.daemon import EXPERT_ZHANG, PATIENT, daemon

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
UNITS = ("smscat.service", "smscat-backup.service", "smscat-backup.timer")
INSTALLED_BINARY = "/usr/local/bin/smscat"


# --- systemd ---------------------------------------------------------------------------------


def unit_entries(text: str) -> list[tuple[str, str, str]]:
    """``(section, key, value)`` for each assignment; keys may repeat (DeviceAllow=)."""
    entries, section = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.strip()))
    return entries


def values(unit: str, key: str) -> list[str]:
    text = (DEPLOY / unit).read_text(encoding="utf-8")
    return [v for _, k, v in unit_entries(text) if k == key]


def staged(folder: Path, files: dict[str, str] | None = None) -> list[Path]:
    """The units as installed, in ``folder``, but starting the smscat this test runs with
    (``systemd-analyze verify`` refuses an ExecStart whose binary does not exist)."""
    binary = shutil.which("smscat")
    assert binary is not None, "smscat is not installed (pip install -e .)"
    paths = []
    for name in UNITS:
        text = (files or {}).get(name) or (DEPLOY / name).read_text(encoding="utf-8")
        path = folder / name
        path.write_text(text.replace(INSTALLED_BINARY, binary), encoding="utf-8")
        paths.append(path)
    return paths


def systemd_analyze(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("systemd-analyze")
    assert tool is not None, "systemd-analyze missing: scripts/test installs the systemd package"
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=60, check=False)


def verify_problems(paths: list[Path]) -> list[str]:
    """What ``systemd-analyze verify`` says about the units: nothing, if they are right."""
    result = systemd_analyze("verify", *(str(p) for p in paths))
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    if result.returncode != 0 and not lines:
        lines = [f"exit status {result.returncode}"]
    return lines


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    assert verify_problems(staged(tmp_path)) == []


def test_the_check_catches_an_unknown_key_and_a_missing_binary(tmp_path: Path) -> None:
    text = (DEPLOY / "smscat.service").read_text(encoding="utf-8")
    typo = text.replace("ProtectClock=yes", "ProtectClok=yes")
    problems = verify_problems(staged(tmp_path, {"smscat.service": typo}))
    assert any("ProtectClok" in line for line in problems)

    (tmp_path / "again").mkdir()
    missing = text.replace(INSTALLED_BINARY, "/nonexistent/smscat")
    problems = verify_problems(staged(tmp_path / "again", {"smscat.service": missing}))
    assert any("/nonexistent/smscat" in line for line in problems)


def test_the_service_is_hardened_and_still_reaches_the_modems(tmp_path: Path) -> None:
    (service, *_) = staged(tmp_path)
    result = systemd_analyze("security", "--offline=yes", "--no-pager", str(service))
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match[1]) <= 2.5  # systemd's "OK" band; a unit without hardening scores 9.6

    assert values("smscat.service", "User") == ["smscat"]
    assert values("smscat.service", "SupplementaryGroups") == ["dialout"]
    assert values("smscat.service", "Restart") == ["on-failure"]
    assert values("smscat.service", "StateDirectory") == ["smscat"]
    assert values("smscat.service", "RestartPreventExitStatus") == ["2"]  # bad config: no loop
    # the modems' ports stay reachable: no PrivateDevices, the USB serial classes allowed
    assert values("smscat.service", "PrivateDevices") in ([], ["no"])
    assert {"char-ttyUSB rw", "char-ttyACM rw"} <= set(values("smscat.service", "DeviceAllow"))
    assert values("smscat.service", "DevicePolicy") == ["closed"]


def test_the_daily_backup_runs_smscat_backup_with_the_same_config() -> None:
    (run,) = values("smscat.service", "ExecStart")
    (backup,) = values("smscat-backup.service", "ExecStart")
    assert run == f"{INSTALLED_BINARY} run -c /etc/smscat/config.yaml"
    assert backup == f"{INSTALLED_BINARY} backup -c /etc/smscat/config.yaml"
    assert values("smscat-backup.service", "User") == ["smscat"]
    assert values("smscat-backup.timer", "Persistent") == ["true"]
    assert values("smscat-backup.timer", "OnCalendar")


def test_the_journald_drop_in_keeps_the_log_without_logrotate() -> None:
    entries = unit_entries((DEPLOY / "journald-smscat.conf").read_text(encoding="utf-8"))
    known = {  # journald.conf(5), systemd 252
        "Storage", "Compress", "Seal", "SplitMode", "SyncIntervalSec", "RateLimitIntervalSec",
        "RateLimitBurst", "SystemMaxUse", "SystemKeepFree", "SystemMaxFileSize",
        "SystemMaxFiles", "RuntimeMaxUse", "RuntimeKeepFree", "RuntimeMaxFileSize",
        "RuntimeMaxFiles", "MaxRetentionSec", "MaxFileSec", "ForwardToSyslog", "ForwardToKMsg",
        "ForwardToConsole", "ForwardToWall", "TTYPath", "MaxLevelStore", "MaxLevelSyslog",
        "MaxLevelKMsg", "MaxLevelConsole", "MaxLevelWall", "ReadKMsg", "Audit",
    }  # fmt: skip
    assert {section for section, _, _ in entries} == {"Journal"}
    assert {key for _, key, _ in entries} <= known
    settings = {key: value for _, key, value in entries}
    assert settings["Storage"] == "persistent"
    assert "SystemMaxUse" in settings
    assert "MaxRetentionSec" in settings


# --- udev --------------------------------------------------------------------------------------

# udev(7): which keys exist, which take an {attribute}, and which operators each allows
_MATCH_ONLY = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEMS", "DRIVERS", "ATTRS",
               "TAGS", "TEST", "PROGRAM", "RESULT", "CONST", "SUBSYSTEM", "DRIVER"}  # fmt: skip
_BOTH = {"NAME", "SYMLINK", "ATTR", "SYSCTL", "ENV", "TAG", "OWNER", "GROUP", "MODE"}
_ASSIGN_ONLY = {"SECLABEL", "RUN", "IMPORT", "OPTIONS", "LABEL", "GOTO"}
_WITH_ATTRIBUTE = {"ATTR", "ATTRS", "SYSCTL", "ENV", "TEST", "CONST", "SECLABEL", "RUN", "IMPORT"}
_MATCH_OPS, _ASSIGN_OPS = {"==", "!="}, {"=", "+=", "-=", ":="}
_PAIR = re.compile(
    r'\s*(?P<key>[A-Z_]+)(?:\{(?P<attr>[^}]*)\})?\s*(?P<op>==|!=|\+=|-=|:=|=)\s*"(?P<value>[^"]*)"'
    r"\s*(?P<sep>,|$)"
)


def udev_problems(text: str) -> list[str]:
    """What ``udevadm verify`` (systemd >= 253) would object to, per udev(7), plus what
    smscat needs: every rule that names a modem tells ModemManager to keep away."""
    problems, labels, gotos = [], set(), []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            problems.append(f"{number}: a continued line (keep each rule on one line)")
            continue
        pairs, position = [], 0
        while position < len(line):
            match = _PAIR.match(line, position)
            if match is None:
                problems.append(f"{number}: cannot parse from column {position + 1}")
                break
            pairs.append(match)
            position = match.end()
        for pair in pairs:
            key, attr, op = pair["key"], pair["attr"], pair["op"]
            if key not in _MATCH_ONLY | _BOTH | _ASSIGN_ONLY:
                problems.append(f"{number}: unknown key {key}")
            elif (attr is not None) != (key in _WITH_ATTRIBUTE) and key not in {"RUN", "IMPORT"}:
                problems.append(f"{number}: {key} {'needs' if attr is None else 'takes no'} {{}}")
            elif key in _MATCH_ONLY and op not in _MATCH_OPS:
                problems.append(f"{number}: {key} only matches (== or !=), not {op}")
            elif key in _ASSIGN_ONLY and op not in _ASSIGN_OPS:
                problems.append(f"{number}: {key} only assigns, not {op}")
            if (
                key == "MODE"
                and op in _ASSIGN_OPS
                and not re.fullmatch(r"0?[0-7]{3}", pair["value"])
            ):
                problems.append(f"{number}: MODE is octal, like 0660")
            if key == "LABEL":
                labels.add(pair["value"])
            if key == "GOTO":
                gotos.append((number, pair["value"]))
        keys = {p["key"] for p in pairs}
        if pairs and keys & {"SYMLINK", "GROUP", "MODE"}:
            assigned = {(p["key"], p["attr"], p["value"]) for p in pairs if p["op"] in _ASSIGN_OPS}
            matched = {(p["key"], p["attr"], p["value"]) for p in pairs if p["op"] == "=="}
            if not {k for k, _, _ in matched} & {"ENV", "ATTRS", "ATTR", "KERNEL"}:
                problems.append(f"{number}: a rule for every device, not one modem")
            if ("SYMLINK", None) in {(k, a) for k, a, _ in assigned}:
                for _, _, value in assigned:
                    if value.startswith("smscat") and not re.fullmatch(
                        r"smscat-[a-z0-9_-]+", value
                    ):
                        problems.append(f"{number}: name a port smscat-<modem id>, not {value}")
    problems += [f"{n}: GOTO {label!r} has no LABEL" for n, label in gotos if label not in labels]
    return problems


def test_the_udev_rule_parses_and_names_each_modem_for_smscat() -> None:
    text = (DEPLOY / "99-smscat.rules").read_text(encoding="utf-8")
    assert udev_problems(text) == []
    rules = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    symlinks = [r for r in rules if 'SYMLINK+="smscat-' in r]
    assert symlinks  # a stable /dev/smscat-<id>
    ignored = [r for r in rules if 'ENV{ID_MM_DEVICE_IGNORE}="1"' in r]
    assert any('SUBSYSTEM=="usb"' in r for r in ignored)  # the whole USB device …
    assert any('SUBSYSTEM=="tty"' in r and 'GROUP="dialout"' in r for r in ignored)  # … its ports


def test_udevadm_verify_agrees_where_the_machine_has_it(tmp_path: Path) -> None:
    """``udevadm verify`` exists from systemd 253; Debian 12 has 252: then the parse above is
    the check, and this test shows the parse would catch what verify catches."""
    udevadm = shutil.which("udevadm")
    rules = DEPLOY / "99-smscat.rules"
    if udevadm is not None and _has_verify(udevadm):
        result = subprocess.run(
            [udevadm, "verify", str(rules)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
    broken = {
        'SUBSYSTEM="tty", SYMLINK+="smscat-a"': "SUBSYSTEM only matches",
        'KERNEL=="ttyUSB*", SYMLYNK+="smscat-a"': "unknown key SYMLYNK",
        'KERNEL=="ttyUSB*", ENV="1"': "ENV needs {}",
        'KERNEL=="ttyUSB*", MODE="rw"': "MODE is octal",
        'KERNEL=="ttyUSB*" GROUP="dialout"': "cannot parse",
        'SUBSYSTEM=="tty", GROUP="dialout"': "a rule for every device",
        'KERNEL=="ttyUSB*", GOTO="nowhere"': "has no LABEL",
        'KERNEL=="ttyUSB*", SYMLINK+="smscat modem"': "name a port smscat-",
    }
    for line, complaint in broken.items():
        problems = udev_problems(line)
        assert any(complaint in p for p in problems), (line, problems)
        if udevadm is not None and _has_verify(udevadm) and complaint in {"unknown key SYMLYNK"}:
            bad = tmp_path / "bad.rules"
            bad.write_text(line + "\n", encoding="utf-8")
            result = subprocess.run(
                [udevadm, "verify", str(bad)], capture_output=True, text=True, check=False
            )
            assert result.returncode != 0


def _has_verify(udevadm: str) -> bool:
    result = subprocess.run(
        [udevadm, "verify", "--help"], capture_output=True, text=True, check=False
    )
    return result.returncode == 0


# --- the example config and the reverse proxies ------------------------------------------------


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SMSCAT_WEB__SECRET_KEY", "k" * 43)  # as secrets.env sets it
    return load_config(DEPLOY / "config.yaml")


def test_the_example_config_loads_and_keeps_its_state_where_systemd_lets_it_write(
    production: Settings,
) -> None:
    state = Path("/var/lib") / values("smscat.service", "StateDirectory")[0]
    assert production.storage.path.parent == state
    assert production.backup_dir.is_relative_to(state)
    assert production.backups.keep == 14
    assert production.log.format == "json"
    assert all(m.port.startswith("/dev/smscat-") for m in production.modems)
    assert production.web.host == "127.0.0.1"  # only the proxy reaches it


def test_the_proxies_forward_to_smscat_and_it_believes_only_them(production: Settings) -> None:
    address = f"{production.web.host}:{production.web.port}"
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert f"proxy_pass http://{address};" in nginx
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in nginx
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in nginx
    assert "ssl_certificate " in nginx
    (size,) = re.findall(r"client_max_body_size (\d+)k;", nginx)
    assert int(size) * 1024 >= MAX_BODY  # never refuses what smscat accepts
    caddy = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    assert f"reverse_proxy {address}" in caddy
    assert "127.0.0.1/32" in production.web.trusted_proxies
    assert production.web.public_url is not None
    host = production.web.public_url.removeprefix("https://")
    assert f"server_name {host};" in nginx
    assert caddy.count(f"{host} {{") == 1


# --- logs ----------------------------------------------------------------------------------------


def test_text_is_the_default_and_json_is_one_object_a_line() -> None:
    assert Settings().log == LogConfig(format="text", level="INFO")
    assert Settings(log_level="DEBUG").log.level == "DEBUG"  # the key before log: existed
    assert Settings(log_level="DEBUG", log={"format": "json"}).log == LogConfig(
        format="json", level="DEBUG"
    )
    with pytest.raises(ValueError, match="disagree"):
        Settings(log_level="DEBUG", log={"level": "ERROR"})

    record = logging.LogRecord(
        "smscat.x", logging.WARNING, __file__, 1, "sent %d of %s", (2, "短信"), None
    )
    stream = io.StringIO()
    handler = log_handler(LogConfig(format="json"), stream)
    handler.handle(record)
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["message"] == "sent 2 of 短信"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "smscat.x"
    assert entry["at"].endswith("+00:00")

    stream = io.StringIO()
    log_handler(LogConfig(), stream).handle(record)
    assert stream.getvalue().rstrip().endswith("WARNING smscat.x: sent 2 of 短信")


async def test_a_json_log_of_a_run_carries_no_phone_number(tmp_path: Path) -> None:
    stream = io.StringIO()
    handler = log_handler(LogConfig(format="json"), stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)  # the default level of `smscat run`
    try:
        async with daemon(tmp_path) as (_, client):
            verification_id, code = await client.verify(PATIENT)
            status, body = await client.call(
                "POST",
                "/api/questions",
                expert_id="zhang",
                nickname="访客",
                text="心慌胸闷，晚上加重",
                public=False,
                phone=PATIENT,
                verification_id=verification_id,
                code=code,
            )
            assert status == 201, body
            await client.wait_for_sms(EXPERT_ZHANG, lambda t: "心慌" in t)
            await client.phone_sends(EXPERT_ZHANG, "#1 建议做动态心电图")
            await client.wait_for_sms(PATIENT, lambda t: "动态心电图" in t)
            await client.phone_sends("+8613700001111", "我不是患者")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)

    lines = stream.getvalue().splitlines()
    assert len(lines) >= 5
    entries = [json.loads(line) for line in lines]  # every line one JSON object
    assert all(set(e) >= {"at", "level", "logger", "message"} for e in entries)
    for number in (PATIENT, EXPERT_ZHANG, "+8613700001111"):
        national = number.removeprefix("+86")
        for form in (number, national, national[-8:]):
            assert [line for line in lines if form in line] == []
    assert isinstance(handler.formatter, JsonLogFormatter)


# --- README "Going live" -------------------------------------------------------------------------


def test_going_live_is_numbered_steps_each_with_commands_that_use_these_files() -> None:
    readme = (DEPLOY.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Going live\n", 1)[1].split("\n### ", 1)[0]
    steps = re.split(r"\n(?=\d+\. )", section)[1:]
    assert len(steps) >= 8
    for n, step in enumerate(steps, 1):
        assert step.startswith(f"{n}. ")
        assert "```sh\n" in step, f"step {n} has no command"
    commands = "\n".join(re.findall(r"```sh\n(.*?)```", section, re.S))
    for name in re.findall(r"/opt/smscat/src/deploy/([\w.-]+)", commands):
        assert (DEPLOY / name).is_file(), name
    for name in (*UNITS, "99-smscat.rules", "journald-smscat.conf", "config.yaml", "Caddyfile"):
        assert f"deploy/{name}" in commands, f"no step installs deploy/{name}"
    assert f"ln -sf /opt/smscat/venv/bin/smscat {INSTALLED_BINARY}" in commands
    assert "/etc/smscat/secrets.env" in commands
    assert values("smscat.service", "EnvironmentFile") == ["/etc/smscat/secrets.env"]
    assert "--groups dialout smscat" in commands
