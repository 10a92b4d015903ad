"""`sfsync sync` tells what each step of the cycle did."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlmodel import select

from sfsync.localorg import LocalOrg
from sfsync.store.db import open_store
from sfsync.store.models import SyncRun
from tests.cli import run_sfsync


def test_sync_prints_the_pull_handoff_kpis_and_push(
    org: LocalOrg, tmp_path: Path
) -> None:
    account = org.insert("Account", {"Name": "Zürich Rück", "NumberOfEmployees": 80})
    org.insert(
        "Opportunity",
        {
            "Name": "Zürich Rück onboarding",
            "AccountId": account,
            "StageName": "Closed Won",
            "CloseDate": "2026-11-02",
            "Amount": 30000,
            "Type": "New Customer",
        },
    )
    env = {
        **os.environ,
        **org.env(),
        "SFSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }

    done = run_sfsync("sync", env=env)

    assert done.returncode == 0, done.stderr[-2000:]
    assert "handoff: 1 projects created, 0 put on hold, 0 resumed" in done.stdout
    assert "KPIs: 1 projects (" in done.stdout
    assert "push: 2 records changed, 2 sent, 0 parked, 0 deferred" in done.stdout


def test_a_sync_that_cannot_log_in_is_a_failed_pull_in_the_run_record(
    org: LocalOrg, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'down.db'}"
    env = {
        **os.environ,
        **org.env(),
        "SFSYNC_PASSWORD": "not-the-password",
        "SFSYNC_DATABASE_URL": url,
    }

    done = run_sfsync("sync", env=env)
    store = open_store(url)
    try:
        with store.session() as session:
            runs = list(session.exec(select(SyncRun)))
    finally:
        store.dispose()

    assert done.returncode != 0
    assert [(r.job, r.outcome) for r in runs] == [("pull", "failed")]
    assert "not-the-password" not in (runs[0].error or "")


def test_status_counts_only_records_that_still_exist_in_salesforce(
    org: LocalOrg, tmp_path: Path
) -> None:
    account = org.insert("Account", {"Name": "Kept", "NumberOfEmployees": 10})
    gone = org.insert(
        "Opportunity",
        {
            "Name": "Deleted later",
            "AccountId": account,
            "StageName": "Prospecting",
            "CloseDate": "2026-12-20",
        },
    )
    env = {
        **os.environ,
        **org.env(),
        "SFSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'status.db'}",
    }
    assert run_sfsync("sync", env=env).returncode == 0
    org.delete("Opportunity", gone)
    assert run_sfsync("sync", env=env).returncode == 0

    done = run_sfsync("status", "--format", "json", env=env)

    assert json.loads(done.stdout)["counts"]["opportunities"] == 0
    assert json.loads(done.stdout)["counts"]["accounts"] == 1
