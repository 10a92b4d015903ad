"""Sending outbox rows: sObject Collections of up to 200, or one Bulk API 2.0 job.

Results are matched to rows by position (Collections) or by Id (Bulk), never
trusted to carry an id on failure. Rows refused for a passing reason (a
locked row) are sent again within the run, after a short wait and on their
own, so that rows already accepted are never sent twice.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sfsync.errors import LimitReachedError, SalesforceError, TransientSalesforceError
from sfsync.logs import get_logger
from sfsync.push.outbox import Outcome
from sfsync.salesforce.bulk import bulk_ingest
from sfsync.salesforce.client import SalesforceClient
from sfsync.store.models import OutboxRow

__all__ = ["COLLECTION_SIZE", "SendReport", "plan_batches", "send_rows"]

log = get_logger(__name__)

COLLECTION_SIZE = 200
# Record-level error codes that a later attempt can clear.
TRANSIENT_RECORD_CODES = frozenset(
    {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG"}
)
# Bulk API 2.0 writes null as this marker; an empty CSV value leaves the
# field unchanged.
BULK_NULL = "#N/A"


@dataclass
class SendReport:
    """What one send did: rows by outcome, calls, and how they went."""

    via: str = "collections"
    sent: int = 0
    parked: int = 0
    deferred: int = 0
    batches: int = 0
    retried: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    stopped: bool = False

    def count(self, outcome: Outcome) -> None:
        if outcome.result == "sent":
            self.sent += 1
            return
        if outcome.result == "park":
            self.parked += 1
        else:
            self.deferred += 1
        code = outcome.error_code or "UNKNOWN"
        self.errors[code] = self.errors.get(code, 0) + 1


def plan_batches(
    rows: Sequence[OutboxRow], *, size: int = COLLECTION_SIZE
) -> list[list[OutboxRow]]:
    """Pack rows into as few batches as fit, keeping each group in one batch.

    A group (an account and its opportunities) is split only when it alone
    holds more than ``size`` rows; concurrent writes to one account's
    children are what make Salesforce answer UNABLE_TO_LOCK_ROW.
    """
    groups: dict[str, list[OutboxRow]] = defaultdict(list)
    for row in rows:
        groups[row.group_key or row.record_id].append(row)
    pieces: list[list[OutboxRow]] = []
    for members in groups.values():
        pieces.extend(
            members[start : start + size] for start in range(0, len(members), size)
        )
    # First fit, largest pieces first: within a few batches of the optimum.
    pieces.sort(key=len, reverse=True)
    batches: list[list[OutboxRow]] = []
    for piece in pieces:
        for batch in batches:
            if len(batch) + len(piece) <= size:
                batch.extend(piece)
                break
        else:
            batches.append(list(piece))
    return batches


def _first_error(result: dict[str, Any]) -> tuple[str, str]:
    errors = result.get("errors") or [{}]
    first = errors[0] if isinstance(errors[0], dict) else {}
    code = str(first.get("statusCode") or first.get("errorCode") or "UNKNOWN")
    message = str(first.get("message") or "no message")
    fields = first.get("fields") or []
    if fields:
        message += f" (fields: {', '.join(str(f) for f in fields)})"
    return code, message


class _Sender:
    def __init__(
        self,
        client: SalesforceClient,
        record: Callable[[list[Outcome]], None],
        report: SendReport,
    ) -> None:
        self.client = client
        self.record = record
        self.report = report

    def settle(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            self.report.count(outcome)
        self.record(outcomes)

    def collection(self, batch: list[OutboxRow]) -> list[OutboxRow]:
        """Send one batch; returns the rows to try again within the run."""
        body = {
            "allOrNone": False,
            "records": [
                {"attributes": {"type": r.sobject}, "id": r.record_id, **r.fields}
                for r in batch
            ],
        }
        self.report.batches += 1
        try:
            results = self.client.request_json(
                "PATCH",
                "composite/sobjects",
                operation="push update",
                json=body,
            )
        except (LimitReachedError, TransientSalesforceError):
            raise
        except SalesforceError as exc:
            # The whole call was refused (a body Salesforce cannot read):
            # every row of it is parked with the reason.
            self.settle(
                [Outcome(r.id or 0, "park", exc.error_code, exc.message) for r in batch]
            )
            return []
        if not isinstance(results, list) or len(results) != len(batch):
            raise SalesforceError(
                f"push update: Salesforce answered {len(results)} results for "
                f"{len(batch)} records; the outbox rows stay queued",
                hint="run the push again; if it repeats, report the reply",
            )
        outcomes: list[Outcome] = []
        again: list[OutboxRow] = []
        for row, result in zip(batch, results, strict=True):
            if result.get("success"):
                outcomes.append(Outcome(row.id or 0, "sent"))
                continue
            code, message = _first_error(result)
            if code in TRANSIENT_RECORD_CODES:
                again.append(row)
                row.error_code, row.error = code, message
            else:
                outcomes.append(Outcome(row.id or 0, "park", code, message))
        self.settle(outcomes)
        return again

    def bulk(self, rows: Sequence[OutboxRow]) -> list[OutboxRow]:
        by_object: dict[str, list[OutboxRow]] = defaultdict(list)
        for row in rows:
            by_object[row.sobject].append(row)
        again: list[OutboxRow] = []
        for sobject, members in by_object.items():
            self.report.batches += 1
            data = [
                {"Id": r.record_id, **{k: _csv(v) for k, v in r.fields.items()}}
                for r in members
            ]
            result = bulk_ingest(self.client, sobject, data, operation="update")
            outcomes: list[Outcome] = []
            for row in members:
                if row.record_id in result.succeeded:
                    outcomes.append(Outcome(row.id or 0, "sent"))
                elif row.record_id in result.failed:
                    code, _, message = result.failed[row.record_id].partition(":")
                    if code in TRANSIENT_RECORD_CODES:
                        again.append(row)
                        row.error_code, row.error = code, message
                    else:
                        outcomes.append(Outcome(row.id or 0, "park", code, message))
                else:
                    again.append(row)
                    row.error_code = "UNPROCESSED"
                    row.error = f"Bulk API 2.0 job {result.job_id} left it unprocessed"
            self.settle(outcomes)
        return again


def _csv(value: Any) -> str:
    if value is None:
        return BULK_NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def send_rows(
    client: SalesforceClient,
    rows: Sequence[OutboxRow],
    *,
    record: Callable[[list[Outcome]], None],
    bulk_threshold: int,
    retry_rounds: int = 2,
    retry_wait_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    stop: threading.Event | None = None,
) -> SendReport:
    """Write ``rows`` to Salesforce; ``record`` stores each batch's outcomes at once.

    Storing per batch means a crash or a reached limit loses nothing: rows
    not yet recorded are still pending and go out on the next push. ``stop``
    (set on shutdown) is checked between batches: the batch in flight is
    sent and recorded, the rest stay pending for the next start.
    """
    report = SendReport(via="bulk" if len(rows) > bulk_threshold else "collections")
    sender = _Sender(client, record, report)
    pending: list[OutboxRow] = list(rows)
    for round_number in range(retry_rounds + 1):
        if round_number:
            if stop is not None and stop.is_set():
                report.stopped = True
                break
            report.retried += len(pending)
            log.info("push_retrying_rows", rows=len(pending), round=round_number)
            sleep(retry_wait_s * 2 ** (round_number - 1))
        again: list[OutboxRow] = []
        try:
            if report.via == "bulk" and round_number == 0:
                again = sender.bulk(pending)
            else:
                batches = plan_batches(pending)
                for number, batch in enumerate(batches):
                    if number and stop is not None and stop.is_set():
                        report.stopped = True
                        log.info(
                            "push_stopped",
                            rows_left=sum(len(b) for b in batches[number:]),
                        )
                        break
                    again.extend(sender.collection(batch))
        except TransientSalesforceError as exc:
            # Salesforce stayed unavailable through the client's retries.
            sender.settle(
                [
                    Outcome(r.id or 0, "retry", exc.error_code, exc.message)
                    for r in again
                ]
            )
            raise
        pending = again
        if not pending or report.stopped:
            break
    sender.settle([Outcome(r.id or 0, "retry", r.error_code, r.error) for r in pending])
    return report
