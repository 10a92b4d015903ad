"""The KPI step: compute every project's KPI snapshot for a day and keep it."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, union_all
from sqlmodel import Session

from sfsync.errors import InputError
from sfsync.kpi import (
    DEFAULT_HEALTH_RULES,
    HealthRules,
    History,
    KpiSnapshot,
    build_history,
    compute_kpis,
    go_live_date,
    load_health_rules,
)
from sfsync.kpi_store import (
    CalendarCache,
    LoadedProject,
    awaiting_final_snapshot,
    chunked,
    finished_facts,
    finished_project_ids,
    latest_pull,
    load_projects,
    snapshot_candidate_ids,
)
from sfsync.logs import get_logger
from sfsync.runs import RunStats, recorded_run
from sfsync.store.db import Store, upsert_insert
from sfsync.store.models import KpiSnapshot as KpiSnapshotRow
from sfsync.store.models import Project, ProjectEvent

__all__ = [
    "CHUNK",
    "FINISHED_WINDOW_DAYS",
    "KpiRunReport",
    "LateProject",
    "PlaybookSummary",
    "Portfolio",
    "PortfolioRow",
    "StoredSnapshot",
    "compute_project",
    "compute_snapshots",
    "load_history",
    "portfolio",
    "project_health_rules",
    "run_kpis",
    "snapshot_trend",
    "stale_snapshot_projects",
    "stored_snapshot",
]

log = get_logger(__name__)

# Projects loaded, computed and written per transaction: large enough that
# the per-chunk queries are few, small enough that memory stays flat.
CHUNK = 2000
# A finished project keeps getting daily snapshots this long after go-live,
# so that the week after a go-live still shows in trends and pushes.
FINISHED_WINDOW_DAYS = 30
# Problems kept verbatim in a report; the rest are only counted.
_PROBLEMS_SHOWN = 20

_snapshot_table = KpiSnapshotRow.__table__  # type: ignore[attr-defined]
_snap = _snapshot_table.c
_event_table = ProjectEvent.__table__  # type: ignore[attr-defined]
_project_table = Project.__table__  # type: ignore[attr-defined]
_project = Project.__table__.c  # type: ignore[attr-defined]


@dataclass
class KpiRunReport:
    """What one KPI run computed, skipped and learned."""

    day: date
    computed: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)
    history_projects: int = 0
    learned_spreads: int = 0
    health: dict[str, int] = field(
        default_factory=lambda: {"Green": 0, "Amber": 0, "Red": 0}
    )
    chunks: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values."""
        return {
            "day": self.day.isoformat(),
            "computed": self.computed,
            "failed": self.failed,
            "problems": list(self.problems),
            "history_projects": self.history_projects,
            "learned_spreads": self.learned_spreads,
            "health": dict(self.health),
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
        }


def project_health_rules(config_dir: Path) -> HealthRules:
    """The health rules in ``config_dir/health.yaml``; the defaults when absent."""
    path = config_dir / "health.yaml"
    if not path.is_file():
        log.info("health_rules_default", path=str(path))
        return DEFAULT_HEALTH_RULES
    return load_health_rules(path)


def load_history(
    store: Store, *, calendars: CalendarCache, chunk_size: int = CHUNK
) -> tuple[History, int]:
    """Fit spreads and cohorts on every finished project; also say how many there were.

    History is measured on the default country's calendar: mixing calendars
    inside one cohort would compare business days that do not match anyway.
    """
    finished = []
    with store.session() as session:
        ids = finished_project_ids(session)
        for chunk in chunked(ids, chunk_size):
            finished.extend(finished_facts(session, chunk))
    return build_history(finished, calendar=calendars.default), len(finished)


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    statement = upsert_insert(session, _snapshot_table)
    statement = statement.on_conflict_do_update(
        index_elements=["project_id", "day"],
        set_={
            name: statement.excluded[name]
            for name in ("computed_at", "data_as_of", "health", "data")
        },
    )
    # Executed with a list of rows, the statement is compiled once and sent
    # in multi-row batches; a VALUES clause of 2,000 rows would take longer
    # to compile than to run.
    session.execute(statement, rows)


