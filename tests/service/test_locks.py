"""Job locks: one holder at a time, across processes, on PostgreSQL and SQLite."""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sfsync.errors import ConflictError
from sfsync.service.locks import advisory_key, job_lock
from sfsync.store.db import Store, open_store
from sfsync.store.models import JobLock


def _hold_lock(url: str, barrier: Any, results: Any) -> None:
    store = open_store(url)
    barrier.wait()
    try:
        with job_lock(store, "pull", ttl_s=30):
            results.put("ran")
            time.sleep(1.5)
    except ConflictError:
        results.put("refused")
    finally:
        store.dispose()


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_two_processes_contending_for_a_job_lock_run_it_once(
    dialect: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'locks.db'}"
        if dialect == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    open_store(url).dispose()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_hold_lock, args=(url, barrier, results)) for _ in range(2)
    ]

    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    outcomes = sorted(results.get(timeout=5) for _ in workers)
    assert outcomes == ["ran", "refused"]


def test_a_held_lock_refuses_at_once_and_is_free_again_after_release(
    store: Store,
) -> None:
    with job_lock(store, "pull"):
        started = time.monotonic()
        with pytest.raises(ConflictError) as caught, job_lock(store, "pull"):
            pass
        refused_in = time.monotonic() - started

    with job_lock(store, "pull"):
        pass

    assert caught.value.retryable
    assert refused_in < 1


def test_a_waiting_caller_gets_the_lock_once_the_holder_releases_it(
    store: Store,
) -> None:
    # Set just before the holder lets go: the waiter may take the lock the
    # moment it is released, before the holder's thread runs another line.
    releasing = threading.Event()

    def hold_briefly() -> None:
        with job_lock(store, "pull", holder="first"):
            time.sleep(1.2)
            releasing.set()

    holder = threading.Thread(target=hold_briefly)
    holder.start()
    time.sleep(0.2)
    with job_lock(store, "pull", holder="second", wait_s=30):
        got_it_after_release = releasing.is_set()
    holder.join()

    assert got_it_after_release


def test_a_waiting_caller_gives_up_with_a_conflict_after_its_wait(
    store: Store,
) -> None:
    with job_lock(store, "pull", holder="first"):
        started = time.monotonic()
        with (
            pytest.raises(ConflictError),
            job_lock(store, "pull", holder="second", wait_s=1.5),
        ):
            pass
        waited = time.monotonic() - started

    assert waited >= 1.5


def test_different_jobs_do_not_block_each_other(store: Store) -> None:
    with job_lock(store, "pull"), job_lock(store, "snapshot"):
        ran = True

    assert ran


def test_an_expired_sqlite_lease_of_a_dead_process_is_taken_over(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'lease.db'}")
    past = datetime.now(UTC) - timedelta(seconds=5)
    with store.transaction() as session:
        session.add(
            JobLock(
                name="pull",
                holder="gone:1:x",
                acquired_at=past - timedelta(minutes=2),
                expires_at=past,
            )
        )

    with job_lock(store, "pull", holder="me"), store.session() as session:
        holder = session.get(JobLock, "pull").holder  # type: ignore[union-attr]

    assert holder == "me"
    with store.session() as session:
        assert session.get(JobLock, "pull") is None


def test_a_sqlite_lease_is_renewed_while_the_job_runs(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'lease.db'}")

    with job_lock(store, "pull", ttl_s=0.6) as lost:
        time.sleep(1.5)
        with pytest.raises(ConflictError), job_lock(store, "pull"):
            pass

    assert not lost


def test_the_advisory_key_is_stable_and_differs_per_job() -> None:
    assert advisory_key("pull") == advisory_key("pull")
    assert advisory_key("pull") != advisory_key("snapshot")
    assert -(2**63) <= advisory_key("pull") < 2**63
