"""Golden tests: small projects whose KPIs are worked out by hand in each test."""

from __future__ import annotations

import json
from datetime import date

import pytest

from sfsync.kpi import (
    PRIOR_SPREAD,
    WEEKENDS,
    EventFacts,
    MilestoneFacts,
    TaskFacts,
    compute_kpis,
)
from sfsync.kpi.facts import TaskStatus

from .builders import HANDOFF, day, project, task

# Handoff is Monday 2026-03-02; day(n) is the n-th business day after it:
# day(1) Tue 03-03, day(2) Wed 03-04, day(5) Mon 03-09, day(6) Tue 03-10,
# day(8) Thu 03-12, day(10) Mon 03-16, day(12) Wed 03-18, day(14) Fri 03-20.


def four_task_plan(a: TaskStatus, b: TaskStatus) -> tuple[TaskFacts, ...]:
    # A days 1-2 effort 2, B days 3-5 effort 3 (customer), C days 6-8 effort 3,
    # D days 9-10 effort 2; go-live baselined on day 10. Total effort 10.
    return (
        task("A", 1, 2, 2, a),
        task("B", 3, 5, 3, b, audience="customer"),
        task("C", 6, 8, 3),
        task("D", 9, 10, 2),
    )


def test_on_time_project_forecasts_its_baseline_and_is_green() -> None:
    facts = project(
        *four_task_plan("done", "done"),
        go_live=10,
        target=day(14),
        events=(EventFacts(day(5), "progress"),),
    )

    snapshot = compute_kpis(
        facts, today=day(6), calendar=WEEKENDS, history=PRIOR_SPREAD
    )

    # Done effort 2 + 3 of 10 = 50 %.
    assert snapshot.percent_complete == 50.0
    # Today is day 6, read at its start: AT = 5. The plan had earned 5 after
    # day 5 and earns nothing more until day 7, so ES = AT = 5, SPI = 1.
    assert snapshot.actual_time_days == 5
    assert snapshot.earned_schedule_days == 5.0
    assert snapshot.spi == 1.0
    # Remaining 10 - 5 = 5 days: days 6..10, so go-live day 10 = baseline.
    assert snapshot.go_live_likely == day(10) == date(2026, 3, 16)
    assert snapshot.schedule_variance_days == 0
    # Prior spread (median 1, sigma 0.25): P10 ceil(5 x 0.726) = 4 -> day 9,
    # P80 ceil(5 x 1.234) = 7 -> day 12, P90 ceil(5 x 1.378) = 7 -> day 12.
    assert (snapshot.go_live_p10, snapshot.go_live_p50) == (day(9), day(10))
    assert (snapshot.go_live_p80, snapshot.go_live_p90) == (day(12), day(12))
    # Target day 14 leaves 9 days for 5: P(m <= 1.8) = Phi(ln 1.8 / 0.25)
    # = Phi(2.351) = 0.9906.
    assert snapshot.probability_on_target == pytest.approx(0.9906, abs=1e-4)
    assert (snapshot.due_tasks, snapshot.overdue_total) == (2, 0)
    assert snapshot.health == "Green"
    assert snapshot.health_summary == "Green: all 5 health checks pass"


def test_slipping_project_forecasts_late_and_is_amber_with_reasons() -> None:
    facts = project(
        *four_task_plan("done", "in_progress"),
        go_live=10,
        target=day(14),
        events=(EventFacts(day(5), "progress"),),
    )

    snapshot = compute_kpis(
        facts, today=day(6), calendar=WEEKENDS, history=PRIOR_SPREAD
    )

    # Only A is done: 2 of 10 = 20 %.
    assert snapshot.percent_complete == 20.0
    # The plan held at 2 from day 2 to day 4, then rose to 5 over day 5.
    # AT = 5 lies past that flat stretch, so ES = 4 and SPI = 4 / 5 = 0.8.
    assert snapshot.earned_schedule_days == 4.0
    assert snapshot.spi == 0.8
    # Remaining (10 - 4) / 0.8 = 7.5 -> 8 days: days 6..13 -> Thu 03-19.
    assert snapshot.go_live_likely == day(13) == date(2026, 3, 19)
    assert snapshot.schedule_variance_days == 3
    # P80: ceil(7.5 x 1.234) = 10 -> day 15, Mon 03-23, after target day 14.
    assert snapshot.go_live_p80 == day(15)
    # 9 days to the target for 7.5: Phi(ln 1.2 / 0.25) = Phi(0.729) = 0.7671.
    assert snapshot.probability_on_target == pytest.approx(0.7671, abs=1e-4)
    # B (customer) was due day 5, is open on day 6: 1 business day late.
    assert (snapshot.overdue_customer, snapshot.overdue_internal) == (1, 0)
    assert (snapshot.worst_overdue_task_id, snapshot.worst_overdue_days) == ("B", 1)
    assert snapshot.health == "Amber"
    assert snapshot.health_summary == (
        "Amber: 1 of 2 due tasks overdue (50%); "
        "P80 go-live 2026-03-23 after target 2026-03-20"
    )


