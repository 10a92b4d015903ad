"""/metrics in Prometheus text format and /healthz, from the database's figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from sfsync.salesforce.client import ApiUsage
from sfsync.service.metrics import MetricsServer, ServiceMetrics
from sfsync.service.status import service_status
from sfsync.store.db import Store, open_store
from sfsync.store.models import OutboxRow, SyncRun


class FakeClient:
    calls = 42
    usage = ApiUsage(used=1200, limit=15000)


def _seed(store: Store, now: datetime) -> None:
    with store.transaction() as session:
        session.add(
            SyncRun(
                id="r1",
                job="pull",
                started_at=now - timedelta(seconds=70),
                finished_at=now - timedelta(seconds=60),
                outcome="succeeded",
                api_calls=7,
            )
        )
        session.add(
            SyncRun(
                id="r2",
                job="push",
                started_at=now - timedelta(seconds=30),
                finished_at=now - timedelta(seconds=29),
                outcome="failed",
                error="boom",
            )
        )
        for status in ("pending", "pending", "pending", "parked", "sent"):
            session.add(
                OutboxRow(sobject="Opportunity", record_id="006x", status=status)
            )


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_endpoint_serves_the_service_figures_in_prometheus_format(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    _seed(store, datetime.now(UTC))
    metrics = ServiceMetrics(store, client=FakeClient())
    metrics.runs.labels("pull", "succeeded").inc()
    metrics.failures.labels("push").inc()
    server = MetricsServer(metrics, lambda: (True, {}), host="127.0.0.1", port=0)
    server.start()
    try:
        reply = requests.get(f"http://127.0.0.1:{server.port}/metrics", timeout=10)
    finally:
        server.stop()

    samples = _samples(reply.text)
    assert reply.status_code == 200
    assert (
        samples[("sfsync_job_runs_total", (("job", "pull"), ("outcome", "succeeded")))]
        == 1
    )
    assert samples[("sfsync_job_failures_total", (("job", "push"),))] == 1
    assert samples[("sfsync_outbox_pending", ())] == 3
    assert samples[("sfsync_outbox_parked", ())] == 1
    assert samples[("sfsync_api_usage_used", ())] == 1200
    assert samples[("sfsync_api_usage_remaining", ())] == 13800
    assert samples[("sfsync_api_calls_made", ())] == 42
    assert 59 < samples[("sfsync_seconds_since_success", (("job", "pull"),))] < 120
    assert samples[("sfsync_last_run_api_calls", (("job", "pull"),))] == 7


def test_healthz_answers_503_when_the_service_is_not_healthy(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    healthy = {"ok": True}
    server = MetricsServer(
        ServiceMetrics(store),
        lambda: (healthy["ok"], {"database": healthy["ok"]}),
        host="127.0.0.1",
        port=0,
    )
    server.start()
    try:
        up = requests.get(f"http://127.0.0.1:{server.port}/healthz", timeout=10)
        healthy["ok"] = False
        down = requests.get(f"http://127.0.0.1:{server.port}/healthz", timeout=10)
    finally:
        server.stop()

    assert (up.status_code, up.json()["status"]) == (200, "ok")
    assert (down.status_code, down.json()["database"]) == (503, False)


def test_service_status_reports_jobs_outbox_and_last_api_calls(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    now = datetime.now(UTC)
    _seed(store, now)

    status = service_status(store, now=now)

    assert status["jobs"]["pull"]["seconds_since_success"] == 60
    assert status["jobs"]["push"]["last_failure"] is not None
    assert status["jobs"]["push"]["last_success"] is None
    assert status["outbox"]["pending"] == 3
    assert status["outbox"]["parked"] == 1
    assert status["last_run_api_calls"] == 0
