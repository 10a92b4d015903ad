"""Projects made by the real handoff, and the changes that move or finish them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import select

from sfsync.calendar import BusinessCalendar
from sfsync.handoff import HandoffConfig, handoff
from sfsync.mapping import load_mappings
from sfsync.store.db import Store
from sfsync.store.models import (
    Account,
    Opportunity,
    Project,
    ProjectEvent,
    ProjectMilestone,
    ProjectTask,
)

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_ID = "001000000000001AAA"
STAMP = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
# Small deals get the self-serve playbook: eleven tasks, quick to seed.
SMALL_DEAL = "9000"
US = BusinessCalendar("US")


@cache
def handoff_config() -> HandoffConfig:
    return HandoffConfig.load(
        config_dir=ROOT / "config",
        mappings_dir=ROOT / "mappings",
        mappings=load_mappings(ROOT / "mappings"),
        country="US",
    )


def make_projects(
    store: Store,
    count: int,
    *,
    first: int = 0,
    close: date = date(2026, 3, 2),
    target: date | None = None,
    pulled_at: datetime | None = None,
) -> list[int]:
    """``count`` won small deals handed off on ``close``; their project ids."""
    ids = [f"006{i:012d}AAA" for i in range(first, first + count)]
    with store.transaction() as session:
        if session.get(Account, ACCOUNT_ID) is None:
            session.add(
                Account(
                    id=ACCOUNT_ID,
                    name="Acme",
                    number_of_employees=20,
                    system_modstamp=STAMP,
                )
            )
        for i, opp_id in enumerate(ids, start=first):
            session.add(
                Opportunity(
                    id=opp_id,
                    account_id=ACCOUNT_ID,
                    name=f"Deal {i}",
                    stage_name="Closed Won",
                    is_won=True,
                    is_closed=True,
                    close_date=close,
                    amount=Decimal(SMALL_DEAL),
                    owner_id="005000000000009AAA",
                    onboarding_manager_id="005000000000001AAA",
                    target_go_live=target,
                    system_modstamp=STAMP,
                    pulled_at=pulled_at,
                )
            )
    made = handoff(store, handoff_config(), today=close, opportunity_ids=ids)
    return sorted(made.created)


def set_task(store: Store, project_id: int, task_key: str, **values: Any) -> None:
    with store.transaction() as session:
        session.execute(
            update(ProjectTask)
            .where(
                ProjectTask.project_id == project_id,  # type: ignore[arg-type]
                ProjectTask.task_key == task_key,  # type: ignore[arg-type]
            )
            .values(**values)
        )


def add_event(
    store: Store, project_id: int, on: date, kind: str, **values: Any
) -> None:
    at = datetime(on.year, on.month, on.day, 15, 0, tzinfo=UTC)
    with store.transaction() as session:
        session.add(ProjectEvent(project_id=project_id, at=at, kind=kind, **values))


def finish(store: Store, project_id: int, *, slip: int) -> date:
    """Mark a project done, live ``slip`` business days after its baseline."""
    with store.transaction() as session:
        milestone = session.exec(
            select(ProjectMilestone).where(
                ProjectMilestone.project_id == project_id,
                ProjectMilestone.kind == "go_live",
            )
        ).one()
        live = US.add_business_days(milestone.baseline, slip)
        milestone.actual = live
        session.add(milestone)
        session.execute(
            update(ProjectTask)
            .where(ProjectTask.project_id == project_id)  # type: ignore[arg-type]
            .values(status="done", actual_end=ProjectTask.planned_end)
        )
        session.execute(
            update(Project).where(Project.id == project_id).values(status="done")  # type: ignore[arg-type]
        )
    return live


def task_keys(store: Store, project_id: int) -> list[str]:
    with store.session() as session:
        rows = session.exec(
            select(ProjectTask.task_key)
            .where(ProjectTask.project_id == project_id)
            .order_by(ProjectTask.id)  # type: ignore[arg-type]
        )
        return list(rows)
