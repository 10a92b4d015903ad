"""One project's KPIs for one day, computed in one call: the KPI snapshot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Literal

from sfsync.kpi.cohorts import find_cohort, percentile_rank
from sfsync.kpi.durations import onboarding_duration, time_to_first_value
from sfsync.kpi.facts import BusinessCalendar, ProjectFacts
from sfsync.kpi.forecast import (
    Spread,
    baseline_go_live,
    predict_go_live,
    schedule_variance,
)
from sfsync.kpi.health import (
    DEFAULT_HEALTH_RULES,
    FactorResult,
    HealthRules,
    HealthStatus,
    evaluate_health,
)
from sfsync.kpi.history import History, build_history
from sfsync.kpi.progress import overdue_tasks, percent_complete

__all__ = ["KpiSnapshot", "compute_kpis"]


@dataclass(frozen=True, slots=True)
class KpiSnapshot:
    """Every KPI of one project on one day, one field each.

    Durations and day counts are business days unless named ``calendar``.
    Fields are None where a KPI does not apply yet (not live, no target, no
    cohort). ``to_dict`` gives a JSON-ready mapping.
    """

    project_id: str
    playbook_key: str
    playbook_version: str
    as_of: date
    percent_complete: float
    overdue_internal: int
    overdue_customer: int
    overdue_total: int
    due_tasks: int
    worst_overdue_days: int
    worst_overdue_task_id: str | None
    onboarding_business_days: int | None
    onboarding_calendar_days: int | None
    time_to_value_business_days: int | None
    time_to_value_calendar_days: int | None
    close_to_value_business_days: int | None
    close_to_value_calendar_days: int | None
    target_go_live: date | None
    baseline_go_live: date
    forecast_method: Literal["finished", "not_started", "earned_schedule"]
    go_live_likely: date
    go_live_p10: date
    go_live_p50: date
    go_live_p80: date
    go_live_p90: date
    probability_on_target: float | None
    schedule_variance_days: int
    spi: float | None
    earned_schedule_days: float | None
    actual_time_days: int
    spread_source: Literal["learned", "prior"]
    spread_sample_size: int
    cohort: str | None
    cohort_size: int | None
    cohort_duration_q1: float | None
    cohort_duration_median: float | None
    cohort_duration_q3: float | None
    cohort_time_to_value_q1: float | None
    cohort_time_to_value_median: float | None
    cohort_time_to_value_q3: float | None
    duration_percentile: float | None
    duration_percentile_basis: Literal["actual", "forecast"] | None
    time_to_value_percentile: float | None
    health: HealthStatus
    health_summary: str
    health_factors: tuple[FactorResult, ...]

    def to_dict(self) -> dict[str, Any]:
        """The snapshot as JSON-ready values: ISO dates, factors as mappings."""
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, date):
                value = value.isoformat()
            elif item.name == "health_factors":
                value = [
                    {
                        "name": f.name,
                        "status": f.status,
                        "value": f.value,
                        "reason": f.reason,
                    }
                    for f in value
                ]
            out[item.name] = value
        return out


def compute_kpis(
    facts: ProjectFacts,
    *,
    today: date,
    calendar: BusinessCalendar,
    history: History | Spread | Sequence[ProjectFacts],
    health_rules: HealthRules = DEFAULT_HEALTH_RULES,
) -> KpiSnapshot:
    """Compute every KPI, the go-live forecast and health of one project.

    ``history`` is best a ``History`` built once per run with
    ``build_history``; a ``Spread`` gives the forecast its spread but no
    cohort benchmarks; a sequence of finished projects is fitted on the spot,
    which is fine for one project and wasteful for many.
    """
    if isinstance(history, Spread):
        spread = history
        cohorts = None
    else:
        if not isinstance(history, History):
            history = build_history(history, calendar=calendar)
        spread = history.spread_for(facts.playbook_key, facts.playbook_version)
        cohorts = find_cohort(facts, history.cohorts, min_size=history.min_cohort)

    overdue = overdue_tasks(facts, today=today, calendar=calendar)
    onboarding = onboarding_duration(facts, calendar=calendar)
    ttv = time_to_first_value(facts, calendar=calendar)
    forecast = predict_go_live(facts, today=today, calendar=calendar, spread=spread)
    variance = schedule_variance(
        facts, today=today, calendar=calendar, forecast=forecast
    )
    health = evaluate_health(
        facts,
        today=today,
        calendar=calendar,
        forecast=forecast,
        overdue=overdue,
        rules=health_rules,
    )

    duration_rank = ttv_rank = None
    basis: Literal["actual", "forecast"] | None = None
    if cohorts is not None:
        if onboarding is not None:
            duration_rank = percentile_rank(onboarding.business_days, cohorts.duration)
            basis = "actual"
        else:
            forecast_days = calendar.business_days_between(
                facts.handoff_date, forecast.likely
            )
            duration_rank = percentile_rank(forecast_days, cohorts.duration)
            basis = "forecast"
        if ttv is not None and cohorts.time_to_value is not None:
            ttv_rank = percentile_rank(
                ttv.from_handoff.business_days, cohorts.time_to_value
            )
    cohort_ttv = cohorts.time_to_value if cohorts is not None else None
    from_close = ttv.from_close if ttv is not None else None

    return KpiSnapshot(
        project_id=facts.project_id,
        playbook_key=facts.playbook_key,
        playbook_version=facts.playbook_version,
        as_of=today,
        percent_complete=round(percent_complete(facts), 2),
        overdue_internal=overdue.internal,
        overdue_customer=overdue.customer,
        overdue_total=overdue.total,
        due_tasks=overdue.due,
        worst_overdue_days=overdue.worst_days_late,
        worst_overdue_task_id=overdue.worst_task_id,
        onboarding_business_days=onboarding.business_days if onboarding else None,
        onboarding_calendar_days=onboarding.calendar_days if onboarding else None,
        time_to_value_business_days=ttv.from_handoff.business_days if ttv else None,
        time_to_value_calendar_days=ttv.from_handoff.calendar_days if ttv else None,
        close_to_value_business_days=from_close.business_days if from_close else None,
        close_to_value_calendar_days=from_close.calendar_days if from_close else None,
        target_go_live=facts.target_go_live,
        baseline_go_live=baseline_go_live(facts),
        forecast_method=forecast.method,
        go_live_likely=forecast.likely,
        go_live_p10=forecast.p10,
        go_live_p50=forecast.p50,
        go_live_p80=forecast.p80,
        go_live_p90=forecast.p90,
        probability_on_target=(
            None
            if forecast.probability_on_target is None
            else round(forecast.probability_on_target, 4)
        ),
        schedule_variance_days=variance,
        spi=None if forecast.spi is None else round(forecast.spi, 4),
        earned_schedule_days=forecast.earned_schedule,
        actual_time_days=forecast.actual_time,
        spread_source=spread.source,
        spread_sample_size=spread.sample_size,
        cohort=str(cohorts.key) if cohorts else None,
        cohort_size=cohorts.size if cohorts else None,
        cohort_duration_q1=cohorts.duration.q1 if cohorts else None,
        cohort_duration_median=cohorts.duration.median if cohorts else None,
        cohort_duration_q3=cohorts.duration.q3 if cohorts else None,
        cohort_time_to_value_q1=cohort_ttv.q1 if cohort_ttv else None,
        cohort_time_to_value_median=cohort_ttv.median if cohort_ttv else None,
        cohort_time_to_value_q3=cohort_ttv.q3 if cohort_ttv else None,
        duration_percentile=duration_rank,
        duration_percentile_basis=basis,
        time_to_value_percentile=ttv_rank,
        health=health.status,
        health_summary=health.summary,
        health_factors=health.factors,
    )
