"""The KPI step on its own: off by default, since every pull job runs it."""

from __future__ import annotations

import importlib
from typing import Any

from sfsync.service.scheduler import JobContext, JobSpec

SYNC_LOCK = "sync"


def run(context: JobContext) -> Any:
    module = importlib.import_module("sfsync.kpi_job")
    return module.run_kpis(context.app, today=context.today)


JOB = JobSpec(
    name="kpis",
    run=run,
    schedule=None,
    lock=SYNC_LOCK,
    description="compute each project's KPIs and health for the day",
)
