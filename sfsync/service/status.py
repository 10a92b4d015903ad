"""The service's state at a glance, from the database alone: jobs, outbox, API usage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, select

from sfsync.store.db import Store
from sfsync.store.models import OutboxRow, SyncRun

__all__ = ["job_summaries", "outbox_counts", "service_status"]

_RUNS: Table = SyncRun.__table__  # type: ignore[attr-defined]
_OUTBOX: Table = OutboxRow.__table__  # type: ignore[attr-defined]


def outbox_counts(store: Store) -> dict[str, int]:
    """Outbox rows by status (pending, parked, sent...)."""
    with store.session() as session:
        rows = session.execute(
            select(_OUTBOX.c.status, func.count()).group_by(_OUTBOX.c.status)
        ).all()
    return {str(status): int(count) for status, count in rows}


def job_summaries(store: Store, *, now: datetime | None = None) -> dict[str, Any]:
    """Per recorded job: last success, last failure, seconds since success, last run."""
    now = now or datetime.now(UTC)
    summaries: dict[str, dict[str, Any]] = {}
    with store.session() as session:
        succeeded = session.execute(
            select(_RUNS.c.job, func.max(_RUNS.c.finished_at))
            .where(_RUNS.c.outcome == "succeeded")
            .group_by(_RUNS.c.job)
        ).all()
        failed = session.execute(
            select(_RUNS.c.job, func.max(_RUNS.c.finished_at))
            .where(_RUNS.c.outcome.in_(["failed", "deferred"]))
            .group_by(_RUNS.c.job)
        ).all()
        latest = session.execute(
            select(_RUNS.c.job, func.max(_RUNS.c.started_at)).group_by(_RUNS.c.job)
        ).all()
        last_rows = {
            job: session.execute(
                select(_RUNS).where(_RUNS.c.job == job, _RUNS.c.started_at == started)
            ).first()
            for job, started in latest
        }
    for job, raw in succeeded:
        when = _aware(raw)
        summaries.setdefault(job, {})["last_success"] = when
        summaries[job]["seconds_since_success"] = (
            round((now - when).total_seconds(), 3) if when else None
        )
    for job, when in failed:
        summaries.setdefault(job, {})["last_failure"] = _aware(when)
    for job, row in last_rows.items():
        if row is None:
            continue
        summaries.setdefault(job, {})["last_run"] = {
            "id": row.id,
            "started_at": _aware(row.started_at),
            "finished_at": _aware(row.finished_at),
            "outcome": row.outcome,
            "api_calls": row.api_calls,
            "records_failed": row.records_failed,
            "error": row.error,
        }
    for summary in summaries.values():
        summary.setdefault("last_success", None)
        summary.setdefault("seconds_since_success", None)
        summary.setdefault("last_failure", None)
    return summaries


def _aware(value: Any) -> Any:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def service_status(store: Store, *, now: datetime | None = None) -> dict[str, Any]:
    """Jobs, outbox depth, parked rows and the API calls of the last runs.

    Everything comes from the database, so any replica (or ``sfsync status``
    run next to them) reports the same figures.
    """
    now = now or datetime.now(UTC)
    jobs = job_summaries(store, now=now)
    outbox = outbox_counts(store)
    last = max(
        (j["last_run"] for j in jobs.values() if "last_run" in j),
        key=lambda r: r["started_at"] or now,
        default=None,
    )
    return {
        "as_of": now,
        "jobs": jobs,
        "outbox": {
            "pending": outbox.get("pending", 0),
            "parked": outbox.get("parked", 0),
            "by_status": outbox,
        },
        "last_run_api_calls": last["api_calls"] if last else None,
    }
