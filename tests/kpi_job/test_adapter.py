"""The store adapter turns project rows into the facts the KPI engine reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import event, update

from sfsync.errors import InputError
from sfsync.kpi import go_live_date
from sfsync.kpi_job import compute_snapshots
from sfsync.kpi_store import (
    CalendarCache,
    finished_facts,
    finished_project_ids,
    load_projects,
    project_facts,
)
from sfsync.store.db import Store
from sfsync.store.models import Opportunity, Project, ProjectMilestone, ProjectTask

from .seeding import add_event, finish, make_projects, set_task, task_keys


@contextmanager
def counted_statements(store: Store) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        # Transaction control (SQLite's explicit BEGIN) is not a query.
        if str(args[2]).strip().upper() != "BEGIN":
            statements.append(str(args[2]))

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(store.engine, "before_cursor_execute", count)


def test_adapter_builds_tasks_milestones_and_events(store: Store) -> None:
    (project_id,) = make_projects(store, 1)
    keys = task_keys(store, project_id)
    set_task(
        store,
        project_id,
        keys[0],
        status="done",
        actual_start=date(2026, 3, 2),
        actual_end=date(2026, 3, 2),
    )
    set_task(
        store, project_id, keys[1], status="blocked", blocked_since=date(2026, 3, 3)
    )
    add_event(
        store,
        project_id,
        date(2026, 3, 2),
        "task_status",
        task_key=keys[0],
        from_value="not_started",
        to_value="done",
    )
    add_event(store, project_id, date(2026, 3, 3), "sentiment", to_value="2")
    add_event(store, project_id, date(2026, 3, 4), "note", note="waiting on IT")
    add_event(store, project_id, date(2026, 3, 4), "checklist_item", to_value="done")

    with store.session() as session:
        facts = project_facts(session, [project_id])[project_id]

    assert facts.project_id == str(project_id)
    assert facts.playbook_key == "self-serve"
    assert facts.handoff_date == date(2026, 3, 2)
    assert facts.segment == "small-business"
    assert [t.id for t in facts.tasks] == keys
    assert facts.tasks[0].status == "done"
    assert facts.tasks[0].actual_end == date(2026, 3, 2)
    assert facts.tasks[1].blocked_since == date(2026, 3, 3)
    assert {m.kind for m in facts.milestones} == {"kickoff", "go_live", "first_value"}
    assert [(e.kind, e.occurred_on, e.value) for e in facts.events] == [
        ("progress", date(2026, 3, 2), None),
        ("sentiment", date(2026, 3, 3), 2.0),
        ("note", date(2026, 3, 4), None),
    ]
    assert facts.events[2].text == "waiting on IT"


def test_target_go_live_follows_the_opportunity_when_it_has_one(store: Store) -> None:
    moved, kept = make_projects(store, 2)
    with store.transaction() as session:
        session.execute(
            update(Opportunity)
            .where(Opportunity.id == "006000000000000AAA")  # type: ignore[arg-type]
            .values(target_go_live=date(2026, 5, 29))
        )

    with store.session() as session:
        facts = project_facts(session, [moved, kept])

    assert facts[moved].target_go_live == date(2026, 5, 29)
    assert facts[kept].target_go_live == facts[kept].milestone("go_live").baseline  # type: ignore[union-attr]


def test_out_of_range_sentiment_is_ignored(store: Store) -> None:
    (project_id,) = make_projects(store, 1)
    add_event(store, project_id, date(2026, 3, 3), "sentiment", to_value="9")
    add_event(store, project_id, date(2026, 3, 3), "sentiment", to_value="unhappy")

    with store.session() as session:
        facts = project_facts(session, [project_id])[project_id]

    assert facts.events == ()


def test_a_task_ending_before_it_starts_is_named_and_the_others_still_load(
    store: Store,
) -> None:
    broken, fine = make_projects(store, 2)
    set_task(store, broken, task_keys(store, broken)[0], planned_end=date(2026, 2, 1))

    with store.session() as session:
        batch = load_projects(session, [broken, fine])
        with pytest.raises(InputError, match=f"project {broken}: task review_handoff"):
            project_facts(session, [broken, fine])

    assert list(batch.projects) == [fine]
    assert "planned_end is before planned_start" in batch.problems[broken]


def test_history_facts_give_the_same_go_live_as_the_full_facts(store: Store) -> None:
    with_milestone, without_milestone = make_projects(store, 2)
    finish(store, with_milestone, slip=2)
    finish(store, without_milestone, slip=0)
    with store.transaction() as session:
        session.execute(
            update(ProjectTask)
            .where(ProjectTask.project_id == without_milestone)  # type: ignore[arg-type]
            .values(actual_end=date(2026, 3, 24))
        )
        session.execute(
            update(Project)
            .where(Project.id == without_milestone)  # type: ignore[arg-type]
            .values(status="done")
        )
    with store.transaction() as session:
        session.execute(
            update(ProjectMilestone)
            .where(ProjectMilestone.project_id == without_milestone)  # type: ignore[arg-type]
            .values(kind="other")
        )

    with store.session() as session:
        ids = finished_project_ids(session)
        lean = {f.project_id: f for f in finished_facts(session, ids)}
        full = project_facts(session, ids)

    assert ids == [with_milestone, without_milestone]
    for project_id in ids:
        assert go_live_date(lean[str(project_id)]) == go_live_date(full[project_id])
    assert go_live_date(lean[str(without_milestone)]) == date(2026, 3, 24)


def test_loading_facts_takes_the_same_queries_for_10_and_100_projects(
    store: Store,
) -> None:
    ids = make_projects(store, 100)
    few, many = ids[:10], ids

    with store.session() as session, counted_statements(store) as for_few:
        assert len(project_facts(session, few)) == 10
    with store.session() as session, counted_statements(store) as for_many:
        assert len(project_facts(session, many)) == 100

    assert len(for_few) == len(for_many) == 4


def test_a_kpi_run_takes_the_same_queries_for_10_and_100_projects(
    store: Store,
) -> None:
    ids = make_projects(store, 100)
    finish(store, ids[0], slip=1)

    with counted_statements(store) as for_few:
        compute_snapshots(store, today=date(2026, 3, 10), project_ids=ids[:10])
    with counted_statements(store) as for_many:
        report = compute_snapshots(store, today=date(2026, 3, 10))

    assert report.computed == 100
    assert len(for_few) == len(for_many)


def test_unknown_calendar_country_falls_back_to_the_default() -> None:
    calendars = CalendarCache("US")

    assert calendars.get("XX") is calendars.default
    assert calendars.get(None) is calendars.default
    assert calendars.get("DE").country == "DE"
