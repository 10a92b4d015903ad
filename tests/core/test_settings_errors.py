"""Settings errors: each names the file, line and key, and never shows a secret."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sfsync.errors import ConfigError
from sfsync.settings import load_settings
from tests.cli import run_sfsync

SECRET = "hunter2-do-not-print"


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A settings folder of the test's own, named by SFSYNC_CONFIG_DIR."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.setenv("SFSYNC_CONFIG_DIR", str(folder))
    return folder


def write_toml(config_dir: Path, text: str) -> Path:
    path = config_dir / "sfsync.toml"
    path.write_text(text, encoding="utf-8")
    return path


def write_env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sfsync.env"
    path.write_text(text, encoding="utf-8")
    return path


def settings_error(**kwargs: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(**kwargs)  # type: ignore[arg-type]
    return str(caught.value)


@pytest.mark.parametrize(
    "key", ["password", "security_token", "client_secret"], ids=lambda key: key
)
def test_a_secret_in_the_toml_file_is_refused_naming_file_line_and_variable(
    config_dir: Path, key: str
) -> None:
    path = write_toml(config_dir, f'api_version = "59.0"\n{key} = "{SECRET}"\n')

    message = settings_error()

    assert f"{path}:2: {key} is or holds a secret" in message
    assert f"SFSYNC_{key.upper()}" in message
    assert "env file" in message
    assert SECRET not in message


def test_a_password_inside_the_toml_database_url_is_refused_without_showing_it(
    config_dir: Path,
) -> None:
    path = write_toml(config_dir, f'database_url = "postgresql://u:{SECRET}@h/db"\n')

    message = settings_error()

    assert f"{path}:1: database_url is or holds a secret" in message
    assert "SFSYNC_DATABASE_URL" in message
    assert SECRET not in message


def test_an_unknown_toml_key_names_the_file_in_effect_its_line_and_the_near_one(
    config_dir: Path,
) -> None:
    path = write_toml(
        config_dir, '# timeouts\napi_version = "59.0"\nrequest_timout_s = 5\n'
    )

    message = settings_error()

    assert (
        f"{path}:3: unknown setting 'request_timout_s' "
        "(did you mean 'request_timeout_s'?)"
    ) in message
    assert "config/sfsync.toml:" not in message
    assert "Extra inputs" not in message


def test_an_unknown_toml_table_is_placed_at_its_header_line(config_dir: Path) -> None:
    path = write_toml(config_dir, 'api_version = "59.0"\n\n[schedul]\npull = "off"\n')

    message = settings_error()

    assert f"{path}:3: unknown setting 'schedul' (did you mean 'schedule'?)" in message


def test_an_invalid_toml_value_names_the_file_in_effect_and_its_line(
    config_dir: Path,
) -> None:
    path = write_toml(config_dir, 'api_version = "59.0"\nrequest_timeout_s = -1\n')

    message = settings_error()

    assert f"{path}:2: request_timeout_s: Input should be greater than 0" in message


def test_an_unknown_variable_in_the_env_file_is_named_as_written_with_its_line(
    tmp_path: Path,
) -> None:
    env_file = write_env(
        tmp_path, "# org\nSFSYNC_USERNAME=bob\n\nSFSYNC_REQEST_TIMEOUT_S=3\n"
    )

    message = settings_error(env_file=env_file)

    assert (
        f"{env_file}:4: unknown setting SFSYNC_REQEST_TIMEOUT_S "
        "(did you mean 'SFSYNC_REQUEST_TIMEOUT_S'?)"
    ) in message
    assert "sfsync_reqest" not in message


def test_an_env_file_variable_without_the_prefix_suggests_the_prefixed_name(
    tmp_path: Path,
) -> None:
    env_file = write_env(tmp_path, "LOGIN_URL=https://test.salesforce.com\n")

    message = settings_error(env_file=env_file)

    assert (
        f"{env_file}:1: unknown setting LOGIN_URL (did you mean 'SFSYNC_LOGIN_URL'?)"
    ) in message


def test_an_unknown_sfsync_environment_variable_is_still_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SFSYNC_NOT_A_SETTING", "1")

    settings = load_settings()

    assert settings.api_version == "59.0"


def test_a_malformed_env_file_line_is_an_error_naming_file_and_line(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    env_file = write_env(
        tmp_path,
        f"SFSYNC_USERNAME=bob\nSFSYNC_PASSWORD={SECRET}\n"
        f"this line is {SECRET} not a setting\nSFSYNC_API_VERSION=59.0\n",
    )

    message = settings_error(env_file=env_file)

    assert f"{env_file}:3: not a NAME=value line" in message
    assert SECRET not in message
    assert "could not parse" not in capfd.readouterr().err


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("127.0.0.1:40537", id="no-scheme"),
        pytest.param("http://login.salesforce.com", id="plain-http"),
        pytest.param("https://", id="no-host"),
        pytest.param("https://login.salesforce.com:port", id="bad-port"),
    ],
)
def test_a_login_url_that_is_not_https_with_a_host_is_refused_with_the_forms(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("SFSYNC_LOGIN_URL", url)

    message = settings_error()

    assert "SFSYNC_LOGIN_URL in the environment" in message
    assert "must be an https:// URL with a host" in message
    assert "https://login.salesforce.com" in message
    assert "https://test.salesforce.com" in message
    assert "My Domain" in message


@pytest.mark.parametrize(
    "url",
    [
        "https://login.salesforce.com",
        "https://test.salesforce.com/",
        "https://acme.my.salesforce.com",
        "https://127.0.0.1:40537",
    ],
)
def test_https_login_urls_are_accepted(url: str) -> None:
    settings = load_settings(login_url=url)

    assert settings.login_url == url


def test_a_login_url_in_the_env_file_is_placed_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The environment outranks the env file; the autouse fixture sets this one.
    monkeypatch.delenv("SFSYNC_LOGIN_URL")
    env_file = write_env(tmp_path, "SFSYNC_USERNAME=bob\nSFSYNC_LOGIN_URL=x.test\n")

    message = settings_error(env_file=env_file)

    assert f"{env_file}:2: SFSYNC_LOGIN_URL: login_url must be" in message


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(f"mysql://u:{SECRET}@x/y", id="mysql"),
        pytest.param("postgres://h/db", id="postgres-alias"),
        pytest.param("sqlite://", id="sqlite-no-path"),
        pytest.param("sfsync.db", id="bare-path"),
    ],
)
def test_an_unsupported_database_url_is_refused_listing_the_forms(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("SFSYNC_DATABASE_URL", url)

    message = settings_error()

    assert "SFSYNC_DATABASE_URL in the environment" in message
    assert "is not a database sfsync can open" in message
    assert "sqlite:///" in message
    assert "postgresql://" in message
    assert SECRET not in message


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///sfsync.db",
        "sqlite:////var/lib/sfsync/sfsync.db",
        "postgresql://u:p@127.0.0.1:5432/db",
        "postgresql+psycopg://u@db.internal/sfsync",
    ],
)
def test_sqlite_and_postgresql_database_urls_are_accepted(url: str) -> None:
    settings = load_settings(database_url=url)

    assert settings.database_url == url


def test_the_shipped_settings_file_loads() -> None:
    settings = load_settings()

    assert settings.database_url == "sqlite:///sfsync.db"


def test_the_config_folder_named_in_the_env_file_is_where_the_toml_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SFSYNC_CONFIG_DIR")
    folder = tmp_path / "config"
    folder.mkdir()
    write_toml(folder, "request_timeout_s = 7.0\n")
    env_file = write_env(tmp_path, f"SFSYNC_CONFIG_DIR={folder}\n")

    settings = load_settings(env_file=env_file)

    assert settings.config_dir == folder
    assert settings.request_timeout_s == 7.0


def test_a_secret_that_falls_into_the_schedule_table_is_refused_unshown(
    config_dir: Path,
) -> None:
    path = write_toml(
        config_dir, f'[schedule]\npull = "every 5m"\npassword = "{SECRET}"\n'
    )

    message = settings_error()

    assert f"{path}:1" in message
    assert "job 'password' has no schedule sfsync understands" in message
    assert SECRET not in message


def test_a_schedule_variable_that_is_not_json_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SFSYNC_SCHEDULE", "bogus")

    message = settings_error()

    assert "SFSYNC_SCHEDULE is not valid JSON" in message
    assert "bogus" not in message


@pytest.mark.parametrize(
    ("given", "expected"), [("debug", "DEBUG"), ("Warning", "WARNING")]
)
def test_a_log_level_setting_is_one_of_the_levels_in_any_case(
    monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    monkeypatch.setenv("SFSYNC_LOG_LEVEL", given)

    assert load_settings().log_level == expected


def test_an_unknown_log_level_setting_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SFSYNC_LOG_LEVEL", "LOUD")

    assert "SFSYNC_LOG_LEVEL in the environment" in settings_error()


def test_an_error_quoting_brackets_is_printed_whole() -> None:
    done = run_sfsync("status", env={**os.environ, "SFSYNC_SCHEDULE": "bogus"})

    assert done.returncode == 2
    assert "the [schedule] table of sfsync.toml" in done.stderr
