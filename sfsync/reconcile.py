"""Reconciliation: the mirror against Salesforce, and pushed fields against desired.

The mirror part compares the full (Id, SystemModstamp) set of each pulled
object with the local one: a record Salesforce no longer returns (hard
deleted, purged from the recycle bin, out of the 15 days ``/deleted`` covers)
is marked deleted locally; a record whose stamp differs (drift) or that is
missing locally is re-read by Id and stored. The pushed-fields part asks the
push for its plan against values freshly read from Salesforce and lists each
difference; with ``fix`` the differences are queued in the outbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, select, update

from sfsync.logs import get_logger
from sfsync.mapping import ConversionStats, parse_sf_datetime
from sfsync.pull import PullPlan, row_for, upsert_rows
from sfsync.push.job import plan_push
from sfsync.push.outbox import queue_changes
from sfsync.runs import recorded_run
from sfsync.salesforce.bulk import bulk_query
from sfsync.salesforce.client import QueryTimeoutError
from sfsync.salesforce.soql import literal
from sfsync.salesforce.soql import select as soql_select
from sfsync.service.locks import SYNC_LOCK, job_lock
from sfsync.store.models import SyncState

__all__ = [
    "FieldDifference",
    "MirrorReport",
    "ReconcileReport",
    "reconcile",
    "reconcile_mirror",
    "reconcile_pushed",
]

log = get_logger(__name__)

IDS_PER_QUERY = 200


@dataclass
class MirrorReport:
    """What the mirror comparison found (and repaired) for one object."""

    sobject: str
    in_salesforce: int = 0
    local: int = 0
    missing_in_salesforce: list[str] = field(default_factory=list)
    drifted: list[str] = field(default_factory=list)
    missing_locally: list[str] = field(default_factory=list)
    # Of ``drifted``, those stamped after the last pull read Salesforce: edits
    # (sfsync's own pushes among them) the next incremental pull would bring
    # anyway, as against drift it would never see.
    changed_since_pull: int = 0
    repaired: bool = False
    nul_bytes_removed: int = 0


@dataclass(frozen=True)
class FieldDifference:
    sobject: str
    record_id: str
    field: str
    in_salesforce: Any
    desired: Any


@dataclass
class ReconcileReport:
    mirror: list[MirrorReport] = field(default_factory=list)
    pushed: list[FieldDifference] = field(default_factory=list)
    pushed_checked: bool = False
    pushed_note: str | None = None
    queued: int = 0


def _millis(value: datetime | None) -> int | None:
    if value is None:
        return None
    return int(value.astimezone(UTC).timestamp() * 1000)


def _remote_stamps(app: Any, sobject: str) -> dict[str, int | None]:
    """Every (Id, SystemModstamp) of ``sobject`` in Salesforce, deleted ones aside.

    A REST query over a whole large object can time out in Salesforce
    (QUERY_TIMEOUT); the same set is then read through a Bulk API 2.0 job,
    which runs without that limit, instead of failing the reconcile.
    """
    operation = f"reconcile {sobject}"
    try:
        return _stamps_of(
            record
            for page in app.client.query_pages(
                soql_select(sobject, ["Id", "SystemModstamp"], order_by=["Id"]),
                operation=operation,
            )
            for record in page.records
        )
    except QueryTimeoutError:
        log.warning("reconcile_query_timed_out", sobject=sobject, next="bulk job")
    return _stamps_of(
        bulk_query(
            app.client,
            soql_select(sobject, ["Id", "SystemModstamp"]),
            page_size=app.settings.bulk_page_size,
        )
    )


def _stamps_of(records: Iterable[Mapping[str, Any]]) -> dict[str, int | None]:
    stamps: dict[str, int | None] = {}
    for record in records:
        raw = record.get("SystemModstamp")
        stamps[str(record["Id"])] = _millis(parse_sf_datetime(raw)) if raw else None
    return stamps


def _refetch(app: Any, plan: PullPlan, ids: list[str]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for first in range(0, len(ids), IDS_PER_QUERY):
        chunk = ids[first : first + IDS_PER_QUERY]
        soql = soql_select(
            plan.mapping.sobject, plan.soql_fields(), where=f"Id IN {literal(chunk)}"
        )
        for page in app.client.query_pages(
            soql, operation=f"reconcile re-pull {plan.mapping.sobject}"
        ):
            records.extend(page.records)
    return records


def reconcile_mirror(app: Any, *, repair: bool = True) -> list[MirrorReport]:
    """Compare each pulled object's (Id, SystemModstamp) set; repair when asked."""
    reports = []
    now = datetime.now(UTC)
    for plan in app.plans():
        sobject = plan.mapping.sobject
        table: Table = plan.mapping.table.__table__
        # The local set is read first: a record stored after this read (by a
        # pull that did not hold the lock) then shows up as missing locally and
        # is re-read, which is harmless. Read the other way round, it would be
        # local but absent from the older Salesforce set and wrongly deleted.
        with app.store.session() as session:
            local = {
                rid: (_millis(stamp), deleted)
                for rid, stamp, deleted in session.execute(
                    select(table.c.id, table.c.system_modstamp, table.c.is_deleted)
                )
            }
            state = session.get(SyncState, sobject)
            pulled_until = _millis(
                (state.read_until or state.watermark) if state is not None else None
            )
        remote = _remote_stamps(app, sobject)
        report = MirrorReport(sobject, in_salesforce=len(remote), local=len(local))
        for rid, (stamp, deleted) in local.items():
            if deleted:
                continue
            if rid not in remote:
                report.missing_in_salesforce.append(rid)
            elif remote[rid] != stamp:
                report.drifted.append(rid)
                remote_stamp = remote[rid]
                if (
                    pulled_until is not None
                    and remote_stamp is not None
                    and remote_stamp > pulled_until
                ):
                    report.changed_since_pull += 1
        report.missing_locally = sorted(
            rid
            for rid in remote
            if rid not in local or local[rid][1]  # deleted locally, alive there
        )
        report.missing_in_salesforce.sort()
        report.drifted.sort()
        if repair:
            _repair(app, plan, table, report, now)
        log.info(
            "reconcile_mirror",
            sobject=sobject,
            in_salesforce=report.in_salesforce,
            local=report.local,
            missing_in_salesforce=len(report.missing_in_salesforce),
            drifted=len(report.drifted),
            changed_since_pull=report.changed_since_pull,
            missing_locally=len(report.missing_locally),
            repaired=repair,
            nul_bytes_removed=report.nul_bytes_removed,
        )
        reports.append(report)
    return reports