def _reported(loaded: LoadedProject, snapshot: KpiSnapshot) -> dict[str, Any]:
    """Values shown to CRM users beside the KPIs: phase, and percentages."""
    open_tasks = sorted(
        (t for t in loaded.facts.tasks if t.status not in {"done", "skipped"}),
        key=lambda t: (t.planned_start, t.id),
    )
    phase = (
        open_tasks[0].phase_id.replace("_", " ").replace("-", " ")
        if open_tasks
        else None
    )
    probability = snapshot.probability_on_target
    facts = loaded.facts
    live = any(m.kind == "go_live" and m.actual for m in facts.milestones)
    if facts.status == "on_hold":
        status = "On Hold"
    elif facts.status == "done":
        status = "Complete"
    elif live:
        status = "Live"
    elif any(t.status != "not_started" for t in facts.tasks):
        status = "In Progress"
    else:
        status = "Not Started"
    return {
        "onboarding_status": status,
        "current_phase": phase.capitalize() if phase else "Complete",
        "probability_on_target_percent": (
            None if probability is None else round(probability * 100, 1)
        ),
    }


def _due_for_snapshot(loaded: LoadedProject, cutoff: date) -> bool:
    facts = loaded.facts
    if facts.status != "done":
        return True
    live = go_live_date(facts)
    return live is None or live >= cutoff


def _data_as_of(pulled: datetime | None, loaded: LoadedProject) -> datetime | None:
    # Salesforce data is as fresh as the last pull; a store never pulled into
    # (projects made by hand or by tests) is as fresh as the project's rows.
    return pulled if pulled is not None else loaded.last_change


def compute_snapshots(
    store: Store,
    *,
    today: date,
    health_rules: HealthRules = DEFAULT_HEALTH_RULES,
    country: str = "US",
    project_ids: Sequence[int] | None = None,
    now: datetime | None = None,
    chunk_size: int = CHUNK,
    finished_within_days: int = FINISHED_WINDOW_DAYS,
    run: RunStats | None = None,
) -> KpiRunReport:
    """Compute and store the KPI snapshot of each open or recently finished project.

    One row per project per day: a second run on the same ``today`` replaces
    that day's rows, earlier days stay as the history trends are drawn from.
    History (learned spreads, cohorts) is built once from finished projects;
    projects are then loaded, computed and written ``chunk_size`` at a time,
    each chunk in its own transaction. A project whose stored rows are
    unusable is skipped and named in ``problems``; the others still run.
    ``project_ids`` limits the run to those projects. ``country`` is the
    calendar of projects that name none.
    """
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    report = KpiRunReport(day=today)
    calendars = CalendarCache(country)
    history, report.history_projects = load_history(
        store, calendars=calendars, chunk_size=chunk_size
    )
    report.learned_spreads = sum(
        1 for s in history.spreads.values() if s.source == "learned"
    )
    with store.session() as session:
        pulled = latest_pull(session)
        ids = snapshot_candidate_ids(
            session, today=today, finished_within_days=finished_within_days
        )
        final_due = awaiting_final_snapshot(session)
    if project_ids is not None:
        wanted = set(project_ids)
        ids = [pid for pid in ids if pid in wanted]
    cutoff = today - timedelta(days=finished_within_days)

    for chunk in chunked(ids, chunk_size):
        with store.transaction() as session:
            batch = load_projects(session, chunk)
            rows: list[dict[str, Any]] = []
            for project_id, loaded in batch.projects.items():
                if not (_due_for_snapshot(loaded, cutoff) or project_id in final_due):
                    continue
                try:
                    snapshot = compute_kpis(
                        loaded.facts,
                        today=today,
                        calendar=calendars.get(loaded.calendar_country),
                        history=history,
                        health_rules=health_rules,
                    )
                except (ValueError, ArithmeticError) as exc:
                    batch.problems[project_id] = f"project {project_id}: {exc}"
                    continue
                report.health[snapshot.health] += 1
                rows.append(
                    {
                        "project_id": project_id,
                        "day": today,
                        "computed_at": now,
                        "data_as_of": _data_as_of(pulled, loaded),
                        "health": snapshot.health,
                        "data": snapshot.to_dict() | _reported(loaded, snapshot),
                    }
                )
            _upsert(session, rows)
        report.computed += len(rows)
        report.failed += len(batch.problems)
        room = _PROBLEMS_SHOWN - len(report.problems)
        report.problems.extend(sorted(batch.problems.values())[: max(room, 0)])
        report.chunks += 1

    report.seconds = time.perf_counter() - started
    if report.failed:
        log.warning(
            "kpi_projects_skipped",
            failed=report.failed,
            first=report.problems[:3],
            hint="correct the named rows, then run `sfsync kpi recompute`",
        )
    log.info(
        "kpis_computed",
        day=today.isoformat(),
        projects=report.computed,
        failed=report.failed,
        chunks=report.chunks,
        history_projects=report.history_projects,
        learned_spreads=report.learned_spreads,
        seconds=round(report.seconds, 3),
    )
    if run is not None:
        run.read += report.computed + report.failed
        run.written += report.computed
        run.failed += report.failed
        run.details.update(report.as_dict())
    return report


