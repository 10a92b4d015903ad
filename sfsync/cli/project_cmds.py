"""Project commands: list and show projects, record task progress, import progress."""

from __future__ import annotations

import getpass
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import case, func
from sqlmodel import Session, col, select

from sfsync.cli.context import Output, console, emit_json, state
from sfsync.errors import InputError
from sfsync.progress import (
    CLOSED_STATUSES,
    find_project,
    record_note,
    record_sentiment,
    set_checklist_item,
    update_task,
)
from sfsync.progress_import import import_progress_csv
from sfsync.store.models import (
    Account,
    Project,
    ProjectEvent,
    ProjectMilestone,
    ProjectPhase,
    ProjectTask,
)

__all__ = ["register"]

project_app = typer.Typer(help="Show one project and record its progress.")
task_app = typer.Typer(help="Record progress on a project's tasks.")
progress_app = typer.Typer(help="Import progress recorded elsewhere.")

PROJECT_STATUSES = ("active", "on_hold", "done")
EVENTS_SHOWN = 10


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # A container may run under a user id with no passwd entry.
        return os.environ.get("USER") or "unknown"


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(
            f"--date {value!r} is not a day", hint="write it as YYYY-MM-DD"
        ) from exc


def _text(value: object) -> str:
    return "" if value is None else str(value)


ActorOption = Annotated[
    str | None,
    typer.Option("--actor", help="Who made the change; defaults to your user name."),
]


def _project_rows(session: Session, status: str | None) -> list[dict[str, Any]]:
    closed = case((col(ProjectTask.status).in_(CLOSED_STATUSES), 1), else_=0)
    unassigned = case((col(ProjectTask.owner_unassigned), 1), else_=0)
    counts = {
        project_id: (int(total), int(done or 0), int(flagged or 0))
        for project_id, total, done, flagged in session.exec(
            select(
                ProjectTask.project_id,
                func.count(),
                func.sum(closed),
                func.sum(unassigned),
            ).group_by(col(ProjectTask.project_id))
        )
    }
    query = (
        select(Project, Account.name)
        .outerjoin(Account, col(Account.id) == col(Project.account_id))
        .order_by(col(Project.id))
    )
    if status is not None:
        query = query.where(Project.status == status)
    rows = []
    for project, account_name in session.exec(query):
        total, done, flagged = counts.get(project.id or 0, (0, 0, 0))
        rows.append(
            {
                "id": project.id,
                "opportunity_id": project.opportunity_id,
                "opportunity": project.name,
                "account_id": project.account_id,
                "account": account_name,
                "playbook": project.playbook_key,
                "playbook_version": project.playbook_version,
                "status": project.status,
                "hold_reason": project.hold_reason,
                "handoff_date": project.handoff_date,
                "baseline_go_live": project.baseline_go_live,
                "tasks": total,
                "percent_done": round(100 * done / total, 1) if total else 0.0,
                "unassigned_tasks": flagged,
            }
        )
    return rows


def projects(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", help="Only projects in this status: active, on_hold or done."
        ),
    ] = None,
    fmt: Annotated[Output, typer.Option("--format")] = Output.table,
) -> None:
    """List projects: playbook, status, handoff, baseline go-live, % tasks closed."""
    if status is not None and status not in PROJECT_STATUSES:
        raise InputError(
            f"unknown project status {status!r}",
            hint=f"use one of: {', '.join(PROJECT_STATUSES)}",
        )
    with state(ctx).app.store.session() as session:
        rows = _project_rows(session, status)
    if fmt is Output.json:
        emit_json(rows)
        return
    table = Table(title="projects", pad_edge=False)
    table.add_column("id", no_wrap=True, justify="right")
    table.add_column("deal")
    table.add_column("account")
    table.add_column("playbook", min_width=10)
    table.add_column("status", no_wrap=True)
    table.add_column("handoff\ngo-live", no_wrap=True)
    table.add_column("done", no_wrap=True, justify="right")
    table.add_column("no\nowner", no_wrap=True, justify="right")
    for row in rows:
        table.add_row(
            str(row["id"]),
            _text(row["opportunity"] or row["opportunity_id"]),
            _text(row["account"] or row["account_id"]),
            f"{row['playbook']}\nv{row['playbook_version']}",
            row["status"],
            f"{_text(row['handoff_date'])}\n{_text(row['baseline_go_live'])}",
            f"{row['percent_done']:.0f}%",
            str(row["unassigned_tasks"]) if row["unassigned_tasks"] else "",
        )
    console.print(table)
    console.print(
        f"{len(rows)} project(s); go-live is the baseline; done counts done and "
        "skipped tasks; no owner counts tasks whose role resolved to nobody"
    )


