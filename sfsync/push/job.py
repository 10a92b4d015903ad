"""The push step: diff what Salesforce should hold, queue the changes, send them."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import select

from sfsync.app import App
from sfsync.errors import ConfigError
from sfsync.logs import get_logger
from sfsync.pull import jsonable
from sfsync.push.desired import desired_records, load_push_inputs
from sfsync.push.diff import Change, diff_records
from sfsync.push.mapping import PushMapping, check_push_describe, load_push_mapping
from sfsync.push.outbox import (
    Outcome,
    QueueCounts,
    due_rows,
    queue_changes,
    record_outcomes,
)
from sfsync.push.send import SendReport, send_rows
from sfsync.runs import recorded_run
from sfsync.salesforce.client import SalesforceClient
from sfsync.salesforce.soql import literal
from sfsync.salesforce.soql import select as soql_select
from sfsync.store.models import Account, Opportunity, Project

__all__ = ["PushReport", "plan_push", "push_mapping", "run_push"]

log = get_logger(__name__)

# A row refused for a passing reason is parked after this many pushes, and
# waits this long (doubling each time) before the next one.
MAX_ATTEMPTS = 5
RETRY_BACKOFF = timedelta(minutes=5)

# Describe is checked once per client (per process), not on every cycle.
_described: weakref.WeakKeyDictionary[SalesforceClient, set[str]] = (
    weakref.WeakKeyDictionary()
)


@dataclass
class PushReport:
    """What one push did, for the cycle report, the CLI and the run record."""

    changes: list[Change] = field(default_factory=list)
    queue: QueueCounts = field(default_factory=QueueCounts)
    send: SendReport | None = None
    api_calls: int = 0
    dry_run: bool = False

    def details(self) -> dict[str, Any]:
        return {
            "changes": len(self.changes),
            "fields": sum(len(c.fields) for c in self.changes),
            "queue": asdict(self.queue),
            "send": asdict(self.send) if self.send else None,
            "api_calls": self.api_calls,
        }


def push_mapping(app: App) -> PushMapping:
    path = app.settings.mappings_dir / "push.yaml"
    if not path.is_file():
        raise ConfigError(
            f"{path} does not exist; there is nothing to push",
            hint="copy mappings/push.yaml from the sfsync project, or point "
            "SFSYNC_MAPPINGS_DIR at a folder that has one",
        )
    return load_push_mapping(path)


REFRESH_CHUNK = 200


def refresh_pushed(app: App, mapping: PushMapping) -> int:
    """Re-read the pushed fields of every record that has a project from Salesforce.

    Queries of up to 200 Ids each (the IN list keeps the URL far below
    Salesforce's limit); the values land in ``sf_pushed`` as a pull would put
    them. Returns how many records were read.
    """
    tables: dict[str, type[Opportunity] | type[Account]] = {
        "Opportunity": Opportunity,
        "Account": Account,
    }
    read = 0
    with app.store.session() as session:
        opportunity_ids = list(session.exec(select(Project.opportunity_id)))
        account_ids = sorted({a for a in session.exec(select(Project.account_id)) if a})
    wanted = {"Opportunity": opportunity_ids, "Account": account_ids}
    for sobject, fields in mapping.objects.items():
        names = [f.name for f in fields]
        ids = wanted.get(sobject, [])
        for first in range(0, len(ids), REFRESH_CHUNK):
            chunk = ids[first : first + REFRESH_CHUNK]
            soql = soql_select(sobject, ["Id", *names], where=f"Id IN {literal(chunk)}")
            held: dict[str, dict[str, Any]] = {}
            for page in app.client.query_pages(soql, operation=f"refresh {sobject}"):
                for record in page.records:
                    held[str(record["Id"])] = {
                        n: jsonable(record.get(n)) for n in names
                    }
            with app.store.transaction() as session:
                for record_id, values in held.items():
                    row: Any = session.get(tables[sobject], record_id)
                    if row is not None:
                        row.sf_pushed = {**(row.sf_pushed or {}), **values}
                        session.add(row)
            read += len(held)
    return read


def plan_push(
    app: App,
    mapping: PushMapping | None = None,
    *,
    today: date | None = None,
    refresh_from_salesforce: bool = False,
) -> list[Change]:
    """The field changes a push would write now.

    From the local store alone, or, with ``refresh_from_salesforce``, after
    re-reading what Salesforce holds in the pushed fields (for reconcile).
    ``today`` is accepted for symmetry with the other steps; the values come
    from the latest KPI snapshots, which carry their own day.
    """
    mapping = mapping or push_mapping(app)
    if refresh_from_salesforce:
        refresh_pushed(app, mapping)
    inputs = load_push_inputs(app.store)
    desired = desired_records(mapping, inputs.projects, live=inputs.held)
    return diff_records(mapping, desired, inputs.held)


def _check_fields(app: App, mapping: PushMapping, sobjects: set[str]) -> None:
    checked = _described.setdefault(app.client, set())
    for sobject in sorted(sobjects - checked):
        describe = app.describe(sobject)
        check_push_describe(mapping.objects[sobject], describe)
        checked.add(sobject)


def run_push(
    app: App,
    *,
    today: date | None = None,
    dry_run: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
    retry_wait_s: float = 1.0,
    stop: threading.Event | None = None,
) -> PushReport:
    """Push onboarding status and health to Salesforce: only fields that changed.

    Spends no API call when nothing changed. Describe is checked once per
    process, and only for objects with something to send. ``today`` is
    accepted for the cycle's sake; the values come from the stored KPI
    snapshots, which carry their own day. ``stop`` ends the send between
    batches (see :func:`send_rows`).
    """
    mapping = push_mapping(app)
    report = PushReport(dry_run=dry_run)
    calls_before = app.client.calls
    with recorded_run(app.store, "push", calls=app.client, dry_run=dry_run) as run:
        report.changes = plan_push(app, mapping)
        run.read = len(report.changes)
        if dry_run:
            log.info("push_planned", changes=len(report.changes))
            run.details = report.details()
            return report
        started = now()
        report.queue = queue_changes(app.store, report.changes, now=started)
        rows = due_rows(app.store, now=started)
        if rows:
            _check_fields(app, mapping, {r.sobject for r in rows})

            def record(outcomes: list[Outcome]) -> None:
                record_outcomes(
                    app.store,
                    outcomes,
                    now=now(),
                    max_attempts=MAX_ATTEMPTS,
                    backoff=RETRY_BACKOFF,
                )

            try:
                report.send = send_rows(
                    app.client,
                    rows,
                    record=record,
                    bulk_threshold=app.settings.bulk_push_threshold,
                    retry_wait_s=retry_wait_s,
                    sleep=sleep,
                    stop=stop,
                )
            finally:
                report.api_calls = app.client.calls - calls_before
                run.details = report.details()
            run.written = report.send.sent
            run.failed = report.send.parked + report.send.deferred
        report.api_calls = app.client.calls - calls_before
        run.details = report.details()
        log.info(
            "push_finished",
            changes=len(report.changes),
            queued=report.queue.queued,
            due=len(rows),
            sent=report.send.sent if report.send else 0,
            parked=report.send.parked if report.send else 0,
            deferred=report.send.deferred if report.send else 0,
            api_calls=report.api_calls,
        )
    return report
