"""Percent complete and overdue tasks: how far a project is and what is late."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sfsync.kpi.facts import BusinessCalendar, ProjectFacts, TaskFacts

__all__ = [
    "OverdueTasks",
    "counted_weights",
    "overdue_tasks",
    "percent_complete",
]


def counted_weights(tasks: Sequence[TaskFacts]) -> list[tuple[TaskFacts, float]]:
    """The tasks that count towards progress, each with the weight it carries.

    Skipped tasks leave the plan. The rest weigh their effort; when every one
    of them has zero effort, they weigh one each, so a plan without effort
    estimates still shows progress.
    """
    counted = [task for task in tasks if task.status != "skipped"]
    if any(task.effort > 0 for task in counted):
        return [(task, task.effort) for task in counted]
    return [(task, 1.0) for task in counted]


def percent_complete(project: ProjectFacts) -> float:
    """Effort-weighted share of the plan that is done, from 0 to 100.

    Only ``done`` tasks earn their weight: an in-progress task earns nothing
    until it is finished, so the number never rises on a guess and finishing a
    task can only raise it. A project with no countable task is 100 when its
    status is ``done`` and 0 otherwise.

    Example: efforts 2 (done), 3 (in progress), 5 (skipped) give 2 / (2 + 3) = 40.
    """
    weighted = counted_weights(project.tasks)
    total = sum(weight for _, weight in weighted)
    if total == 0:
        return 100.0 if project.status == "done" else 0.0
    earned = sum(weight for task, weight in weighted if task.status == "done")
    return min(100.0, 100.0 * earned / total)


@dataclass(frozen=True, slots=True)
class OverdueTasks:
    """The tasks past their planned end and not finished, by audience.

    ``due`` counts every non-skipped task whose planned end is before today,
    finished or not: the base for the share of due tasks that are overdue.
    ``worst_days_late`` is in business days; 0 when nothing is overdue.
    """

    internal: int
    customer: int
    due: int
    worst_days_late: int
    worst_task_id: str | None

    @property
    def total(self) -> int:
        """Overdue tasks of both audiences."""
        return self.internal + self.customer


def overdue_tasks(
    project: ProjectFacts, *, today: date, calendar: BusinessCalendar
) -> OverdueTasks:
    """Tasks with ``planned_end < today`` that are neither done nor skipped.

    Days late are business days in ``(planned_end, today]``: a task due on
    Friday and still open on Monday is one business day late.
    """
    internal = customer = due = 0
    worst_days = 0
    worst_id: str | None = None
    for task in project.tasks:
        if task.status == "skipped" or task.planned_end >= today:
            continue
        due += 1
        if task.status == "done":
            continue
        if task.audience == "customer":
            customer += 1
        else:
            internal += 1
        days = calendar.business_days_between(task.planned_end, today)
        if worst_id is None or days > worst_days:
            worst_days, worst_id = days, task.id
    return OverdueTasks(internal, customer, due, worst_days, worst_id)