def _details(session: Session, project_id: int, events: int) -> dict[str, Any]:
    project = find_project(session, project_id=project_id)
    account = session.get(Account, project.account_id) if project.account_id else None
    phases = session.exec(
        select(ProjectPhase)
        .where(ProjectPhase.project_id == project_id)
        .order_by(col(ProjectPhase.position))
    ).all()
    tasks = session.exec(
        select(ProjectTask)
        .where(ProjectTask.project_id == project_id)
        .order_by(col(ProjectTask.planned_start), col(ProjectTask.id))
    ).all()
    milestones = session.exec(
        select(ProjectMilestone)
        .where(ProjectMilestone.project_id == project_id)
        .order_by(col(ProjectMilestone.planned), col(ProjectMilestone.id))
    ).all()
    recent = session.exec(
        select(ProjectEvent)
        .where(ProjectEvent.project_id == project_id)
        .order_by(col(ProjectEvent.at).desc(), col(ProjectEvent.id).desc())
        .limit(events)
    ).all()
    task_fields = (
        "task_key",
        "title",
        "owner_role",
        "owner_id",
        "owner_unassigned",
        "audience",
        "status",
        "planned_start",
        "planned_end",
        "baseline_start",
        "baseline_end",
        "actual_start",
        "actual_end",
        "blocked_since",
        "is_critical",
    )
    return {
        "project": {
            **project.model_dump(),
            "account_name": account.name if account else None,
        },
        "phases": [
            {
                "phase_key": phase.phase_key,
                "name": phase.name,
                "checklist": [
                    {"item_id": key, **value} for key, value in phase.checklist.items()
                ],
                "tasks": [
                    {f: getattr(t, f) for f in task_fields}
                    for t in tasks
                    if t.phase_key == phase.phase_key
                ],
            }
            for phase in phases
        ],
        "milestones": [m.model_dump(exclude={"id", "project_id"}) for m in milestones],
        "events": [e.model_dump(exclude={"project_id"}) for e in recent],
    }


def _dates(start: object, end: object) -> str:
    if start is None and end is None:
        return ""
    return f"{_text(start)} → {_text(end)}"


def _print_details(details: dict[str, Any]) -> None:
    project = details["project"]
    console.print(
        f"[bold]project {project['id']}[/]: {_text(project['name'])} "
        f"({_text(project['account_name'] or project['account_id'])}), "
        f"opportunity {project['opportunity_id']}",
        highlight=False,
    )
    hold = f" ({project['hold_reason']})" if project["hold_reason"] else ""
    console.print(
        f"playbook {project['playbook_key']} v{project['playbook_version']}, "
        f"status {project['status']}{hold}, handoff {project['handoff_date']}, "
        f"baseline go-live {_text(project['baseline_go_live'])}, "
        f"target go-live {_text(project['target_go_live'])}",
        highlight=False,
    )
    for phase in details["phases"]:
        table = Table(
            "",
            "task",
            "owner role",
            "owner",
            "status",
            "planned",
            "baseline",
            "actual",
            title=f"{phase['name']} ({phase['phase_key']})",
            caption="* on the critical path",
        )
        for task in phase["tasks"]:
            owner = (
                "[red]unassigned[/]"
                if task["owner_unassigned"]
                else _text(task["owner_id"])
            )
            status = task["status"]
            if task["blocked_since"]:
                status += f" since {task['blocked_since']}"
            table.add_row(
                "*" if task["is_critical"] else "",
                f"{task['task_key']}: {task['title']}",
                task["owner_role"],
                owner,
                status,
                _dates(task["planned_start"], task["planned_end"]),
                _dates(task["baseline_start"], task["baseline_end"]),
                _dates(task["actual_start"], task["actual_end"]),
            )
        console.print(table)
        for item in phase["checklist"]:
            mark = "[green]✔[/]" if item.get("done") else "☐"
            console.print(f"  {mark} {item['item_id']}: {item.get('text', '')}")
    milestones = Table(
        "milestone", "kind", "planned", "baseline", "actual", title="milestones"
    )
    for m in details["milestones"]:
        milestones.add_row(
            f"{m['milestone_key']}: {m['name']}",
            m["kind"],
            _text(m["planned"]),
            _text(m["baseline"]),
            _text(m["actual"]),
        )
    console.print(milestones)
    events = Table("at", "kind", "task", "by", "change", "note", title="last events")
    for e in details["events"]:
        change = ""
        if e["from_value"] or e["to_value"]:
            change = f"{_text(e['from_value'])} → {_text(e['to_value'])}"
        events.add_row(
            str(e["at"])[:16],
            e["kind"],
            _text(e["task_key"]),
            _text(e["actor"]),
            change,
            _text(e["note"]),
        )
    console.print(events)


