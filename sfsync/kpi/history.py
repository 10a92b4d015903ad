"""What finished projects teach the forecast and the benchmarks, fitted once per run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sfsync.kpi.cohorts import (
    DEFAULT_MIN_COHORT,
    CohortKey,
    CohortStats,
    cohort_benchmarks,
)
from sfsync.kpi.durations import go_live_date
from sfsync.kpi.facts import WEEKENDS, BusinessCalendar, ProjectFacts
from sfsync.kpi.forecast import DEFAULT_MIN_SAMPLES, PRIOR_SPREAD, Spread, fit_spread

__all__ = ["History", "build_history"]


@dataclass(frozen=True, slots=True)
class History:
    """Spreads per (playbook key, playbook version) and cohort benchmarks.

    Build it once with ``build_history`` and pass it to every ``compute_kpis``
    call of a run: fitting is then done once per playbook version, not once
    per project.
    """

    spreads: Mapping[tuple[str, str], Spread] = field(default_factory=dict)
    cohorts: Mapping[CohortKey, CohortStats] = field(default_factory=dict)
    prior: Spread = PRIOR_SPREAD
    min_cohort: int = DEFAULT_MIN_COHORT

    def spread_for(self, playbook_key: str, playbook_version: str) -> Spread:
        """The learned spread of a playbook version, or the prior."""
        return self.spreads.get((playbook_key, playbook_version), self.prior)


def build_history(
    finished_projects: Iterable[ProjectFacts],
    *,
    calendar: BusinessCalendar = WEEKENDS,
    min_samples: int = DEFAULT_MIN_SAMPLES,
    min_cohort: int = DEFAULT_MIN_COHORT,
    prior: Spread = PRIOR_SPREAD,
) -> History:
    """Fit one spread per playbook version and the cohort benchmarks.

    Projects not yet live are ignored, so the whole project list may be passed.
    """
    live = [p for p in finished_projects if go_live_date(p) is not None]
    groups: dict[tuple[str, str], list[ProjectFacts]] = {}
    for project in live:
        key = (project.playbook_key, project.playbook_version)
        groups.setdefault(key, []).append(project)
    spreads = {
        key: fit_spread(group, calendar=calendar, min_samples=min_samples, prior=prior)
        for key, group in groups.items()
    }
    return History(
        spreads=spreads,
        cohorts=cohort_benchmarks(live, calendar=calendar),
        prior=prior,
        min_cohort=min_cohort,
    )
