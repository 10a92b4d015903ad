"""Nightly reconciliation: hard deletes and drift the incremental pull cannot see.

A record hard-deleted or purged from the recycle bin never reaches ``queryAll``,
``/deleted`` covers only 15 days, and a mirror row can drift from Salesforce
while every incremental run reports success. Once a day the full
(Id, SystemModstamp) sets are compared and the mirror repaired, and pushed
fields that differ from their desired values are queued for the next push.
Its cost is one query per 2,000 records of each pulled object, plus the
re-reads; it runs at 01:30 UTC, away from the 00:15 snapshot.
"""

from __future__ import annotations

from typing import Any

from sfsync.reconcile import reconcile
from sfsync.service.locks import SYNC_LOCK
from sfsync.service.scheduler import JobContext, JobSpec


def run(context: JobContext) -> Any:
    # The scheduler already holds the sync lock for this run.
    return reconcile(context.app, today=context.today, fix=True, lock=False)


JOB = JobSpec(
    name="reconcile",
    run=run,
    schedule="cron 30 1 * * *",
    lock=SYNC_LOCK,
    description="compare the mirror and the pushed fields with Salesforce; repair",
)
