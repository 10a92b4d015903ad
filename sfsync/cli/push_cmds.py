"""Commands for the push, its outbox, and the pushed fields' metadata."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sfsync.cli.context import Output, console, emit_json, state
from sfsync.cli.kpi_cmds import warn_if_stale
from sfsync.errors import InputError
from sfsync.kpi_job import run_kpis
from sfsync.push.job import plan_push, push_mapping, run_push
from sfsync.push.metadata import (
    INTEGRATION_PERMISSION_SET,
    READ_PERMISSION_SET,
    export_metadata,
)
from sfsync.push.outbox import OPEN_STATUSES, list_rows, requeue_parked
from sfsync.service.locks import SYNC_LOCK, job_lock

__all__ = ["register"]

outbox_app = typer.Typer(
    help="Pending and parked writes to Salesforce.", invoke_without_command=True
)
metadata_app = typer.Typer(help="Salesforce field metadata.", no_args_is_help=True)


def _show_plan(ctx: typer.Context, fmt: Output) -> None:
    changes = plan_push(state(ctx).app)
    if fmt is Output.json:
        emit_json(
            [
                {
                    "sobject": c.sobject,
                    "id": c.record_id,
                    "fields": c.fields,
                    "previous": c.previous,
                }
                for c in changes
            ]
        )
        return
    table = Table("object", "record", "field", "Salesforce holds", "will hold")
    for change in changes:
        for name, value in change.fields.items():
            table.add_row(
                change.sobject,
                change.record_id,
                name,
                str(change.previous.get(name)),
                str(value),
            )
    console.print(table)
    console.print(f"{len(changes)} records to update")


def push(
    ctx: typer.Context,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print each record's field changes, old and new; write nothing.",
        ),
    ] = False,
    fmt: Annotated[Output, typer.Option("--format")] = Output.table,
) -> None:
    """Write changed status and health fields to Salesforce.

    Exits non-zero when a record was refused (parked) or deferred.
    """
    if dry_run:
        _show_plan(ctx, fmt)
        if fmt is Output.table:
            console.print(
                "values as of the last KPI computation; `sfsync kpi recompute` "
                "refreshes them (`sfsync push` does it first)"
            )
        warn_if_stale(state(ctx).app.store)
        return
    app = state(ctx).app
    # Under the lock a running service's cycle holds, so the two never send
    # the same outbox rows. Progress recorded since the last cycle moves the
    # KPIs; push what they are now, not what they were.
    with job_lock(app.store, SYNC_LOCK):
        run_kpis(app, today=datetime.now(UTC).date())
        report = run_push(app)
    sent = report.send
    console.print(
        f"changes: {len(report.changes)}  sent: {sent.sent if sent else 0}  "
        f"parked: {sent.parked if sent else 0}  "
        f"deferred: {sent.deferred if sent else 0}  API calls: {report.api_calls}"
    )
    if sent and (sent.parked or sent.deferred):
        console.print("see them with [bold]sfsync outbox[/]")
        raise typer.Exit(1)


@outbox_app.callback()
def outbox(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None,
        typer.Option("--status", help="pending, parked, sent or superseded."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit")] = 100,
    fmt: Annotated[Output, typer.Option("--format")] = Output.table,
) -> None:
    """List outbox rows: by default those still open (pending and parked)."""
    if ctx.invoked_subcommand is not None:
        return
    known = ("pending", "parked", "sent", "superseded")
    unknown = sorted(set(status or ()) - set(known))
    if unknown:
        raise InputError(
            f"unknown outbox status {', '.join(unknown)}",
            hint=f"use {', '.join(known)}",
        )
    rows = list_rows(
        state(ctx).app.store, statuses=tuple(status or OPEN_STATUSES), limit=limit
    )
    if fmt is Output.json:
        emit_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table("id", "object", "record", "status", "attempts", "fields", "error")
    for row in rows:
        table.add_row(
            str(row.id),
            row.sobject,
            row.record_id,
            row.status,
            str(row.attempts),
            ", ".join(row.fields),
            f"{row.error_code}: {row.error}" if row.error_code else "",
        )
    console.print(table)


@outbox_app.command("retry")
def outbox_retry(
    ctx: typer.Context,
    ids: Annotated[list[int] | None, typer.Argument(help="Row ids; none: all.")] = None,
) -> None:
    """Put parked rows back in the queue, after fixing what refused them."""
    count = requeue_parked(state(ctx).app.store, ids=ids or (), now=datetime.now(UTC))
    if ids and count < len(ids):
        raise InputError(
            f"{len(ids) - count} of the ids given are not parked outbox rows "
            f"({count} queued again)",
            hint="list the parked rows with `sfsync outbox --status parked`",
        )
    console.print(f"{count} parked rows queued again; `sfsync push` sends them")


@metadata_app.command("export")
def metadata_export(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="SFDX source folder to write.")],
) -> None:
    """Write the pushed fields and two permission sets as an SFDX project."""
    app = state(ctx).app
    written = export_metadata(
        push_mapping(app), directory, api_version=app.settings.api_version
    )
    for path in written:
        console.print(str(path), highlight=False)
    console.print(
        f"{len(written)} files written under {directory}; deploy them with "
        f"`sf project deploy start` from that folder, then assign "
        f"{INTEGRATION_PERMISSION_SET} to the integration user and "
        f"{READ_PERMISSION_SET} to everyone who should see onboarding status",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command()(push)
    app.add_typer(outbox_app, name="outbox")
    app.add_typer(metadata_app, name="metadata")
