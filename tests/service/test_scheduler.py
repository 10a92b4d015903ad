"""Schedules, job loading, and one run per lock even inside one process."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from sfsync.errors import ConfigError
from sfsync.service.locks import job_lock
from sfsync.service.metrics import ServiceMetrics
from sfsync.service.scheduler import (
    JobContext,
    JobSpec,
    Service,
    load_job_specs,
    parse_schedule,
    schedule_overrides,
)
from sfsync.store.db import open_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param("every 5m", IntervalTrigger, id="minutes"),
        pytest.param("every 30s", IntervalTrigger, id="seconds"),
        pytest.param("cron 15 0 * * *", CronTrigger, id="cron"),
        pytest.param("off", type(None), id="off"),
    ],
)
def test_schedules_are_read_from_their_short_form(text: str, kind: type) -> None:
    assert isinstance(parse_schedule(text, where="test"), kind)


@pytest.mark.parametrize("text", ["every five minutes", "cron 99 * * * *", "hourly"])
def test_a_wrong_schedule_is_a_config_error_naming_it(text: str) -> None:
    with pytest.raises(ConfigError, match="job pull"):
        parse_schedule(text, where="schedule of job pull")


def test_schedule_overrides_come_from_the_schedule_table(tmp_path: Path) -> None:
    (tmp_path / "schedule.toml").write_text('[schedule]\npull = "every 1m"\n')

    overrides, source = schedule_overrides(tmp_path)

    assert overrides == {"pull": "every 1m"}
    assert source == tmp_path / "schedule.toml"


def test_the_shipped_jobs_load_with_their_default_schedules() -> None:
    specs = {s.name: s for s in load_job_specs(ROOT / "jobs")}

    assert set(specs) == {"handoff", "kpis", "pull", "push", "reconcile", "snapshot"}
    assert specs["pull"].schedule == "every 5m"
    assert specs["snapshot"].schedule.startswith("cron")
    assert specs["reconcile"].schedule == "cron 30 1 * * *"
    assert {s.lock for s in specs.values()} == {"sync"}


class _App:
    def __init__(self, store: Any) -> None:
        self.store = store


def _metric(metrics: ServiceMetrics, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(
        generate_latest(metrics.registry).decode()
    ):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_a_run_whose_lock_is_held_elsewhere_is_skipped_and_counted(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    ran = threading.Event()
    spec = JobSpec(
        name="pull", run=lambda _c: ran.set(), schedule="every 5m", lock="sync"
    )
    metrics = ServiceMetrics(store)
    service = Service(_App(store), [spec], metrics)

    with job_lock(store, "sync"):
        service.run_job(spec)
    service.run_job(spec)

    assert ran.is_set()
    assert _metric(metrics, "sfsync_job_runs_total", job="pull", outcome="skipped") == 1
    assert (
        _metric(metrics, "sfsync_job_runs_total", job="pull", outcome="succeeded") == 1
    )


def test_a_job_sees_the_stop_signal_and_the_day(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    seen: list[JobContext] = []
    spec = JobSpec(name="pull", run=seen.append, schedule="every 5m", lock="sync")
    service = Service(
        _App(store), [spec], ServiceMetrics(store), today=lambda: date(2024, 6, 3)
    )

    service.run_job(spec)
    service.request_stop("test")
    service.run_job(spec)

    assert len(seen) == 1
    assert seen[0].today == date(2024, 6, 3)
    assert seen[0].stopping


def test_unknown_jobs_in_the_schedule_table_are_refused(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    spec = JobSpec(name="pull", run=lambda _c: None, schedule="every 5m", lock="sync")
    service = Service(
        _App(store), [spec], ServiceMetrics(store), overrides={"pul": "off"}
    )

    with pytest.raises(ConfigError, match="pul"):
        service.triggers()
