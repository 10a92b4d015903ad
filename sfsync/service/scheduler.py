"""`sfsync run`: the jobs under APScheduler, each run guarded by a database lock.

Choices made explicit here rather than left to APScheduler's defaults:

- stable job ids (the job's name), so logs and metrics keep one name per job;
- ``max_instances=1`` and ``coalesce=True``: a job never overlaps itself in a
  process, and run times missed while it was busy (or the process was down)
  collapse into one run;
- ``misfire_grace_time``: a run that starts later than this after its time is
  skipped and counted as missed rather than run late;
- a listener that logs and counts job errors and missed runs, because
  APScheduler itself only logs a job's exception and moves on;
- across processes and replicas, each run takes the job's lock first
  (:func:`sfsync.service.locks.job_lock`); a replica that finds it held skips
  that run without error.

Job definitions live outside the library, in ``jobs/<name>.py`` modules that
each expose ``JOB = JobSpec(...)``; they are loaded from a directory at start,
so the library never imports them. Schedules are overridden in a ``[schedule]``
table (see :func:`schedule_overrides`).
"""

from __future__ import annotations

import importlib.util
import signal
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from sfsync.errors import ConfigError, ConflictError
from sfsync.logs import bind_run, get_logger
from sfsync.service.locks import DEFAULT_TTL_S, job_lock
from sfsync.service.metrics import ServiceMetrics

__all__ = [
    "DEFAULT_MISFIRE_GRACE_S",
    "JobContext",
    "JobSpec",
    "Service",
    "load_job_specs",
    "parse_schedule",
    "schedule_overrides",
]

log = get_logger(__name__)

