"""Plausible delivery history for the demo's projects: done, on track, slipping, stuck.

The demo's won deals reach back a year and a half. Left untouched, every
project would look abandoned; this plays out what a delivery team would have
recorded, through the same progress functions the CLI uses, so the KPIs,
health and forecasts the demo shows come from real events.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlmodel import col, select

from sfsync.calendar import BusinessCalendar
from sfsync.progress import apply_task_status, find_project
from sfsync.store.db import Store
from sfsync.store.models import Project, ProjectEvent, ProjectTask

__all__ = ["HistoryPlayed", "play_history"]

# How fast each kind of project moves against its plan (1.0 = on plan).
PACE = {"on_track": 1.0, "slipping": 1.45, "blocked": 1.15, "stalled": 1.0}
PROFILES = list(PACE)
WEIGHTS = [0.55, 0.2, 0.12, 0.13]
ACTORS = ["mateo.garcia", "priya.raman", "zoe.kowalczyk", "customer.portal"]


@dataclass
class HistoryPlayed:
    projects: int = 0
    task_updates: int = 0
    sentiments: int = 0


def _at(day: date) -> datetime:
    return datetime.combine(day, time(15, 0), tzinfo=UTC)


def _shifted(calendar: BusinessCalendar, start: date, day: date, pace: float) -> date:
    offset = calendar.business_days_between(start, day)
    return calendar.add_business_days(start, round(offset * pace))


def play_history(
    store: Store, *, today: date, calendar: BusinessCalendar, seed: int = 11
) -> HistoryPlayed:
    """Record task progress on every active project, as if work had happened."""
    rng = random.Random(seed)
    played = HistoryPlayed()
    with store.session() as session:
        project_ids = list(
            session.exec(
                select(Project.id)
                .where(Project.status == "active")
                .order_by(col(Project.id))
            )
        )
    for project_id in project_ids:
        assert project_id is not None  # ids of stored rows
        profile = rng.choices(PROFILES, WEIGHTS)[0]
        with store.transaction() as session:
            project = find_project(session, project_id=project_id, lock=True)
            recent = calendar.business_days_between(project.handoff_date, today) < 60
            if profile in {"blocked", "stalled"} and not recent:
                # A block or a stall is news on a young project; an old one
                # that went that way shows up as slipping instead.
                profile = "slipping"
            pace = PACE[profile]
            tasks = list(
                session.exec(
                    select(ProjectTask)
                    .where(ProjectTask.project_id == project_id)
                    .order_by(col(ProjectTask.planned_start), col(ProjectTask.id))
                )
            )
            start = project.handoff_date
            # A stalled project stops recording progress some weeks before today.
            horizon = (
                calendar.add_business_days(today, -rng.randint(8, 14))
                if profile == "stalled"
                else today
            )
            blocked_one = False

            for task in tasks:
                began = _shifted(calendar, start, task.planned_start, pace)
                ended = _shifted(calendar, start, task.planned_end, pace)
                actor = rng.choice(ACTORS)
                if began > horizon or began > today:
                    continue
                block_window = calendar.add_business_days(today, -15)
                if (
                    profile == "blocked"
                    and task.is_critical
                    and not blocked_one
                    and began >= block_window
                ):
                    apply_task_status(
                        session,
                        project,
                        task.task_key,
                        "in_progress",
                        actor=actor,
                        at=_at(began),
                        on=began,
                    )
                    blocked_on = min(calendar.add_business_days(began, 1), today)
                    apply_task_status(
                        session,
                        project,
                        task.task_key,
                        "blocked",
                        actor=actor,
                        at=_at(blocked_on),
                        on=blocked_on,
                        note="waiting on the customer's IT for SSO settings",
                    )
                    played.task_updates += 2
                    blocked_one = True
                    break
                apply_task_status(
                    session,
                    project,
                    task.task_key,
                    "in_progress",
                    actor=actor,
                    at=_at(began),
                    on=began,
                )
                played.task_updates += 1
                if ended <= horizon and ended <= today:
                    apply_task_status(
                        session,
                        project,
                        task.task_key,
                        "done",
                        actor=actor,
                        at=_at(ended),
                        on=ended,
                    )
                    played.task_updates += 1
            if rng.random() < 0.6:
                score = {"on_track": 4, "slipping": 3, "blocked": 2, "stalled": 3}[
                    profile
                ] + rng.choice([-1, 0, 0, 1])
                session.add(
                    ProjectEvent(
                        project_id=project_id,
                        at=_at(min(horizon, today)),
                        kind="sentiment",
                        actor="customer.survey",
                        to_value=str(max(1, min(5, score))),
                        note="monthly pulse survey",
                    )
                )
                played.sentiments += 1
        played.projects += 1
    return played
