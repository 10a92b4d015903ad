"""The KPI step stores one snapshot per project per day, learning from finished ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from sfsync.app import App
from sfsync.kpi_job import compute_snapshots, portfolio, run_kpis, stored_snapshot
from sfsync.settings import load_settings
from sfsync.store.db import Store
from sfsync.store.models import KpiSnapshot, ProjectMilestone, SyncRun

from .seeding import add_event, finish, make_projects, set_task, task_keys

MONDAY = date(2026, 3, 16)
PULLED = datetime(2026, 3, 15, 22, 0, tzinfo=UTC)


def snapshots(store: Store) -> list[KpiSnapshot]:
    with store.session() as session:
        query = select(KpiSnapshot).order_by(KpiSnapshot.day, KpiSnapshot.project_id)  # type: ignore[arg-type]
        return list(session.exec(query))


def test_each_project_gets_one_snapshot_a_day_and_a_rerun_replaces_it(
    store: Store,
) -> None:
    ids = make_projects(store, 3, pulled_at=PULLED)
    compute_snapshots(store, today=MONDAY, now=datetime(2026, 3, 16, 6, tzinfo=UTC))
    set_task(
        store,
        ids[0],
        task_keys(store, ids[0])[0],
        status="done",
        actual_start=date(2026, 3, 2),
        actual_end=date(2026, 3, 2),
    )

    report = compute_snapshots(
        store, today=MONDAY, now=datetime(2026, 3, 16, 7, tzinfo=UTC)
    )

    rows = snapshots(store)
    assert report.computed == 3
    assert [(r.project_id, r.day) for r in rows] == [(i, MONDAY) for i in ids]
    assert {r.computed_at for r in rows} == {datetime(2026, 3, 16, 7, tzinfo=UTC)}
    assert rows[0].data["percent_complete"] > 0
    assert rows[0].data_as_of == PULLED


def test_earlier_days_are_kept_as_history(store: Store) -> None:
    (project_id,) = make_projects(store, 1)
    days = [MONDAY + timedelta(days=n) for n in range(3)]

    for day in days:
        compute_snapshots(store, today=day)

    assert [(r.project_id, r.day) for r in snapshots(store)] == [
        (project_id, day) for day in days
    ]
    latest = stored_snapshot(store, project_id)
    assert latest is not None
    assert latest.day == days[-1]


def test_eight_finished_projects_of_a_version_teach_the_forecast_spread(
    store: Store,
) -> None:
    finished = make_projects(store, 8, close=date(2025, 9, 1))
    for n, project_id in enumerate(finished):
        finish(store, project_id, slip=n % 4)
    (active,) = make_projects(store, 1, first=100)

    report = compute_snapshots(store, today=MONDAY)

    data = stored_snapshot(store, active, day=MONDAY).data  # type: ignore[union-attr]
    assert report.history_projects == 8
    assert report.learned_spreads == 1
    assert data["spread_source"] == "learned"
    assert data["spread_sample_size"] == 8


def test_seven_finished_projects_leave_the_prior_spread(store: Store) -> None:
    for project_id in make_projects(store, 7, close=date(2025, 9, 1)):
        finish(store, project_id, slip=1)
    (active,) = make_projects(store, 1, first=100)

    compute_snapshots(store, today=MONDAY)

    data = stored_snapshot(store, active, day=MONDAY).data  # type: ignore[union-attr]
    assert data["spread_source"] == "prior"


def test_health_and_its_reasons_are_stored(store: Store) -> None:
    (project_id,) = make_projects(store, 1)
    add_event(store, project_id, date(2026, 3, 12), "sentiment", to_value="2")

    compute_snapshots(store, today=MONDAY)

    (row,) = snapshots(store)
    factors = {f["name"]: f for f in row.data["health_factors"]}
    assert row.health == "Red"
    assert factors["customer_sentiment"]["status"] == "Red"
    assert (
        factors["customer_sentiment"]["reason"] == "customer sentiment 2/5 (2026-03-12)"
    )
    assert "overdue" in factors["overdue_share"]["reason"]
    assert row.data["health_summary"].startswith("Red: ")


def test_project_finished_long_ago_gets_one_final_snapshot_then_no_more(
    store: Store,
) -> None:
    old, recent = make_projects(store, 2, close=date(2025, 9, 1))
    finish(store, old, slip=0)
    finish(store, recent, slip=0)
    with store.transaction() as session:
        milestone = session.exec(
            select(ProjectMilestone).where(
                ProjectMilestone.project_id == recent,
                ProjectMilestone.kind == "go_live",
            )
        ).one()
        milestone.actual = MONDAY - timedelta(days=3)
        session.add(milestone)

    first = compute_snapshots(store, today=MONDAY, finished_within_days=30)
    later = compute_snapshots(
        store, today=MONDAY + timedelta(days=1), finished_within_days=30
    )

    assert first.computed == 2
    assert later.computed == 1
    days = sorted((r.project_id, r.day) for r in snapshots(store))
    assert days == [
        (old, MONDAY),
        (recent, MONDAY),
        (recent, MONDAY + timedelta(days=1)),
    ]


def test_run_kpis_records_a_run_and_reads_the_health_rules(
    tmp_path: Path, database_url: str
) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "health.yaml").write_text(
        "factors:\n  customer_sentiment: {enabled: false}\n", encoding="utf-8"
    )
    app = App(load_settings(database_url=database_url, config_dir=config_dir))
    (project_id,) = make_projects(app.store, 1)
    add_event(app.store, project_id, date(2026, 3, 12), "sentiment", to_value="1")

    report = run_kpis(app, today=MONDAY)

    with app.store.session() as session:
        run = session.exec(select(SyncRun).where(SyncRun.job == "kpis")).one()
    data = stored_snapshot(app.store, project_id).data  # type: ignore[union-attr]
    app.close()
    assert report.computed == 1
    assert (run.outcome, run.records_written) == ("succeeded", 1)
    assert "customer_sentiment" not in {f["name"] for f in data["health_factors"]}


def test_portfolio_counts_health_and_explains_late_projects(store: Store) -> None:
    late, on_time = make_projects(store, 2)
    for key in task_keys(store, on_time)[:8]:
        set_task(
            store,
            on_time,
            key,
            status="done",
            actual_start=date(2026, 3, 2),
            actual_end=date(2026, 3, 12),
        )
    compute_snapshots(store, today=MONDAY)

    result = portfolio(store)

    assert result.day == MONDAY
    assert sum(result.health.values()) == 2
    assert [p.project_id for p in result.late] == [late]
    assert any("after the baseline" in reason for reason in result.late[0].reasons)
    assert [(p.playbook_key, p.projects, p.late) for p in result.playbooks] == [
        ("self-serve", 2, 1)
    ]
