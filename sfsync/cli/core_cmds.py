"""Core commands: config, database, check, sync, status, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlmodel import col, func, select

from sfsync.cli.context import Output, console, emit_json, state
from sfsync.cycle import run_cycle
from sfsync.errors import ConfigError
from sfsync.runs import last_runs
from sfsync.store.models import Account, Opportunity, Project, SyncState

config_app = typer.Typer(help="Inspect settings.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the local database.", no_args_is_help=True)


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Print the effective settings, secrets masked."""
    settings = state(ctx).settings
    table = Table("setting", "value", title="effective settings")
    for key, value in settings.masked().items():
        table.add_row(key, "" if value is None else str(value))
    console.print(table)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Bring the database schema to the newest migration."""
    store = state(ctx).app.store
    store.upgrade()
    console.print(f"database at revision [bold]{store.current_revision()}[/]")


def check(ctx: typer.Context) -> None:
    """Connect, check every mapped field against describe, show API usage."""
    app = state(ctx).app
    app.check_files()
    if not (app.settings.mappings_dir / "push.yaml").is_file():
        raise ConfigError(
            f"{app.settings.mappings_dir / 'push.yaml'} does not exist; a cycle "
            "has nothing to push",
            hint="copy mappings/push.yaml from the sfsync project",
        )
    plans = app.check()
    table = Table("object", "fields read", "absent optional fields")
    for plan in plans:
        table.add_row(
            plan.mapping.sobject,
            str(len(plan.soql_fields())),
            ", ".join(sorted(plan.skip)) or "-",
        )
    console.print(table)
    usage = app.client.usage
    if usage is not None:
        console.print(
            f"API usage today: {usage.used} of {usage.limit} "
            f"(sfsync keeps {app.client.reserve} in reserve)"
        )
    console.print("[green]check passed[/]")


def sync(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Run one cycle and exit (the default).")
    ] = True,
) -> None:
    """Run one full cycle against the configured org."""
    app = state(ctx).app
    report = run_cycle(app)
    table = Table("object", "read", "written", "deleted", "via")
    for pull in report.pulls:
        table.add_row(
            pull.sobject, str(pull.read), str(pull.written), str(pull.deleted), pull.via
        )
    console.print(table)
    if report.handoff is not None:
        handoff = report.handoff
        console.print(
            f"handoff: {len(handoff.created)} projects created, "
            f"{len(handoff.held)} put on hold, {len(handoff.resumed)} resumed"
            + (
                f"; {handoff.unassigned_roles} tasks without an owner"
                if handoff.unassigned_roles
                else ""
            )
        )
    if report.kpis is not None:
        health = ", ".join(f"{k} {v}" for k, v in report.kpis.health.items())
        console.print(
            f"KPIs: {report.kpis.computed} projects"
            + (f" ({health})" if health else "")
        )
    if report.push is not None:
        sent = report.push.send
        console.print(
            f"push: {len(report.push.changes)} records changed, "
            f"{sent.sent if sent else 0} sent, {sent.parked if sent else 0} parked, "
            f"{sent.deferred if sent else 0} deferred"
        )
    console.print(f"API calls this cycle: {report.api_calls}")


def status(
    ctx: typer.Context,
    fmt: Annotated[Output, typer.Option("--format")] = Output.table,
) -> None:
    """Show jobs, the outbox, watermarks, record counts and the last runs."""
    from sfsync.service.status import service_status

    app = state(ctx).app
    with app.store.session() as session:
        watermarks = list(session.exec(select(SyncState)))
        counts = {
            # Records deleted in Salesforce stay in the mirror, marked; they
            # are not counted as the org's.
            "accounts": session.exec(
                select(func.count())
                .select_from(Account)
                .where(col(Account.is_deleted).is_(False))
            ).one(),
            "opportunities": session.exec(
                select(func.count())
                .select_from(Opportunity)
                .where(col(Opportunity.is_deleted).is_(False))
            ).one(),
            "projects": session.exec(select(func.count()).select_from(Project)).one(),
        }
    service = service_status(app.store)
    runs = last_runs(app.store, limit=10)
    if fmt is not Output.table:
        emit_json(
            {
                "service": service,
                "counts": counts,
                "watermarks": {w.sobject: w.watermark for w in watermarks},
                "runs": [r.model_dump() for r in runs],
            }
        )
        return
    jobs = Table(
        "job",
        "last success",
        "seconds since",
        "last failure",
        "last outcome",
        title="jobs",
    )
    for name, job in sorted(service["jobs"].items()):
        last = job.get("last_run") or {}
        jobs.add_row(
            name,
            str(job["last_success"])[:19],
            str(job["seconds_since_success"]),
            str(job["last_failure"])[:19],
            str(last.get("outcome")),
        )
    console.print(jobs)
    outbox = service["outbox"]
    console.print(
        f"outbox: {outbox['pending']} pending, {outbox['parked']} parked"
        + (" (see `sfsync outbox`)" if outbox["parked"] else "")
    )
    table = Table("object", "watermark", "floor", title="watermarks")
    for w in watermarks:
        table.add_row(w.sobject, str(w.watermark), str(w.floor))
    console.print(table)
    runs_table = Table(
        "started",
        "job",
        "outcome",
        "read",
        "written",
        "failed",
        "API calls",
        title="last runs",
    )
    for r in runs:
        runs_table.add_row(
            str(r.started_at)[:19],
            r.job,
            r.outcome,
            str(r.records_read),
            str(r.records_written),
            str(r.records_failed),
            str(r.api_calls),
        )
    console.print(runs_table)
    usage = next(
        (r.details.get("api_usage") for r in runs if r.details.get("api_usage")), None
    )
    if usage:
        console.print(
            f"org API usage at the last run: {usage['used']} of {usage['limit']}"
        )
    console.print(", ".join(f"{k}: {v}" for k, v in counts.items()))


def demo(
    ctx: typer.Context,
    keep: Annotated[
        bool, typer.Option(help="Keep the local org running after the demo.")
    ] = False,
    write_data: Annotated[
        Path | None,
        typer.Option(
            help="Only write the sample records to this file, for "
            "`localorg serve --load`.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Start a local org with sample data, run full cycles, show the results."""
    from sfsync.cli.demo import run_demo, write_demo_data_file

    if write_data is not None:
        write_demo_data_file(write_data)
        return
    run_demo(state(ctx), keep=keep)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
    app.add_typer(db_app, name="db")
    app.command()(check)
    app.command()(sync)
    app.command()(status)
    app.command()(demo)
