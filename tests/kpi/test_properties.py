"""Property tests: invariants of percent complete, the forecast and the calendar."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sfsync.kpi import (
    WEEKENDS,
    Spread,
    TaskFacts,
    percent_complete,
    predict_go_live,
)
from sfsync.kpi.facts import TaskStatus

from .builders import HANDOFF, day, project, task

STATUSES: tuple[TaskStatus, ...] = (
    "not_started",
    "in_progress",
    "blocked",
    "done",
    "skipped",
)

efforts = st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 8.0, 13.0])


@st.composite
def plans(draw: st.DrawFn) -> list[tuple[int, int, float]]:
    """Up to eight tasks as (first day, last day, effort), overlapping freely."""
    count = draw(st.integers(1, 8))
    out = []
    for _ in range(count):
        first = draw(st.integers(1, 30))
        length = draw(st.integers(0, 10))
        out.append((first, first + length, draw(efforts)))
    return out


@given(plans(), st.data())
def test_percent_complete_stays_between_0_and_100_and_never_falls_on_finish(
    plan: list[tuple[int, int, float]], data: st.DataObject
) -> None:
    statuses = [data.draw(st.sampled_from(STATUSES)) for _ in plan]
    tasks = [
        task(f"T{i}", a, b, e, s)
        for i, ((a, b, e), s) in enumerate(zip(plan, statuses, strict=True))
    ]
    finished = data.draw(st.integers(0, len(tasks) - 1))
    before = project(*tasks, go_live=40)
    tasks[finished] = dataclasses.replace(tasks[finished], status="done")

    after = project(*tasks, go_live=40)

    assert 0.0 <= percent_complete(before) <= 100.0
    assert 0.0 <= percent_complete(after) <= 100.0
    assert percent_complete(after) >= percent_complete(before) - 1e-9


def _on_plan(spec: tuple[int, int, float], today: date) -> TaskFacts:
    first, last, effort = spec
    if day(last) < today:
        return task("x", first, last, effort, "done")
    if day(first) <= today:
        return task("x", first, last, effort, "in_progress")
    return task("x", first, last, effort)


@given(plans(), st.integers(0, 60), st.integers(0, 6))
def test_a_project_exactly_on_plan_forecasts_its_baseline_go_live(
    plan: list[tuple[int, int, float]], offset: int, extra_days: int
) -> None:
    go_live = max(last for _, last, _ in plan) + extra_days
    # Any calendar day up to the go-live, weekends included.
    today = min(HANDOFF + timedelta(days=offset), day(go_live))
    tasks = [
        dataclasses.replace(_on_plan(spec, today), id=f"T{i}")
        for i, spec in enumerate(plan)
    ]
    facts = project(*tasks, go_live=go_live)

    forecast = predict_go_live(facts, today=today, calendar=WEEKENDS)

    assert forecast.likely == day(go_live)


spreads = st.builds(
    Spread,
    mu=st.floats(-0.7, 0.7),
    sigma=st.floats(0.0, 1.2),
    sample_size=st.just(10),
    source=st.just("learned"),
)


@given(plans(), st.data(), st.integers(0, 80), spreads, st.integers(-5, 60))
def test_forecast_percentiles_are_ordered_and_contain_the_likely_date(
    plan: list[tuple[int, int, float]],
    data: st.DataObject,
    offset: int,
    spread: Spread,
    target: int,
) -> None:
    tasks = [
        task(f"T{i}", a, b, e, data.draw(st.sampled_from(STATUSES)))
        for i, (a, b, e) in enumerate(plan)
    ]
    facts = project(*tasks, go_live=max(b for _, b, _ in plan), target=day(target))
    today = HANDOFF + timedelta(days=offset)

    forecast = predict_go_live(facts, today=today, calendar=WEEKENDS, spread=spread)

    assert forecast.p10 <= forecast.likely <= forecast.p90
    assert forecast.p10 <= forecast.p50 <= forecast.p80 <= forecast.p90
    assert forecast.p10 >= today
    assert forecast.probability_on_target is not None
    assert 0.0 <= forecast.probability_on_target <= 1.0


@given(st.dates(date(2000, 1, 1), date(2100, 1, 1)), st.integers(-400, 400))
def test_weekend_calendar_counts_back_the_days_it_adds(start: date, n: int) -> None:
    moved = WEEKENDS.add_business_days(start, n)

    counted = WEEKENDS.business_days_between(start, moved)

    assert WEEKENDS.is_business_day(moved) or n == 0
    if n >= 0 or WEEKENDS.is_business_day(start):
        assert counted == n
    else:
        # From a weekend day the count back starts at the Friday before.
        assert counted == n + 1


@given(st.dates(date(2020, 1, 1), date(2030, 1, 1)), st.integers(0, 60))
def test_weekend_calendar_agrees_with_counting_day_by_day(
    start: date, span: int
) -> None:
    end = start + timedelta(days=span)

    counted = WEEKENDS.business_days_between(start, end)

    expected = sum(
        1 for k in range(1, span + 1) if (start + timedelta(days=k)).weekday() < 5
    )
    assert counted == expected