DEFAULT_MISFIRE_GRACE_S = 120
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass
class JobContext:
    """What a job run gets: the app, the day it runs for, and the stop signal.

    ``stop`` is set on SIGTERM / SIGINT; a job checks it between its steps or
    batches and returns early once what it has done is committed.
    """

    app: Any
    today: date
    stop: threading.Event
    lock_lost: Any = None

    @property
    def stopping(self) -> bool:
        return self.stop.is_set() or bool(self.lock_lost)


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: its name, default schedule, lock and what it runs.

    ``schedule`` is ``"every 5m"`` (s, m, h or d), ``"cron <5 crontab fields>"``
    in UTC, or ``None`` for a job that only runs when given a schedule.
    """

    name: str
    run: Callable[[JobContext], Any]
    schedule: str | None
    lock: str
    description: str = ""
    lock_ttl_s: float = DEFAULT_TTL_S


def parse_schedule(text: str, *, where: str) -> BaseTrigger | None:
    """A trigger from ``every 5m`` / ``cron 0 2 * * *`` / ``off``."""
    value = text.strip()
    if value.lower() in {"off", "none", ""}:
        return None
    kind, _, rest = value.partition(" ")
    rest = rest.strip()
    if kind == "every" and rest[:-1].isdigit() and rest[-1:] in _UNITS:
        seconds = int(rest[:-1]) * _UNITS[rest[-1]]
        if seconds <= 0:
            raise ConfigError(f"{where}: schedule {text!r} must be a positive interval")
        return IntervalTrigger(seconds=seconds, timezone=UTC)
    if kind == "cron":
        try:
            return CronTrigger.from_crontab(rest, timezone=UTC)
        except ValueError as exc:
            raise ConfigError(f"{where}: schedule {text!r}: {exc}") from None
    raise ConfigError(
        f"{where}: schedule {text!r} is not understood",
        hint='write "every 5m" (s, m, h, d), "cron 0 2 * * *" (UTC) or "off"',
    )


def schedule_overrides(config_dir: Path) -> tuple[dict[str, str], Path | None]:
    """The ``[schedule]`` table: job name -> schedule, and the file it came from.

    Read from ``schedule.toml`` beside ``sfsync.toml``, for a deployment that
    keeps its schedule apart; ``sfsync run`` lays it over the settings'
    ``schedule`` (the ``[schedule]`` table of ``sfsync.toml``, or
    SFSYNC_SCHEDULE).
    """
    for name in ("schedule.toml",):
        path = config_dir / name
        if not path.is_file():
            continue
        try:
            table = tomllib.loads(path.read_text("utf-8")).get("schedule")
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        if table is None:
            continue
        if not isinstance(table, dict) or not all(
            isinstance(v, str) for v in table.values()
        ):
            raise ConfigError(
                f"{path}: [schedule] must map job names to strings",
                hint='for example: pull = "every 5m"',
            )
        return {str(k): str(v) for k, v in table.items()}, path
    return {}, None


def load_job_specs(directory: Path) -> list[JobSpec]:
    """Every ``JOB`` defined by a ``*.py`` module in ``directory``, by name."""
    if not directory.is_dir():
        raise ConfigError(
            f"job directory {directory} does not exist",
            hint="run from the project folder or pass --jobs-dir",
        )
    specs: dict[str, JobSpec] = {}
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module_name = f"sfsync_jobs_{path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        job = getattr(module, "JOB", None)
        if isinstance(job, JobSpec):
            if job.name in specs:
                raise ConfigError(f"{path}: a second job named {job.name!r}")
            specs[job.name] = job
    return [specs[name] for name in sorted(specs)]


@dataclass
class Service:
    """The scheduler, its jobs and the stop signal of one `sfsync run` process."""

    app: Any
    specs: list[JobSpec]
    metrics: ServiceMetrics
    overrides: dict[str, str] = field(default_factory=dict)
    misfire_grace_s: int = DEFAULT_MISFIRE_GRACE_S
    today: Callable[[], date] = field(default=lambda: datetime.now(UTC).date())
    stop: threading.Event = field(default_factory=threading.Event)
    scheduler: BackgroundScheduler | None = field(default=None, init=False)

    def triggers(self) -> dict[str, BaseTrigger]:
        unknown = set(self.overrides) - {s.name for s in self.specs}
        if unknown:
            raise ConfigError(
                f"[schedule] names unknown jobs: {', '.join(sorted(unknown))}",
                hint="known jobs: " + ", ".join(s.name for s in self.specs),
            )
        chosen: dict[str, BaseTrigger] = {}
        for spec in self.specs:
            text = self.overrides.get(spec.name, spec.schedule)
            trigger = (
                parse_schedule(text, where=f"schedule of job {spec.name}")
                if text
                else None
            )
            if trigger is not None:
                chosen[spec.name] = trigger
        return chosen

    def run_job(self, spec: JobSpec) -> Any:
        """One run of ``spec``: under its lock, timed, counted; skipped if held."""
        if self.stop.is_set():
            return None
        started = time.monotonic()
        with bind_run(f"job:{spec.name}"):
            try:
                with job_lock(self.app.store, spec.lock, ttl_s=spec.lock_ttl_s) as lost:
                    context = JobContext(self.app, self.today(), self.stop, lost)
                    result = spec.run(context)
            except ConflictError:
                log.info("job_skipped_lock_held", lock=spec.lock)
                self.metrics.runs.labels(spec.name, "skipped").inc()
                return None
            except BaseException:
                self.metrics.runs.labels(spec.name, "failed").inc()
                self.metrics.duration.labels(spec.name).observe(
                    time.monotonic() - started
                )
                raise
        self.metrics.runs.labels(spec.name, "succeeded").inc()
        self.metrics.duration.labels(spec.name).observe(time.monotonic() - started)
        return result

    def _listen(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_ERROR:
            assert isinstance(event, JobExecutionEvent)
            self.metrics.failures.labels(event.job_id).inc()
            log.error("job_failed", job=event.job_id, error=event.exception)
        elif event.code == EVENT_JOB_MISSED:
            self.metrics.missed.labels(event.job_id, "misfire").inc()
            log.warning(
                "job_run_missed",
                job=event.job_id,
                scheduled=str(getattr(event, "scheduled_run_time", "")),
                grace_s=self.misfire_grace_s,
            )
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            self.metrics.missed.labels(event.job_id, "still_running").inc()
            log.warning("job_run_skipped_still_running", job=event.job_id)

    def start(self, *, first_run_now: bool = True) -> BackgroundScheduler:
        triggers = self.triggers()
        if not triggers:
            raise ConfigError(
                "no job has a schedule",
                hint="give at least one job a schedule in the [schedule] table",
            )
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=len(triggers))},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": self.misfire_grace_s,
            },
            timezone=UTC,
        )
        scheduler.add_listener(
            self._listen, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
        )
        by_name = {s.name: s for s in self.specs}
        now = datetime.now(UTC)
        for name, trigger in triggers.items():
            # Interval jobs run once at start, so a restart does not wait a
            # whole interval; cron jobs keep their clock times.
            first = (
                now if first_run_now and isinstance(trigger, IntervalTrigger) else None
            )
            scheduler.add_job(
                self.run_job,
                trigger,
                args=[by_name[name]],
                id=name,
                name=name,
                replace_existing=True,
                **({"next_run_time": first} if first else {}),
            )
        scheduler.start()
        self.scheduler = scheduler
        log.info(
            "scheduler_started",
            jobs={n: str(t) for n, t in triggers.items()},
            misfire_grace_s=self.misfire_grace_s,
        )
        return scheduler

    @property
    def running(self) -> bool:
        return self.scheduler is not None and bool(self.scheduler.running)

    def request_stop(self, reason: str) -> None:
        if not self.stop.is_set():
            log.info("service_stopping", reason=reason)
        self.stop.set()

    def shutdown(self) -> None:
        """Stop scheduling, wait for the runs in flight to commit and return."""
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        log.info("service_stopped")

    def install_signal_handlers(self) -> None:
        def handler(signum: int, _frame: FrameType | None) -> None:
            self.request_stop(signal.Signals(signum).name)

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def wait(self, *, poll_s: float = 0.5) -> None:
        """Block until a stop is requested (signals arrive on the main thread)."""
        while not self.stop.wait(poll_s):
            pass

    def run_once(self, names: Iterable[str] | None = None) -> dict[str, Any]:
        """Run the scheduled jobs (or ``names``) once each, in name order."""
        wanted = set(names) if names is not None else set(self.triggers())
        return {
            spec.name: self.run_job(spec) for spec in self.specs if spec.name in wanted
        }
