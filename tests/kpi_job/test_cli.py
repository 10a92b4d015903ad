"""`sfsync kpi show`, `sfsync kpi recompute` and `sfsync report` in each format."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner

from sfsync.cli.main import app
from sfsync.errors import InputError
from sfsync.store.db import open_store

from .seeding import add_event, finish, make_projects, set_task, task_keys

runner = CliRunner()


@pytest.fixture
def project_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Two open projects (one slipping, one on plan) and a finished one, on SQLite."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SFSYNC_DATABASE_URL", url)
    store = open_store(url)
    slipping, on_plan, done = make_projects(store, 3)
    for key in task_keys(store, on_plan)[:8]:
        set_task(
            store,
            on_plan,
            key,
            status="done",
            actual_start=date(2026, 3, 2),
            actual_end=date(2026, 3, 12),
        )
    add_event(store, slipping, date(2026, 3, 13), "sentiment", to_value="3")
    finish(store, done, slip=0)
    store.dispose()
    # Each command configures logging onto the runner's stderr, which is
    # closed once the command returns: later tests must log elsewhere.
    saved = structlog.get_config()
    yield [slipping, on_plan, done]
    structlog.configure(**saved)


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_recompute_stores_snapshots_and_says_how_many(project_ids: list[int]) -> None:
    output = invoke("kpi", "recompute", "--date", "2026-03-16", "--format", "json")

    report = json.loads(output)
    assert report["day"] == "2026-03-16"
    assert report["computed"] == 3
    assert sum(report["health"].values()) == 3


def test_show_as_json_has_every_kpi_factor_and_the_trend(
    project_ids: list[int],
) -> None:
    slipping = project_ids[0]
    invoke("kpi", "recompute", "--date", "2026-03-13")
    invoke("kpi", "recompute", "--date", "2026-03-16")

    shown = json.loads(invoke("kpi", "show", str(slipping), "--format", "json"))

    snapshot = shown["snapshot"]
    assert shown["source"] == "stored"
    assert snapshot["as_of"] == "2026-03-16"
    for key in (
        "go_live_p50",
        "go_live_p80",
        "go_live_p90",
        "probability_on_target",
        "schedule_variance_days",
        "percent_complete",
        "overdue_total",
    ):
        assert key in snapshot
    factors = {f["name"]: f for f in snapshot["health_factors"]}
    assert (
        factors["customer_sentiment"]["reason"] == "customer sentiment 3/5 (2026-03-13)"
    )
    assert [p["day"] for p in shown["trend"]] == ["2026-03-13", "2026-03-16"]


def test_show_as_a_table_lists_forecast_health_factors_and_trend(
    project_ids: list[int],
) -> None:
    invoke("kpi", "recompute", "--date", "2026-03-16")

    output = invoke("kpi", "show", str(project_ids[0]), "--date", "2026-03-16")

    for text in (
        "percent complete",
        "P10 / P50 / P80 / P90",
        "probability on target",
        "schedule variance",
        "customer_sentiment",
        "stale_progress",
        "trend",
        "cohort",
    ):
        assert text in output


def test_show_without_a_stored_snapshot_computes_one(project_ids: list[int]) -> None:
    shown = json.loads(
        invoke(
            "kpi",
            "show",
            str(project_ids[1]),
            "--format",
            "json",
            "--date",
            "2026-03-16",
        )
    )

    assert shown["source"] == "computed now, not stored"
    assert shown["snapshot"]["as_of"] == "2026-03-16"
    assert shown["trend"] == []


def test_show_of_an_unknown_project_says_how_to_find_one(
    project_ids: list[int],
) -> None:
    result = runner.invoke(app, ["kpi", "show", "999"])

    assert result.exit_code != 0
    assert "999" in str(result.exception)


def test_report_as_json_counts_health_and_lists_late_projects(
    project_ids: list[int],
) -> None:
    slipping = project_ids[0]
    invoke("kpi", "recompute", "--date", "2026-03-16")

    report = json.loads(invoke("report", "--format", "json"))

    assert report["day"] == "2026-03-16"
    assert report["projects"] == 3
    assert sum(report["health"].values()) == 3
    assert [p["project_id"] for p in report["late"]] == [slipping]
    assert report["late"][0]["reasons"]
    assert report["playbooks"][0]["playbook"] == "self-serve"
    assert "cohort_benchmark_business_days" in report["time_to_value"]


def test_report_as_csv_has_one_line_per_project(project_ids: list[int]) -> None:
    invoke("kpi", "recompute", "--date", "2026-03-16")

    rows = list(csv.DictReader(io.StringIO(invoke("report", "--format", "csv"))))

    assert [int(r["project_id"]) for r in rows] == project_ids
    assert {r["late"] for r in rows} == {"True", "False"}
    assert all(r["health"] in {"Green", "Amber", "Red"} for r in rows)


def test_report_as_a_table_shows_counts_late_projects_and_playbooks(
    project_ids: list[int],
) -> None:
    invoke("kpi", "recompute", "--date", "2026-03-16")

    output = invoke("report")

    for text in (
        "portfolio on 2026-03-16",
        "late projects (1)",
        "by playbook",
        "median time to value",
        "self-serve",
    ):
        assert text in output


def test_report_before_any_snapshot_says_what_to_run(project_ids: list[int]) -> None:
    output = invoke("report")

    assert "sfsync kpi recompute" in output


def test_show_finds_a_project_by_its_opportunity_id(project_ids: list[int]) -> None:
    shown = json.loads(invoke("kpi", "show", "006000000000000AAA", "--format", "json"))

    assert shown["project"]["id"] == project_ids[0]


def test_progress_after_the_stored_snapshot_is_shown_and_flagged(
    project_ids: list[int],
) -> None:
    slipping = project_ids[0]
    invoke("kpi", "recompute")
    before = json.loads(invoke("kpi", "show", str(slipping), "--format", "json"))
    first_task = task_keys_of(slipping)[0]
    invoke("task", "update", str(slipping), first_task, "done", "--date", "2026-03-10")

    shown = json.loads(invoke("kpi", "show", str(slipping), "--format", "json"))
    reported = runner.invoke(app, ["report"], catch_exceptions=False)

    assert before["source"] == "stored"
    assert shown["source"].startswith("computed now, not stored")
    assert "predates progress" in shown["source"]
    assert (
        shown["snapshot"]["percent_complete"] > before["snapshot"]["percent_complete"]
    )
    assert "1 project(s) have progress recorded after their latest KPIs" in (
        reported.stderr
    )
    invoke("kpi", "recompute", "--date", "2026-03-02")
    assert json.loads(invoke("kpi", "show", str(slipping), "--format", "json"))[
        "source"
    ].startswith("computed now"), "an earlier day's recompute hides nothing"
    invoke("kpi", "recompute")
    assert json.loads(invoke("kpi", "show", str(slipping), "--format", "json"))[
        "source"
    ] == ("stored")


def task_keys_of(project_id: int) -> list[str]:
    store = open_store(os.environ["SFSYNC_DATABASE_URL"])
    try:
        return task_keys(store, project_id)
    finally:
        store.dispose()


def test_recompute_for_a_day_to_come_is_refused_and_stores_nothing(
    project_ids: list[int],
) -> None:
    result = runner.invoke(app, ["kpi", "recompute", "--date", "2099-01-01"])

    assert result.exit_code != 0
    assert isinstance(result.exception, InputError)
    assert "2099-01-01 is in the future" in str(result.exception)
    assert "no KPI snapshots yet" in invoke("report")
