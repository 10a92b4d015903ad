"""The pull job: every 5 minutes, one cycle (pull, hand off, KPIs, push) under one lock.

Handoff, KPIs and push consume what the pull just stored, so they run right
after it, in that order, inside the same run and under the same ``sync`` lock:
there is no window where a push reads a half-handed-off mirror, and no
ordering to coordinate between separately scheduled jobs or replicas. The
steps' own modules (handoff, kpis, push) can still be given a schedule of
their own; they take the same lock.
"""

from __future__ import annotations

from typing import Any

from sfsync.cycle import run_cycle
from sfsync.service.locks import SYNC_LOCK
from sfsync.service.scheduler import JobContext, JobSpec


def run(context: JobContext) -> Any:
    # The scheduler already holds the sync lock for this run.
    return run_cycle(context.app, today=context.today, stop=context.stop, lock=False)


JOB = JobSpec(
    name="pull",
    run=run,
    schedule="every 5m",
    lock=SYNC_LOCK,
    description="pull from Salesforce, then hand off, compute KPIs and push",
)
