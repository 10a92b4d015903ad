"""Cohort benchmarks: how long finished onboardings took, by playbook and segment."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sfsync.kpi.durations import onboarding_duration, time_to_first_value
from sfsync.kpi.facts import BusinessCalendar, ProjectFacts

__all__ = [
    "ANY",
    "DEFAULT_MIN_COHORT",
    "CohortKey",
    "CohortStats",
    "Quartiles",
    "cohort_benchmarks",
    "find_cohort",
    "percentile_rank",
    "quarter_of",
]

# Marks a cohort that spans every segment or every quarter.
ANY = "*"

# A median of fewer projects moves too much with each new one to be a benchmark.
DEFAULT_MIN_COHORT = 5


@dataclass(frozen=True, slots=True, order=True)
class CohortKey:
    """Playbook, segment and handoff quarter (``"2026Q1"``); ``ANY`` spans them all.

    A project without a segment falls in segment ``"none"``.
    """

    playbook_key: str
    segment: str
    quarter: str

    def __str__(self) -> str:
        return f"{self.playbook_key}/{self.segment}/{self.quarter}"


@dataclass(frozen=True, slots=True)
class Quartiles:
    """Median and quartiles of a sample, plus its sorted values for ranking."""

    q1: float
    median: float
    q3: float
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class CohortStats:
    """Benchmarks of one cohort, in business days.

    ``time_to_value`` counts only the projects with a first value recorded;
    it is None when none has.
    """

    key: CohortKey
    size: int
    duration: Quartiles
    time_to_value: Quartiles | None


def quarter_of(d: date) -> str:
    """Calendar quarter of a date, as ``"2026Q3"``."""
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def _quantile(ordered: Sequence[float], q: float) -> float:
    # Linear interpolation between closest ranks: the median of an even
    # sample is the mean of the middle two, and a sample of one is its value.
    position = (len(ordered) - 1) * q
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def _quartiles(values: Iterable[float]) -> Quartiles | None:
    ordered = tuple(sorted(values))
    if not ordered:
        return None
    return Quartiles(
        q1=_quantile(ordered, 0.25),
        median=_quantile(ordered, 0.5),
        q3=_quantile(ordered, 0.75),
        values=ordered,
    )


def percentile_rank(value: float, quartiles: Quartiles) -> float:
    """Share of the cohort faster than ``value``, ties counted half, from 0 to 100.

    Low is good: 10 means nine in ten finished projects took longer.
    """
    values = quartiles.values
    below = bisect_left(values, value)
    equal = bisect_right(values, value) - below
    return 100.0 * (below + 0.5 * equal) / len(values)


def _keys(project: ProjectFacts) -> tuple[CohortKey, CohortKey, CohortKey]:
    segment = project.segment or "none"
    quarter = quarter_of(project.handoff_date)
    key = project.playbook_key
    return (
        CohortKey(key, segment, quarter),
        CohortKey(key, segment, ANY),
        CohortKey(key, ANY, ANY),
    )


def cohort_benchmarks(
    finished_projects: Iterable[ProjectFacts], *, calendar: BusinessCalendar
) -> dict[CohortKey, CohortStats]:
    """Median and quartiles of onboarding duration and time to value per cohort.

    Every live project counts in three cohorts: its playbook, segment and
    handoff quarter; its playbook and segment over all quarters; its playbook
    over everything. Projects not yet live are left out.

    Example: durations 20, 25, 30, 45 business days give Q1 23.75, median
    27.5, Q3 33.75.
    """
    durations: dict[CohortKey, list[float]] = {}
    values: dict[CohortKey, list[float]] = {}
    for project in finished_projects:
        duration = onboarding_duration(project, calendar=calendar)
        if duration is None:
            continue
        ttv = time_to_first_value(project, calendar=calendar)
        for key in _keys(project):
            durations.setdefault(key, []).append(duration.business_days)
            if ttv is not None:
                values.setdefault(key, []).append(ttv.from_handoff.business_days)
    stats: dict[CohortKey, CohortStats] = {}
    for key, sample in durations.items():
        quartiles = _quartiles(sample)
        assert quartiles is not None  # a key exists only once a value was added
        stats[key] = CohortStats(
            key=key,
            size=len(sample),
            duration=quartiles,
            time_to_value=_quartiles(values.get(key, ())),
        )
    return stats


def find_cohort(
    project: ProjectFacts,
    cohorts: Mapping[CohortKey, CohortStats],
    *,
    min_size: int = DEFAULT_MIN_COHORT,
) -> CohortStats | None:
    """The most specific cohort of ``project`` with at least ``min_size`` projects."""
    for key in _keys(project):
        stats = cohorts.get(key)
        if stats is not None and stats.size >= min_size:
            return stats
    return None
