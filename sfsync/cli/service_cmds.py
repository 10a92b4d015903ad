"""Service commands: `run` (scheduler + metrics), `backfill`, `reconcile`."""

from __future__ import annotations

import os
import signal
import sys
import threading
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from sfsync.cli.context import Output, console, emit_json, err_console, state
from sfsync.errors import InputError
from sfsync.settings import PROJECT_ROOT

__all__ = ["register"]


def _jobs_dir() -> Path:
    local = Path.cwd() / "jobs"
    return local if local.is_dir() else PROJECT_ROOT / "jobs"


def run(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Run each scheduled job once and exit.")
    ] = False,
    metrics_port: Annotated[
        int, typer.Option(help="Port for /metrics and /healthz; 0 picks a free one.")
    ] = 9464,
    metrics_host: Annotated[
        str,
        typer.Option(
            help="Address to serve on; 0.0.0.0 lets a scraper outside the host in."
        ),
    ] = "127.0.0.1",
    jobs_dir: Annotated[
        Path | None, typer.Option(help="Folder of job modules (default: ./jobs).")
    ] = None,
    misfire_grace_s: Annotated[
        int, typer.Option(help="A run later than this after its time is skipped.")
    ] = 120,
) -> None:
    """Run the scheduled jobs until SIGTERM / SIGINT, with /metrics and /healthz."""
    from sfsync.service.metrics import MetricsServer, ServiceMetrics, database_answers
    from sfsync.service.scheduler import Service, load_job_specs, schedule_overrides

    st = state(ctx)
    app = st.app
    file_overrides, source = schedule_overrides(st.settings.config_dir)
    # The [schedule] table of sfsync.toml (or SFSYNC_SCHEDULE) comes through
    # the settings; a schedule.toml beside sfsync.toml overrides it.
    overrides = {**st.settings.schedule, **file_overrides}
    specs = load_job_specs(jobs_dir or _jobs_dir())
    metrics = ServiceMetrics(app.store, client=app.client)
    service = Service(
        app, specs, metrics, overrides=overrides, misfire_grace_s=misfire_grace_s
    )
    service.triggers()  # a bad schedule fails here, before anything runs
    app.check_files()
    app.check()
    if once:
        results = service.run_once()
        console.print(
            ", ".join(
                f"{name}: {'done' if r is not None else 'skipped'}"
                for name, r in results.items()
            )
        )
        return

    def healthy() -> tuple[bool, dict[str, Any]]:
        db = database_answers(app.store)
        return service.running and db and not service.stop.is_set(), {
            "scheduler": service.running,
            "database": db,
            "jobs": [j.id for j in service.scheduler.get_jobs()]
            if service.scheduler
            else [],
        }

    server = MetricsServer(metrics, healthy, host=metrics_host, port=metrics_port)
    server.start()
    service.install_signal_handlers()
    err_console.print(
        f"sfsync running; metrics on port {server.port}"
        + (f"; schedule overrides from {source}" if source else ""),
        highlight=False,
    )
    try:
        service.start()
        service.wait()
    finally:
        service.shutdown()
        server.stop()


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value!r} is not a date like 2024-01-31") from None


def _datetime(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        if len(value) == len("2024-01-31"):
            # A bare day is its first moment in UTC, as the option's help says.
            return datetime.combine(date.fromisoformat(value), time(0), tzinfo=UTC)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{option} {value!r} is not a time like 2024-01-31T00:00:00Z"
        ) from None


