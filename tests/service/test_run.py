"""`sfsync run` as real processes: two replicas on one database, and SIGTERM."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from sfsync.localorg import LocalOrg
from sfsync.store.db import Store, open_store
from sfsync.store.models import OutboxRow, Project, SyncRun
from tests.service.conftest import ROOT, config_with_schedule, subprocess_env, won_deal


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "sfsync", "run", "--metrics-port", "0", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _count(store: Store, model: type, *where: object) -> int:
    with store.session() as session:
        query = select(func.count()).select_from(model)
        for clause in where:
            query = query.where(clause)  # type: ignore[arg-type]
        return int(session.execute(query).scalar() or 0)


def _wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def _stop(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=120)
    return process.returncode, err.decode()


def test_two_replicas_make_one_project_per_won_deal_and_never_overlap(
    org: LocalOrg, tmp_path: Path, postgres_url: str
) -> None:
    account = org.insert("Account", {"Name": "Customer", "NumberOfEmployees": 200})
    for n in range(10):
        org.insert("Opportunity", won_deal(account, n))
    open_store(postgres_url).dispose()
    config = config_with_schedule(tmp_path, {"pull": "every 2s"})
    env = subprocess_env(org, postgres_url, tmp_path / "state")
    env["SFSYNC_CONFIG_DIR"] = str(config)
    store = open_store(postgres_url)

    replicas = [_start(env), _start(env)]
    for n in range(10, 20):
        org.insert("Opportunity", won_deal(account, n))
        time.sleep(0.3)
    settled = _wait_for(lambda: _count(store, Project) == 20, 90)
    time.sleep(5)  # more cycles on both replicas with nothing new
    stopped = [_stop(r) for r in replicas]

    assert settled, stopped[0][1][-3000:]
    assert [code for code, _ in stopped] == [0, 0], stopped[0][1][-2000:]
    with store.session() as session:
        projects = list(session.execute(select(Project.opportunity_id)).scalars())
        pulls = list(
            session.execute(
                select(SyncRun)
                .where(SyncRun.job == "pull")  # type: ignore[arg-type]
                .order_by(SyncRun.started_at)  # type: ignore[arg-type]
            ).scalars()
        )
        sent = _count(store, OutboxRow, OutboxRow.status == "sent")  # type: ignore[arg-type]
    assert len(projects) == len(set(projects)) == 20
    assert all(p.outcome == "succeeded" for p in pulls)
    for before, after in itertools.pairwise(pulls):
        assert before.finished_at <= after.started_at, "two pulls overlapped"
    assert org.stats()["record_writes"] == sent


def test_sigterm_during_a_cycle_finishes_it_and_the_next_start_completes(
    org: LocalOrg, tmp_path: Path
) -> None:
    account = org.insert("Account", {"Name": "Customer", "NumberOfEmployees": 200})
    for n in range(30):
        org.insert("Opportunity", won_deal(account, n))
    url = f"sqlite:///{tmp_path / 'svc.db'}"
    store = open_store(url)
    config = config_with_schedule(tmp_path, {"pull": "every 1h"})
    env = subprocess_env(org, url, tmp_path / "state")
    env["SFSYNC_CONFIG_DIR"] = str(config)
    org.set_latency(300)

    service = _start(env)
    started = _wait_for(lambda: _count(store, SyncRun) > 0, 60)
    code, err = _stop(service)
    org.set_latency(0)
    unfinished = _count(store, SyncRun, SyncRun.outcome == "running")  # type: ignore[arg-type]
    again = subprocess.run(
        [sys.executable, "-m", "sfsync", "run", "--once"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )

    assert started
    assert code == 0, err[-2000:]
    assert unfinished == 0
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    assert _count(store, Project) == 30
    assert _count(store, OutboxRow, OutboxRow.status == "pending") == 0  # type: ignore[arg-type]


def test_sigterm_during_a_push_sends_the_batch_in_flight_and_loses_no_row(
    org: LocalOrg, tmp_path: Path
) -> None:
    accounts = [
        org.insert("Account", {"Name": f"Customer {a}", "NumberOfEmployees": 200})
        for a in range(20)
    ]
    for a, account in enumerate(accounts):
        for n in range(30):
            org.insert("Opportunity", won_deal(account, a * 100 + n))
    url = f"sqlite:///{tmp_path / 'svc.db'}"
    store = open_store(url)
    config = config_with_schedule(tmp_path, {"pull": "every 1h"})
    env = subprocess_env(org, url, tmp_path / "state")
    env["SFSYNC_CONFIG_DIR"] = str(config)
    org.set_latency(300)

    service = _start(env)
    queued = _wait_for(lambda: _count(store, OutboxRow) > 0, 120)
    code, err = _stop(service)
    org.set_latency(0)
    total = _count(store, OutboxRow)
    sent_before_restart = _count(store, OutboxRow, OutboxRow.status == "sent")  # type: ignore[arg-type]
    pending_before_restart = _count(store, OutboxRow, OutboxRow.status == "pending")  # type: ignore[arg-type]
    writes_before_restart = org.stats()["record_writes"]
    again = subprocess.run(
        [sys.executable, "-m", "sfsync", "run", "--once"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=180,
        check=False,
    )

    assert queued
    assert code == 0, err[-2000:]
    # 600 opportunities and 20 accounts: several batches, stopped after the
    # one in flight; every row is either sent or still pending.
    assert total == 620
    assert 0 < sent_before_restart < total
    assert sent_before_restart + pending_before_restart == total
    assert writes_before_restart == sent_before_restart
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    assert _count(store, OutboxRow, OutboxRow.status == "pending") == 0  # type: ignore[arg-type]
    assert _count(store, OutboxRow, OutboxRow.status == "sent") == total  # type: ignore[arg-type]
    assert org.stats()["record_writes"] == total  # each record written once
