"""Predicted go-live: an earned-schedule forecast with a calibrated spread."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from statistics import NormalDist
from typing import Literal

from sfsync.kpi.durations import go_live_date
from sfsync.kpi.facts import WEEKENDS, BusinessCalendar, ProjectFacts
from sfsync.kpi.progress import counted_weights

__all__ = [
    "DEFAULT_MIN_SAMPLES",
    "PRIOR_SPREAD",
    "Forecast",
    "Spread",
    "baseline_go_live",
    "fit_spread",
    "predict_go_live",
    "schedule_variance",
]

# Fewer finished projects than this and a learned spread says more about the
# few projects than about the playbook; the prior is used instead.
DEFAULT_MIN_SAMPLES = 8

# A project that has earned something in the first days of its plan would
# otherwise forecast an absurd date; below this pace the forecast stops
# stretching and the health factors carry the alarm.
MIN_SPI = 0.1

_Z = {p: NormalDist().inv_cdf(p / 100) for p in (10, 50, 80, 90)}

# Float effort sums differ from exact ones by rounding; equal within this
# fraction of the plan's total weight counts as equal.
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Spread:
    """How far actual remaining durations fall from the forecast, as a lognormal.

    The multiplier on the remaining duration has median ``exp(mu)`` and log
    standard deviation ``sigma``. ``source`` says whether it was learned from
    ``sample_size`` finished projects or is the prior.
    """

    mu: float
    sigma: float
    sample_size: int
    source: Literal["learned", "prior"]

    def multiplier(self, percentile: Literal[10, 50, 80, 90]) -> float:
        """The remaining-duration multiplier at ``percentile``.

        P10 is never above 1 and P90 never below 1, so the optimistic to
        pessimistic range always contains the point forecast even when the
        learned median is far from 1.
        """
        value = math.exp(self.mu + _Z[percentile] * self.sigma)
        if percentile == 10:
            return min(value, 1.0)
        if percentile == 90:
            return max(value, 1.0)
        return value

    def probability_at_most(self, ratio: float) -> float:
        """Probability that the multiplier comes out at or below ``ratio``."""
        if ratio <= 0:
            return 0.0
        if self.sigma == 0:
            return 1.0 if math.log(ratio) >= self.mu else 0.0
        z = (math.log(ratio) - self.mu) / self.sigma
        return min(1.0, max(0.0, 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))))


# The prior: the point forecast is the median (mu = 0) and one project in ten
# takes more than 1.38 times its forecast remaining duration (sigma = 0.25,
# so P80 = x1.23 and P10 = x0.73). It is deliberately wide; a playbook earns
# a narrower spread by finishing projects.
PRIOR_SPREAD = Spread(mu=0.0, sigma=0.25, sample_size=0, source="prior")


def baseline_go_live(project: ProjectFacts) -> date:
    """The go-live date of the baseline plan.

    The go-live milestone's baseline; without one, the last baseline task end;
    without tasks, the handoff date.
    """
    milestone = project.milestone("go_live")
    if milestone is not None:
        return milestone.baseline
    return max((t.baseline_end for t in project.tasks), default=project.handoff_date)


def fit_spread(
    finished_projects: Iterable[ProjectFacts],
    *,
    calendar: BusinessCalendar = WEEKENDS,
    min_samples: int = DEFAULT_MIN_SAMPLES,
    prior: Spread = PRIOR_SPREAD,
) -> Spread:
    """Learn the spread from finished projects, or return ``prior`` when too few.

    Each live project contributes the ratio of its actual to its baseline
    duration (handoff to go-live, business days); the spread is the mean and
    standard deviation of the log ratios. Projects not yet live, or whose
    baseline or actual duration is not positive, are left out. Callers group
    by playbook version: this function fits whatever it is given.

    The ratio is a whole-project one applied to the remaining duration at any
    point of progress; late in a project that overstates the uncertainty left.
    """
    logs: list[float] = []
    for project in finished_projects:
        live = go_live_date(project)
        if live is None:
            continue
        planned = calendar.business_days_between(
            project.handoff_date, baseline_go_live(project)
        )
        actual = calendar.business_days_between(project.handoff_date, live)
        if planned > 0 and actual > 0:
            logs.append(math.log(actual / planned))
    if len(logs) < max(min_samples, 2):
        return prior
    mean = sum(logs) / len(logs)
    variance = sum((x - mean) ** 2 for x in logs) / (len(logs) - 1)
    return Spread(
        mu=mean, sigma=math.sqrt(variance), sample_size=len(logs), source="learned"
    )


@dataclass(frozen=True, slots=True)
class Forecast:
    """The predicted go-live: a likely date, a P10..P90 range, and its pace.

    ``method`` is ``finished`` (the actual date, no spread), ``not_started``
    (nothing earned yet: the baseline shifted by the start delay) or
    ``earned_schedule``. ``earned_schedule`` and ``actual_time`` are business
    days since handoff; ``spi`` is their ratio. ``probability_on_target`` is
    None when the project has no target date.
    """

    method: Literal["finished", "not_started", "earned_schedule"]
    likely: date
    p10: date
    p50: date
    p80: date
    p90: date
    probability_on_target: float | None
    earned_schedule: float | None
    actual_time: int
    spi: float | None


def _ceil(x: float) -> int:
    # Durations built from float ratios land a hair above whole numbers.
    return math.ceil(x - 1e-9)


def _elapsed(project: ProjectFacts, today: date, calendar: BusinessCalendar) -> int:
    """AT: business days after the handoff that have fully passed by ``today``.

    Time is read at the start of ``today``, the same moment at which a task due
    yesterday counts as overdue; a weekend day sees the whole week passed.
    """
    days = calendar.business_days_between(project.handoff_date, today)
    if calendar.is_business_day(today):
        days -= 1
    return max(0, days)


def _earned_schedule(
    project: ProjectFacts, calendar: BusinessCalendar, actual_time: int
) -> tuple[float, float] | None:
    """(ES, planned duration) or None when nothing has been earned yet.

    The baseline plan earns a task's weight evenly over the last business day
    of the task: planned value rises from t - 1 to t where t is the task's
    baseline end, counted in business days after handoff, and is flat between
    those days. ES is the time at which planned value equals the value earned
    now. Where planned value is flat at that level, every time of the flat
    stretch qualifies and the one nearest to now is taken, so a project
    exactly on plan has ES = AT.
    """
    weighted = counted_weights(project.tasks)
    earned = sum(w for task, w in weighted if task.status == "done")
    total = sum(w for _, w in weighted)
    if earned <= 0 or total <= 0:
        return None
    handoff = project.handoff_date
    rises: dict[int, float] = {}
    for task, weight in weighted:
        # A weightless task moves nothing; as a rise it would cut a flat stretch.
        if weight > 0:
            end = calendar.business_days_between(handoff, task.baseline_end)
            rises[end] = rises.get(end, 0.0) + weight
    tolerance = _EPSILON * total
    planned = 0.0
    flat_from = -math.inf
    es: float | None = None
    for end in sorted(rises):
        weight = rises[end]
        if earned <= planned + tolerance:
            es = min(max(float(actual_time), flat_from), float(end - 1))
            break
        if earned < planned + weight - tolerance:
            es = end - 1 + (earned - planned) / weight
            break
        planned += weight
        flat_from = float(end)
    if es is None:
        es = max(float(actual_time), flat_from)
    duration = calendar.business_days_between(handoff, baseline_go_live(project))
    return es, float(duration)


def _start_delay(project: ProjectFacts, today: date, calendar: BusinessCalendar) -> int:
    """Business days the start is behind the baseline's first task start."""
    counted = [t for t in project.tasks if t.status != "skipped"]
    if not counted:
        return 0
    planned_start = min(t.baseline_start for t in counted)
    starts = [t.actual_start for t in counted if t.actual_start is not None]
    started = min(starts) if starts else max(today, planned_start)
    return max(0, calendar.business_days_between(planned_start, started))


