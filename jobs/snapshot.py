"""The daily snapshot: KPIs for the new day at 00:15 UTC, even if Salesforce is down.

KPIs move with the date alone (a task becomes overdue overnight), and the
history of snapshots should have one row per project per day whatever the
pulls do; this job computes them from local data only. It takes the ``sync``
lock: when a cycle holds it, that cycle computes the day's KPIs itself, so
the skipped snapshot loses nothing.
"""

from __future__ import annotations

from typing import Any

from sfsync.kpi_job import run_kpis
from sfsync.service.locks import SYNC_LOCK
from sfsync.service.scheduler import JobContext, JobSpec


def run(context: JobContext) -> Any:
    return run_kpis(context.app, today=context.today)


JOB = JobSpec(
    name="snapshot",
    run=run,
    schedule="cron 15 0 * * *",
    lock=SYNC_LOCK,
    description="the day's KPI snapshot of every project",
)
