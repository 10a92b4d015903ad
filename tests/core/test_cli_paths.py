"""Paths the CLI cannot read or write get a clear error, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import run_sfsync


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        pytest.param("a-file", "Not a directory", id="a-file-in-the-way"),
        pytest.param("/proc/no-such/folder", "No such file", id="unwritable"),
    ],
)
def test_metadata_export_into_a_path_it_cannot_use_is_a_clear_error(
    tmp_path: Path, target: str, expected: str
) -> None:
    (tmp_path / "a-file").write_text("in the way")
    path = target if target.startswith("/") else str(tmp_path / target / "out")

    done = run_sfsync("metadata", "export", path)

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert expected in done.stderr
    assert "what to do:" in done.stderr


def test_backfill_report_in_a_missing_folder_is_refused_before_any_work(
    tmp_path: Path,
) -> None:
    report = tmp_path / "missing" / "actions.csv"

    done = run_sfsync(
        "backfill",
        "--close-from",
        "2024-01-01",
        "--close-to",
        "2024-12-31",
        "--report",
        str(report),
    )

    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"the folder {report.parent} does not exist" in " ".join(done.stderr.split())