def _repair(
    app: Any, plan: PullPlan, table: Table, report: MirrorReport, now: datetime
) -> None:
    stats = ConversionStats()
    with app.store.transaction() as session:
        for first in range(0, len(report.missing_in_salesforce), IDS_PER_QUERY):
            chunk = report.missing_in_salesforce[first : first + IDS_PER_QUERY]
            session.execute(
                update(table)
                .where(table.c.id.in_(chunk))
                .values(is_deleted=True, deleted_at=now)
            )
    refetch = report.drifted + report.missing_locally
    if refetch:
        records = _refetch(app, plan, refetch)
        rows = [row_for(plan, r, stats, now) for r in records]
        with app.store.transaction() as session:
            upsert_rows(session, table, rows, keep_extra=plan.hides_extra)
    report.repaired = True
    report.nul_bytes_removed = stats.nul_bytes_removed


def _differences(change: Any) -> list[FieldDifference]:
    sobject = str(getattr(change, "sobject", ""))
    record_id = str(getattr(change, "record_id", ""))
    fields = getattr(change, "fields", None) or {}
    previous = getattr(change, "previous", None) or {}
    return [
        FieldDifference(sobject, record_id, name, previous.get(name), value)
        for name, value in sorted(fields.items())
    ]


def reconcile_pushed(
    app: Any, *, today: date, fix: bool = False
) -> tuple[list[FieldDifference], int, str | None]:
    """Differences between the pushed fields in Salesforce and the desired values.

    Uses the push's own plan, refreshed from Salesforce; returns the
    differences, how many records were queued (with ``fix``), and a note when
    the comparison could not be made.
    """
    changes = plan_push(app, today=today, refresh_from_salesforce=True)
    differences = [d for change in changes for d in _differences(change)]
    queued = (
        queue_changes(app.store, changes, now=datetime.now(UTC)).queued if fix else 0
    )
    return differences, queued, None


def reconcile(
    app: Any,
    *,
    today: date | None = None,
    fix: bool = False,
    repair_mirror: bool = True,
    lock: bool = True,
) -> ReconcileReport:
    """Both comparisons, recorded as one ``reconcile`` run.

    It holds the ``sync`` lock, as a cycle does: a pull storing records while
    the sets are compared, or a push sending what ``fix`` queues, would race
    it. ``lock=False`` is for a caller that already holds it (the scheduler).
    """
    if lock:
        with job_lock(app.store, SYNC_LOCK):
            return _reconcile(app, today=today, fix=fix, repair_mirror=repair_mirror)
    return _reconcile(app, today=today, fix=fix, repair_mirror=repair_mirror)


def _reconcile(
    app: Any, *, today: date | None, fix: bool, repair_mirror: bool
) -> ReconcileReport:
    today = today or datetime.now(UTC).date()
    report = ReconcileReport()
    with recorded_run(app.store, "reconcile", calls=app.client) as run:
        report.mirror = reconcile_mirror(app, repair=repair_mirror)
        differences, queued, note = reconcile_pushed(app, today=today, fix=fix)
        report.pushed, report.queued, report.pushed_note = differences, queued, note
        report.pushed_checked = note is None
        run.read = sum(m.in_salesforce for m in report.mirror)
        run.written = (
            sum(
                len(m.missing_in_salesforce) + len(m.drifted) + len(m.missing_locally)
                for m in report.mirror
                if m.repaired
            )
            + queued
        )
        run.details.update(
            mirror={
                m.sobject: {
                    "missing_in_salesforce": len(m.missing_in_salesforce),
                    "drifted": len(m.drifted),
                    "missing_locally": len(m.missing_locally),
                    "nul_bytes_removed": m.nul_bytes_removed,
                }
                for m in report.mirror
            },
            pushed_differences=len(report.pushed),
            pushed_note=note,
        )
    return report
