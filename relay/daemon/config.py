"""The settings config.yaml may hold: frozen, validated pydantic models, one per section.

Outer ring of the relay: it may import anything. Each model checks its own keys and says what
a good value looks like; :mod:`.config_file` reads the file into :class:`Settings` and reports
every bad key by its YAML path. Precedence: ``SMSCAT_…`` environment variables (``__`` between
nested keys, JSON for lists) over the file over the defaults. Relative paths resolve against
the config file's folder (:meth:`Settings.resolve_paths`).
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from pathlib import Path
from typing import Any, Literal

import phonenumbers
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from smscat.hwsim.profiles import MODULES, PROFILES
from smscat.modem.quirks import QuirkConfigError, Quirks, override
from smscat.relay.daemon.config_operations import (
    BackupsConfig,
    LogConfig,
    LogLevel,
    legacy_log_level,
)
from smscat.relay.services.care_record import CareConfig, link_problem
from smscat.relay.services.expert_record import ExpertConfig, Slug, mobile

ENV_PREFIX = "SMSCAT_"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SimOptions(_Frozen):
    """Options of the built-in simulator, used when ``port: sim``."""

    profile: str = "generic"
    send_latency: float = Field(0.0, ge=0, le=120, description="seconds per AT+CMGS")
    report_delay: float = Field(1.0, ge=0, le=600, description="seconds to a status report")
    storage_slots: int = Field(30, ge=1, le=255)
    index_base: Literal[0, 1] = 1
    pin: str | None = Field(
        None, pattern=r"^\d{4,8}$", description="the simulated SIM asks for this PIN at power-up"
    )
    storages: tuple[str, str, str] = Field(
        ("SM", "SM", "SM"),
        description="+CPMS the simulated modem starts with, as other SMS software left it",
    )
    module: str = Field(
        "generic",
        description="a real module to behave like (identity, start-up, quirks); sets index_base",
    )

    @field_validator("module")
    @classmethod
    def _known_module(cls, value: str) -> str:
        if value not in MODULES:
            raise ValueError(f"unknown module; known: {', '.join(MODULES)}")
        return value

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if value not in PROFILES:
            raise ValueError(f"unknown fault profile; known: {', '.join(PROFILES)}")
        return value

    @field_validator("storages", mode="before")
    @classmethod
    def _three_memories(cls, value: Any) -> Any:
        memories = value if isinstance(value, list | tuple) else ()
        if len(memories) != 3 or not all(m in ("SM", "ME") for m in memories):
            raise ValueError(
                "expected three SMS memories [read, write, receive], each SM or ME,"
                " like [ME, ME, SM]"
            )
        return tuple(value)


class ModemLimits(_Frozen):
    """Per-SIM caps in SMS parts (null: no cap). Defaults fit China's reported carrier caps."""

    per_minute: int | None = Field(None, ge=1)
    per_hour: int | None = Field(200, ge=1)
    per_day: int | None = Field(1000, ge=1)