def run_kpis(app: Any, *, today: date) -> KpiRunReport:
    """The cycle's KPI step, recorded as its own run."""
    rules = project_health_rules(app.settings.config_dir)
    with recorded_run(app.store, "kpis") as run:
        return compute_snapshots(
            app.store,
            today=today,
            health_rules=rules,
            country=app.settings.holiday_country,
            run=run,
        )


def compute_project(
    store: Store,
    project_id: int,
    *,
    today: date,
    health_rules: HealthRules = DEFAULT_HEALTH_RULES,
    country: str = "US",
) -> KpiSnapshot | None:
    """One project's KPIs for ``today``, computed now and not stored.

    None when there is no such project. This builds the whole history, so
    it is meant for one-off questions, not for loops.
    """
    calendars = CalendarCache(country)
    history, _ = load_history(store, calendars=calendars)
    with store.session() as session:
        batch = load_projects(session, [project_id])
    if project_id in batch.problems:
        raise InputError(
            batch.problems[project_id],
            hint="correct the named row in the store, then run again",
        )
    loaded = batch.projects.get(project_id)
    if loaded is None:
        return None
    return compute_kpis(
        loaded.facts,
        today=today,
        calendar=calendars.get(loaded.calendar_country),
        history=history,
        health_rules=health_rules,
    )


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """A snapshot row as stored: its day, times, health and KPI mapping."""

    project_id: int
    day: date
    computed_at: datetime
    data_as_of: datetime | None
    health: str
    data: dict[str, Any]


def stale_snapshot_projects(
    store: Store, *, project_ids: Sequence[int] | None = None
) -> list[int]:
    """Projects with progress recorded after their newest KPI snapshot.

    A change is its event's moment or, for a task dated to an earlier day,
    the project's ``updated_at``, which holds when it was recorded.

    Their stored KPIs (what ``kpi show``, ``report`` and a dry-run push read)
    do not reflect that progress until the KPI step runs again.
    """
    events, projects = _event_table.c, _project_table.c
    changes = union_all(
        select(events.project_id.label("project_id"), events.at.label("at")),
        select(projects.id.label("project_id"), projects.updated_at.label("at")),
    ).subquery()
    last_event = (
        select(changes.c.project_id, func.max(changes.c.at).label("at"))
        .group_by(changes.c.project_id)
        .subquery()
    )
    # The newest day's snapshot is the one read; recomputing an earlier day
    # later must not make it look current.
    newest_day = (
        select(_snap.project_id, func.max(_snap.day).label("day"))
        .group_by(_snap.project_id)
        .subquery()
    )
    last_snapshot = (
        select(_snap.project_id, _snap.computed_at.label("at"))
        .join(
            newest_day,
            (newest_day.c.project_id == _snap.project_id)
            & (newest_day.c.day == _snap.day),
        )
        .subquery()
    )
    query = (
        select(last_event.c.project_id)
        .join(last_snapshot, last_snapshot.c.project_id == last_event.c.project_id)
        .where(last_event.c.at > last_snapshot.c.at)
        .order_by(last_event.c.project_id)
    )
    if project_ids is not None:
        query = query.where(last_event.c.project_id.in_(list(project_ids)))
    with store.session() as session:
        return [int(pid) for pid in session.scalars(query)]


