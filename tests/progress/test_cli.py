"""The project commands, run through the real `sfsync` app on a SQLite store."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from typer.testing import CliRunner, Result

from sfsync.cli.main import app
from sfsync.errors import InputError
from sfsync.store.db import Store, open_store

from .seeding import events, make_project, opportunity_id, task


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SFSYNC_DATABASE_URL", url)
    # The commands point structlog at the runner's stderr, which closes
    # when the command returns; later tests must not log into it.
    saved = structlog.get_config()
    opened = open_store(url)
    yield opened
    opened.dispose()
    structlog.configure(**saved)


@pytest.fixture
def pid(cli_store: Store) -> int:
    return make_project(cli_store)


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_projects_lists_progress_and_unassigned_tasks(
    cli_store: Store, pid: int
) -> None:
    run("task", "update", str(pid), "review_handoff", "done")

    listed = as_json(run("projects", "--format", "json"))

    (row,) = listed
    assert row["id"] == pid
    assert row["account"] == "Łódź Sp. z o.o."
    assert (row["playbook"], row["status"]) == ("self-serve", "active")
    assert row["percent_done"] == pytest.approx(100 / 11, abs=0.1)
    assert row["unassigned_tasks"] == 0


def test_projects_filters_by_status_and_refuses_an_unknown_one(
    cli_store: Store, pid: int
) -> None:
    held = as_json(run("projects", "--status", "on_hold", "--format", "json"))
    table = run("projects")
    wrong = run("projects", "--status", "paused")

    assert held == []
    assert table.exit_code == 0
    assert "self-serve" in table.stdout
    assert "v2026.1" in table.stdout
    assert isinstance(wrong.exception, InputError)
    assert "use one of: active, on_hold, done" in str(wrong.exception)


def test_task_update_records_the_os_user_and_the_given_date(
    cli_store: Store, pid: int
) -> None:
    result = run(
        "task",
        "update",
        str(pid),
        "review_handoff",
        "done",
        "--date",
        "2026-11-10",
        "--note",
        "read",
    )

    assert result.exit_code == 0, result.output
    assert "review_handoff is done" in result.stdout
    (event,) = events(cli_store, pid, "task_status")
    assert (event.actor, event.note) == (getpass.getuser(), "read")
    assert str(task(cli_store, pid, "review_handoff").actual_end) == "2026-11-10"


def test_task_update_with_a_bad_status_fails_naming_the_valid_ones(
    cli_store: Store, pid: int
) -> None:
    result = run("task", "update", str(pid), "review_handoff", "finished")

    assert result.exit_code != 0
    assert isinstance(result.exception, InputError)
    assert "unknown task status 'finished'" in str(result.exception)
    assert events(cli_store, pid, "task_status") == []


def test_show_marks_the_critical_path_and_lists_checklists_and_events(
    cli_store: Store, pid: int
) -> None:
    run("project", "sentiment", str(pid), "4", "--note", "happy", "--actor", "ana")
    run("project", "note", str(pid), "Kick-off booked")
    run("project", "checklist", str(pid), "welcome", "ss_admin_named", "--done")

    shown = as_json(run("project", "show", str(pid), "--format", "json"))
    table = run("project", "show", str(pid))

    welcome = shown["phases"][0]
    assert welcome["phase_key"] == "welcome"
    named = next(i for i in welcome["checklist"] if i["item_id"] == "ss_admin_named")
    assert named["done"] is True
    assert any(t["is_critical"] for t in welcome["tasks"])
    assert {m["kind"] for m in shown["milestones"]} >= {"kickoff", "go_live"}
    kinds = [e["kind"] for e in shown["events"]]
    assert kinds[:3] == ["checklist_item", "note", "sentiment"]
    assert table.exit_code == 0, table.output
    assert "critical path" in table.stdout


def test_progress_import_prints_the_report_and_fails_when_a_row_is_rejected(
    cli_store: Store, pid: int, tmp_path: Path
) -> None:
    path = tmp_path / "progress.csv"
    path.write_text(
        "opportunity_id,task_key,status\n"
        f"{opportunity_id(1)},review_handoff,done\n"
        f"{opportunity_id(1)},review_handof,done\n",
        encoding="utf-8",
    )

    result = run("progress", "import", str(path), "--format", "json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["applied"], report["unchanged"]) == (1, 0)
    assert report["rejected"][0]["line"] == 3
    assert task(cli_store, pid, "review_handoff").status == "done"
