"""Health: each factor changes colour, with its reason, as inputs cross thresholds."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfsync.errors import ConfigError
from sfsync.kpi import (
    DEFAULT_HEALTH_RULES,
    PRIOR_SPREAD,
    WEEKENDS,
    EventFacts,
    ProjectFacts,
    compute_kpis,
    load_health_rules,
)
from sfsync.kpi.health import SUMMARY_LIMIT

from .builders import day, project, task

CONFIG = Path(__file__).resolve().parents[2] / "config" / "health.yaml"


def factor(facts: ProjectFacts, name: str, today_day: int) -> tuple[str, str]:
    snapshot = compute_kpis(
        facts, today=day(today_day), calendar=WEEKENDS, history=PRIOR_SPREAD
    )
    found = next(f for f in snapshot.health_factors if f.name == name)
    return found.status, found.reason


def overdue_of(done: int, open_: int) -> ProjectFacts:
    # Ten tasks all due by day 20; `open_` of them unfinished.
    tasks = [task(f"D{i}", 1, 2, 1, "done") for i in range(done)]
    tasks += [task(f"O{i}", 1, 2, 1, "in_progress") for i in range(open_)]
    return project(*tasks, task("Z", 30, 40, 1), go_live=40)


@pytest.mark.parametrize(
    ("done", "open_", "status", "reason"),
    [
        pytest.param(
            9, 1, "Green", "1 of 10 due tasks overdue (10%)", id="10pct-green"
        ),
        pytest.param(
            8, 2, "Amber", "2 of 10 due tasks overdue (20%)", id="20pct-amber"
        ),
        pytest.param(
            5, 5, "Amber", "5 of 10 due tasks overdue (50%)", id="50pct-amber"
        ),
        pytest.param(4, 6, "Red", "6 of 10 due tasks overdue (60%)", id="60pct-red"),
    ],
)
def test_overdue_share_turns_amber_at_20_and_red_at_60_percent(
    done: int, open_: int, status: str, reason: str
) -> None:
    facts = overdue_of(done, open_)

    result = factor(facts, "overdue_share", 20)

    assert result == (status, reason)


@pytest.mark.parametrize(
    ("last_progress", "status", "reason"),
    [
        pytest.param(
            15, "Green", "last progress 5 business days ago (2026-03-23)", id="5d-green"
        ),
        pytest.param(
            14, "Amber", "last progress 6 business days ago (2026-03-20)", id="6d-amber"
        ),
        pytest.param(
            10,
            "Amber",
            "last progress 10 business days ago (2026-03-16)",
            id="10d-amber",
        ),
        pytest.param(
            9, "Red", "last progress 11 business days ago (2026-03-13)", id="11d-red"
        ),
    ],
)
def test_stale_progress_turns_amber_after_5_and_red_after_10_business_days(
    last_progress: int, status: str, reason: str
) -> None:
    facts = project(
        task("A", 1, 30, 1, "in_progress"),
        go_live=30,
        events=(EventFacts(day(last_progress), "progress"),),
    )

    result = factor(facts, "stale_progress", 20)

    assert result == (status, reason)


def test_stale_progress_counts_from_handoff_when_nothing_was_recorded() -> None:
    facts = project(task("A", 1, 30, 1, "in_progress"), go_live=30)

    result = factor(facts, "stale_progress", 12)

    assert result == ("Red", "no progress recorded since handoff 12 business days ago")


@pytest.mark.parametrize(
    ("target", "status", "reason"),
    [
        # Not started on day 0: 10 days left; P50 day 10, P80 ceil(12.34) =
        # 13 -> day 13, P90 ceil(13.78) = 14 -> day 14 (Thu 03-19).
        pytest.param(
            13,
            "Green",
            "P80 go-live 2026-03-19 on or before target 2026-03-19",
            id="p80-on-target-green",
        ),
        pytest.param(
            12,
            "Amber",
            "P80 go-live 2026-03-19 after target 2026-03-18",
            id="p80-late-amber",
        ),
        pytest.param(
            10,
            "Amber",
            "P80 go-live 2026-03-19 after target 2026-03-16",
            id="p50-on-target-amber",
        ),
        pytest.param(
            9,
            "Red",
            "P50 go-live 2026-03-16 after target 2026-03-13",
            id="p50-late-red",
        ),
    ],
)
def test_forecast_factor_is_amber_when_p80_and_red_when_p50_is_after_target(
    target: int, status: str, reason: str
) -> None:
    facts = project(task("A", 1, 10, 1), go_live=10, target=day(target))

    result = factor(facts, "forecast_vs_target", 0)

    assert result == (status, reason)


@pytest.mark.parametrize(
    ("blocked_days", "status"),
    [
        pytest.param(3, "Green", id="3d-green"),
        pytest.param(4, "Amber", id="4d-amber"),
        pytest.param(7, "Amber", id="7d-amber"),
        pytest.param(8, "Red", id="8d-red"),
    ],
)
def test_blocked_critical_task_turns_amber_after_3_and_red_after_7_days(
    blocked_days: int, status: str
) -> None:
    blocked = task(
        "K", 1, 30, 1, "blocked", critical=True, blocked_since=day(20 - blocked_days)
    )
    facts = project(blocked, go_live=30)

    result = factor(facts, "blocked_critical_task", 20)

    assert result == (
        status,
        f"critical task K blocked for {blocked_days} business days",
    )


def test_blocked_task_off_the_critical_path_does_not_count() -> None:
    facts = project(task("K", 1, 30, 1, "blocked", blocked_since=day(1)), go_live=30)

    result = factor(facts, "blocked_critical_task", 20)

    assert result == ("Green", "no critical task blocked")


@pytest.mark.parametrize(
    ("sentiment", "status"),
    [
        pytest.param(5, "Green", id="5-green"),
        pytest.param(4, "Green", id="4-green"),
        pytest.param(3, "Amber", id="3-amber"),
        pytest.param(2, "Red", id="2-red"),
        pytest.param(1, "Red", id="1-red"),
    ],
)
def test_latest_customer_sentiment_sets_the_colour(sentiment: int, status: str) -> None:
    facts = project(
        task("A", 1, 30, 1),
        go_live=30,
        events=(
            EventFacts(day(2), "sentiment", value=1),
            EventFacts(day(5), "sentiment", value=sentiment),
        ),
    )

    result = factor(facts, "customer_sentiment", 6)

    assert result == (status, f"customer sentiment {sentiment}/5 (2026-03-09)")


def test_summary_is_cut_to_fit_a_salesforce_text_field() -> None:
    tasks = [
        task(
            f"a-rather-long-task-identifier-{i}",
            1,
            2,
            1,
            "blocked",
            critical=True,
            blocked_since=day(1),
        )
        for i in range(5)
    ]
    facts = project(
        *tasks,
        go_live=3,
        target=day(2),
        events=(EventFacts(day(1), "sentiment", value=1),),
    )

    snapshot = compute_kpis(
        facts, today=day(30), calendar=WEEKENDS, history=PRIOR_SPREAD
    )

    assert snapshot.health == "Red"
    assert len(snapshot.health_summary) <= SUMMARY_LIMIT


def test_shipped_health_rules_file_matches_the_built_in_defaults() -> None:
    rules = load_health_rules(CONFIG)

    assert rules == DEFAULT_HEALTH_RULES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "factors:\n  overdue_share:\n    amber: 0.2\n",
            "factors.overdue_share.amber",
            id="unknown-key",
        ),
        pytest.param(
            "factors:\n  stale_progress:\n    amber_after: -1\n",
            "factors.stale_progress.amber_after",
            id="negative-days",
        ),
        pytest.param(
            "factors:\n  overdue_share:\n    amber_from: 0.7\n",
            "factors.overdue_share",
            id="amber-above-red",
        ),
        pytest.param(
            "factors:\n  forecast_vs_target:\n    red_when_after_target: p95\n",
            "factors.forecast_vs_target.red_when_after_target",
            id="unknown-percentile",
        ),
        pytest.param("factors: [1, 2]\n", "factors", id="not-a-mapping"),
        pytest.param("factors: {\n", "YAML syntax error", id="broken-yaml"),
    ],
)
def test_bad_health_rules_raise_config_error_naming_file_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "health.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_health_rules(path)

    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_a_disabled_factor_is_left_out(tmp_path: Path) -> None:
    path = tmp_path / "health.yaml"
    path.write_text(
        "factors:\n  customer_sentiment:\n    enabled: false\n", encoding="utf-8"
    )
    rules = load_health_rules(path)
    facts = project(
        task("A", 1, 30, 1),
        go_live=30,
        events=(EventFacts(day(1), "sentiment", value=1),),
    )

    snapshot = compute_kpis(
        facts, today=day(2), calendar=WEEKENDS, history=PRIOR_SPREAD, health_rules=rules
    )

    assert "customer_sentiment" not in {f.name for f in snapshot.health_factors}
    assert snapshot.health == "Green"
