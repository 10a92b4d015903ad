"""Small project builders for the KPI tests, dated in business days after a handoff."""

from __future__ import annotations

from datetime import date

from sfsync.kpi import WEEKENDS, EventFacts, MilestoneFacts, ProjectFacts, TaskFacts
from sfsync.kpi.facts import Audience, TaskStatus

# A Monday, so business day n after it is easy to name in comments.
HANDOFF = date(2026, 3, 2)


def day(n: int) -> date:
    """The n-th business day after the handoff (0 is the handoff itself)."""
    return WEEKENDS.add_business_days(HANDOFF, n)


def task(
    task_id: str,
    first: int,
    last: int,
    effort: float,
    status: TaskStatus = "not_started",
    *,
    audience: Audience = "internal",
    critical: bool = False,
    blocked_since: date | None = None,
) -> TaskFacts:
    """A task planned (and baselined) over business days first..last after handoff."""
    started = status in ("in_progress", "blocked", "done")
    return TaskFacts(
        id=task_id,
        phase_id="P1",
        title=f"Task {task_id}",
        audience=audience,
        effort=effort,
        planned_start=day(first),
        planned_end=day(last),
        baseline_start=day(first),
        baseline_end=day(last),
        status=status,
        actual_start=day(first) if started else None,
        actual_end=day(last) if status == "done" else None,
        is_critical=critical,
        blocked_since=blocked_since,
    )


def project(
    *tasks: TaskFacts,
    go_live: int,
    live_on: date | None = None,
    target: date | None = None,
    events: tuple[EventFacts, ...] = (),
    **extra: object,
) -> ProjectFacts:
    """A project whose go-live milestone is baselined on business day ``go_live``."""
    milestone = MilestoneFacts("M-live", "go_live", day(go_live), day(go_live), live_on)
    fields: dict[str, object] = {
        "project_id": "P-1",
        "playbook_key": "standard",
        "playbook_version": "1",
        "handoff_date": HANDOFF,
        "target_go_live": target,
        "tasks": tasks,
        "milestones": (milestone, *extra.pop("milestones", ())),  # type: ignore[misc]
        "events": events,
        "status": "done" if live_on else "active",
    }
    fields.update(extra)
    return ProjectFacts(**fields)  # type: ignore[arg-type]
