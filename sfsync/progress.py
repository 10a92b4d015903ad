"""Progress on projects: task status, milestones, sentiment, notes, checklists.

Every change is one transaction that locks the project row first, so two
people updating the same project at once are applied one after the other and
milestones and the project's status are always computed from a consistent
set of tasks. Each change leaves a ``ProjectEvent``; the KPI job rebuilds its
history from those events and from the task and milestone rows.

Dates: a task's actual dates are calendar days. ``on`` is the day the change
happened; by default the UTC date of ``at``. There is no per-project time
zone yet, so a change recorded late in the evening west of Greenwich counts
for the next day unless ``on`` (the CLI's ``--date``) says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import func
from sqlmodel import Session, col, select

from sfsync.errors import InputError
from sfsync.logs import get_logger
from sfsync.store.db import Store
from sfsync.store.models import (
    Project,
    ProjectEvent,
    ProjectMilestone,
    ProjectPhase,
    ProjectTask,
)

__all__ = [
    "CLOSED_STATUSES",
    "TASK_STATUSES",
    "ChangeResult",
    "apply_task_status",
    "find_project",
    "parse_status",
    "record_note",
    "record_sentiment",
    "set_checklist_item",
    "update_task",
]

log = get_logger(__name__)

TASK_STATUSES: Final = ("not_started", "in_progress", "blocked", "done", "skipped")
# A closed task counts towards milestones and the project's completion.
CLOSED_STATUSES: Final = frozenset({"done", "skipped"})
SENTIMENT_RANGE: Final = range(1, 6)


@dataclass(frozen=True)
class ChangeResult:
    """A task after a status change, and whether anything changed."""

    task: ProjectTask
    changed: bool


def parse_status(value: str) -> str:
    """A task status from user input: case, spaces and hyphens forgiven."""
    status = value.strip().lower().replace(" ", "_").replace("-", "_")
    if status not in TASK_STATUSES:
        raise InputError(
            f"unknown task status {value!r}",
            hint=f"use one of: {', '.join(TASK_STATUSES)}",
        )
    return status


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InputError(
            f"the time {at.isoformat()} has no time zone",
            hint="pass an aware datetime, e.g. datetime.now(UTC)",
        )
    return at.astimezone(UTC)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _effective_moment(at: datetime, on: date) -> datetime:
    # A change dated to a past day is stamped at noon UTC of that day: the
    # calendar date then reads the same from UTC-11 to UTC+11.
    if on == at.date():
        return at
    return datetime.combine(on, time(12, 0), tzinfo=UTC)


def find_project(
    session: Session,
    *,
    project_id: int | None = None,
    opportunity_id: str | None = None,
    lock: bool = False,
) -> Project:
    """A project by its id or its opportunity's id (15 or 18 characters)."""
    query = select(Project)
    if project_id is not None:
        query = query.where(Project.id == project_id)
        label = f"project {project_id}"
    elif opportunity_id:
        opp = opportunity_id.strip()
        if len(opp) == 15:
            # A 15-character id is the case-sensitive form of the 18-character
            # one that the store keeps; its first 15 characters are the same.
            query = query.where(func.substr(Project.opportunity_id, 1, 15) == opp)
        else:
            query = query.where(Project.opportunity_id == opp)
        label = f"the project of opportunity {opp}"
    else:
        raise InputError("no project given", hint="give a project id or opportunity id")
    if lock:
        query = query.with_for_update()
    project = session.exec(query).first()
    if project is None:
        raise InputError(
            f"{label} does not exist",
            hint="list projects with `sfsync projects`; a project exists once its "
            "deal is won and the handoff has run",
        )
    return project


def _task(session: Session, project: Project, task_key: str) -> ProjectTask:
    task = session.exec(
        select(ProjectTask)
        .where(ProjectTask.project_id == project.id)
        .where(ProjectTask.task_key == task_key)
        .with_for_update()
    ).first()
    if task is None:
        keys = session.exec(
            select(ProjectTask.task_key)
            .where(ProjectTask.project_id == project.id)
            .order_by(col(ProjectTask.planned_start), col(ProjectTask.id))
        ).all()
        raise InputError(
            f"project {project.id} has no task {task_key!r}",
            hint=f"its tasks are: {', '.join(keys)}",
        )
    return task


