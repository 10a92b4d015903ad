"""PostgreSQL faults: connections dropped mid-transaction, two replicas at once."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy import event

from sfsync.app import App
from sfsync.localorg import LocalOrg

from .matrix import secrets_of
from .scenario import (
    Recovery,
    differences,
    end_state,
    records_in,
    run_until_success,
    seed_org,
    settle,
)
from .summary import Tally

pytestmark = pytest.mark.postgres

# step: a statement that only that step runs; the connection is cut right
# after the first one, inside the step's open transaction.
STEPS = {
    "pull": "INSERT INTO opportunity",
    "handoff": "INSERT INTO project_task",
    "kpis": "INSERT INTO kpi_snapshot",
    "push": "INSERT INTO push_outbox",
}
QUICK_STEPS = ["handoff"]
FULL_STEPS = [s for s in STEPS if s not in QUICK_STEPS]


def _terminate_others(postgres_url: str) -> int:
    """Cut every other connection to the test's database, as a failover would."""
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def _drop_connections_at(app: App, postgres_url: str, statement: str) -> dict[str, int]:
    fired = {"count": 0, "terminated": 0}

    def after_execute(_conn: Any, _cursor: Any, sql: str, *_rest: Any) -> None:
        if fired["count"] == 0 and sql.lstrip().upper().startswith(statement.upper()):
            fired["count"] += 1
            fired["terminated"] = _terminate_others(postgres_url)

    event.listen(app.store.engine, "after_cursor_execute", after_execute)
    return fired


def _dropped(
    fault_org: LocalOrg,
    apps: Callable[..., App],
    baseline: Callable[..., Any],
    tally: Tally,
    postgres_url: str,
    step: str,
) -> None:
    expected = baseline()
    seeded = seed_org(fault_org)
    app = apps(fault_org, postgres_url)
    app.store  # noqa: B018 - migrate before the fault is armed
    fired = _drop_connections_at(app, postgres_url, STEPS[step])
    base = datetime.now(UTC)

    recovery = run_until_success(app, base=base)
    settle(app, base=base)
    found = differences(expected, end_state(app, fault_org, seeded))
    unclear = [
        f"{type(e).__name__}: {str(e)[:300]}"
        for e in recovery.failures
        if not isinstance(e, Exception) or "SfsyncError" not in _ancestry(e)
    ]
    tally.add(
        faults_injected=fired["count"],
        runs_recovered=int(recovery.recovered),
        runs_not_recovered=int(not recovery.recovered),
        records_compared=records_in(expected),
        differences=len(found),
        unclear_errors=len(unclear),
    )

    assert fired["count"] == 1
    assert fired["terminated"] >= 1
    assert recovery.recovered, [str(e)[:300] for e in recovery.failures]
    assert found == [], "\n".join(found[:20])
    assert unclear == []


def _ancestry(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


@pytest.mark.parametrize("step", QUICK_STEPS)
def test_a_connection_dropped_mid_transaction_is_recovered_by_the_next_cycle(
    fault_org: LocalOrg,
    apps: Callable[..., App],
    baseline: Callable[..., Any],
    tally: Tally,
    postgres_url: str,
    step: str,
) -> None:
    _dropped(fault_org, apps, baseline, tally, postgres_url, step)


@pytest.mark.slow
@pytest.mark.parametrize("step", FULL_STEPS)
def test_a_connection_dropped_in_any_step_is_recovered_by_the_next_cycle(
    fault_org: LocalOrg,
    apps: Callable[..., App],
    baseline: Callable[..., Any],
    tally: Tally,
    postgres_url: str,
    step: str,
) -> None:
    _dropped(fault_org, apps, baseline, tally, postgres_url, step)


def _meet_at_push(barrier: threading.Barrier) -> Any:
    seen = {"describes": 0}

    def hook(response: Any, *_args: Any, **_kwargs: Any) -> None:
        if "/describe" not in response.url:
            return
        seen["describes"] += 1
        if seen["describes"] == 3:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()

    return hook


def test_two_replicas_running_the_same_cycle_at_once_create_and_send_nothing_twice(
    fault_org: LocalOrg,
    apps: Callable[..., App],
    baseline: Callable[..., Any],
    tally: Tally,
    postgres_url: str,
) -> None:
    expected = baseline()
    seeded = seed_org(fault_org)
    replicas = [apps(fault_org, postgres_url) for _ in range(2)]
    replicas[0].store  # noqa: B018 - migrate once, before both start
    base = datetime.now(UTC)
    results: list[Recovery] = []
    start = threading.Barrier(2)
    # Both replicas meet again once each has planned its push (its first
    # push describe), so that the two pushes overlap on every run.
    planned = threading.Barrier(2, timeout=60)
    for app in replicas:
        app.client.http.hooks["response"].append(_meet_at_push(planned))
    fault_org.reset_stats()

    def run(app: App) -> None:
        start.wait()
        # The replica that finds the sync lock held is refused at once and
        # tries again until the other's cycle is done.
        results.append(
            run_until_success(
                app, base=base, between=lambda: time.sleep(0.5), max_cycles=240
            )
        )

    threads = [threading.Thread(target=run, args=(a,)) for a in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    written = fault_org.stats()["record_writes"]
    settle(replicas[0], base=base)
    state = end_state(replicas[0], fault_org, seeded)
    found = differences(expected, state)
    pushed_once = sum(expected["outbox_delivered"].values())
    if written > pushed_once:
        found.append(f"{written} record writes for {pushed_once} changed records")
    tally.add(
        faults_injected=1,
        runs_recovered=int(all(r.recovered for r in results)),
        runs_not_recovered=int(not all(r.recovered for r in results)),
        records_compared=records_in(expected),
        differences=len(found),
    )

    assert len(results) == 2
    assert all(r.recovered for r in results)
    leaked = [
        e
        for r in results
        for e in r.failures
        if any(s in str(e) for s in secrets_of(fault_org))
    ]
    assert leaked == []
    other = [f for f in found if not f.startswith("outbox_delivered")]
    assert other == [], "\n".join(other[:20])
    assert found == [], "\n".join(found[:20])
