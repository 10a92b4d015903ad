"""Typed settings: defaults from config/sfsync.toml, overrides from SFSYNC_* env."""

from __future__ import annotations

import os
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from sfsync.errors import ConfigError

__all__ = ["PROJECT_ROOT", "Settings", "load_settings"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENV_FILE_VARIABLE = "SFSYNC_ENV_FILE"


def default_config_dir() -> Path:
    """The working directory's config folder, else the one shipped with sfsync."""
    local = Path.cwd() / "config"
    if (local / "sfsync.toml").is_file():
        return local
    return PROJECT_ROOT / "config"


def default_mappings_dir() -> Path:
    local = Path.cwd() / "mappings"
    if local.is_dir():
        return local
    return PROJECT_ROOT / "mappings"


class Settings(BaseSettings):
    """Everything sfsync can be told; secrets are ``SecretStr`` and never printed."""

    model_config = SettingsConfigDict(
        env_prefix="SFSYNC_",
        extra="forbid",
        env_ignore_empty=True,
    )

    login_url: str = "https://login.salesforce.com"
    auth_flow: Literal["password", "client_credentials", "jwt"] = "password"
    username: str | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    private_key_file: Path | None = None
    ca_file: Path | None = None
    api_version: str = "59.0"
    request_timeout_s: float = Field(default=30.0, gt=0)

    database_url: str = "sqlite:///sfsync.db"
    config_dir: Path = Field(default_factory=default_config_dir)
    mappings_dir: Path = Field(default_factory=default_mappings_dir)
    state_dir: Path = Path(".sfsync")

    pull_floor: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    pull_overlap_s: int = Field(default=120, ge=0)
    bulk_pull_threshold: int = Field(default=20000, gt=0)
    bulk_page_size: int = Field(default=50000, gt=0)
    bulk_push_threshold: int = Field(default=5000, gt=0)
    bulk_poll_interval_s: float = Field(default=1.0, gt=0)
    # How long a Bulk API 2.0 job may stay queued or running before the run
    # gives up on it with a clear error instead of polling for ever.
    bulk_job_timeout_s: float = Field(default=3600.0, gt=0)

    api_reserve_percent: float = Field(default=10.0, ge=0, le=100)
    # How long a Sforce-Limit-Info reading stands for the org's usage: the
    # allocation is a rolling 24 hours, so after this the next call asks again.
    api_usage_fresh_s: float = Field(default=300.0, gt=0)
    retry_attempts: int = Field(default=5, ge=1)
    retry_initial_wait_s: float = Field(default=0.5, ge=0)
    retry_max_wait_s: float = Field(default=30.0, ge=0)

    holiday_country: str = "US"
    # Job name -> schedule ("every 5m", "cron 15 0 * * *", "off"); the jobs'
    # own defaults apply to the jobs not named here.
    schedule: dict[str, str] = Field(default_factory=dict)

    log_format: Literal["auto", "console", "json"] = "auto"
    log_level: str = "INFO"

    @field_validator("pull_floor")
    @classmethod
    def _floor_is_aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("pull_floor needs a time zone, e.g. 2015-01-01T00:00:00Z")
        return value.astimezone(UTC)

    @field_validator("ca_file")
    @classmethod
    def _ca_file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(
                f"CA file {value} does not exist (an env file written by "
                "`sfsync localorg serve` is valid only while that org runs)"
            )
        return value

    @field_validator("api_version")
    @classmethod
    def _version_form(cls, value: str) -> str:
        major, _, minor = value.partition(".")
        if not (major.isdigit() and minor.isdigit()):
            raise ValueError("api_version looks like 59.0")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = _toml_file()
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            env_settings,
            dotenv_settings,
            file_secret_settings,
        ]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain values, secrets shown as '**********'."""
        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                shown[name] = "**********" if value.get_secret_value() else ""
            elif isinstance(value, Path | datetime):
                shown[name] = str(value)
            else:
                shown[name] = value
        shown["database_url"] = mask_url(self.database_url)
        return shown


def mask_url(url: str) -> str:
    """Hide the password in a database URL such as postgresql://u:secret@host/db."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user, colon, _ = credentials.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{host}"


def _toml_file() -> Path | None:
    config_dir = os.environ.get("SFSYNC_CONFIG_DIR")
    base = Path(config_dir) if config_dir else default_config_dir()
    candidate = base / "sfsync.toml"
    return candidate if candidate.is_file() else None


def _check_toml() -> None:
    toml_file = _toml_file()
    if toml_file is None:
        return
    try:
        tomllib.loads(toml_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{toml_file}: not valid TOML ({exc})",
            hint="fix the file at that line, or point SFSYNC_CONFIG_DIR elsewhere",
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{toml_file}: not valid UTF-8") from None


def load_settings(*, env_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Load settings once; an env file comes from the argument or SFSYNC_ENV_FILE."""
    chosen = env_file or os.environ.get(ENV_FILE_VARIABLE)
    if chosen is not None and not Path(chosen).is_file():
        raise ConfigError(
            f"env file {chosen} does not exist",
            hint="pass the path written by `sfsync localorg serve --env-file`",
        )
    try:
        _check_toml()
        if chosen is not None:
            return Settings(_env_file=str(chosen), **overrides)
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        )
        source = (
            f"config/sfsync.toml, SFSYNC_* variables or {chosen}"
            if chosen
            else ("config/sfsync.toml or SFSYNC_* variables")
        )
        raise ConfigError(
            f"invalid settings in {source}: {problems}",
            hint="fix the named keys; `sfsync config show` prints what is in effect",
        ) from None
