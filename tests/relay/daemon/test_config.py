"""config.yaml: the embedded default, minimal entries, env overrides, and clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from smscat.relay.daemon.cli import main
from smscat.relay.daemon.config import Settings
from smscat.relay.daemon.config_file import ConfigError, dump_effective, load_config

ROOT = Path(__file__).resolve().parents[3]

MINIMAL = """
modems:
  - {id: m1, port: /dev/serial/by-id/usb-Quectel_EC25-if02-port0}
experts:
  - {id: wang, name: 王五, title: 主治医师, department: 心内科, phone: "138 0013 8000"}
storage: {path: data/smscat.db}
web: {host: 127.0.0.1, port: 8081, secret_key: "a-test-key-of-more-than-32-bytes!"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return dict(info.value.problems)


def test_embedded_default_is_one_simulated_modem_and_two_experts() -> None:
    settings = load_config(ROOT / "config.yaml")
    assert [(m.id, m.port) for m in settings.modems] == [("sim1", "sim")]
    assert len(settings.experts) == 2
    assert settings.storage.path == ROOT / "var" / "smscat.db"
    assert (settings.web.host, settings.web.port) == ("127.0.0.1", 8080)
    assert settings.department.name


def test_entry_with_only_the_keys_other_tools_rely_on_validates(tmp_path: Path) -> None:
    settings = load_config(write(tmp_path, MINIMAL))
    expert = settings.experts[0]
    assert expert.phone == "+8613800138000"  # E.164, spaces gone
    assert expert.specialty is None
    assert settings.modems[0].port.startswith("/dev/serial/by-id/")
    assert settings.storage.path == tmp_path / "data" / "smscat.db"  # relative to the file


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(ValueError, match="frozen"):
        settings.web.port = 1  # type: ignore[misc]


def test_unknown_key_is_named_by_its_yaml_path(tmp_path: Path) -> None:
    found = problems(write(tmp_path, MINIMAL.replace("port: 8081", "port: 8081, prot: 1")))
    assert found == {"web.prot": "unknown key (not a setting smscat knows; check the spelling)"}


@pytest.mark.parametrize(
    ("old", "new", "path", "reason"),
    [
        ('"138 0013 8000"', '"10086"', "experts[0].phone", "short code"),
        ('"138 0013 8000"', '"+86 12"', "experts[0].phone", "not a valid"),
        ("/dev/serial/by-id/usb-Quectel_EC25-if02-port0", "ttyUSB0", "modems[0].port", "absolute"),
        ("id: m1", "id: 'Modem One'", "modems[0].id", "String should match pattern"),
        ("port: 8081", "port: 99999", "web.port", "less than or equal to 65535"),
        ("name: 王五, ", "", "experts[0].name", "required key is missing"),
    ],
)
def test_bad_values_say_which_key_and_why(
    tmp_path: Path, old: str, new: str, path: str, reason: str
) -> None:
    found = problems(write(tmp_path, MINIMAL.replace(old, new, 1)))
    assert path in found, found
    assert reason in found[path]


def test_duplicate_ids_and_shared_phones_are_refused(tmp_path: Path) -> None:
    twice = MINIMAL.replace(
        "storage:",
        "  - {id: wang, name: 王, title: T, department: D, phone: '+8613800138009'}\nstorage:",
    )
    assert "id 'wang' appears twice" in str(problems(write(tmp_path, twice)))
    shared = twice.replace("id: wang, name: 王,", "id: zhao, name: 赵,").replace(
        "+8613800138009", "+8613800138000"
    )
    assert "share one phone number" in str(problems(write(tmp_path, shared)))


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    found = problems(write(tmp_path, "web: {host: [\n"))
    (where,) = found
    assert where.startswith("line ")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert problems(write(tmp_path, "- 1\n- 2\n")) == {
        "(top level)": "expected a mapping of settings"
    }


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    assert "(file)" in problems(tmp_path / "nope.yaml")


def test_environment_overrides_nested_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMSCAT_WEB__PORT", "9000")
    monkeypatch.setenv("SMSCAT_WEB__SECRET_KEY", "s" * 40)
    monkeypatch.setenv("SMSCAT_STORAGE__PATH", "/srv/smscat/db.sqlite")
    settings = load_config(write(tmp_path, MINIMAL))
    assert settings.web.port == 9000
    assert settings.web.host == "127.0.0.1"  # the rest of the section still comes from the file
    assert isinstance(settings.web.secret_key, SecretStr)
    assert settings.web.secret_key.get_secret_value() == "s" * 40
    assert "s" * 40 not in repr(settings)
    assert settings.storage.path == Path("/srv/smscat/db.sqlite")


def test_environment_override_is_validated_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMSCAT_WEB__PORT", "http")
    assert "web.port" in problems(write(tmp_path, MINIMAL))


def test_a_bad_value_from_the_environment_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMSCAT_WEB__PORT", "http")
    reason = problems(write(tmp_path, MINIMAL))["web.port"]
    assert "SMSCAT_WEB__PORT" in reason
    assert "integer" in reason  # and still says what is wrong with it


def test_a_mistyped_variable_is_an_unknown_key_named_by_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMSCAT_WEB__PROT", "9000")
    reason = problems(write(tmp_path, MINIMAL))["web.prot"]
    assert reason.startswith("unknown key")
    assert "environment variable SMSCAT_WEB__PROT" in reason
    assert main(["check-config", "-c", str(tmp_path / "config.yaml")]) == 2
    assert "web.prot: unknown key" in (err := capsys.readouterr().err)
    assert "SMSCAT_WEB__PROT" in err


def test_a_variable_names_itself_as_it_was_spelled_and_a_list_by_its_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("smscat_web__rate_limits__asks_per_hour", "0")
    monkeypatch.setenv("SMSCAT_MODEMS", '[{"id": "a", "port": "COM3"}]')
    found = problems(write(tmp_path, MINIMAL))
    assert "smscat_web__rate_limits__asks_per_hour" in found["web.rate_limits.asks_per_hour"]
    assert "SMSCAT_MODEMS" in found["modems[0].port"]


def test_a_bad_value_in_the_file_names_no_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMSCAT_WEB__HOST", "127.0.0.1")  # set, and good: not the culprit
    found = problems(write(tmp_path, MINIMAL.replace("port: 8081", "port: http")))
    assert "SMSCAT" not in found["web.port"]


def test_environment_replaces_a_list_with_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMSCAT_MODEMS", '[{"id": "a", "port": "socket://127.0.0.1:7000"}]')
    settings = load_config(write(tmp_path, MINIMAL))
    assert [(m.id, m.port) for m in settings.modems] == [("a", "socket://127.0.0.1:7000")]


def test_phone_numbers_never_show_in_repr_or_dump(tmp_path: Path) -> None:
    settings = load_config(write(tmp_path, MINIMAL))
    assert "8000" not in repr(settings.experts[0])
    assert "13800138000" not in repr(settings)
    assert "13800138000" not in dump_effective(settings)


def test_defaults_fill_everything_optional() -> None:
    settings = Settings()
    assert settings.modems == []
    assert settings.experts == []
    assert settings.web.port == 8080


def test_metrics_allow_takes_networks_and_names_a_bad_one(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("web: {metrics_allow: [10.8.0.0/16, '::1']}\n", encoding="utf-8")
    assert load_config(good).web.metrics_allow == ["10.8.0.0/16", "::1"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("web: {metrics_allow: [not-a-network]}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(bad)
    assert raised.value.problems[0][0] == "web.metrics_allow"


@pytest.mark.parametrize(
    "value", ["ask.example.org", "ftp://ask.example.org", "https://ask example.org", "https://"]
)
def test_public_url_must_be_a_web_address(tmp_path: Path, value: str) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("web: {public_url: 'https://ask.example.org:8443/a/'}\n", encoding="utf-8")
    assert load_config(good).web.public_url == "https://ask.example.org:8443/a"
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"web: {{public_url: '{value}'}}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(bad)
    assert raised.value.problems[0][0] == "web.public_url"


# -- web.secret_key: required as soon as a modem is real --------------------------------------


def test_a_real_modem_needs_the_secret_key_and_check_config_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    without = write(
        tmp_path, MINIMAL.replace(', secret_key: "a-test-key-of-more-than-32-bytes!"', "")
    )
    assert "secret_key" not in without.read_text(encoding="utf-8")
    (reason,) = problems(without).values()
    assert reason.startswith("web.secret_key is required")
    assert main(["check-config", "-c", str(without)]) == 2
    err = capsys.readouterr().err
    assert "web.secret_key is required" in err
    assert "32+ bytes" in err


def test_a_short_secret_key_is_refused_by_its_path(tmp_path: Path) -> None:
    short = MINIMAL.replace("a-test-key-of-more-than-32-bytes!", "only-31-bytes-long-not-enough!!")
    found = problems(write(tmp_path, short))
    assert list(found) == ["web.secret_key"]
    assert "at least 32 bytes" in found["web.secret_key"]
    assert "only-31" not in str(found)  # the secret is never repeated


def test_the_demo_runs_without_a_secret_key(tmp_path: Path) -> None:
    demo = MINIMAL.replace("/dev/serial/by-id/usb-Quectel_EC25-if02-port0", "sim").replace(
        ', secret_key: "a-test-key-of-more-than-32-bytes!"', ""
    )
    settings = load_config(write(tmp_path, demo))
    assert settings.demo
    assert settings.web.secret_key is None


def test_timeouts_have_bounded_defaults_and_take_fractions(tmp_path: Path) -> None:
    settings = load_config(write(tmp_path, MINIMAL))
    assert (settings.web.timeouts.idle_seconds, settings.web.timeouts.body_seconds) == (60, 60)
    short = MINIMAL.replace("port: 8081,", "port: 8081, timeouts: {idle_seconds: 0.5},")
    assert load_config(write(tmp_path, short)).web.timeouts.idle_seconds == 0.5
    never = MINIMAL.replace("port: 8081,", "port: 8081, timeouts: {body_seconds: 0},")
    assert "web.timeouts.body_seconds" in problems(write(tmp_path, never))


def test_reading_a_config_does_not_import_the_simulator() -> None:
    """config.py needs the fault profiles' names, not the 1,300-line interpreter (issue 15)."""
    probe = "import sys, smscat.relay.daemon.config; print('smscat.hwsim.engine' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
