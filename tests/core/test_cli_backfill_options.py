"""The backfill command's options are checked before any work starts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sfsync.cli.service_cmds import _datetime
from sfsync.errors import InputError
from tests.cli import run_sfsync


def test_a_negative_limit_is_a_usage_error_before_the_progress_bar() -> None:
    args = ["--close-from", "2024-01-01", "--close-to", "2024-12-31", "--limit", "-5"]
    done = run_sfsync("backfill", *args)

    assert done.returncode == 2
    assert "--limit" in done.stderr
    assert "backfill ━" not in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T08:30:00Z", datetime(2026, 11, 1, 8, 30, tzinfo=UTC)),
    ],
    ids=["bare-date-is-midnight-utc", "zulu-time"],
)
def test_modified_bounds_read_dates_and_zoned_times(
    given: str, expected: datetime
) -> None:
    assert _datetime(given, "--modified-from") == expected


def test_a_modified_bound_that_is_no_time_is_refused() -> None:
    with pytest.raises(InputError, match="is not a time like"):
        _datetime("yesterday", "--modified-from")
