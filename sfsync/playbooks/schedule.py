"""Dates a playbook's tasks and milestones from a handoff date on business days."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from sfsync.calendar import BusinessCalendar
from sfsync.playbooks.model import MilestoneKind, Playbook
from sfsync.playbooks.plan import plan_for

__all__ = [
    "Schedule",
    "ScheduledMilestone",
    "ScheduledPhase",
    "ScheduledTask",
    "schedule",
]


# The per-task, per-phase and per-milestone records are named tuples rather
# than frozen dataclasses: a thousand projects make tens of thousands of them,
# and a tuple is built several times faster while being just as immutable.


class ScheduledTask(NamedTuple):
    """A task's planned dates (both inclusive business days) and its slack.

    ``slack`` is the number of business days the task can slip without moving
    go-live or the project's last end; ``is_critical`` means it has none.
    """

    task_id: str
    phase_id: str
    planned_start: date
    planned_end: date
    slack: int
    is_critical: bool


class ScheduledMilestone(NamedTuple):
    """A milestone's date: the day the last of its ``after`` tasks ends."""

    milestone_id: str
    kind: MilestoneKind
    planned_date: date


class ScheduledPhase(NamedTuple):
    """A phase's first task start and last task end."""

    phase_id: str
    planned_start: date
    planned_end: date


@dataclass(frozen=True, slots=True)
class Schedule:
    """A dated plan for one project; ``end`` is the go-live date.

    ``tasks``, ``phases`` and ``milestones`` keep the playbook's file order.
    ``last_end`` is the latest task end, which is after go-live when the
    playbook has post-go-live work such as a value review.
    """

    playbook_key: str
    playbook_version: str
    handoff_date: date
    start: date
    end: date
    last_end: date
    tasks: Mapping[str, ScheduledTask]
    phases: Mapping[str, ScheduledPhase]
    milestones: Mapping[str, ScheduledMilestone]
    critical_path: tuple[str, ...]

    def milestone_date(self, kind: MilestoneKind) -> date:
        """The date of the first milestone of ``kind``."""
        for milestone in self.milestones.values():
            if milestone.kind == kind:
                return milestone.planned_date
        raise KeyError(kind)


def schedule(
    playbook: Playbook, *, start: date, calendar: BusinessCalendar
) -> Schedule:
    """Plan ``playbook`` for a deal handed off on ``start``.

    Work begins on ``start`` when it is a business day, else on the next one.
    Every start, end and milestone falls on a business day of ``calendar``.
    """
    plan = plan_for(playbook)
    days = calendar.business_days_from(start, plan.finish_offset + 1)
    tasks = {
        task_id: ScheduledTask(
            task_id, phase_id, days[first], days[last], slack, slack == 0
        )
        for task_id, phase_id, first, last, slack in plan.rows
    }
    phases = {
        phase_id: ScheduledPhase(phase_id, days[first], days[last])
        for phase_id, (first, last) in plan.phase_spans.items()
    }
    milestones = {
        m.id: ScheduledMilestone(m.id, m.kind, days[plan.milestone_offsets[m.id]])
        for m in playbook.milestones
    }
    return Schedule(
        playbook_key=playbook.key,
        playbook_version=playbook.version,
        handoff_date=start,
        start=days[0],
        end=days[plan.go_live_offset],
        last_end=days[plan.finish_offset],
        tasks=tasks,
        phases=phases,
        milestones=milestones,
        critical_path=plan.critical_path,
    )
