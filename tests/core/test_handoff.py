"""Won deals become exactly one project each, whatever happens to the deal after."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import func, select

from sfsync.handoff import HandoffConfig, handoff
from sfsync.mapping import load_mappings
from sfsync.store.db import Store, open_store
from sfsync.store.models import Account, Opportunity, Project, ProjectTask

ROOT = Path(__file__).resolve().parents[2]
STAMP = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def config(country: str = "US") -> HandoffConfig:
    mappings = load_mappings(ROOT / "mappings")
    return HandoffConfig.load(
        config_dir=ROOT / "config",
        mappings_dir=ROOT / "mappings",
        mappings=mappings,
        country=country,
    )


def opportunity(
    i: int,
    *,
    won: bool = True,
    amount: str = "40000",
    close: date = date(2026, 11, 2),
    manager: str | None = "005000000000001AAA",
) -> Opportunity:
    return Opportunity(
        id=f"006{i:012d}AAA",
        account_id="001000000000001AAA",
        name=f"Deal {i}",
        stage_name="Closed Won" if won else "Negotiation/Review",
        is_won=won,
        is_closed=won,
        close_date=close,
        amount=Decimal(amount),
        owner_id="005000000000009AAA",
        onboarding_manager_id=manager,
        system_modstamp=STAMP,
    )


def seed(store: Store, opportunities: list[Opportunity]) -> None:
    with store.transaction() as session:
        session.add(
            Account(
                id="001000000000001AAA",
                name="Østfold Fiskeri AS",
                number_of_employees=120,
                system_modstamp=STAMP,
            )
        )
        for opp in opportunities:
            session.add(opp)


def project_count(store: Store) -> int:
    with store.session() as session:
        return int(session.exec(select(func.count()).select_from(Project)).one())


def test_each_won_deal_gets_one_project_and_a_second_run_creates_nothing(
    store: Store,
) -> None:
    seed(store, [opportunity(i) for i in range(5)] + [opportunity(9, won=False)])
    cfg = config()

    first = handoff(store, cfg, today=date(2026, 11, 3))
    second = handoff(store, cfg, today=date(2026, 11, 3))

    assert len(first.created) == 5
    assert second.created == []
    assert project_count(store) == 5


def test_playbook_follows_the_rules_and_version_is_recorded(store: Store) -> None:
    seed(
        store,
        [
            opportunity(1, amount="250000"),
            opportunity(2, amount="9000"),
            opportunity(3, amount="40000"),
        ],
    )
    cfg = config()

    handoff(store, cfg, today=date(2026, 11, 3))

    with store.session() as session:
        chosen = {
            p.opportunity_id[:15]: (p.playbook_key, p.playbook_version)
            for p in session.exec(select(Project))
        }
    assert chosen["006000000000001"][0] == "enterprise"
    assert chosen["006000000000002"][0] == "self-serve"
    assert chosen["006000000000003"][0] == "mid-market"
    assert all(version for _, version in chosen.values())


def test_deal_reopened_then_won_again_keeps_its_one_project(store: Store) -> None:
    seed(store, [opportunity(1)])
    cfg = config()
    handoff(store, cfg, today=date(2026, 11, 3))

    with store.transaction() as session:
        opp = session.get(Opportunity, "006000000000001AAA")
        assert opp is not None
        opp.is_won, opp.is_closed, opp.stage_name = False, False, "Negotiation/Review"
    held = handoff(store, cfg, today=date(2026, 11, 4))
    with store.transaction() as session:
        opp = session.get(Opportunity, "006000000000001AAA")
        assert opp is not None
        opp.is_won, opp.is_closed, opp.stage_name = True, True, "Closed Won"
    resumed = handoff(store, cfg, today=date(2026, 11, 5))

    assert len(held.held) == 1
    assert resumed.resumed == held.held
    assert project_count(store) == 1
    with store.session() as session:
        project = session.exec(select(Project)).one()
    assert project.status == "active"


def test_deal_deleted_after_handoff_puts_the_project_on_hold(store: Store) -> None:
    seed(store, [opportunity(1)])
    cfg = config()
    handoff(store, cfg, today=date(2026, 11, 3))
    with store.transaction() as session:
        opp = session.get(Opportunity, "006000000000001AAA")
        assert opp is not None
        opp.is_deleted = True

    handoff(store, cfg, today=date(2026, 11, 4))

    with store.session() as session:
        project = session.exec(select(Project)).one()
    assert project.status == "on_hold"
    assert project.hold_reason == "opportunity deleted in Salesforce"


def test_missing_onboarding_manager_leaves_tasks_unassigned_and_flagged(
    store: Store,
) -> None:
    seed(store, [opportunity(1, manager=None)])

    result = handoff(store, config(), today=date(2026, 11, 3))

    assert result.unassigned_roles > 0
    with store.session() as session:
        flagged = session.exec(
            select(ProjectTask).where(ProjectTask.owner_unassigned == True)  # noqa: E712
        ).all()
    assert flagged
    assert all(t.owner_id is None for t in flagged)


def test_handoff_before_christmas_in_britain_skips_weekends_and_holidays(
    store: Store,
) -> None:
    seed(store, [opportunity(1, close=date(2026, 12, 23))])

    handoff(store, config("GB"), today=date(2026, 12, 23))

    with store.session() as session:
        tasks = session.exec(select(ProjectTask)).all()
    dates = {d for t in tasks for d in (t.planned_start, t.planned_end)}
    # 25 and 26 December 2026 are a Friday and Saturday; the Boxing Day bank
    # holiday is substituted to Monday 28 December.
    closed = {date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 28)}
    assert not dates & closed
    assert all(d.weekday() < 5 for d in dates)
    assert min(dates) == date(2026, 12, 23)


def _handoff_in_process(url: str, barrier: object, results: object) -> None:
    store = open_store(url)
    barrier.wait()  # type: ignore[attr-defined]
    result = handoff(store, config(), today=date(2026, 11, 3))
    store.dispose()
    results.put(len(result.created))  # type: ignore[attr-defined]


@pytest.mark.postgres
def test_two_processes_handing_off_the_same_deals_make_one_project_each(
    postgres_url: str,
) -> None:
    store = open_store(postgres_url)
    seed(store, [opportunity(i) for i in range(200)])
    store.dispose()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_handoff_in_process, args=(postgres_url, barrier, results))
        for _ in range(2)
    ]

    for worker in workers:
        worker.start()
    created = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)

    store = open_store(postgres_url)
    assert sum(created) == 200
    assert project_count(store) == 200
    store.dispose()
