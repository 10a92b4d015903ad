"""One sync cycle: pull, hand off, compute KPIs, push; each a recorded run."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sfsync.app import App
from sfsync.handoff import HandoffResult, run_handoff
from sfsync.kpi_job import KpiRunReport, run_kpis
from sfsync.logs import get_logger
from sfsync.pull import PullResult, pull_all
from sfsync.push.job import PushReport, run_push
from sfsync.runs import recorded_run
from sfsync.service.locks import SYNC_LOCK, job_lock

__all__ = ["CycleReport", "run_cycle", "run_pull"]

log = get_logger(__name__)


@dataclass
class CycleReport:
    """What one cycle did, step by step, for the CLI and the demo to show."""

    pulls: list[PullResult] = field(default_factory=list)
    handoff: HandoffResult | None = None
    kpis: KpiRunReport | None = None
    push: PushReport | None = None
    steps: dict[str, Any] = field(default_factory=dict)
    api_calls: int = 0


def run_pull(app: App) -> list[PullResult]:
    # Inside the run record: a login or describe that fails (the org down,
    # credentials refused) is a failed pull in `sfsync status`, not silence.
    with recorded_run(app.store, "pull", calls=app.client) as run:
        plans = app.plans()
        results = pull_all(app.client, app.store, plans, settings=app.settings, run=run)
        run.details["objects"] = {
            r.sobject: {"read": r.read, "written": r.written, "via": r.via}
            for r in results
        }
    return results


def run_cycle(
    app: App,
    *,
    today: date | None = None,
    stop: threading.Event | None = None,
    lock: bool = True,
) -> CycleReport:
    """Run every step once, in order; a step's failure stops the ones after it.

    ``stop`` is checked between steps: a shutdown lets the step in flight
    finish and commit, and leaves the rest to the next cycle. The cycle holds
    the ``sync`` job lock, so two processes on one database (two replicas, or
    a `sfsync sync` beside `sfsync run`) never pull or push at the same time;
    the second gets a ConflictError at once. ``lock=False`` is for a caller
    that already holds it (the scheduler).
    """
    if lock:
        with job_lock(app.store, SYNC_LOCK):
            return _cycle(app, today=today, stop=stop)
    return _cycle(app, today=today, stop=stop)


def _cycle(
    app: App, *, today: date | None, stop: threading.Event | None
) -> CycleReport:
    today = today or datetime.now(UTC).date()
    report = CycleReport()
    calls_before = app.client.calls
    app.check_files()

    def stopping(step: str) -> bool:
        if stop is not None and stop.is_set():
            log.info("cycle_stopped", before=step)
            return True
        return False

    report.pulls = run_pull(app)
    if not stopping("handoff"):
        report.handoff = run_handoff(app, today=today)
    if not stopping("kpis"):
        report.kpis = run_kpis(app, today=today)
    if not stopping("push"):
        report.push = run_push(app, today=today, stop=stop)
    report.api_calls = app.client.calls - calls_before
    return report
