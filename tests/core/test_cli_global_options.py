"""The global --log-level and --log-format options take only the values they name."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sfsync.cli.main import app


@pytest.mark.parametrize(
    ("option", "value"),
    [
        pytest.param("--log-level", "LOUD", id="unknown-level"),
        pytest.param("--log-format", "xml", id="unknown-format"),
    ],
)
def test_an_unknown_log_option_value_is_a_usage_error(option: str, value: str) -> None:
    result = CliRunner().invoke(app, [option, value, "config", "show"])

    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.output
    assert value in result.output


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--log-level", "debug"], id="lower-case-level"),
        pytest.param(["--log-level", "WARNING"], id="upper-case-level"),
        pytest.param(["--log-format", "json"], id="format"),
    ],
)
def test_known_log_option_values_are_accepted(args: list[str]) -> None:
    result = CliRunner().invoke(app, [*args, "config", "show"])

    assert result.exit_code == 0, result.output