@project_app.command("show")
def project_show(
    ctx: typer.Context,
    project_id: Annotated[int, typer.Argument(help="The project's id.")],
    fmt: Annotated[Output, typer.Option("--format")] = Output.table,
    events: Annotated[
        int, typer.Option("--events", min=0, help="How many recent events to show.")
    ] = EVENTS_SHOWN,
) -> None:
    """Show a project: phases, checklists, tasks, milestones and recent events."""
    with state(ctx).app.store.session() as session:
        details = _details(session, project_id, events)
    if fmt is Output.json:
        emit_json(details)
        return
    _print_details(details)


@project_app.command("sentiment")
def project_sentiment(
    ctx: typer.Context,
    project_id: Annotated[int, typer.Argument(help="The project's id.")],
    score: Annotated[
        int, typer.Argument(help="1 (unhappy) to 5 (delighted).", min=1, max=5)
    ],
    note: Annotated[str | None, typer.Option("--note", help="Why.")] = None,
    actor: ActorOption = None,
) -> None:
    """Record the customer's sentiment."""
    record_sentiment(
        state(ctx).app.store,
        project_id=project_id,
        score=score,
        actor=actor or _actor(),
        at=datetime.now(UTC),
        note=note,
    )
    console.print(f"project {project_id}: sentiment {score} recorded")


@project_app.command("note")
def project_note(
    ctx: typer.Context,
    project_id: Annotated[int, typer.Argument(help="The project's id.")],
    text: Annotated[str, typer.Argument(help="The note.")],
    actor: ActorOption = None,
) -> None:
    """Record a note on a project."""
    record_note(
        state(ctx).app.store,
        project_id=project_id,
        text=text,
        actor=actor or _actor(),
        at=datetime.now(UTC),
    )
    console.print(f"project {project_id}: note recorded")


@project_app.command("checklist")
def project_checklist(
    ctx: typer.Context,
    project_id: Annotated[int, typer.Argument(help="The project's id.")],
    phase: Annotated[str, typer.Argument(help="The phase key.")],
    item: Annotated[str, typer.Argument(help="The checklist item's id.")],
    done: Annotated[
        bool, typer.Option("--done/--not-done", help="Tick or untick the item.")
    ] = True,
    actor: ActorOption = None,
) -> None:
    """Tick (or untick) a checklist item of a phase."""
    set_checklist_item(
        state(ctx).app.store,
        project_id=project_id,
        phase_key=phase,
        item_id=item,
        done=done,
        actor=actor or _actor(),
        at=datetime.now(UTC),
    )
    console.print(
        f"project {project_id}: {phase}/{item} {'done' if done else 'not done'}"
    )


@task_app.command("update")
def task_update(
    ctx: typer.Context,
    project_id: Annotated[int, typer.Argument(help="The project's id.")],
    task_key: Annotated[str, typer.Argument(help="The task's key.")],
    status: Annotated[
        str,
        typer.Argument(help="not_started, in_progress, blocked, done or skipped."),
    ],
    note: Annotated[str | None, typer.Option("--note", help="Why, or what.")] = None,
    actor: ActorOption = None,
    on: Annotated[
        str | None,
        typer.Option(
            "--date", help="The day it happened (YYYY-MM-DD); defaults to today (UTC)."
        ),
    ] = None,
) -> None:
    """Set a task's status; actual dates, milestones and project status follow."""
    task = update_task(
        state(ctx).app.store,
        project_id=project_id,
        task_key=task_key,
        status=status,
        actor=actor or _actor(),
        at=datetime.now(UTC),
        note=note,
        on=_day(on),
    )
    actual = _dates(task.actual_start, task.actual_end)
    console.print(
        f"project {project_id}: {task.task_key} is {task.status}"
        + (f" (actual {actual})" if actual else ""),
        highlight=False,
    )


@progress_app.command("import")
def progress_import(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="A UTF-8 CSV file.", exists=True, dir_okay=False)
    ],
    actor: ActorOption = None,
    fmt: Annotated[Output, typer.Option("--format")] = Output.table,
) -> None:
    """Apply task statuses from a CSV; exits with 1 when any row was rejected.

    Columns: opportunity_id or project_id, task_key, status, and optionally
    date (YYYY-MM-DD) and note.
    """
    report = import_progress_csv(
        state(ctx).app.store, file, actor=actor or _actor(), at=datetime.now(UTC)
    )
    if fmt is Output.json:
        emit_json(report.to_dict())
    else:
        console.print(
            f"{file}: {report.rows} row(s): {report.applied} applied, "
            f"{report.unchanged} unchanged, {len(report.rejected)} rejected",
            highlight=False,
        )
        if report.ignored_columns:
            console.print(
                f"ignored column(s): {', '.join(report.ignored_columns)}",
                highlight=False,
            )
        if report.rejected:
            table = Table("line", "reason", title="rejected rows")
            for line, reason in report.rejected:
                table.add_row(str(line), reason)
            console.print(table)
    if report.rejected:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("projects")(projects)
    app.add_typer(project_app, name="project")
    app.add_typer(task_app, name="task")
    app.add_typer(progress_app, name="progress")
