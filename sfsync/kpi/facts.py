"""The plain values the KPI engine reads: projects, their plans, events, calendars."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

__all__ = [
    "WEEKENDS",
    "Audience",
    "BusinessCalendar",
    "EventFacts",
    "EventKind",
    "MilestoneFacts",
    "MilestoneKind",
    "ProjectFacts",
    "ProjectStatus",
    "TaskFacts",
    "TaskStatus",
    "WeekendCalendar",
]

Audience = Literal["internal", "customer"]
TaskStatus = Literal["not_started", "in_progress", "blocked", "done", "skipped"]
MilestoneKind = Literal["kickoff", "go_live", "first_value", "other"]
EventKind = Literal["progress", "sentiment", "note"]
ProjectStatus = Literal["active", "on_hold", "done"]


class BusinessCalendar(Protocol):
    """Which days count as working days; every KPI measures time with one."""

    def is_business_day(self, d: date, /) -> bool:
        """True when work happens on ``d``."""
        ...

    def add_business_days(self, d: date, n: int, /) -> date:
        """The ``n``-th business day after ``d`` (before when negative); 0 is ``d``."""
        ...

    def business_days_between(self, start: date, end: date, /) -> int:
        """Business days in ``(start, end]``; negative when ``end < start``."""
        ...


def _weekdays_through(ordinal: int) -> int:
    # Ordinal 1 (0001-01-01) is a Monday, so every block of seven ordinals
    # holds five weekdays followed by the weekend.
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + min(rest, 5)


def _weekday_number(count: int) -> int:
    # Inverse of _weekdays_through on weekdays: the ordinal of the count-th weekday.
    weeks, rest = divmod(count - 1, 5)
    return weeks * 7 + rest + 1


class WeekendCalendar:
    """Monday to Friday are business days; no public holidays.

    Arithmetic on ordinals, so every method costs the same for any span.
    """

    __slots__ = ()

    def is_business_day(self, d: date, /) -> bool:
        """True from Monday to Friday."""
        return d.weekday() < 5

    def add_business_days(self, d: date, n: int, /) -> date:
        """The ``n``-th weekday after ``d`` (before it when negative); ``d`` at 0."""
        if n == 0:
            return d
        count = _weekdays_through(d.toordinal()) + n
        if n < 0 and not self.is_business_day(d):
            # From a weekend the count already stands at the Friday before,
            # which is the first weekday back.
            count += 1
        return date.fromordinal(_weekday_number(count))

    def business_days_between(self, start: date, end: date, /) -> int:
        """Weekdays in ``(start, end]``; negative when ``end`` is before ``start``."""
        return _weekdays_through(end.toordinal()) - _weekdays_through(start.toordinal())


WEEKENDS = WeekendCalendar()


@dataclass(frozen=True, slots=True)
class TaskFacts:
    """One task of a project's plan, with its baseline and what actually happened.

    ``effort`` weighs the task in percent complete and earned schedule; its unit
    does not matter as long as one project uses one unit. ``baseline_*`` are the
    dates first planned at instantiation; ``planned_*`` are the current plan.
    """

    id: str
    phase_id: str
    title: str
    audience: Audience
    effort: float
    planned_start: date
    planned_end: date
    baseline_start: date
    baseline_end: date
    status: TaskStatus = "not_started"
    actual_start: date | None = None
    actual_end: date | None = None
    is_critical: bool = False
    blocked_since: date | None = None

    def __post_init__(self) -> None:
        if not (self.effort >= 0 and math.isfinite(self.effort)):
            raise ValueError(f"task {self.id}: effort must be a finite number >= 0")
        if self.planned_end < self.planned_start:
            raise ValueError(f"task {self.id}: planned_end is before planned_start")
        if self.baseline_end < self.baseline_start:
            raise ValueError(f"task {self.id}: baseline_end is before baseline_start")


@dataclass(frozen=True, slots=True)
class MilestoneFacts:
    """A dated point of the plan: kick-off, go-live, first value, or another."""

    id: str
    kind: MilestoneKind
    planned: date
    baseline: date
    actual: date | None = None


@dataclass(frozen=True, slots=True)
class EventFacts:
    """Something recorded on a project on a day.

    ``progress`` marks work moving (the adapter emits one per task status change
    and per progress note); ``sentiment`` carries the customer's mood as
    ``value`` from 1 (unhappy) to 5 (delighted); ``note`` is free text.
    """

    occurred_on: date
    kind: EventKind
    value: float | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    """Everything the KPI engine knows about one onboarding project."""

    project_id: str
    playbook_key: str
    playbook_version: str
    handoff_date: date
    segment: str | None = None
    close_date: date | None = None
    target_go_live: date | None = None
    tasks: tuple[TaskFacts, ...] = ()
    milestones: tuple[MilestoneFacts, ...] = ()
    events: tuple[EventFacts, ...] = ()
    status: ProjectStatus = "active"

    def milestone(self, kind: MilestoneKind) -> MilestoneFacts | None:
        """The first milestone of ``kind``, or None when the plan has none."""
        for milestone in self.milestones:
            if milestone.kind == kind:
                return milestone
        return None
