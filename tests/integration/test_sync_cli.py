"""`sfsync sync` tells what each step of the cycle did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from sfsync.localorg import LocalOrg
from sfsync.store.db import open_store
from sfsync.store.models import SyncRun


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

    done = _sfsync(env, "sync")

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

    done = _sfsync(env, "sync")
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
    assert _sfsync(env, "sync").returncode == 0
    org.delete("Opportunity", gone)
    assert _sfsync(env, "sync").returncode == 0

    done = _sfsync(env, "status", "--format", "json")

    assert json.loads(done.stdout)["counts"]["opportunities"] == 0
    assert json.loads(done.stdout)["counts"]["accounts"] == 1


def _sfsync(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sfsync", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