class ModemConfig(_Frozen):
    id: Slug
    port: str = Field(description="/dev/serial/by-id/…, /dev/pts/N, socket://host:port, or sim")
    baudrate: int = Field(115200, gt=0)
    sim: SimOptions = SimOptions()
    pin: SecretStr | None = Field(
        None, description="SIM PIN, entered whenever the SIM asks; never again once refused"
    )
    quirks: dict[str, Any] = Field(
        default_factory=dict, description="overrides of the model's quirk flags (modem/quirks.py)"
    )
    smsc: str | None = Field(
        None,
        pattern=r"^\+?\d{3,20}$",
        description="the operator's SMS centre, written with AT+CSCA at start (a SIM without one"
        " gets +CMS ERROR: 330 on every send; `smscat modem scan` says so); null: the SIM's own",
    )
    limits: ModemLimits = ModemLimits()

    @field_validator("quirks")
    @classmethod
    def _known_quirks(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            override(Quirks(), value)
        except QuirkConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("port")
    @classmethod
    def _port_form(cls, value: str) -> str:
        if value == "sim" or value.startswith("/") or value.startswith("socket://"):
            if value.startswith("socket://") and not re.fullmatch(
                r"socket://[^:/\s]+:\d{1,5}", value
            ):
                raise ValueError("a socket URL looks like socket://host:port")
            return value
        raise ValueError(
            "expected an absolute device path (/dev/serial/by-id/…), socket://host:port, or sim"
        )


def _calling_code(code: str) -> bool:
    """True for a country calling code the phone-number metadata knows (86, 852, 44…)."""
    return int(code) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE


class StorageConfig(_Frozen):
    path: Path = Path("var/smscat.db")


CODE_BUDGET_NETWORKS = 50  # fewer client networks than this can never use up every code


class RateLimits(_Frozen):
    """Per client network and hour (null: no limit). A client is its network: an IPv4 /24 or an
    IPv6 /64 (behind ``web.trusted_proxies``, the real client's)."""

    asks_per_hour: int | None = Field(5, ge=1, description="questions asked")
    followups_per_hour: int | None = Field(5, ge=1, description="follow-ups written on the web")
    codes_per_hour: int | None = Field(
        2, ge=1, description="SMS codes requested (at most codes_all_per_hour / 50)"
    )
    links_per_hour: int | None = Field(5, ge=1, description="SMS of thread links requested")
    codes_all_per_hour: int = Field(
        100, ge=1, description="SMS codes for every network and number together"
    )

    @model_validator(mode="after")
    def _code_share(self) -> RateLimits:
        share = self.codes_all_per_hour // CODE_BUDGET_NETWORKS
        if self.codes_per_hour is not None and self.codes_per_hour > share:
            raise ValueError(
                f"codes_per_hour ({self.codes_per_hour}) would let fewer than"
                f" {CODE_BUDGET_NETWORKS} client networks use up codes_all_per_hour"
                f" ({self.codes_all_per_hour}) and leave every other patient without a code:"
                f" at most codes_all_per_hour / {CODE_BUDGET_NETWORKS} ="
                f" {share} (raise codes_all_per_hour to"
                f" {self.codes_per_hour * CODE_BUDGET_NETWORKS} for {self.codes_per_hour})"
            )
        return self


SECRET_KEY_BYTES = 32
SECRET_KEY_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


class WebTimeouts(_Frozen):
    """How long a slow client may hold a connection (web/deadlines.py)."""

    idle_seconds: float = Field(
        60,
        gt=0,
        le=3600,
        description="a connection without a whole request header this long (since it opened,"
        " or since the last answer) is closed",
    )
    body_seconds: float = Field(
        60, gt=0, le=3600, description="a request's body must have arrived within this: else 408"
    )


class WebConfig(_Frozen):
    host: str = "127.0.0.1"
    rate_limits: RateLimits = RateLimits()
    port: int = Field(8080, ge=0, le=65535)
    secret_key: SecretStr | None = Field(
        None,
        description="32+ bytes that sign the admin's cookies (sessions outlive a restart);"
        " required unless every modem is port: sim (then one is made per run)",
    )
    timeouts: WebTimeouts = WebTimeouts()
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="networks (10.0.0.0/8, ::1) whose X-Forwarded-For/-Proto headers are believed",
    )
    metrics_allow: list[str] = Field(
        default_factory=list, description="networks besides loopback that may read /metrics"
    )
    public_url: str | None = Field(
        None,
        description="the address patients use (https://ask.example.org): links sent by SMS"
        " start with it; without it they follow the request's Host header",
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[^\s?#]*)?$", value):
            raise ValueError("expected an http:// or https:// address like https://ask.example.org")
        return value.rstrip("/")

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < SECRET_KEY_BYTES:
            raise ValueError(
                f"at least {SECRET_KEY_BYTES} bytes, kept secret; make one with {SECRET_KEY_HINT}"
            )
        return value

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not an IP network like 10.0.0.0/8") from None
        return value


_ARGON2ID = re.compile(r"^\$argon2id\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")


class AdminConfig(_Frozen):
    """An administrator of the web admin page; the hash comes from ``smscat hash-password``."""

    username: str = Field(min_length=1, max_length=32)
    password_hash: SecretStr = Field(description="an argon2id hash ($argon2id$…)")

    @field_validator("password_hash")
    @classmethod
    def _argon2id(cls, value: SecretStr) -> SecretStr:
        if not _ARGON2ID.match(value.get_secret_value()):
            raise ValueError("expected an argon2id hash ($argon2id$…) from smscat hash-password")
        return value


class DepartmentConfig(_Frozen):
    name: str = Field("专家咨询", min_length=1, max_length=60)
    hospital: str | None = Field(None, max_length=60)


class AlertsConfig(_Frozen):
    phones: list[str] = Field(default_factory=list, description="admins' mobiles for alert SMS")
    webhook: str | None = Field(None, description="an http(s) URL that gets a JSON POST")
    modem_silent_minutes: int = Field(10, ge=1, le=1440)
    queue_stalled_minutes: int = Field(15, ge=1, le=1440)
    cap_warn_ratio: float = Field(0.9, gt=0, le=1)
    repeat_minutes: int = Field(60, ge=1, le=10080, description="no more than one SMS per alert")

    @field_validator("phones")
    @classmethod
    def _mobiles(cls, value: list[str]) -> list[str]:
        return [mobile(v) for v in value]

    @field_validator("webhook")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("expected an http:// or https:// URL")
        return value

    def __repr_args__(self) -> Any:
        return [(k, v) for k, v in super().__repr_args__() if k != "phones"]


class RetentionConfig(_Frozen):
    phone_days: int | None = Field(
        None, ge=1, description="erase patients' phone numbers this long after their last thread"
    )
    thread_days: int | None = Field(
        None, ge=1, description="erase private threads this long after their last message"
    )


REASSEMBLY_TIMEOUT_MAX_MINUTES = 1440


class RelayConfig(_Frozen):
    code_countries: list[str] = Field(
        default_factory=lambda: ["86"],
        description="country calling codes whose mobiles may get SMS codes (86: mainland China)",
    )
    auto_close_days: int = Field(
        7, ge=1, le=365, description="a thread takes replies this long after its last message"
    )
    max_text: int = Field(500, ge=20, le=2000, description="characters in a question")
    duplicate_guard: bool = Field(
        True, description="a notice once a day per number; typed text again, marked （第2次）"
    )
    answer_within_hours: int = Field(
        24, ge=1, le=720, description="longer without an answer: listed on the admin dashboard"
    )
    reassembly_timeout_minutes: float = Field(
        30,
        description="a long SMS still missing a part this long after its first part is posted"
        " as it is, marked; a late part completes it (fractions allowed: 0.5 is 30 s)",
    )

    @field_validator("code_countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError('at least one country calling code, like ["86"]')
        for code in value:
            if not re.fullmatch(r"[1-9][0-9]{0,2}", code) or not _calling_code(code):
                raise ValueError(
                    f"{code!r} is not a country calling code: digits without + or 00,"
                    ' like "86" (mainland China) or "852" (Hong Kong)'
                )
        return value

    @field_validator("reassembly_timeout_minutes")
    @classmethod
    def _reassembly_timeout(cls, value: float) -> float:
        if not 0 < value <= REASSEMBLY_TIMEOUT_MAX_MINUTES:
            raise ValueError(
                f"expected minutes above 0 and at most {REASSEMBLY_TIMEOUT_MAX_MINUTES}"
                " (a day), like 30: how long the parts of a long SMS may take to arrive"
                " before it is posted without the missing ones"
            )
        return value


class Settings(BaseSettings):
    """Everything smscat reads from config.yaml."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        nested_model_default_partial_update=True,
    )

    department: DepartmentConfig = DepartmentConfig()
    modems: list[ModemConfig] = Field(default_factory=list)
    experts: list[ExpertConfig] = Field(default_factory=list)
    storage: StorageConfig = StorageConfig()
    web: WebConfig = WebConfig()
    relay: RelayConfig = RelayConfig()
    timezone: str = Field("Asia/Shanghai", description="local time for quiet hours and caps")
    quick_replies: dict[str, str] = Field(
        default_factory=dict, description='numbered standard answers: {"T3": "请带上检查报告…"}'
    )
    alerts: AlertsConfig = AlertsConfig()
    admins: list[AdminConfig] = Field(
        default_factory=list, description="who may log in to /admin (none: a setup link is logged)"
    )
    retention: RetentionConfig = RetentionConfig()
    backups: BackupsConfig = BackupsConfig()
    log: LogConfig = LogConfig()
    care: CareConfig = CareConfig()  # 随访 plans and when their SMS may go

    @model_validator(mode="before")
    @classmethod
    def _legacy_log_level(cls, data: Any) -> Any:
        return legacy_log_level(data)  # `log_level: X` still works: it is log.level

    @property
    def log_level(self) -> LogLevel:
        return self.log.level

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's content arrives as init kwargs; the environment wins over it.
        return (env_settings, init_settings)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a time zone name like Asia/Shanghai") from None
        return value

    @field_validator("quick_replies")
    @classmethod
    def _quick(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if not re.fullmatch(r"T\d{1,2}", key):
                raise ValueError(f"{key!r}: keys are T and a number, like T3")
            if not 1 <= len(text) <= 300:
                raise ValueError(f"{key}: the text must be 1 to 300 characters")
        return value

    @model_validator(mode="after")
    def _assistants(self) -> Settings:
        roles = {e.id: e.role for e in self.experts}
        for e in self.experts:
            if e.assistant is None:
                continue
            if roles.get(e.assistant) != "assistant":
                raise ValueError(
                    f"experts: {e.id}'s assistant {e.assistant!r} is not an expert with"
                    " role: assistant"
                )
            if e.role == "assistant":
                raise ValueError(f"experts: assistant {e.id!r} cannot have an assistant")
        return self

    @property
    def demo(self) -> bool:
        """Every modem is the built-in simulator: nothing real to protect yet."""
        return all(m.port == "sim" for m in self.modems)

    @model_validator(mode="after")
    def _secret_key_outside_the_demo(self) -> Settings:
        if self.web.secret_key is None and not self.demo:
            raise ValueError(
                "web.secret_key is required when a modem is real (not port: sim): it signs the"
                f" admin's session cookies; {SECRET_KEY_BYTES}+ bytes, kept secret, e.g. from"
                f" {SECRET_KEY_HINT} (or set SMSCAT_WEB__SECRET_KEY)"
            )
        return self

    @model_validator(mode="after")
    def _unique_ids(self) -> Settings:
        for section, items in (("modems", self.modems), ("experts", self.experts)):
            seen: set[str] = set()
            for item in items:
                if item.id in seen:
                    raise ValueError(f"{section}: id {item.id!r} appears twice")
                seen.add(item.id)
        names = [a.username for a in self.admins]
        if len(set(names)) != len(names):
            raise ValueError("admins: a username appears twice")
        phones = [e.phone for e in self.experts]
        if len(set(phones)) != len(phones):
            raise ValueError("experts: two experts share one phone number")
        return self

    @model_validator(mode="after")
    def _care_links(self) -> Settings:
        if (problem := link_problem(self.care, self.web.public_url)) is not None:
            raise ValueError(problem)
        return self

    def resolve_paths(self, base: Path) -> Settings:
        """Return a copy whose relative paths are taken from ``base`` (the config's folder)."""
        settings, path = self, self.storage.path
        if not path.is_absolute():
            storage = self.storage.model_copy(update={"path": (base / path).resolve()})
            settings = settings.model_copy(update={"storage": storage})
        folder = self.backups.dir
        if folder is None or folder.is_absolute():
            return settings
        backups = self.backups.model_copy(update={"dir": (base / folder).resolve()})
        return settings.model_copy(update={"backups": backups})

    @property
    def backup_dir(self) -> Path:
        """Where ``smscat backup`` writes: ``backups.dir``, or backups/ beside the database."""
        return self.backups.dir or self.storage.path.parent / "backups"
