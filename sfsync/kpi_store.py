"""Reads onboarding projects from the store as the KPI engine's plain facts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, get_args

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from sfsync.calendar import BusinessCalendar
from sfsync.errors import ConfigError, InputError
from sfsync.kpi.facts import (
    Audience,
    EventFacts,
    MilestoneFacts,
    MilestoneKind,
    ProjectFacts,
    ProjectStatus,
    TaskFacts,
    TaskStatus,
)
from sfsync.logs import get_logger
from sfsync.store.models import KpiSnapshot as KpiSnapshotRow
from sfsync.store.models import (
    Opportunity,
    Project,
    ProjectEvent,
    ProjectMilestone,
    ProjectTask,
)

__all__ = [
    "EVENT_KINDS",
    "CalendarCache",
    "LoadedProject",
    "ProjectBatch",
    "chunked",
    "finished_facts",
    "finished_project_ids",
    "latest_pull",
    "load_projects",
    "project_facts",
    "snapshot_candidate_ids",
]

log = get_logger(__name__)

# Project event kinds the KPI engine reads, and what each becomes.
EVENT_KINDS: dict[str, str] = {
    "task_status": "progress",
    "sentiment": "sentiment",
    "note": "note",
}
OPEN_STATUSES = ("active", "on_hold")
FINISHED_STATUS = "done"

_PROJECT_STATUSES: frozenset[str] = frozenset(get_args(ProjectStatus))
_TASK_STATUSES: frozenset[str] = frozenset(get_args(TaskStatus))
_AUDIENCES: frozenset[str] = frozenset(get_args(Audience))
_MILESTONE_KINDS: frozenset[str] = frozenset(get_args(MilestoneKind))

_project = Project.__table__.c  # type: ignore[attr-defined]
_task = ProjectTask.__table__.c  # type: ignore[attr-defined]
_milestone = ProjectMilestone.__table__.c  # type: ignore[attr-defined]
_event = ProjectEvent.__table__.c  # type: ignore[attr-defined]
_opportunity = Opportunity.__table__.c  # type: ignore[attr-defined]
_snapshot = KpiSnapshotRow.__table__.c  # type: ignore[attr-defined]

# Only what the facts need: the JSON columns (dependencies, checklists) would
# cost a parse per row for nothing.
_TASK_COLUMNS = (
    _task.project_id,
    _task.task_key,
    _task.phase_key,
    _task.title,
    _task.audience,
    _task.effort,
    _task.status,
    _task.planned_start,
    _task.planned_end,
    _task.baseline_start,
    _task.baseline_end,
    _task.actual_start,
    _task.actual_end,
    _task.is_critical,
    _task.blocked_since,
)
_MILESTONE_COLUMNS = (
    _milestone.project_id,
    _milestone.milestone_key,
    _milestone.kind,
    _milestone.planned,
    _milestone.baseline,
    _milestone.actual,
)


class CalendarCache:
    """One business calendar per country, made on first use and kept.

    A project whose country the holiday tables do not know is measured with
    the default country's calendar; the substitution is logged once per
    country rather than failing the whole run.
    """

    def __init__(self, default_country: str) -> None:
        self.default_country = default_country
        self._calendars: dict[str, BusinessCalendar] = {}
        self.default = self.get(default_country)

    def get(self, country: str | None) -> BusinessCalendar:
        """The calendar of ``country``; the default one when it is None or unknown."""
        key = country or self.default_country
        calendar = self._calendars.get(key)
        if calendar is None:
            try:
                calendar = BusinessCalendar(key)
            except ConfigError:
                if key == self.default_country:
                    raise
                log.warning(
                    "calendar_country_unknown",
                    country=key,
                    used=self.default_country,
                    hint="fix project.calendar_country or the holiday_country setting",
                )
                calendar = self.get(self.default_country)
            self._calendars[key] = calendar
        return calendar


@dataclass(frozen=True, slots=True)
class LoadedProject:
    """One project's facts plus what the job needs beside them."""

    facts: ProjectFacts
    name: str | None
    calendar_country: str | None
    last_change: datetime | None


