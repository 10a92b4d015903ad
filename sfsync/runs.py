"""Recording job runs: what each read, wrote, failed and spent, and how it ended."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import col, select

from sfsync.errors import LimitReachedError, SfsyncError, StoreError
from sfsync.logs import bind_run, get_logger, scrub
from sfsync.store.db import Store
from sfsync.store.models import SyncRun

__all__ = ["RunStats", "last_runs", "recorded_run"]

log = get_logger(__name__)


@dataclass
class RunStats:
    """Counters a run fills in as it goes."""

    run_id: str
    job: str
    read: int = 0
    written: int = 0
    deleted: int = 0
    failed: int = 0
    api_calls: int = 0
    details: dict[str, Any] = field(default_factory=dict)


def utcnow() -> datetime:
    return datetime.now(UTC)


@contextmanager
def recorded_run(
    store: Store, job: str, *, calls: Any = None, dry_run: bool = False
) -> Iterator[RunStats]:
    """Record a run's start, counts and outcome; the outcome is kept even on error.

    ``calls`` is anything with a ``calls`` attribute (the Salesforce client):
    the run records how many API calls it spent. A dry run records nothing.
    """
    with bind_run(job) as run_id:
        stats = RunStats(run_id=run_id, job=job)
        started = utcnow()
        calls_before = getattr(calls, "calls", 0)
        if not dry_run:
            with store.transaction() as session:
                session.add(SyncRun(id=run_id, job=job, started_at=started))
        log.info("run_started", dry_run=dry_run)
        outcome, error = "succeeded", None
        try:
            yield stats
        except LimitReachedError as exc:
            outcome, error = "deferred", str(exc)
            raise
        except SfsyncError as exc:
            outcome, error = "failed", str(exc)
            raise
        except (OperationalError, InterfaceError) as exc:
            # A read outside Store.transaction lost its connection: the same
            # clear, retryable error a transaction gives.
            outcome = "failed"
            lost = StoreError(
                f"the database connection failed during {job} "
                f"({type(exc.orig).__name__}: {str(exc.orig).strip()[:200]})",
                hint="the next cycle does it again; if it repeats, check the "
                "database server and SFSYNC_DATABASE_URL",
                retryable=True,
            )
            error = str(lost)
            raise lost from exc
        except BaseException as exc:
            outcome, error = "failed", scrub(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            stats.api_calls = getattr(calls, "calls", 0) - calls_before
            usage = getattr(calls, "usage", None)
            if usage is not None:
                stats.details["api_usage"] = {"used": usage.used, "limit": usage.limit}
            seconds = (utcnow() - started).total_seconds()
            if not dry_run:
                with store.transaction() as session:
                    run = session.get(SyncRun, run_id)
                    if run is not None:
                        run.finished_at = utcnow()
                        run.outcome = outcome
                        run.records_read = stats.read
                        run.records_written = stats.written
                        run.records_deleted = stats.deleted
                        run.records_failed = stats.failed
                        run.api_calls = stats.api_calls
                        run.error = error
                        run.details = stats.details
            event = log.info if outcome == "succeeded" else log.error
            event(
                "run_finished",
                outcome=outcome,
                read=stats.read,
                written=stats.written,
                deleted=stats.deleted,
                failed=stats.failed,
                api_calls=stats.api_calls,
                seconds=round(seconds, 3),
                **({"error": error} if error else {}),
            )


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def last_runs(store: Store, *, limit: int = 10) -> list[SyncRun]:
    with store.session() as session:
        query = select(SyncRun).order_by(col(SyncRun.started_at).desc()).limit(limit)
        return list(session.exec(query))