def predict_go_live(
    project: ProjectFacts,
    *,
    today: date,
    calendar: BusinessCalendar,
    spread: Spread = PRIOR_SPREAD,
) -> Forecast:
    """Forecast the go-live date, its P10..P90 range and the chance of the target.

    Time is counted in business days after handoff and read at the start of
    ``today``. Earned schedule: AT is the business days fully passed; ES is
    when the baseline plan called for the effort-weighted progress earned now;
    SPI(t) = ES / AT (floored at 0.1); the work left takes (planned duration -
    ES) / SPI(t) business days from today, rounded up. The spread multiplies
    that remaining duration for P10/P50/P80/P90 and gives the probability of
    going live on or before the target. Before anything is earned (or while
    AT is 0) the likely date is the baseline go-live shifted by the start
    delay, and the spread applies to the business days from today to it. A
    live project forecasts its actual date with no spread. An unfinished
    project never forecasts a date before today.

    Example: baseline 20 business days, AT = 10, ES = 8, SPI(t) = 0.8; the
    remaining (20 - 8) / 0.8 = 15 days are today and the next 14 business days.
    """
    target = project.target_go_live
    live = go_live_date(project)
    actual_time = _elapsed(project, today, calendar)
    if live is not None:
        probability = None if target is None else float(live <= target)
        return Forecast(
            "finished",
            live,
            live,
            live,
            live,
            live,
            probability,
            None,
            actual_time,
            None,
        )

    def date_after(days: int) -> date:
        # The day on which ``days`` more business days of work, today being
        # the first of them when it is one, are done.
        end = calendar.add_business_days(project.handoff_date, actual_time + days)
        return max(today, end)

    earned = (
        None if actual_time == 0 else _earned_schedule(project, calendar, actual_time)
    )
    es: float | None = None
    spi: float | None = None
    if earned is None:
        method: Literal["not_started", "earned_schedule"] = "not_started"
        delay = _start_delay(project, today, calendar)
        likely = max(
            today, calendar.add_business_days(baseline_go_live(project), delay)
        )
        position = calendar.business_days_between(project.handoff_date, likely)
        remaining = float(max(0, position - actual_time))
    else:
        method = "earned_schedule"
        es, duration = earned
        spi = max(MIN_SPI, es / actual_time)
        remaining = max(0.0, duration - es) / spi
        likely = date_after(_ceil(remaining))

    def at(percentile: Literal[10, 50, 80, 90]) -> date:
        return date_after(_ceil(remaining * spread.multiplier(percentile)))

    p10, p50, p80, p90 = at(10), at(50), at(80), at(90)
    probability = None
    if target is not None:
        if target < today:
            probability = 0.0
        elif remaining == 0:
            probability = 1.0
        else:
            # Business days from today's start through the target, matching
            # how date_after counts the remaining work.
            position = calendar.business_days_between(project.handoff_date, target)
            to_target = position - actual_time
            probability = spread.probability_at_most(to_target / remaining)
    return Forecast(
        method,
        likely,
        min(p10, likely),
        p50,
        p80,
        max(p90, likely),
        probability,
        es,
        actual_time,
        spi,
    )


def schedule_variance(
    project: ProjectFacts,
    *,
    today: date,
    calendar: BusinessCalendar,
    forecast: Forecast | None = None,
) -> int:
    """Business days from the baseline go-live to the forecast one; positive is late.

    A live project compares its actual go-live. Pass ``forecast`` to reuse one
    already computed; otherwise it is made with the prior spread, which does
    not move the likely date.

    Example: baseline Friday 2026-05-29, likely Wednesday 2026-06-03 gives +3.
    """
    if forecast is None:
        forecast = predict_go_live(project, today=today, calendar=calendar)
    return calendar.business_days_between(baseline_go_live(project), forecast.likely)