def backfill(
    ctx: typer.Context,
    close_from: Annotated[str | None, typer.Option(help="First close date.")] = None,
    close_to: Annotated[str | None, typer.Option(help="Last close date.")] = None,
    modified_from: Annotated[
        str | None,
        typer.Option(help="First SystemModstamp (UTC; a bare date is 00:00 UTC)."),
    ] = None,
    modified_to: Annotated[
        str | None,
        typer.Option(help="Last SystemModstamp (UTC; a bare date is 00:00 UTC)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report only; write nothing anywhere.")
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue from the checkpoint.")
    ] = False,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Read at most N records.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Records per batch.")] = 2000,
    report: Annotated[
        Path | None, typer.Option(help="Write every action to this .csv or .json.")
    ] = None,
    today: Annotated[str | None, typer.Option(hidden=True)] = None,
) -> None:
    """Pull, hand off, compute and push a range of historical opportunities."""
    from sfsync.backfill import MISSING_IDS_SHOWN, BackfillRange, write_report
    from sfsync.backfill import backfill as run_backfill

    if report is not None and report.suffix not in {".csv", ".json"}:
        raise InputError(f"report file {report} must end in .csv or .json")
    if report is not None:
        _check_writable(report)
    spec = BackfillRange(
        close_from=_date(close_from, "--close-from"),
        close_to=_date(close_to, "--close-to"),
        modified_from=_datetime(modified_from, "--modified-from"),
        modified_to=_datetime(modified_to, "--modified-to"),
    )
    app = state(ctx).app
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    columns = (
        TextColumn("[bold]backfill[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("API calls {task.fields[calls]}"),
    )
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task("backfill", total=None, calls=0)

        def progress(done: int, total: int | None, calls: int) -> None:
            bar.update(task, completed=done, total=total, calls=calls)

        try:
            result = run_backfill(
                app,
                spec,
                dry_run=dry_run,
                resume=resume,
                limit=limit,
                batch_size=batch_size,
                today=_date(today, "--today"),
                stop=stop,
                progress=progress,
            )
        except KeyboardInterrupt:
            err_console.print("interrupted; continue with --resume")
            sys.exit(130)
    if report is not None:
        write_report(report, result.actions)
    table = Table(
        "figure", "value", title="backfill" + (" (dry run)" if dry_run else "")
    )
    for name, value in (
        ("read this run", result.processed),
        ("read in all", result.total_done),
        ("distinct records", result.distinct),
        ("projects " + ("to create" if dry_run else "created"), result.created),
        ("skipped", result.skipped),
        ("failed", result.failed),
        ("API calls", result.api_calls),
        ("SELECT COUNT()", result.expected),
        ("complete", result.complete),
    ):
        table.add_row(name, str(value))
    for step, summary in result.steps.items():
        table.add_row(step, str(summary))
    console.print(table)
    if result.stopped:
        err_console.print(
            f"[yellow]stopped:[/] {result.stopped}; checkpoint {result.checkpoint}"
        )
        sys.exit(6 if "API" in result.stopped else 1)
    if result.count_matches is False:
        missing = ", ".join(result.missing_ids[:MISSING_IDS_SHOWN]) or "none"
        err_console.print(
            f"[bold red]count mismatch:[/] read {result.distinct} distinct "
            f"records, Salesforce counts {result.expected} for the same filter "
            f"(not read: {missing}); run the backfill again over the same range"
        )
        sys.exit(1)
    if result.failed:
        err_console.print(
            f"[bold red]{result.failed} record(s) failed[/]; see the report"
        )
        sys.exit(1)


def reconcile(
    ctx: typer.Context,
    fix: Annotated[
        bool, typer.Option("--fix", help="Queue each pushed-field difference.")
    ] = False,
    fmt: Annotated[Output, typer.Option("--format")] = Output.table,
) -> None:
    """Repair the mirror; list (or with --fix queue) pushed-field differences."""
    from sfsync.reconcile import reconcile as run_reconcile

    result = run_reconcile(state(ctx).app, fix=fix)
    if fmt is Output.json:
        emit_json(
            {
                "mirror": [vars(m) for m in result.mirror],
                "pushed": [vars(d) for d in result.pushed],
                "pushed_checked": result.pushed_checked,
                "pushed_note": result.pushed_note,
                "queued": result.queued,
            }
        )
        return
    table = Table(
        "object",
        "in Salesforce",
        "local",
        "gone from Salesforce",
        "drifted",
        "missing locally",
        title="mirror",
    )
    for m in result.mirror:
        table.add_row(
            m.sobject,
            str(m.in_salesforce),
            str(m.local),
            str(len(m.missing_in_salesforce)),
            str(len(m.drifted)),
            str(len(m.missing_locally)),
        )
    console.print(table)
    recent = sum(m.changed_since_pull for m in result.mirror)
    if recent:
        console.print(
            f"{recent} of the drifted records changed in Salesforce after the last "
            "pull (sfsync's own pushes among them): the next pull would bring them "
            "anyway; the rest are drift an incremental pull cannot see"
        )
    if result.pushed_note:
        console.print(f"[yellow]{result.pushed_note}[/]")
        return
    diffs = Table(
        "object", "record", "field", "in Salesforce", "desired", title="pushed fields"
    )
    for d in result.pushed:
        diffs.add_row(
            d.sobject, d.record_id, d.field, str(d.in_salesforce), str(d.desired)
        )
    console.print(diffs)
    if fix:
        console.print(f"{result.queued} record(s) queued for the next push")


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(backfill)
    app.command()(reconcile)


def _check_writable(path: Path) -> None:
    """Refuse a report path that cannot be written, before any work is done."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"report file {path} is a folder", hint="name a file in it")
    if not folder.is_dir():
        raise InputError(
            f"report file {path}: the folder {folder} does not exist",
            hint="create it first, or name a file in an existing folder",
        )
    if not os.access(folder, os.W_OK) or (
        path.exists() and not os.access(path, os.W_OK)
    ):
        raise InputError(
            f"report file {path} cannot be written (permission denied)",
            hint="name a file in a folder you can write to",
        )
