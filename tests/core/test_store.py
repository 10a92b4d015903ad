"""The local store on SQLite and PostgreSQL: migrations, types and constraints."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from sfsync.store.db import Store
from sfsync.store.models import Opportunity, Project


def test_fresh_database_is_migrated_to_the_newest_revision(store: Store) -> None:
    assert store.current_revision() == store.head_revision()


def test_naive_datetime_is_refused_rather_than_taken_as_utc(store: Store) -> None:
    """Case SC-14: every stored time is aware; a naive one is an error."""
    naive = datetime(2026, 3, 1, 9, 30)

    with (
        pytest.raises(StatementError, match="naive datetime"),
        store.transaction() as session,
    ):
        session.add(Opportunity(id="006000000000001AAA", system_modstamp=naive))


def test_aware_datetime_comes_back_in_utc(store: Store) -> None:
    eastern = timezone(timedelta(hours=-4))
    with store.transaction() as session:
        session.add(
            Opportunity(
                id="006000000000001AAA",
                system_modstamp=datetime(2026, 3, 1, 9, 30, 0, 123000, tzinfo=eastern),
            )
        )

    with store.session() as session:
        stored = session.get(Opportunity, "006000000000001AAA")

    assert stored is not None
    assert stored.system_modstamp == datetime(2026, 3, 1, 13, 30, 0, 123000, tzinfo=UTC)
    assert stored.system_modstamp.tzinfo is not None


def test_amount_and_close_date_round_trip_exactly(store: Store) -> None:
    """Case SC-13: a date stays the same calendar day; money stays exact."""
    with store.transaction() as session:
        session.add(
            Opportunity(
                id="006000000000002AAA",
                amount=Decimal("12345.67"),
                close_date=date(2022, 3, 25),
            )
        )

    with store.session() as session:
        stored = session.get(Opportunity, "006000000000002AAA")

    assert stored is not None
    assert stored.amount == Decimal("12345.67")
    assert stored.close_date == date(2022, 3, 25)


def test_second_project_for_one_opportunity_is_rejected_by_the_database(
    store: Store,
) -> None:
    def project() -> Project:
        return Project(
            opportunity_id="006000000000003AAA",
            playbook_key="mid-market",
            playbook_version="1",
            handoff_date=date(2026, 1, 5),
        )

    with store.transaction() as session:
        session.add(project())

    with pytest.raises(IntegrityError), store.transaction() as session:
        session.add(project())


def test_migrations_create_exactly_the_tables_the_models_describe(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, SQLModel.metadata)

    assert differences == []
