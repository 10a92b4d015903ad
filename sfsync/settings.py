"""Typed settings: defaults from config/sfsync.toml, overrides from SFSYNC_* env."""

from __future__ import annotations

import difflib
import io
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from dotenv.parser import parse_stream
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from sfsync.errors import ConfigError

__all__ = ["PROJECT_ROOT", "Settings", "load_settings"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ENV_PREFIX = "SFSYNC_"
ENV_FILE_VARIABLE = "SFSYNC_ENV_FILE"

LOGIN_URL_FORMS = (
    "https://login.salesforce.com (production), https://test.salesforce.com "
    "(sandbox) or a My Domain URL such as https://acme.my.salesforce.com"
)
# What sfsync.store.db.make_engine opens with the drivers sfsync ships with;
# any other scheme would fail later, inside SQLAlchemy, on a missing driver.
SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite")
POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg")
DATABASE_URL_FORMS = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, "
    "postgresql://user:password@host:5432/dbname or postgresql+psycopg://..."
)


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
        env_prefix=ENV_PREFIX,
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
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

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

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("schedule")
    @classmethod
    def _schedule_form(cls, value: dict[str, str]) -> dict[str, str]:
        # Imported here: the scheduler's module imports this one.
        from sfsync.service.scheduler import parse_schedule

        for job, text in value.items():
            if not re.fullmatch(r"[a-z][a-z0-9_]*", job):
                raise ValueError(f"{job!r} is not a job name")
            try:
                parse_schedule(str(text), where=f"job {job}")
            except ConfigError:
                # The value is not repeated: a secret written here by mistake
                # must not reach the message.
                raise ValueError(
                    f"job {job!r} has no schedule sfsync understands; write "
                    '"every 5m" (s, m, h, d), "cron 0 2 * * *" (UTC) or "off"'
                ) from None
        return value

    @field_validator("login_url")
    @classmethod
    def _login_url_form(cls, value: str) -> str:
        if _https_host(value) is None:
            raise ValueError(
                f"login_url must be an https:// URL with a host, not "
                f"{mask_url(value)!r}; use {LOGIN_URL_FORMS}"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_form(cls, value: str) -> str:
        scheme, sep, rest = value.partition("://")
        sqlite = scheme in SQLITE_SCHEMES and rest.startswith("/") and rest != "/"
        postgres = scheme in POSTGRES_SCHEMES and bool(rest)
        if not sep or not (sqlite or postgres):
            raise ValueError(
                f"database_url {mask_url(value)!r} is not a database sfsync can "
                f"open; use {DATABASE_URL_FORMS}"
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
        chosen = _toml_in_effect.get()
        toml_file = chosen[0] if chosen is not None else _toml_file()
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


def _https_host(url: str) -> str | None:
    """The host of an https:// URL; None for any other scheme or a bad port."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - reading the port is what checks it
    except ValueError:
        return None
    if parts.scheme.lower() != "https":
        return None
    return parts.hostname or None


# The TOML file load_settings chose, read by settings_customise_sources while
# that call builds the settings; unset, Settings() finds the file itself.
_toml_in_effect: ContextVar[tuple[Path | None] | None] = ContextVar(
    "_toml_in_effect", default=None
)


def _toml_file(env_file_config_dir: str | None = None) -> Path | None:
    """``sfsync.toml`` in the config folder the environment or env file names."""
    config_dir = os.environ.get("SFSYNC_CONFIG_DIR") or env_file_config_dir
    base = Path(config_dir) if config_dir else default_config_dir()
    candidate = base / "sfsync.toml"
    return candidate if candidate.is_file() else None


def _secret_fields() -> frozenset[str]:
    return frozenset(
        name
        for name, info in Settings.model_fields.items()
        if info.annotation is SecretStr or SecretStr in get_args(info.annotation)
    )


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _toml_line(text: str, key: str) -> int | None:
    """The line where a top-level ``key`` is set; tomllib keeps no positions."""
    name = re.escape(key)
    spelled = rf"(?:{name}|\"{name}\"|'{name}')"
    # A top-level key is set before the first table header, or is a header.
    first_table = re.search(r"^[ \t]*\[", text, re.MULTILINE)
    top = text[: first_table.start()] if first_table else text
    assigned = re.search(rf"^[ \t]*{spelled}[ \t]*[=.]", top, re.MULTILINE)
    header = re.search(rf"^[ \t]*\[\[?[ \t]*{spelled}[ \t]*[\].]", text, re.MULTILINE)
    found = assigned or header
    return text.count("\n", 0, found.start()) + 1 if found else None


def _check_toml(toml_file: Path | None) -> dict[str, int]:
    """Check the TOML settings file in effect; return the line of each key in it."""
    if toml_file is None:
        return {}
    try:
        text = toml_file.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{toml_file}: not valid TOML ({exc})",
            hint="fix the file at that line, or point SFSYNC_CONFIG_DIR elsewhere",
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{toml_file}: not valid UTF-8") from None
    lines = {key: _toml_line(text, key) or 1 for key in data}

    def where(key: str) -> str:
        return f"{toml_file}:{lines[key]}"

    # The value of a secret is never part of the message: only where it is.
    secrets = sorted(_secret_fields() & set(data), key=lines.__getitem__)
    database_url = data.get("database_url")
    if isinstance(database_url, str) and mask_url(database_url) != database_url:
        secrets.append("database_url")
    if secrets:
        raise ConfigError(
            "; ".join(
                f"{where(key)}: {key} is or holds a secret; secrets may not be "
                "written in this settings file, which is kept with the repository"
                for key in secrets
            ),
            hint="delete the line and set "
            + ", ".join(ENV_PREFIX + key.upper() for key in secrets)
            + " in the environment or in the env file (--env-file or "
            "SFSYNC_ENV_FILE) instead",
        )
    known = Settings.model_fields
    unknown = sorted(set(data) - set(known), key=lines.__getitem__)
    if unknown:
        raise ConfigError(
            "; ".join(
                f"{where(key)}: unknown setting {key!r}{_did_you_mean(key, known)}"
                for key in unknown
            ),
            hint="rename or delete the key; the settings are listed in the "
            "README and in the shipped config/sfsync.toml",
        )
    return lines


def _check_env_file(env_file: Path) -> tuple[dict[str, int], str | None]:
    """Check each line of the env file.

    Returns the line of each variable in it, and the config folder it names
    (SFSYNC_CONFIG_DIR), if any, which is where sfsync.toml is then read from.

    python-dotenv only warns about a line it cannot parse, without naming the
    file, and then skips it: a setting would be silently lost.
    """
    try:
        text = env_file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"env file {env_file}: not valid UTF-8") from None
    variables = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    lines: dict[str, int] = {}
    config_dir: str | None = None
    problems: list[str] = []
    for binding in parse_stream(io.StringIO(text)):
        written = binding.original.string
        skipped = written[: len(written) - len(written.lstrip())].count("\n")
        line = binding.original.line + skipped
        if binding.error:
            # The line itself is not shown: it may hold a password.
            problems.append(f"{env_file}:{line}: not a NAME=value line")
        elif binding.key is not None:
            if binding.key.upper() in variables:
                lines[binding.key.upper()] = line
                if binding.key.upper() == "SFSYNC_CONFIG_DIR":
                    config_dir = binding.value or None
                continue
            prefixed = ENV_PREFIX + binding.key.upper()
            hint = (
                f" (did you mean {prefixed!r}?)"
                if prefixed in variables
                else _did_you_mean(binding.key.upper(), variables)
            )
            problems.append(f"{env_file}:{line}: unknown setting {binding.key}{hint}")
    if problems:
        raise ConfigError(
            "; ".join(problems),
            hint="write one SFSYNC_<SETTING>=value per line, comments start "
            "with #; the settings are listed in the README",
        )
    return lines, config_dir


def _origin(
    field: str,
    *,
    overrides: Mapping[str, Any],
    env_lines: Mapping[str, int],
    env_file: Path | None,
    toml_lines: Mapping[str, int],
    toml_file: Path | None,
) -> str:
    """Where the value of ``field`` came from, in the sources' order of priority."""
    variable = ENV_PREFIX + field.upper()
    if field in overrides:
        return f"{field} (as passed in)"
    if any(k.upper() == variable and v for k, v in os.environ.items()):
        return f"{variable} in the environment"
    if env_file is not None and variable in env_lines:
        return f"{env_file}:{env_lines[variable]}: {variable}"
    if field in toml_lines:
        return f"{toml_file}:{toml_lines[field]}: {field}"
    return field


def load_settings(*, env_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Load settings once; an env file comes from the argument or SFSYNC_ENV_FILE."""
    chosen = env_file or os.environ.get(ENV_FILE_VARIABLE)
    if chosen is not None and not Path(chosen).is_file():
        raise ConfigError(
            f"env file {chosen} does not exist",
            hint="pass the path written by `sfsync localorg serve --env-file`",
        )
    env_path = Path(chosen) if chosen is not None else None
    env_lines, env_config_dir = (
        _check_env_file(env_path) if env_path is not None else ({}, None)
    )
    toml_file = _toml_file(env_config_dir)
    toml_lines = _check_toml(toml_file)
    token = _toml_in_effect.set((toml_file,))
    try:
        if env_path is not None:
            return Settings(_env_file=str(env_path), **overrides)
        return Settings(**overrides)
    except SettingsError as exc:
        # A complex setting (SFSYNC_SCHEDULE) whose text is not JSON; the
        # text itself is not shown.
        named = re.search(r'field "(\w+)"', str(exc))
        variable = ENV_PREFIX + (named.group(1) if named else "SCHEDULE").upper()
        raise ConfigError(
            f"{variable} is not valid JSON",
            hint=f'write it as JSON, for example {variable}=\'{{"pull": '
            f'"every 5m"}}\', or set the [schedule] table of sfsync.toml',
        ) from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            where = _origin(
                field,
                overrides=overrides,
                env_lines=env_lines,
                env_file=env_path,
                toml_lines=toml_lines,
                toml_file=toml_file,
            )
            inner = ".".join(str(p) for p in err["loc"][1:])
            label = f"{where} ({inner})" if inner else where
            problems.append(f"{label}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigError(
            f"invalid settings: {'; '.join(problems)}",
            hint="fix the named keys; `sfsync config show` prints what is in effect",
        ) from None
    finally:
        _toml_in_effect.reset(token)
