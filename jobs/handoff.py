"""The handoff step on its own: off by default, since every pull job runs it."""

from __future__ import annotations

from typing import Any

from sfsync.handoff import run_handoff
from sfsync.service.locks import SYNC_LOCK
from sfsync.service.scheduler import JobContext, JobSpec


def run(context: JobContext) -> Any:
    return run_handoff(context.app, today=context.today)


JOB = JobSpec(
    name="handoff",
    run=run,
    schedule=None,
    lock=SYNC_LOCK,
    description="create, hold or resume projects from the mirror",
)
