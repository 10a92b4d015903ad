"""Backfill: a dry run writes nothing anywhere; a killed run resumes to the same end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from sfsync.backfill import BackfillRange, backfill, checkpoint_path
from sfsync.localorg import LocalOrg
from sfsync.push.metadata import deployable_metadata
from sfsync.store.db import open_store
from sfsync.store.models import (
    Account,
    KpiSnapshot,
    Opportunity,
    OutboxRow,
    Project,
    ProjectTask,
    SyncRun,
)
from tests.faults.scenario import pushed_fields
from tests.service.conftest import ROOT, app_for, subprocess_env

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

RANGE = ["--close-from", "2023-01-01", "--close-to", "2023-12-31"]


def _seed(org: LocalOrg, count: int) -> list[str]:
    """``count`` opportunities on 20 accounts; every fourth (from the first) open."""
    accounts = org.load_records(
        "Account",
        [{"Name": f"Customer {a}", "NumberOfEmployees": 200} for a in range(20)],
    )
    opportunities: list[dict[str, Any]] = []
    for n in range(count):
        won = n % 4 != 0
        opportunities.append(
            {
                "Name": f"Deal {n}",
                "AccountId": accounts[n % len(accounts)],
                "StageName": "Closed Won" if won else "Prospecting",
                "IsWon": won,
                "IsClosed": won,
                "CloseDate": f"2023-{n % 12 + 1:02d}-{n % 27 + 1:02d}",
                "Amount": 50000,
                "Type": "New Customer",
            }
        )
    return org.load_records("Opportunity", opportunities)


def _spec() -> BackfillRange:
    from datetime import date

    return BackfillRange(close_from=date(2023, 1, 1), close_to=date(2023, 12, 31))


def _table_counts(url: str) -> dict[str, int]:
    store = open_store(url, migrate=False)
    try:
        with store.session() as session:
            return {
                model.__name__: int(
                    session.execute(select(func.count()).select_from(model)).scalar()
                )
                for model in (
                    Account,
                    Opportunity,
                    Project,
                    ProjectTask,
                    KpiSnapshot,
                    OutboxRow,
                    SyncRun,
                )
            }
    finally:
        store.dispose()


def _state(url: str) -> dict[str, Any]:
    store = open_store(url, migrate=False)
    try:
        with store.session() as session:
            projects = sorted(
                (p.opportunity_id, p.playbook_key, str(p.handoff_date), p.status)
                for p in session.execute(select(Project)).scalars()
            )
            opportunities = sorted(session.execute(select(Opportunity.id)).scalars())
            tasks = session.execute(
                select(func.count()).select_from(ProjectTask)
            ).scalar()
        return {"projects": projects, "opportunities": opportunities, "tasks": tasks}
    finally:
        store.dispose()


def _dry_run_writes_nothing(org: LocalOrg, tmp_path: Path, count: int) -> None:
    _seed(org, count)
    url = f"sqlite:///{tmp_path / 'dry.db'}"
    open_store(url).dispose()
    app = app_for(org, url, state_dir=tmp_path / "state")
    before = _table_counts(url)
    org.reset_stats()

    result = backfill(app, _spec(), dry_run=True)

    stats = org.stats()
    assert stats["writes"] == 0
    assert set(stats["by_method"]) == {"GET"}
    assert _table_counts(url) == before
    assert not (tmp_path / "state").exists()
    assert result.processed == count
    assert result.expected == count
    assert result.created == sum(1 for n in range(count) if n % 4 != 0)
    assert result.ok


def test_a_dry_run_backfill_of_20000_opportunities_writes_nothing(
    org: LocalOrg, tmp_path: Path
) -> None:
    """No write call, no local write, and its count checked (case SC-07)."""
    _dry_run_writes_nothing(org, tmp_path, 20000)


def _backfill_cli(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "sfsync", "backfill", *RANGE, *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def twin_org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalOrg]:
    """A second org with the same fields, for a run that must not see the first's."""
    metadata = deployable_metadata(
        config_dir=ROOT / "config",
        mappings_dir=ROOT / "mappings",
        workdir=tmp_path_factory.mktemp("twin-metadata"),
    )
    with LocalOrg.start(metadata_dirs=metadata) as org:
        yield org


def _copy_records(source: LocalOrg, target: LocalOrg, ids: list[str]) -> None:
    """The same records, Ids included, in ``target``."""
    opportunities = [source.get("Opportunity", i) for i in ids]
    account_ids = sorted({o["AccountId"] for o in opportunities if o})
    for sobject, records in (
        ("Account", [source.get("Account", i) for i in account_ids]),
        ("Opportunity", opportunities),
    ):
        target.load_records(
            sobject,
            [
                {k: v for k, v in r.items() if k != "attributes" and v is not None}
                for r in records
                if r is not None
            ],
        )


