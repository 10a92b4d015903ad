"""KPI commands: one project's KPIs, the portfolio report, recomputing snapshots."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from sfsync.cli.context import (
    Format,
    console,
    emit_json,
    err_console,
    state,
    utf8_stdout,
)
from sfsync.errors import InputError
from sfsync.kpi_job import (
    Portfolio,
    compute_project,
    portfolio,
    project_health_rules,
    run_kpis,
    snapshot_trend,
    stale_snapshot_projects,
    stored_snapshot,
)
from sfsync.progress import find_project
from sfsync.service.locks import SYNC_LOCK, job_lock
from sfsync.store.db import Store
from sfsync.store.models import Project

__all__ = ["kpi_app", "register"]

kpi_app = typer.Typer(
    help="Project KPIs, go-live forecasts and health.", no_args_is_help=True
)

TREND_LENGTH = 10
_COLOURS = {"Green": "green", "Amber": "yellow", "Red": "red"}
_CSV_COLUMNS = (
    "project_id",
    "name",
    "playbook",
    "status",
    "health",
    "percent_complete",
    "go_live_likely",
    "go_live_p80",
    "target_go_live",
    "schedule_variance_days",
    "late",
    "time_to_value_days",
    "cohort_time_to_value_median",
    "health_summary",
)


class ShowFormat(StrEnum):
    table = "table"
    json = "json"


DateOption = Annotated[
    datetime | None,
    typer.Option(
        "--date",
        formats=["%Y-%m-%d"],
        help="The day, as YYYY-MM-DD (default: today, UTC).",
    ),
]


def _today() -> date:
    return datetime.now(UTC).date()


def _coloured(health: str) -> str:
    colour = _COLOURS.get(health)
    return f"[{colour}]{health}[/]" if colour else health


def _text(value: Any, suffix: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}{suffix}"
    return f"{value}{suffix}"


def _find_project(store: Store, reference: str) -> Project:
    with store.session() as session:
        if reference.isdigit():
            return find_project(session, project_id=int(reference))
        return find_project(session, opportunity_id=reference)


def _kpi_table(data: dict[str, Any]) -> Table:
    table = Table("KPI", "value", title="KPIs")
    worst = data["worst_overdue_task_id"]
    rows = [
        ("percent complete", _text(data["percent_complete"], " %")),
        (
            "overdue tasks",
            f"{data['overdue_total']} (internal {data['overdue_internal']}, "
            f"customer {data['overdue_customer']}) of {data['due_tasks']} due",
        ),
        (
            "worst overdue",
            f"{worst}: {data['worst_overdue_days']} business days late"
            if worst
            else "-",
        ),
        (
            "onboarding duration",
            _text(data["onboarding_business_days"], " business days"),
        ),
        (
            "time to value (handoff)",
            _text(data["time_to_value_business_days"], " business days"),
        ),
        (
            "time to value (close)",
            _text(data["close_to_value_business_days"], " business days"),
        ),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _forecast_table(data: dict[str, Any]) -> Table:
    table = Table("forecast", "value", title="go-live forecast")
    probability = data["probability_on_target"]
    spi = data["spi"]
    rows = [
        ("method", data["forecast_method"]),
        ("likely", data["go_live_likely"]),
        (
            "P10 / P50 / P80 / P90",
            " / ".join(data[f"go_live_p{p}"] for p in (10, 50, 80, 90)),
        ),
        ("target", _text(data["target_go_live"])),
        ("baseline", data["baseline_go_live"]),
        (
            "probability on target",
            "-" if probability is None else f"{probability:.0%}",
        ),
        ("schedule variance", f"{data['schedule_variance_days']:+d} business days"),
        ("SPI", _text(spi)),
        (
            "spread",
            f"{data['spread_source']} ({data['spread_sample_size']} projects)",
        ),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _cohort_table(data: dict[str, Any]) -> Table:
    table = Table("cohort", "value", title="cohort position")
    if data["cohort"] is None:
        table.add_row("cohort", "none with enough finished projects yet")
        return table
    rows = [
        ("cohort", f"{data['cohort']} ({data['cohort_size']} projects)"),
        (
            "duration Q1 / median / Q3",
            " / ".join(
                _text(data[f"cohort_duration_{k}"]) for k in ("q1", "median", "q3")
            ),
        ),
        (
            "duration percentile",
            f"{_text(data['duration_percentile'])} "
            f"({data['duration_percentile_basis'] or '-'}; low is fast)",
        ),
        (
            "time to value Q1 / median / Q3",
            " / ".join(
                _text(data[f"cohort_time_to_value_{k}"]) for k in ("q1", "median", "q3")
            ),
        ),
        ("time to value percentile", _text(data["time_to_value_percentile"])),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def _health_table(data: dict[str, Any]) -> Table:
    table = Table(
        "factor",
        "status",
        "value",
        "reason",
        title=f"health: {_coloured(data['health'])}",
    )
    for factor in data["health_factors"]:
        table.add_row(
            factor["name"],
            _coloured(factor["status"]),
            _text(factor["value"]),
            factor["reason"],
        )
    return table


def _trend_table(trend: list[dict[str, Any]]) -> Table:
    table = Table(
        "day", "health", "% complete", "P50 go-live", "variance", title="trend"
    )
    for point in trend:
        table.add_row(
            point["day"],
            _coloured(point["health"]),
            _text(point["percent_complete"]),
            _text(point["go_live_p50"]),
            _text(point["schedule_variance_days"]),
        )
    return table


@kpi_app.command("show")
def show(
    ctx: typer.Context,
    project_ref: Annotated[
        str, typer.Argument(metavar="PROJECT_ID", help="Project id or opportunity id.")
    ],
    fmt: Annotated[ShowFormat, typer.Option("--format")] = ShowFormat.table,
    on: DateOption = None,
) -> None:
    """Every KPI of one project, its forecast, cohort position, health and trend.

    Shows the stored snapshot of the day (the newest one without --date);
    when none is stored, computes one now without storing it.
    """
    app = state(ctx).app
    project = _find_project(app.store, project_ref)
    assert project.id is not None  # a stored project always has its id
    day = on.date() if on else None
    stored = stored_snapshot(app.store, project.id, day=day)
    computed_at: str | None = None
    data_as_of: str | None = None
    # Progress recorded after the newest snapshot makes it out of date: show
    # what the KPIs are now instead (a past --date keeps what was stored).
    stale = day is None and bool(
        stale_snapshot_projects(app.store, project_ids=[project.id])
    )
    if stored is not None and not stale:
        data, source = stored.data, "stored"
        computed_at = stored.computed_at.isoformat()
        data_as_of = stored.data_as_of.isoformat() if stored.data_as_of else None
    else:
        snapshot = compute_project(
            app.store,
            project.id,
            today=day or _today(),
            health_rules=project_health_rules(app.settings.config_dir),
            country=app.settings.holiday_country,
        )
        assert snapshot is not None  # the project was found above
        data, source = snapshot.to_dict(), "computed now, not stored"
        if stale:
            source += "; the stored one predates progress recorded since"
    trend = snapshot_trend(
        app.store,
        project.id,
        until=date.fromisoformat(data["as_of"]),
        limit=TREND_LENGTH,
    )
    if fmt is ShowFormat.json:
        emit_json(
            {
                "project": {
                    "id": project.id,
                    "name": project.name,
                    "opportunity_id": project.opportunity_id,
                    "status": project.status,
                },
                "source": source,
                "computed_at": computed_at,
                "data_as_of": data_as_of,
                "snapshot": data,
                "trend": trend,
            }
        )
        return
    console.print(
        f"[bold]project {project.id}[/] {project.name or ''} · "
        f"{data['playbook_key']} v{data['playbook_version']} · {project.status} · "
        f"as of {data['as_of']} ({source})",
        highlight=False,
    )
    console.print(_kpi_table(data))
    console.print(_forecast_table(data))
    console.print(_cohort_table(data))
    console.print(_health_table(data))
    console.print(f"summary: {data['health_summary']}", highlight=False)
    if trend:
        console.print(_trend_table(trend))


@kpi_app.command("recompute")
def recompute(
    ctx: typer.Context,
    on: DateOption = None,
    fmt: Annotated[ShowFormat, typer.Option("--format")] = ShowFormat.table,
) -> None:
    """Compute and store today's (or --date's) KPI snapshot of every project."""
    day = on.date() if on else _today()
    # Snapshots of a day to come would be read as today's by the push and the
    # reports; a day ahead is allowed for zones east of UTC.
    if day > _today() + timedelta(days=1):
        raise InputError(
            f"--date {day} is in the future; KPI snapshots are of days that began",
            hint="give today's date or an earlier one",
        )
    app = state(ctx).app
    with job_lock(app.store, SYNC_LOCK):
        result = run_kpis(app, today=day)
    if fmt is ShowFormat.json:
        emit_json(result.as_dict())
        return
    health = ", ".join(
        f"{_coloured(name)} {count}" for name, count in result.health.items()
    )
    console.print(
        f"KPI snapshots for {result.day.isoformat()}: {result.computed} projects "
        f"({health}) in {result.seconds:.1f} s; history from "
        f"{result.history_projects} finished projects, "
        f"{result.learned_spreads} learned spreads",
        highlight=False,
    )
    if result.failed:
        console.print(f"[red]{result.failed} projects skipped:[/]")
        for problem in result.problems:
            console.print(f"  {problem}", highlight=False, markup=False)


def _report_tables(report: Portfolio) -> None:
    assert report.day is not None
    console.print(
        f"[bold]portfolio on {report.day}[/]: {len(report.rows)} projects",
        highlight=False,
    )
    counts = Table("health", "projects")
    for name, count in report.health.items():
        counts.add_row(_coloured(name), str(count))
    console.print(counts)

    late = Table(
        "project",
        "name",
        "playbook",
        "health",
        "likely",
        "target",
        "variance",
        "reasons",
        title=f"late projects ({len(report.late)})",
    )
    for item in report.late:
        late.add_row(
            str(item.project_id),
            item.name or "",
            item.playbook_key,
            _coloured(item.health),
            _text(item.go_live_likely),
            _text(item.target_go_live),
            _text(item.schedule_variance_days),
            "; ".join(item.reasons),
        )
    console.print(late)

    console.print(
        f"median time to value: {_text(report.median_time_to_value, ' business days')}"
        f" over {report.time_to_value_sample} projects; cohort benchmark "
        f"{_text(report.benchmark_time_to_value, ' business days')}",
        highlight=False,
    )
    playbooks = Table(
        "playbook",
        "projects",
        "Green",
        "Amber",
        "Red",
        "late",
        "median TTV",
        "cohort TTV",
        title="by playbook",
    )
    for p in report.playbooks:
        playbooks.add_row(
            p.playbook_key,
            str(p.projects),
            str(p.green),
            str(p.amber),
            str(p.red),
            str(p.late),
            _text(p.median_time_to_value),
            _text(p.benchmark_time_to_value),
        )
    console.print(playbooks)


def report(
    ctx: typer.Context,
    fmt: Annotated[Format, typer.Option("--format")] = Format.table,
    on: DateOption = None,
) -> None:
    """The portfolio: health counts, late projects and why, time to value, playbooks.

    Reads the newest day of stored KPI snapshots (on or before --date); csv
    gives one line per project.
    """
    app = state(ctx).app
    result = portfolio(app.store, day=on.date() if on else None)
    if fmt is Format.json:
        emit_json(result.summary())
        return
    if fmt is Format.csv:
        writer = csv.writer(utf8_stdout(), lineterminator="\n")
        writer.writerow(_CSV_COLUMNS)
        for row in result.rows:
            writer.writerow(
                "" if value is None else value
                for value in (
                    row.project_id,
                    row.name,
                    row.playbook_key,
                    row.status,
                    row.health,
                    row.percent_complete,
                    row.go_live_likely,
                    row.go_live_p80,
                    row.target_go_live,
                    row.schedule_variance_days,
                    row.late,
                    row.time_to_value_days,
                    row.cohort_time_to_value_median,
                    row.health_summary,
                )
            )
        return
    if result.day is None:
        console.print("no KPI snapshots yet: run `sfsync kpi recompute` first")
        return
    _report_tables(result)
    warn_if_stale(app.store)


def warn_if_stale(store: Store) -> None:
    """Say so when stored KPIs miss progress recorded since they were computed."""
    stale = stale_snapshot_projects(store)
    if stale:
        err_console.print(
            f"[yellow]note:[/] {len(stale)} project(s) have progress recorded after "
            "their latest KPIs (first: "
            + ", ".join(str(p) for p in stale[:5])
            + "); `sfsync kpi recompute` brings them up to date",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.add_typer(kpi_app, name="kpi")
    app.command("report")(report)
