"""`sfsync demo` as a new user runs it: one command, then the state it leaves."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from sfsync.handoff import HandoffConfig, sf_view
from sfsync.mapping import load_mappings
from sfsync.store.db import open_store
from sfsync.store.models import Account, Opportunity, Project, SyncRun

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo run once from an empty folder; its folder and its output."""
    folder = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFSYNC_")}
    env.update(
        SFSYNC_CONFIG_DIR=str(ROOT / "config"),
        SFSYNC_MAPPINGS_DIR=str(ROOT / "mappings"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "sfsync", "demo"],
        cwd=folder,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return folder, done.stdout.decode()


def test_the_demo_tells_every_step_of_a_cycle(demo_run: tuple[Path, str]) -> None:
    _folder, output = demo_run

    for step in ("pull Opportunity", "handoff", "KPIs", "push", "Salesforce API"):
        assert step in output
    assert "Onboarding_Health__c" in output  # the fields as Salesforce holds them


def test_every_won_demo_deal_has_one_project_from_the_playbook_its_rules_choose(
    demo_run: tuple[Path, str],
) -> None:
    folder, _output = demo_run
    mappings = load_mappings(ROOT / "mappings")
    config = HandoffConfig.load(
        config_dir=ROOT / "config",
        mappings_dir=ROOT / "mappings",
        mappings=mappings,
        country="US",
    )
    store = open_store(f"sqlite:///{folder / '.sfsync/demo/demo.db'}", migrate=False)
    with store.session() as session:
        opportunities = list(session.execute(select(Opportunity)).scalars())
        accounts = {a.id: a for a in session.execute(select(Account)).scalars()}
        projects = list(session.execute(select(Project)).scalars())
        handoffs = list(
            session.execute(
                select(SyncRun)
                .where(SyncRun.job == "handoff")  # type: ignore[arg-type]
                .order_by(SyncRun.started_at)  # type: ignore[arg-type]
            ).scalars()
        )
    store.dispose()

    by_deal = {p.opportunity_id: p for p in projects}
    won = [
        o
        for o in opportunities
        if not o.is_deleted
        and config.rules.is_handed_off(sf_view(mappings["Opportunity"], o))
    ]
    assert len(won) > 30
    assert max(Counter(p.opportunity_id for p in projects).values()) == 1
    for deal in won:
        project = by_deal.get(deal.id)
        assert project is not None, f"won deal {deal.id} has no project"
        choice = config.rules.choose(
            sf_view(mappings["Opportunity"], deal),
            sf_view(mappings["Account"], accounts.get(deal.account_id or "")),
        )
        assert project.playbook_key == choice.playbook_key
        assert project.status != "on_hold"
    # The deal the demo reopens keeps its project, on hold.
    held = [p for p in projects if p.status == "on_hold"]
    assert [p.opportunity_id for p in held] == [
        d for d in by_deal if d not in {w.id for w in won}
    ]
    assert len(held) == 1
    # The last cycle found nothing new to hand off.
    assert handoffs[-1].details["created"] == 0
    assert handoffs[-1].outcome == "succeeded"