def _end_state(url: str, org: LocalOrg, ids: list[str]) -> dict[str, Any]:
    """Mirror, projects, KPI snapshots, the outbox and the pushed fields.

    Pushed values are compared without their time stamps and the local project
    id, which record when and in what order a run wrote, not what it found.
    """
    fields = pushed_fields()
    store = open_store(url, migrate=False)
    try:
        with store.session() as session:
            deal_of = dict(
                session.execute(select(Project.id, Project.opportunity_id)).all()
            )
            kpis = sorted(
                (deal_of[k.project_id], str(k.day), k.health)
                for k in session.execute(select(KpiSnapshot)).scalars()
            )
            outbox = sorted(
                (
                    r.sobject,
                    r.record_id,
                    r.status,
                    json.dumps(
                        {f: r.fields.get(f) for f in fields[r.sobject]},
                        sort_keys=True,
                    ),
                )
                for r in session.execute(select(OutboxRow)).scalars()
            )
            account_ids = sorted(
                {a for (a,) in session.execute(select(Opportunity.account_id)) if a}
            )
    finally:
        store.dispose()
    pushed = {}
    for sobject, record_ids in (("Opportunity", ids), ("Account", account_ids)):
        for record_id in record_ids:
            record = org.get(sobject, record_id) or {}
            pushed[record_id] = tuple(record.get(f) for f in fields[sobject])
    return {**_state(url), "kpis": kpis, "outbox": outbox, "pushed": pushed}


def _killed_then_resumed_matches_an_uninterrupted_run(
    org: LocalOrg, twin: LocalOrg, tmp_path: Path, count: int, batch: int
) -> None:
    ids = _seed(org, count)
    _copy_records(org, twin, ids)
    straight_url = f"sqlite:///{tmp_path / 'straight.db'}"
    killed_url = f"sqlite:///{tmp_path / 'killed.db'}"
    state_dir = tmp_path / "state"
    straight = backfill(
        app_for(twin, straight_url, state_dir=tmp_path / "other"),
        _spec(),
        batch_size=batch,
    )
    env = subprocess_env(org, killed_url, state_dir)
    checkpoint = checkpoint_path(state_dir, _spec())
    org.set_latency(40)

    first = _backfill_cli(env, "--batch-size", str(batch))
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and first.poll() is None:
        if checkpoint.exists():
            done = json.loads(checkpoint.read_text())["done"]
            if done >= count * 0.3:
                break
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    org.set_latency(0)
    mode = os.stat(checkpoint).st_mode & 0o777
    resumed = _backfill_cli(env, "--batch-size", str(batch), "--resume")
    _out, err = resumed.communicate(timeout=600)

    assert first.returncode == -signal.SIGKILL
    assert 0 < done < count
    assert mode == 0o600
    assert resumed.returncode == 0, err.decode()[-3000:]
    assert straight.ok
    assert straight.expected == count
    killed_state = _end_state(killed_url, org, ids)
    straight_state = _end_state(straight_url, twin, ids)
    assert len(killed_state["projects"]) == sum(1 for n in range(count) if n % 4)
    assert {s for *_, s in killed_state["kpis"]} <= {"Green", "Amber", "Red"}
    assert {s for _, _, s, _ in killed_state["outbox"]} == {"sent"}
    assert killed_state == straight_state
    assert not checkpoint.exists()


def test_a_20000_opportunity_backfill_killed_halfway_resumes_to_the_same_state(
    org: LocalOrg, twin_org: LocalOrg, tmp_path: Path
) -> None:
    """A real SIGKILL part-way, then --resume: mirror, projects, KPIs, outbox
    and the fields in Salesforce end as after one uninterrupted run."""
    _killed_then_resumed_matches_an_uninterrupted_run(
        org, twin_org, tmp_path, 20000, 1000
    )


def test_a_backfill_whose_pushed_row_is_refused_exits_non_zero(
    org: LocalOrg, tmp_path: Path
) -> None:
    """Case SC-20: a failed row is a failed backfill for the shell and for cron."""
    won = _seed(org, 8)[1]
    org.lock_ids([won], times=None)
    env = subprocess_env(org, f"sqlite:///{tmp_path / 'cli.db'}", tmp_path / "state")

    finished = _backfill_cli(env)
    _out, err = finished.communicate(timeout=300)

    assert finished.returncode == 1, err.decode()[-3000:]
    assert "1 record(s) failed" in err.decode()