def stored_snapshot(
    store: Store, project_id: int, *, day: date | None = None
) -> StoredSnapshot | None:
    """The snapshot of ``day``, or the newest one when ``day`` is None."""
    query = select(KpiSnapshotRow).where(_snap.project_id == project_id)
    if day is not None:
        query = query.where(_snap.day == day)
    query = query.order_by(_snap.day.desc()).limit(1)
    with store.session() as session:
        row = session.scalars(query).first()
    if row is None:
        return None
    return StoredSnapshot(
        row.project_id, row.day, row.computed_at, row.data_as_of, row.health, row.data
    )


def snapshot_trend(
    store: Store, project_id: int, *, until: date, limit: int = 10
) -> list[dict[str, Any]]:
    """The last ``limit`` snapshots up to ``until``, oldest first, in brief."""
    query = (
        select(_snap.day, _snap.health, _snap.data)
        .where(_snap.project_id == project_id, _snap.day <= until)
        .order_by(_snap.day.desc())
        .limit(limit)
    )
    with store.session() as session:
        rows = list(session.execute(query))
    return [
        {
            "day": row.day.isoformat(),
            "health": row.health,
            "percent_complete": row.data.get("percent_complete"),
            "go_live_p50": row.data.get("go_live_p50"),
            "schedule_variance_days": row.data.get("schedule_variance_days"),
        }
        for row in reversed(rows)
    ]


@dataclass(frozen=True, slots=True)
class PortfolioRow:
    """One project in the portfolio report, from its snapshot of the day."""

    project_id: int
    name: str | None
    playbook_key: str
    status: str
    health: str
    percent_complete: float | None
    go_live_likely: str | None
    go_live_p80: str | None
    target_go_live: str | None
    schedule_variance_days: int | None
    late: bool
    time_to_value_days: int | None
    cohort_time_to_value_median: float | None
    health_summary: str


@dataclass(frozen=True, slots=True)
class LateProject:
    """A project forecast after its baseline or its target, and why."""

    project_id: int
    name: str | None
    playbook_key: str
    health: str
    go_live_likely: str | None
    target_go_live: str | None
    schedule_variance_days: int | None
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlaybookSummary:
    """Counts and time to value of one playbook's projects."""

    playbook_key: str
    projects: int
    green: int
    amber: int
    red: int
    late: int
    median_time_to_value: float | None
    benchmark_time_to_value: float | None