def _event(
    project: Project,
    *,
    kind: str,
    at: datetime,
    actor: str,
    task_key: str | None = None,
    from_value: str | None = None,
    to_value: str | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> ProjectEvent:
    assert project.id is not None
    return ProjectEvent(
        project_id=project.id,
        at=at,
        kind=kind,
        task_key=task_key,
        actor=actor,
        from_value=from_value,
        to_value=to_value,
        note=note,
        data=data or {},
    )


# Work often starts a little before the contract is signed (a kick-off
# booked during the final negotiation); a date much earlier is a typo.
EARLIEST_BEFORE_HANDOFF_DAYS = 90


def _check_day(
    task: ProjectTask, status: str, on: date, today: date, handoff: date
) -> None:
    earliest = handoff - timedelta(days=EARLIEST_BEFORE_HANDOFF_DAYS)
    if on < earliest:
        raise InputError(
            f"task {task.task_key}: the date {on.isoformat()} is more than "
            f"{EARLIEST_BEFORE_HANDOFF_DAYS} days before the project's handoff "
            f"({handoff.isoformat()})",
            hint="check the date; give the day the change happened",
        )
    if on > today:
        raise InputError(
            f"task {task.task_key}: the date {on.isoformat()} is in the future "
            f"(today is {today.isoformat()})",
            hint="give the day the change happened, today or earlier",
        )
    opens = task.actual_start
    if status in CLOSED_STATUSES and opens is not None and on < opens:
        raise InputError(
            f"task {task.task_key}: cannot be {status} on {on.isoformat()}, before "
            f"it started on {opens.isoformat()}",
            hint="give a date on or after the start, or set the task back to "
            "not_started first",
        )


def _move(task: ProjectTask, status: str, on: date) -> None:
    """Set ``status`` and the actual dates that go with it."""
    if status == "not_started":
        task.actual_start = None
        task.actual_end = None
        task.blocked_since = None
    elif status == "in_progress":
        task.actual_start = task.actual_start or on
        task.actual_end = None
        task.blocked_since = None
    elif status == "blocked":
        # A task can be blocked before anyone starts it (waiting on the
        # customer), so blocking alone does not set the actual start.
        task.actual_end = None
        task.blocked_since = on
    elif status == "done":
        task.actual_start = task.actual_start or on
        task.actual_end = on
        task.blocked_since = None
    else:  # skipped
        task.actual_end = on
        task.blocked_since = None
    task.status = status


def _refresh_milestones(
    session: Session,
    project: Project,
    tasks: dict[str, ProjectTask],
    *,
    task_key: str,
    at: datetime,
    actor: str,
) -> None:
    milestones = session.exec(
        select(ProjectMilestone).where(ProjectMilestone.project_id == project.id)
    ).all()
    for milestone in milestones:
        after = [k for k in milestone.after if k in tasks]
        if task_key not in after:
            continue
        closed = [tasks[k] for k in after if tasks[k].status in CLOSED_STATUSES]
        if len(closed) == len(after):
            ends = [t.actual_end for t in closed if t.actual_end is not None]
            reached = max(ends) if ends else at.date()
        else:
            reached = None
        if reached == milestone.actual:
            continue
        before = milestone.actual
        milestone.actual = reached
        session.add(milestone)
        if reached is not None and before is None:
            kind = "milestone_reached"
        elif reached is None:
            kind = "milestone_reopened"
        else:
            kind = "milestone_moved"
        session.add(
            _event(
                project,
                kind=kind,
                at=at,
                actor=actor,
                task_key=task_key,
                from_value=_iso(before),
                to_value=_iso(reached),
                note=milestone.name,
                data={"milestone_key": milestone.milestone_key, "kind": milestone.kind},
            )
        )
        log.info(
            kind,
            project_id=project.id,
            milestone=milestone.milestone_key,
            actual=reached,
        )


def _refresh_project_status(
    session: Session,
    project: Project,
    tasks: Iterable[ProjectTask],
    *,
    at: datetime,
    actor: str,
) -> None:
    # A project on hold follows its deal; only the handoff moves it.
    if project.status == "on_hold":
        return
    finished = all(t.status in CLOSED_STATUSES for t in tasks)
    if finished and project.status == "active":
        target, kind = "done", "project_done"
    elif not finished and project.status == "done":
        target, kind = "active", "project_reopened"
    else:
        return
    session.add(
        _event(
            project,
            kind=kind,
            at=at,
            actor=actor,
            from_value=project.status,
            to_value=target,
        )
    )
    project.status = target
    project.updated_at = at
    session.add(project)
    log.info(kind, project_id=project.id)


def apply_task_status(
    session: Session,
    project: Project,
    task_key: str,
    status: str,
    *,
    actor: str,
    at: datetime,
    on: date | None = None,
    note: str | None = None,
) -> ChangeResult:
    """Change one task's status inside ``session``; the caller commits.

    ``project`` must have been read with a row lock (``find_project(lock=True)``).
    """
    at = _utc(at)
    status = parse_status(status)
    task = _task(session, project, task_key)
    if task.status == status:
        return ChangeResult(task, changed=False)
    day = on or at.date()
    _check_day(task, status, day, at.date(), project.handoff_date)
    before = task.status
    _move(task, status, day)
    session.add(task)
    moment = _effective_moment(at, day)
    session.add(
        _event(
            project,
            kind="task_status",
            at=moment,
            actor=actor,
            task_key=task_key,
            from_value=before,
            to_value=status,
            note=note,
            data={
                "on": day.isoformat(),
                "recorded_at": at.isoformat(),
                "actual_start": _iso(task.actual_start),
                "actual_end": _iso(task.actual_end),
            },
        )
    )
    # When the change was recorded, whatever day it is dated to: stored KPIs
    # computed before this moment no longer reflect the project.
    project.updated_at = at
    session.add(project)
    session.flush()
    tasks = {
        t.task_key: t
        for t in session.exec(
            select(ProjectTask).where(ProjectTask.project_id == project.id)
        )
    }
    _refresh_milestones(
        session, project, tasks, task_key=task_key, at=moment, actor=actor
    )
    _refresh_project_status(session, project, tasks.values(), at=moment, actor=actor)
    return ChangeResult(task, changed=True)


def update_task(
    store: Store,
    *,
    project_id: int,
    task_key: str,
    status: str,
    actor: str,
    at: datetime,
    note: str | None = None,
    on: date | None = None,
) -> ProjectTask:
    """Set a task's status; a change to the status it already has records nothing.

    ``at`` is when the change is recorded (aware); ``on`` the day it happened,
    by default the UTC date of ``at``.
    """
    # Checked before the database is touched: a typo costs no round trip.
    status, at = parse_status(status), _utc(at)
    with store.transaction() as session:
        project = find_project(session, project_id=project_id, lock=True)
        result = apply_task_status(
            session, project, task_key, status, actor=actor, at=at, on=on, note=note
        )
        task = result.task
        dated = task.actual_end if status in CLOSED_STATUSES else task.actual_start
        if not result.changed and on is not None and dated not in (None, on):
            raise InputError(
                f"project {project_id}: {task_key} is already {status} since "
                f"{dated}; setting the same status does not move its date to {on}",
                hint=f"set it to not_started, then to {status} with --date {on}",
            )
    return task


def record_sentiment(
    store: Store,
    *,
    project_id: int,
    score: int,
    actor: str,
    at: datetime,
    note: str | None = None,
) -> ProjectEvent:
    """Record the customer's mood, from 1 (unhappy) to 5 (delighted)."""
    if (
        isinstance(score, bool)
        or not isinstance(score, int)
        or score not in SENTIMENT_RANGE
    ):
        raise InputError(
            f"sentiment score {score!r} for project {project_id} is out of range",
            hint="give a whole number from 1 (unhappy) to 5 (delighted)",
        )
    at = _utc(at)
    with store.transaction() as session:
        project = find_project(session, project_id=project_id, lock=True)
        event = _event(
            project,
            kind="sentiment",
            at=at,
            actor=actor,
            to_value=str(score),
            note=note,
        )
        session.add(event)
    return event


def record_note(
    store: Store, *, project_id: int, text: str, actor: str, at: datetime
) -> ProjectEvent:
    """Record a free-text note on a project."""
    if not text.strip():
        raise InputError(
            f"the note for project {project_id} is empty", hint="write some text"
        )
    at = _utc(at)
    with store.transaction() as session:
        project = find_project(session, project_id=project_id, lock=True)
        event = _event(project, kind="note", at=at, actor=actor, note=text.strip())
        session.add(event)
    return event


def set_checklist_item(
    store: Store,
    *,
    project_id: int,
    phase_key: str,
    item_id: str,
    done: bool,
    actor: str,
    at: datetime,
) -> ProjectPhase:
    """Tick or untick one yes/no item of a phase's checklist."""
    at = _utc(at)
    with store.transaction() as session:
        project = find_project(session, project_id=project_id, lock=True)
        phases = session.exec(
            select(ProjectPhase)
            .where(ProjectPhase.project_id == project.id)
            .order_by(col(ProjectPhase.position))
        ).all()
        phase = next((p for p in phases if p.phase_key == phase_key), None)
        if phase is None:
            raise InputError(
                f"project {project_id} has no phase {phase_key!r}",
                hint=f"its phases are: {', '.join(p.phase_key for p in phases)}",
            )
        checklist = dict(phase.checklist or {})
        if item_id not in checklist:
            raise InputError(
                f"phase {phase_key!r} of project {project_id} has no checklist item "
                f"{item_id!r}",
                hint=f"its items are: {', '.join(checklist) or '(none)'}",
            )
        item = dict(checklist[item_id])
        if bool(item.get("done")) == done:
            return phase
        item.update(done=done, changed_at=at.isoformat(), changed_by=actor)
        checklist[item_id] = item
        # A new dict, so that the JSON column is seen as changed.
        phase.checklist = checklist
        session.add(phase)
        session.add(
            _event(
                project,
                kind="checklist_item",
                at=at,
                actor=actor,
                from_value="not_done" if done else "done",
                to_value="done" if done else "not_done",
                note=item.get("text"),
                data={"phase_key": phase_key, "item_id": item_id},
            )
        )
    return phase
