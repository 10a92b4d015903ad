"""The outbox and the push inputs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sfsync.push.desired import load_push_inputs
from sfsync.push.diff import Change
from sfsync.push.outbox import (
    Outcome,
    due_rows,
    list_rows,
    queue_changes,
    record_outcomes,
)
from sfsync.store.db import Store
from sfsync.store.models import KpiSnapshot, Opportunity, Project

NOW = datetime(2024, 6, 3, 8, tzinfo=UTC)
BACKOFF = timedelta(minutes=5)


def _change(record_id: str, health: str) -> Change:
    return Change(
        "Opportunity",
        record_id,
        "001A",
        {"Onboarding_Health__c": health},
        {"Onboarding_Health__c": "Green"},
    )


def _seed_opportunity(store: Store, record_id: str) -> None:
    with store.transaction() as session:
        session.add(Opportunity(id=record_id, account_id="001A", is_won=True))


def test_a_parked_write_stays_parked_until_the_wanted_value_changes(
    store: Store,
) -> None:
    queue_changes(store, [_change("006A", "Red")], now=NOW)
    row = due_rows(store, now=NOW)[0]
    assert row.id is not None
    record_outcomes(
        store,
        [Outcome(row.id, "park", "FIELD_CUSTOM_VALIDATION_EXCEPTION", "no")],
        now=NOW,
        max_attempts=5,
        backoff=BACKOFF,
    )

    same = queue_changes(store, [_change("006A", "Red")], now=NOW)
    other = queue_changes(store, [_change("006A", "Amber")], now=NOW)

    assert (same.still_parked, other.reopened) == (1, 1)
    assert [r.fields for r in due_rows(store, now=NOW)] == [
        {"Onboarding_Health__c": "Amber"}
    ]


def test_a_row_whose_change_salesforce_already_holds_is_superseded(
    store: Store,
) -> None:
    queue_changes(store, [_change("006A", "Red")], now=NOW)

    counts = queue_changes(store, [], now=NOW)

    assert counts.superseded == 1
    assert list_rows(store) == []


def test_a_sent_row_becomes_the_records_pushed_state(store: Store) -> None:
    _seed_opportunity(store, "006A")
    queue_changes(store, [_change("006A", "Red")], now=NOW)
    row = due_rows(store, now=NOW)[0]
    assert row.id is not None

    record_outcomes(
        store, [Outcome(row.id, "sent")], now=NOW, max_attempts=5, backoff=BACKOFF
    )

    with store.session() as session:
        opportunity = session.get(Opportunity, "006A")
    assert opportunity is not None
    assert opportunity.sf_pushed == {"Onboarding_Health__c": "Red"}


def test_a_passing_failure_waits_its_backoff_then_parks_after_the_last_attempt(
    store: Store,
) -> None:
    queue_changes(store, [_change("006A", "Red")], now=NOW)
    row_id = due_rows(store, now=NOW)[0].id
    assert row_id is not None
    retry = Outcome(row_id, "retry", "UNABLE_TO_LOCK_ROW", "locked")

    record_outcomes(store, [retry], now=NOW, max_attempts=2, backoff=BACKOFF)
    waiting = due_rows(store, now=NOW + timedelta(minutes=4))
    record_outcomes(store, [retry], now=NOW, max_attempts=2, backoff=BACKOFF)

    assert waiting == []
    assert [r.status for r in list_rows(store)] == ["parked"]


def test_push_inputs_use_each_projects_latest_snapshot(store: Store) -> None:
    _seed_opportunity(store, "006A")
    with store.transaction() as session:
        project = Project(
            opportunity_id="006A",
            account_id="001A",
            playbook_key="mid-market",
            playbook_version="1",
            handoff_date=date(2024, 5, 2),
        )
        session.add(project)
        session.flush()
        assert project.id is not None
        for day, health in [(date(2024, 6, 1), "Green"), (date(2024, 6, 2), "Red")]:
            session.add(
                KpiSnapshot(
                    project_id=project.id,
                    day=day,
                    computed_at=NOW,
                    health=health,
                    data={"percent_complete": 10.0},
                )
            )

    inputs = load_push_inputs(store)

    assert [p.kpi for p in inputs.projects] == [
        {
            "percent_complete": 10.0,
            "health": "Red",
            "computed_at": NOW,
            "data_as_of": None,
        }
    ]
    assert inputs.held == {("Opportunity", "006A"): {}}