@dataclass
class Portfolio:
    """Every project's state on one day: health counts, late projects, playbooks."""

    day: date | None
    rows: list[PortfolioRow] = field(default_factory=list)
    late: list[LateProject] = field(default_factory=list)
    health: dict[str, int] = field(
        default_factory=lambda: {"Green": 0, "Amber": 0, "Red": 0}
    )
    median_time_to_value: float | None = None
    benchmark_time_to_value: float | None = None
    time_to_value_sample: int = 0
    playbooks: list[PlaybookSummary] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Everything but the per-project rows, as JSON-ready values."""
        return {
            "day": self.day.isoformat() if self.day else None,
            "projects": len(self.rows),
            "health": dict(self.health),
            "late": [
                {
                    "project_id": p.project_id,
                    "name": p.name,
                    "playbook": p.playbook_key,
                    "health": p.health,
                    "go_live_likely": p.go_live_likely,
                    "target_go_live": p.target_go_live,
                    "schedule_variance_days": p.schedule_variance_days,
                    "reasons": list(p.reasons),
                }
                for p in self.late
            ],
            "time_to_value": {
                "median_business_days": self.median_time_to_value,
                "cohort_benchmark_business_days": self.benchmark_time_to_value,
                "projects": self.time_to_value_sample,
            },
            "playbooks": [
                {
                    "playbook": p.playbook_key,
                    "projects": p.projects,
                    "Green": p.green,
                    "Amber": p.amber,
                    "Red": p.red,
                    "late": p.late,
                    "median_time_to_value": p.median_time_to_value,
                    "benchmark_time_to_value": p.benchmark_time_to_value,
                }
                for p in self.playbooks
            ],
        }


def _late_reasons(data: dict[str, Any]) -> tuple[bool, tuple[str, ...]]:
    if data.get("forecast_method") == "finished":
        return False, ()
    reasons: list[str] = []
    variance = data.get("schedule_variance_days") or 0
    likely, target = data.get("go_live_likely"), data.get("target_go_live")
    if variance > 0:
        reasons.append(
            f"likely go-live {likely} is {variance} business days after the "
            f"baseline {data.get('baseline_go_live')}"
        )
    flagged = [f for f in data.get("health_factors", ()) if f["status"] != "Green"]
    # The health factor on the target already names the late percentile; the
    # plain statement is only needed when that factor is off or still Green.
    target_flagged = any(f["name"] == "forecast_vs_target" for f in flagged)
    after_target = bool(target and likely and likely > target)
    if after_target and not target_flagged:
        reasons.append(f"likely go-live {likely} is after the target {target}")
    if not (reasons or after_target):
        return False, ()
    reasons.extend(f["reason"] for f in flagged)
    return True, tuple(reasons)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _time_to_value(rows: list[PortfolioRow]) -> tuple[float | None, float | None, int]:
    with_value = [r for r in rows if r.time_to_value_days is not None]
    benchmarks = [
        r.cohort_time_to_value_median
        for r in with_value
        if r.cohort_time_to_value_median is not None
    ]
    actual = [float(r.time_to_value_days or 0) for r in with_value]
    return _median(actual), _median(benchmarks), len(with_value)


def portfolio(store: Store, *, day: date | None = None) -> Portfolio:
    """The portfolio as of the newest snapshot day on or before ``day``.

    It reads the snapshots of that one day, so it shows the projects the KPI
    run of that day covered. Rows are streamed; only a few fields of each
    snapshot are kept.
    """
    with store.session() as session:
        newest = select(func.max(_snap.day))
        if day is not None:
            newest = newest.where(_snap.day <= day)
        chosen: date | None = session.scalar(newest)
        result = Portfolio(day=chosen)
        if chosen is None:
            return result
        query = (
            select(
                _snap.project_id,
                _snap.health,
                _snap.data,
                _project.name,
                _project.status,
            )
            .join(Project.__table__, _project.id == _snap.project_id)  # type: ignore[attr-defined]
            .where(_snap.day == chosen)
            .order_by(_snap.project_id)
            .execution_options(yield_per=CHUNK)
        )
        for row in session.execute(query):
            data = row.data
            late, reasons = _late_reasons(data)
            entry = PortfolioRow(
                project_id=row.project_id,
                name=row.name,
                playbook_key=data.get("playbook_key", ""),
                status=row.status,
                health=row.health,
                percent_complete=data.get("percent_complete"),
                go_live_likely=data.get("go_live_likely"),
                go_live_p80=data.get("go_live_p80"),
                target_go_live=data.get("target_go_live"),
                schedule_variance_days=data.get("schedule_variance_days"),
                late=late,
                time_to_value_days=data.get("time_to_value_business_days"),
                cohort_time_to_value_median=data.get("cohort_time_to_value_median"),
                health_summary=data.get("health_summary", ""),
            )
            result.rows.append(entry)
            result.health[entry.health] = result.health.get(entry.health, 0) + 1
            if late:
                result.late.append(
                    LateProject(
                        project_id=entry.project_id,
                        name=entry.name,
                        playbook_key=entry.playbook_key,
                        health=entry.health,
                        go_live_likely=entry.go_live_likely,
                        target_go_live=entry.target_go_live,
                        schedule_variance_days=entry.schedule_variance_days,
                        reasons=reasons,
                    )
                )
    result.late.sort(key=lambda p: (-(p.schedule_variance_days or 0), p.project_id))
    (
        result.median_time_to_value,
        result.benchmark_time_to_value,
        result.time_to_value_sample,
    ) = _time_to_value(result.rows)
    by_playbook: dict[str, list[PortfolioRow]] = {}
    for entry in result.rows:
        by_playbook.setdefault(entry.playbook_key, []).append(entry)
    for key in sorted(by_playbook):
        group = by_playbook[key]
        median, benchmark, _ = _time_to_value(group)
        result.playbooks.append(
            PlaybookSummary(
                playbook_key=key,
                projects=len(group),
                green=sum(r.health == "Green" for r in group),
                amber=sum(r.health == "Amber" for r in group),
                red=sum(r.health == "Red" for r in group),
                late=sum(r.late for r in group),
                median_time_to_value=median,
                benchmark_time_to_value=benchmark,
            )
        )
    return result
