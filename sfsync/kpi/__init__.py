"""KPIs, go-live forecast and health of onboarding projects, as pure functions."""

from __future__ import annotations

from sfsync.kpi.cohorts import (
    CohortKey,
    CohortStats,
    Quartiles,
    cohort_benchmarks,
    find_cohort,
    percentile_rank,
)
from sfsync.kpi.durations import (
    Duration,
    TimeToValue,
    go_live_date,
    onboarding_duration,
    time_to_first_value,
)
from sfsync.kpi.facts import (
    WEEKENDS,
    BusinessCalendar,
    EventFacts,
    MilestoneFacts,
    ProjectFacts,
    TaskFacts,
    WeekendCalendar,
)
from sfsync.kpi.forecast import (
    PRIOR_SPREAD,
    Forecast,
    Spread,
    baseline_go_live,
    fit_spread,
    predict_go_live,
    schedule_variance,
)
from sfsync.kpi.health import (
    DEFAULT_HEALTH_RULES,
    FactorResult,
    HealthResult,
    HealthRules,
    evaluate_health,
    load_health_rules,
)
from sfsync.kpi.history import History, build_history
from sfsync.kpi.progress import OverdueTasks, overdue_tasks, percent_complete
from sfsync.kpi.snapshot import KpiSnapshot, compute_kpis

__all__ = [
    "DEFAULT_HEALTH_RULES",
    "PRIOR_SPREAD",
    "WEEKENDS",
    "BusinessCalendar",
    "CohortKey",
    "CohortStats",
    "Duration",
    "EventFacts",
    "FactorResult",
    "Forecast",
    "HealthResult",
    "HealthRules",
    "History",
    "KpiSnapshot",
    "MilestoneFacts",
    "OverdueTasks",
    "ProjectFacts",
    "Quartiles",
    "Spread",
    "TaskFacts",
    "TimeToValue",
    "WeekendCalendar",
    "baseline_go_live",
    "build_history",
    "cohort_benchmarks",
    "compute_kpis",
    "evaluate_health",
    "find_cohort",
    "fit_spread",
    "go_live_date",
    "load_health_rules",
    "onboarding_duration",
    "overdue_tasks",
    "percent_complete",
    "percentile_rank",
    "predict_go_live",
    "schedule_variance",
    "time_to_first_value",
]
