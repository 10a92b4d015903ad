"""The push step on its own: off by default, since every pull job runs it."""

from __future__ import annotations

from typing import Any

from sfsync.push.job import run_push
from sfsync.service.locks import SYNC_LOCK
from sfsync.service.scheduler import JobContext, JobSpec


def run(context: JobContext) -> Any:
    return run_push(context.app, today=context.today)


JOB = JobSpec(
    name="push",
    run=run,
    schedule=None,
    lock=SYNC_LOCK,
    description="write changed onboarding fields to Salesforce from the outbox",
)
