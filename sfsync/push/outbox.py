"""The push outbox: field changes wait here until Salesforce has accepted them.

One open row per record: ``pending`` (to send, possibly after a backoff) or
``parked`` (refused for a reason a retry cannot fix, shown until someone acts).
Each push recomputes the diff, so an open row always holds the newest
values; a row whose change Salesforce already holds is ``superseded``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session, col, select

from sfsync.push.diff import Change
from sfsync.store.db import Store
from sfsync.store.models import Account, Opportunity, OutboxRow

__all__ = [
    "OPEN_STATUSES",
    "Outcome",
    "QueueCounts",
    "due_rows",
    "list_rows",
    "queue_changes",
    "record_outcomes",
    "requeue_parked",
]

OPEN_STATUSES = ("pending", "parked")


@dataclass
class QueueCounts:
    queued: int = 0
    updated: int = 0
    reopened: int = 0
    still_parked: int = 0
    superseded: int = 0


@dataclass(frozen=True)
class Outcome:
    """What Salesforce said about one outbox row's write."""

    row_id: int
    result: Literal["sent", "retry", "park"]
    error_code: str | None = None
    error: str | None = None


def _open_rows(session: Session) -> dict[tuple[str, str], OutboxRow]:
    rows = session.exec(
        select(OutboxRow).where(col(OutboxRow.status).in_(OPEN_STATUSES))
    )
    return {(r.sobject, r.record_id): r for r in rows}


def queue_changes(
    store: Store, changes: Sequence[Change], *, now: datetime
) -> QueueCounts:
    """Bring the open outbox rows in line with ``changes``, in one transaction."""
    counts = QueueCounts()
    with store.transaction() as session:
        open_rows = _open_rows(session)
        for change in changes:
            row = open_rows.pop((change.sobject, change.record_id), None)
            if row is None:
                counts.queued += 1
                row = OutboxRow(
                    sobject=change.sobject,
                    record_id=change.record_id,
                    created_at=now,
                )
            elif row.status == "parked":
                if row.fields == change.fields:
                    # The same write was refused for good; sending it again
                    # would only be refused again.
                    counts.still_parked += 1
                    continue
                counts.reopened += 1
                row.attempts = 0
                row.error_code = row.error = None
                row.next_attempt_at = None
            elif row.fields != change.fields:
                counts.updated += 1
            row.status = "pending"
            row.group_key = change.group_key
            row.fields = dict(change.fields)
            row.previous = dict(change.previous)
            row.updated_at = now
            session.add(row)
        for row in open_rows.values():
            counts.superseded += 1
            row.status = "superseded"
            row.updated_at = now
            session.add(row)
    return counts


def due_rows(store: Store, *, now: datetime) -> list[OutboxRow]:
    """Pending rows whose backoff has passed, in a stable order."""
    with store.session() as session:
        query = (
            select(OutboxRow)
            .where(col(OutboxRow.status) == "pending")
            .order_by(col(OutboxRow.group_key), col(OutboxRow.id))
        )
        return [
            r
            for r in session.exec(query)
            if r.next_attempt_at is None or r.next_attempt_at <= now
        ]


def record_outcomes(
    store: Store,
    outcomes: Iterable[Outcome],
    *,
    now: datetime,
    max_attempts: int,
    backoff: timedelta,
) -> None:
    """Store each row's outcome; a sent row's values become the record's pushed state.

    A row that keeps failing for a passing reason is parked after
    ``max_attempts`` sends, so that it is shown instead of retried forever.
    """
    with store.transaction() as session:
        for outcome in outcomes:
            row = session.get(OutboxRow, outcome.row_id)
            if row is None:
                continue
            row.attempts += 1
            row.updated_at = now
            if outcome.result == "sent":
                row.status = "sent"
                row.sent_at = now
                row.error_code = row.error = None
                _remember_pushed(session, row)
            else:
                row.error_code = outcome.error_code
                row.error = outcome.error
                if outcome.result == "park" or row.attempts >= max_attempts:
                    row.status = "parked"
                else:
                    row.next_attempt_at = now + backoff * (2 ** (row.attempts - 1))
            session.add(row)


def _remember_pushed(session: Session, row: OutboxRow) -> None:
    # Salesforce now holds these values; the next pull of the record (its
    # SystemModstamp moved) replaces them with what Salesforce reports.
    record: Opportunity | Account | None
    if row.sobject == "Opportunity":
        record = session.get(Opportunity, row.record_id)
    else:
        record = session.get(Account, row.record_id)
    if record is not None:
        record.sf_pushed = {**record.sf_pushed, **row.fields}
        session.add(record)


def requeue_parked(store: Store, *, ids: Sequence[int] = (), now: datetime) -> int:
    """Put parked rows (all, or those with ``ids``) back in the queue."""
    with store.transaction() as session:
        query = select(OutboxRow).where(col(OutboxRow.status) == "parked")
        if ids:
            query = query.where(col(OutboxRow.id).in_(ids))
        rows = list(session.exec(query))
        for row in rows:
            row.status = "pending"
            row.attempts = 0
            row.next_attempt_at = None
            row.updated_at = now
            session.add(row)
    return len(rows)


def list_rows(
    store: Store, *, statuses: Sequence[str] = OPEN_STATUSES, limit: int = 100
) -> list[OutboxRow]:
    with store.session() as session:
        query = (
            select(OutboxRow)
            .where(col(OutboxRow.status).in_(statuses))
            .order_by(col(OutboxRow.id))
            .limit(limit)
        )
        return list(session.exec(query))
