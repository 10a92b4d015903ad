"""The push step on its own: off by default, since every pull job runs it."""

from __future__ import annotations

import importlib
from typing import Any

from sfsync.service.scheduler import JobContext, JobSpec

SYNC_LOCK = "sync"


def run(context: JobContext) -> Any:
    module = importlib.import_module("sfsync.push.job")
    return module.run_push(context.app, today=context.today)


JOB = JobSpec(
    name="push",
    run=run,
    schedule=None,
    lock=SYNC_LOCK,
    description="write changed onboarding fields to Salesforce from the outbox",
)