def test_blocked_project_names_the_blocked_task_and_worst_factor_wins() -> None:
    # A days 1-2 effort 2 done; B days 3-5 effort 3 critical, blocked since
    # day 3; C days 6-8 effort 3; go-live baselined on day 8.
    facts = project(
        task("A", 1, 2, 2, "done"),
        task("B", 3, 5, 3, "blocked", critical=True, blocked_since=day(3)),
        task("C", 6, 8, 3),
        go_live=8,
        events=(
            EventFacts(day(2), "progress"),
            EventFacts(day(7), "sentiment", value=2),
        ),
    )

    snapshot = compute_kpis(
        facts, today=day(8), calendar=WEEKENDS, history=PRIOR_SPREAD
    )

    # 2 of 8 = 25 %.
    assert snapshot.percent_complete == 25.0
    # AT = 7; earned 2 is flat from day 2 to day 4, so ES = 4, SPI = 4/7.
    # Remaining (8 - 4) / (4/7) = 7 days: days 8..14 -> Fri 03-20.
    assert snapshot.earned_schedule_days == 4.0
    assert snapshot.go_live_likely == day(14)
    assert snapshot.schedule_variance_days == 6
    factors = {f.name: f for f in snapshot.health_factors}
    # Blocked day 3 -> day 8: 5 business days, more than 3 -> Amber.
    assert factors["blocked_critical_task"].status == "Amber"
    assert factors["blocked_critical_task"].value == 5
    # Last progress day 2 -> day 8: 6 business days, more than 5 -> Amber.
    assert factors["stale_progress"].value == 6
    assert factors["customer_sentiment"].status == "Red"
    assert snapshot.health == "Red"
    assert snapshot.health_summary.startswith(
        "Red: customer sentiment 2/5 (2026-03-11); 1 of 2 due tasks overdue (50%)"
    )


def test_finished_project_reports_durations_and_its_actual_go_live() -> None:
    first_value = MilestoneFacts("M-value", "first_value", day(14), day(14), day(19))
    facts = project(
        task("A", 1, 2, 2, "done"),
        task("B", 3, 5, 3, "done"),
        task("C", 6, 8, 3, "done"),
        go_live=8,
        live_on=day(12),
        target=day(9),
        close_date=date(2026, 2, 20),
        milestones=(first_value,),
    )

    snapshot = compute_kpis(
        facts, today=day(25), calendar=WEEKENDS, history=PRIOR_SPREAD
    )

    assert snapshot.percent_complete == 100.0
    # Handoff Mon 03-02 -> live Wed 03-18: 4 + 5 + 3 = 12 business days, 16 days.
    assert (snapshot.onboarding_business_days, snapshot.onboarding_calendar_days) == (
        12,
        16,
    )
    # Handoff -> first value Fri 03-27: 4 + 5 + 5 + 5 = 19 business, 25 days.
    assert snapshot.time_to_value_business_days == 19
    assert snapshot.time_to_value_calendar_days == 25
    # Close Fri 02-20 -> 03-27: five full weeks = 25 business, 35 days.
    assert snapshot.close_to_value_business_days == 25
    assert snapshot.close_to_value_calendar_days == 35
    # Finished: every forecast date is the actual one; baseline day 8 -> day 12.
    assert snapshot.forecast_method == "finished"
    assert snapshot.go_live_p10 == snapshot.go_live_p90 == day(12)
    assert snapshot.schedule_variance_days == 4
    assert snapshot.probability_on_target == 0.0
    assert snapshot.health == "Red"
    assert "went live 2026-03-18 after target 2026-03-13" in snapshot.health_summary


def test_not_started_project_shifts_the_baseline_by_its_start_delay() -> None:
    facts = project(*four_task_plan("not_started", "not_started"), go_live=10)

    snapshot = compute_kpis(
        facts, today=day(3), calendar=WEEKENDS, history=PRIOR_SPREAD
    )

    # Nothing earned: A was to start day 1 and has not by day 3, a delay of
    # 2 business days, so go-live moves from day 10 to day 12 (Wed 03-18).
    assert snapshot.forecast_method == "not_started"
    assert snapshot.go_live_likely == day(12)
    assert snapshot.schedule_variance_days == 2
    assert snapshot.percent_complete == 0.0
    # A ended day 2, open on day 3: one internal task 1 business day late.
    assert (snapshot.overdue_internal, snapshot.worst_overdue_days) == (1, 1)
    # The P10..P90 range spans the 10 days left (days 3..12): P10 is
    # ceil(10 x 0.726) = 8 days -> day 10, P90 ceil(10 x 1.378) = 14 -> day 16.
    assert snapshot.go_live_p10 == day(10)
    assert snapshot.go_live_p90 == day(16)


def test_project_on_its_handoff_day_forecasts_the_baseline() -> None:
    facts = project(*four_task_plan("not_started", "not_started"), go_live=10)

    snapshot = compute_kpis(
        facts, today=HANDOFF, calendar=WEEKENDS, history=PRIOR_SPREAD
    )

    assert snapshot.forecast_method == "not_started"
    assert snapshot.go_live_likely == day(10)
    assert snapshot.actual_time_days == 0


def test_snapshot_serialises_to_json() -> None:
    facts = project(*four_task_plan("done", "in_progress"), go_live=10, target=day(14))
    snapshot = compute_kpis(
        facts, today=day(6), calendar=WEEKENDS, history=PRIOR_SPREAD
    )

    text = json.dumps(snapshot.to_dict())

    loaded = json.loads(text)
    assert loaded["go_live_likely"] == "2026-03-19"
    assert loaded["health_factors"][0]["name"] == "overdue_share"
