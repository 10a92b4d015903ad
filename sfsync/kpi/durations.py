"""Onboarding duration and time to first value, in business and calendar days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sfsync.kpi.facts import BusinessCalendar, ProjectFacts

__all__ = [
    "Duration",
    "TimeToValue",
    "go_live_date",
    "onboarding_duration",
    "time_to_first_value",
]


@dataclass(frozen=True, slots=True)
class Duration:
    """A span between two dates: business days in ``(start, end]`` and calendar days."""

    business_days: int
    calendar_days: int


@dataclass(frozen=True, slots=True)
class TimeToValue:
    """From handoff, and from the deal's close, to the first value realised."""

    from_handoff: Duration
    from_close: Duration | None


def _span(start: date, end: date, calendar: BusinessCalendar) -> Duration:
    return Duration(
        business_days=calendar.business_days_between(start, end),
        calendar_days=(end - start).days,
    )


def go_live_date(project: ProjectFacts) -> date | None:
    """The day the project went live, or None while it has not.

    The go-live milestone's actual date decides. A project marked ``done``
    without such a milestone went live when its last task ended.
    """
    milestone = project.milestone("go_live")
    if milestone is not None and milestone.actual is not None:
        return milestone.actual
    if project.status == "done":
        ends = [task.actual_end for task in project.tasks if task.actual_end]
        return max(ends, default=None)
    return None


def onboarding_duration(
    project: ProjectFacts, *, calendar: BusinessCalendar
) -> Duration | None:
    """Handoff to actual go-live; None until the project is live.

    Example: handoff Monday 2026-03-02, live Friday 2026-03-13 gives
    9 business days (Tue..Fri, Mon..Fri) and 11 calendar days.
    """
    live = go_live_date(project)
    if live is None:
        return None
    return _span(project.handoff_date, live, calendar)


def time_to_first_value(
    project: ProjectFacts, *, calendar: BusinessCalendar
) -> TimeToValue | None:
    """Handoff (and close) to the first-value milestone's actual date.

    None until the first value is recorded; ``from_close`` is None when the
    deal's close date is unknown.
    """
    milestone = project.milestone("first_value")
    if milestone is None or milestone.actual is None:
        return None
    from_close = None
    if project.close_date is not None:
        from_close = _span(project.close_date, milestone.actual, calendar)
    return TimeToValue(
        from_handoff=_span(project.handoff_date, milestone.actual, calendar),
        from_close=from_close,
    )
