"""The KPI step on its own: off by default, since every pull job runs it."""

from __future__ import annotations

from typing import Any

from sfsync.kpi_job import run_kpis
from sfsync.service.locks import SYNC_LOCK
from sfsync.service.scheduler import JobContext, JobSpec


def run(context: JobContext) -> Any:
    return run_kpis(context.app, today=context.today)


JOB = JobSpec(
    name="kpis",
    run=run,
    schedule=None,
    lock=SYNC_LOCK,
    description="compute each project's KPIs and health for the day",
)