@dataclass
class ProjectBatch:
    """Projects loaded together; ``problems`` names those whose rows were unusable."""

    projects: dict[int, LoadedProject] = field(default_factory=dict)
    problems: dict[int, str] = field(default_factory=dict)


def chunked(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    """Consecutive slices of at most ``size`` items."""
    for first in range(0, len(items), size):
        yield items[first : first + size]


def _utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _task_facts(row: Any) -> TaskFacts:
    # Unpacked by position (the order of _TASK_COLUMNS): reading a row by
    # index is several times faster than by name, and this runs per task.
    (_, key, phase, title, audience, effort, status, *dates, critical, blocked) = row
    if status not in _TASK_STATUSES:
        raise ValueError(
            f"task {key}: status {status!r} is not one of "
            + ", ".join(sorted(_TASK_STATUSES))
        )
    if audience not in _AUDIENCES:
        raise ValueError(f"task {key}: audience {audience!r} is not internal/customer")
    planned_start, planned_end, baseline_start, baseline_end, started, ended = dates
    return TaskFacts(
        id=key,
        phase_id=phase,
        title=title,
        audience=audience,
        effort=float(effort),
        planned_start=planned_start,
        planned_end=planned_end,
        baseline_start=baseline_start,
        baseline_end=baseline_end,
        status=status,
        actual_start=started,
        actual_end=ended,
        is_critical=bool(critical),
        blocked_since=blocked,
    )


def _milestone_facts(row: Any) -> MilestoneFacts:
    kind: MilestoneKind = row.kind if row.kind in _MILESTONE_KINDS else "other"
    return MilestoneFacts(
        id=row.milestone_key,
        kind=kind,
        planned=row.planned,
        baseline=row.baseline,
        actual=row.actual,
    )


def _sentiment(row: Any) -> float | None:
    raw = (row.data or {}).get("value", row.to_value)
    try:
        value = int(str(raw).strip())
    except ValueError:
        return None
    return float(value) if 1 <= value <= 5 else None


def _event_facts(row: Any) -> EventFacts | None:
    kind = EVENT_KINDS[row.kind]
    on = _utc_date(row.at)
    if kind == "sentiment":
        value = _sentiment(row)
        if value is None:
            # A mood outside 1..5 says nothing the health rule can weigh.
            return None
        return EventFacts(on, "sentiment", value=value, text=row.note or "")
    if kind == "progress":
        return EventFacts(on, "progress", text=row.task_key or "")
    return EventFacts(on, "note", text=row.note or row.to_value or "")


def _grouped(rows: Iterable[Any]) -> dict[int, list[Any]]:
    groups: dict[int, list[Any]] = {}
    for row in rows:
        groups.setdefault(row.project_id, []).append(row)
    return groups


def _project_rows(session: Session, ids: Sequence[int]) -> list[Any]:
    # The opportunity's current target wins over the one copied at handoff,
    # so a target moved in Salesforce is measured against at once.
    query = (
        select(
            _project.id,
            _project.name,
            _project.playbook_key,
            _project.playbook_version,
            _project.segment,
            _project.status,
            _project.handoff_date,
            _project.close_date,
            _project.target_go_live,
            _project.calendar_country,
            _project.updated_at,
            _opportunity.target_go_live.label("opportunity_target"),
        )
        .select_from(Project.__table__)  # type: ignore[attr-defined]
        .outerjoin(
            Opportunity.__table__,  # type: ignore[attr-defined]
            _opportunity.id == _project.opportunity_id,
        )
        .where(_project.id.in_(ids))
    )
    return list(session.execute(query))


def _project_facts(
    row: Any,
    tasks: list[Any],
    milestones: list[Any],
    events: list[Any],
) -> tuple[ProjectFacts, datetime | None]:
    if row.status not in _PROJECT_STATUSES:
        raise ValueError(f"status {row.status!r} is not active, on_hold or done")
    event_facts = [e for e in (_event_facts(r) for r in events) if e is not None]
    facts = ProjectFacts(
        project_id=str(row.id),
        playbook_key=row.playbook_key,
        playbook_version=row.playbook_version,
        handoff_date=row.handoff_date,
        segment=row.segment,
        close_date=row.close_date,
        target_go_live=row.opportunity_target or row.target_go_live,
        tasks=tuple(_task_facts(t) for t in tasks),
        milestones=tuple(_milestone_facts(m) for m in milestones),
        events=tuple(event_facts),
        status=row.status,
    )
    moments = [m for m in (row.updated_at, *(e.at for e in events)) if m is not None]
    return facts, max(moments, default=None)


def load_projects(session: Session, project_ids: Sequence[int]) -> ProjectBatch:
    """Load projects with their tasks, milestones and events in four queries.

    Pass at most a few thousand ids at a time (see ``chunked``): every id is a
    bound parameter. A project whose rows break the engine's rules (an
    unknown status, a task ending before it starts) is not loaded; its id and
    the reason are in ``problems``.
    """
    batch = ProjectBatch()
    if not project_ids:
        return batch
    ids = list(project_ids)
    projects = _project_rows(session, ids)
    tasks = _grouped(
        session.execute(
            select(*_TASK_COLUMNS)
            .where(_task.project_id.in_(ids))
            .order_by(_task.project_id, _task.id)
        )
    )
    milestones = _grouped(
        session.execute(
            select(*_MILESTONE_COLUMNS)
            .where(_milestone.project_id.in_(ids))
            .order_by(_milestone.project_id, _milestone.id)
        )
    )
    events = _grouped(
        session.execute(
            select(
                _event.project_id,
                _event.at,
                _event.kind,
                _event.task_key,
                _event.to_value,
                _event.note,
                _event.data,
            )
            .where(_event.project_id.in_(ids), _event.kind.in_(list(EVENT_KINDS)))
            .order_by(_event.project_id, _event.at, _event.id)
        )
    )
    for row in projects:
        try:
            facts, last_change = _project_facts(
                row,
                tasks.get(row.id, []),
                milestones.get(row.id, []),
                events.get(row.id, []),
            )
        except ValueError as exc:
            batch.problems[row.id] = f"project {row.id}: {exc}"
            continue
        batch.projects[row.id] = LoadedProject(
            facts=facts,
            name=row.name,
            calendar_country=row.calendar_country,
            last_change=last_change,
        )
    return batch


def project_facts(
    session: Session, project_ids: Sequence[int]
) -> dict[int, ProjectFacts]:
    """The KPI engine's facts of each project, by project id, in four queries.

    Ids with no project are absent from the answer. Raises InputError naming
    the project and row when stored data breaks the engine's rules.
    """
    batch = load_projects(session, project_ids)
    if batch.problems:
        first = min(batch.problems)
        more = len(batch.problems) - 1
        raise InputError(
            batch.problems[first] + (f" (and {more} more)" if more else ""),
            hint="correct the named row in the store, then run again",
        )
    return {pid: loaded.facts for pid, loaded in batch.projects.items()}


def finished_project_ids(session: Session) -> list[int]:
    """Ids of projects that are live: a go-live date recorded, or marked done."""
    live = select(_milestone.project_id).where(
        _milestone.kind == "go_live", _milestone.actual.is_not(None)
    )
    query = (
        select(_project.id)
        .where(or_(_project.status == FINISHED_STATUS, _project.id.in_(live)))
        .order_by(_project.id)
    )
    return list(session.scalars(query))


def finished_facts(session: Session, project_ids: Sequence[int]) -> list[ProjectFacts]:
    """Lean facts of finished projects: what the learned spread and cohorts read.

    History needs only the handoff, the go-live and first-value milestones and,
    for a plan without a go-live milestone, the last baseline and actual task
    ends. Loading every task of every finished project would cost most of a
    run, so such a plan is stood in for by one task spanning it; the other
    milestones, the tasks and the events are left out. Three queries.
    """
    if not project_ids:
        return []
    ids = list(project_ids)
    projects = _project_rows(session, ids)
    milestones = _grouped(
        session.execute(
            select(*_MILESTONE_COLUMNS)
            .where(
                _milestone.project_id.in_(ids),
                _milestone.kind.in_(["go_live", "first_value"]),
            )
            .order_by(_milestone.project_id, _milestone.id)
        )
    )
    spans = {
        row.project_id: row
        for row in session.execute(
            select(
                _task.project_id,
                func.min(_task.baseline_start).label("first_start"),
                func.max(_task.baseline_end).label("last_end"),
                func.max(_task.actual_end).label("last_actual"),
            )
            .where(_task.project_id.in_(ids), _task.status != "skipped")
            .group_by(_task.project_id)
        )
    }
    out: list[ProjectFacts] = []
    for row in projects:
        if row.status not in _PROJECT_STATUSES:
            continue
        marks = tuple(_milestone_facts(m) for m in milestones.get(row.id, []))
        tasks: tuple[TaskFacts, ...] = ()
        span = spans.get(row.id)
        has_go_live = any(m.kind == "go_live" for m in marks)
        if not has_go_live and span is not None and span.last_end is not None:
            tasks = (
                TaskFacts(
                    id="whole-plan",
                    phase_id="",
                    title="whole plan",
                    audience="internal",
                    effort=1.0,
                    planned_start=span.first_start,
                    planned_end=span.last_end,
                    baseline_start=span.first_start,
                    baseline_end=span.last_end,
                    status="done" if span.last_actual else "not_started",
                    actual_end=span.last_actual,
                ),
            )
        out.append(
            ProjectFacts(
                project_id=str(row.id),
                playbook_key=row.playbook_key,
                playbook_version=row.playbook_version,
                handoff_date=row.handoff_date,
                segment=row.segment,
                close_date=row.close_date,
                target_go_live=row.opportunity_target or row.target_go_live,
                tasks=tasks,
                milestones=marks,
                status=row.status,
            )
        )
    return out


def snapshot_candidate_ids(
    session: Session, *, today: date, finished_within_days: int
) -> list[int]:
    """Ids of open projects, of projects finished in the last N days, and of
    finished projects that have no snapshot computed as finished yet.

    "Finished in the last N days" is approximated here by a recent go-live
    date or a recently ended task; the job checks the exact go-live date once
    the facts are loaded. The last group covers work recorded late (a
    project closed today with dates months back): its final snapshot must
    still replace the open-project one it had.
    """
    cutoff = today - timedelta(days=finished_within_days)
    recent_live = select(_milestone.project_id).where(
        _milestone.kind == "go_live", _milestone.actual >= cutoff
    )
    recent_task = select(_task.project_id).where(_task.actual_end >= cutoff)
    final_snapshot = (
        select(_snapshot.project_id)
        .where(
            _snapshot.project_id == _project.id,
            _snapshot.data["forecast_method"].as_string() == "finished",
        )
        .exists()
    )
    query = (
        select(_project.id)
        .where(
            or_(
                _project.status.in_(OPEN_STATUSES),
                and_(
                    _project.status == FINISHED_STATUS,
                    or_(
                        _project.id.in_(recent_live),
                        _project.id.in_(recent_task),
                        ~final_snapshot,
                    ),
                ),
            )
        )
        .order_by(_project.id)
    )
    return list(session.scalars(query))


def awaiting_final_snapshot(session: Session) -> set[int]:
    """Finished projects that have no snapshot computed as finished yet."""
    final = select(_snapshot.project_id).where(
        _snapshot.data["forecast_method"].as_string() == "finished"
    )
    query = select(_project.id).where(
        _project.status == FINISHED_STATUS, _project.id.not_in(final)
    )
    return set(session.scalars(query))


def latest_pull(session: Session) -> datetime | None:
    """When Salesforce data was last pulled: the newest opportunity pull time."""
    # MAX keeps the column's type, so the answer comes back aware, in UTC.
    value: datetime | None = session.scalar(select(func.max(_opportunity.pulled_at)))
    return value
