"""Spreads learned from finished projects, and cohort benchmarks with ranks."""

from __future__ import annotations

import math

import pytest

from sfsync.kpi import (
    PRIOR_SPREAD,
    WEEKENDS,
    ProjectFacts,
    build_history,
    compute_kpis,
    fit_spread,
)

from .builders import day, project, task


def finished(
    live_day: int, *, version: str = "1", segment: str = "smb"
) -> ProjectFacts:
    # Baseline go-live day 10; went live on `live_day`.
    return project(
        task("A", 1, 10, 1, "done"),
        go_live=10,
        live_on=day(live_day),
        playbook_version=version,
        segment=segment,
    )


def test_fit_spread_uses_the_prior_below_the_minimum_sample() -> None:
    projects = [finished(12) for _ in range(7)]

    spread = fit_spread(projects, calendar=WEEKENDS, min_samples=8)

    assert spread == PRIOR_SPREAD


def test_fit_spread_learns_the_log_ratio_of_actual_to_baseline_duration() -> None:
    # Four projects at ratio 1.0 (10/10) and four at 1.5 (15/10).
    projects = [finished(10) for _ in range(4)] + [finished(15) for _ in range(4)]

    spread = fit_spread(projects, calendar=WEEKENDS, min_samples=8)

    # Mean of logs = ln(1.5) / 2; sample sd = (ln 1.5 / 2) * sqrt(8 / 7).
    half = math.log(1.5) / 2
    assert spread.source == "learned"
    assert spread.sample_size == 8
    assert spread.mu == pytest.approx(half)
    assert spread.sigma == pytest.approx(half * math.sqrt(8 / 7))


def test_history_fits_one_spread_per_playbook_version() -> None:
    projects = [finished(12, version="1") for _ in range(8)]
    projects += [finished(12, version="2") for _ in range(3)]

    history = build_history(projects, calendar=WEEKENDS)

    assert history.spread_for("standard", "1").source == "learned"
    assert history.spread_for("standard", "2") is PRIOR_SPREAD


def test_cohort_benchmarks_give_quartiles_and_a_percentile_rank() -> None:
    # Durations 10, 12, 14, 16, 20: Q1 12, median 14, Q3 16.
    history = build_history(
        [finished(n) for n in (10, 12, 14, 16, 20)], calendar=WEEKENDS
    )
    facts = finished(14)

    snapshot = compute_kpis(facts, today=day(30), calendar=WEEKENDS, history=history)

    assert snapshot.cohort == "standard/smb/2026Q1"
    assert (
        snapshot.cohort_duration_q1,
        snapshot.cohort_duration_median,
        snapshot.cohort_duration_q3,
    ) == (12, 14, 16)
    # Two of five faster, one tie counted half: (2 + 0.5) / 5 = 50.
    assert snapshot.duration_percentile == 50.0
    assert snapshot.duration_percentile_basis == "actual"


def test_small_cohorts_fall_back_to_the_whole_playbook() -> None:
    projects = [finished(12, segment="smb") for _ in range(3)]
    projects += [finished(14, segment="enterprise") for _ in range(3)]
    history = build_history(projects, calendar=WEEKENDS)

    snapshot = compute_kpis(
        finished(13, segment="smb"), today=day(30), calendar=WEEKENDS, history=history
    )

    assert snapshot.cohort == "standard/*/*"
    assert snapshot.cohort_size == 6


def test_passing_finished_projects_matches_passing_a_built_history() -> None:
    projects = [finished(n) for n in (10, 11, 12, 13, 14, 15, 16, 18)]
    facts = project(task("A", 1, 10, 1, "in_progress"), go_live=10, target=day(12))

    from_list = compute_kpis(facts, today=day(3), calendar=WEEKENDS, history=projects)
    from_history = compute_kpis(
        facts,
        today=day(3),
        calendar=WEEKENDS,
        history=build_history(projects, calendar=WEEKENDS),
    )

    assert from_list == from_history
    assert from_list.spread_source == "learned"
