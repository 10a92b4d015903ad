"""Projects made by the real handoff, and readers of what progress changed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from sqlmodel import col, select

from sfsync.handoff import HandoffConfig, handoff
from sfsync.mapping import load_mappings
from sfsync.store.db import Store
from sfsync.store.models import (
    Account,
    Opportunity,
    ProjectEvent,
    ProjectMilestone,
    ProjectTask,
)

ROOT = Path(__file__).resolve().parents[2]
HANDOFF_DAY = date(2026, 11, 2)
STAMP = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
ACCOUNT_ID = "001000000000001AAA"
# The self-serve playbook, chosen by the rules for small deals.
SELF_SERVE_TASKS = (
    "review_handoff",
    "send_welcome_pack",
    "kickoff_call",
    "provide_user_details",
    "configure_workspace",
    "admin_training",
    "invite_users",
    "first_workflow",
    "go_live_check",
    "onboarding_feedback",
    "usage_check",
)


@cache
def handoff_config() -> HandoffConfig:
    return HandoffConfig.load(
        config_dir=ROOT / "config",
        mappings_dir=ROOT / "mappings",
        mappings=load_mappings(ROOT / "mappings"),
        country="US",
    )


def opportunity_id(number: int) -> str:
    return f"006{number:012d}AAA"


def make_project(store: Store, number: int = 1, *, amount: str = "9000") -> int:
    """Seed a won deal and hand it off; the new project's id."""
    with store.transaction() as session:
        if session.get(Account, ACCOUNT_ID) is None:
            session.add(
                Account(id=ACCOUNT_ID, name="Łódź Sp. z o.o.", system_modstamp=STAMP)
            )
        session.add(
            Opportunity(
                id=opportunity_id(number),
                account_id=ACCOUNT_ID,
                name=f"Škoda deal {number}",
                stage_name="Closed Won",
                is_won=True,
                is_closed=True,
                close_date=HANDOFF_DAY,
                amount=Decimal(amount),
                owner_id="005000000000009AAA",
                onboarding_manager_id="005000000000001AAA",
                system_modstamp=STAMP,
            )
        )
    result = handoff(
        store,
        handoff_config(),
        today=HANDOFF_DAY,
        now=STAMP,
        opportunity_ids=[opportunity_id(number)],
    )
    (project_id,) = result.created
    return project_id


def task(store: Store, project_id: int, key: str) -> ProjectTask:
    with store.session() as session:
        return session.exec(
            select(ProjectTask)
            .where(ProjectTask.project_id == project_id)
            .where(ProjectTask.task_key == key)
        ).one()


def milestone(store: Store, project_id: int, key: str) -> ProjectMilestone:
    with store.session() as session:
        return session.exec(
            select(ProjectMilestone)
            .where(ProjectMilestone.project_id == project_id)
            .where(ProjectMilestone.milestone_key == key)
        ).one()


def events(store: Store, project_id: int, kind: str) -> list[ProjectEvent]:
    with store.session() as session:
        return list(
            session.exec(
                select(ProjectEvent)
                .where(ProjectEvent.project_id == project_id)
                .where(ProjectEvent.kind == kind)
                .order_by(col(ProjectEvent.at), col(ProjectEvent.id))
            )
        )
