"""Prometheus /metrics and a /healthz probe, served from a thread of `sfsync run`."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Histogram, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text

from sfsync.logs import get_logger
from sfsync.service.status import job_summaries, outbox_counts
from sfsync.store.db import Store

__all__ = ["MetricsServer", "ServiceMetrics", "database_answers"]

log = get_logger(__name__)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class ServiceMetrics:
    """The service's counters, plus figures read from the database at each scrape."""

    def __init__(
        self,
        store: Store,
        *,
        client: Any = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.registry = registry or CollectorRegistry()
        self.runs = Counter(
            "sfsync_job_runs",
            "Scheduled job runs, by job and outcome.",
            ["job", "outcome"],
            registry=self.registry,
        )
        self.failures = Counter(
            "sfsync_job_failures",
            "Scheduled job runs that raised an error.",
            ["job"],
            registry=self.registry,
        )
        self.missed = Counter(
            "sfsync_job_missed",
            "Run times the scheduler missed (past the misfire grace time, or the "
            "previous run still going).",
            ["job", "reason"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "sfsync_job_duration_seconds",
            "How long scheduled job runs took.",
            ["job"],
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
            registry=self.registry,
        )
        self.registry.register(_StoreCollector(store, client))


class _StoreCollector(Collector):
    """Gauges computed when scraped, so every replica reports the shared truth."""

    def __init__(self, store: Store, client: Any) -> None:
        self.store = store
        self.client = client

    def collect(self) -> Iterator[GaugeMetricFamily]:
        usage = getattr(self.client, "usage", None)
        if self.client is not None:
            calls = GaugeMetricFamily(
                "sfsync_api_calls_made",
                "API calls this process has made since it started.",
                value=float(getattr(self.client, "calls", 0)),
            )
            yield calls
        if usage is not None:
            yield GaugeMetricFamily(
                "sfsync_api_usage_used",
                "The org's API calls used today (last Sforce-Limit-Info seen).",
                value=float(usage.used),
            )
            yield GaugeMetricFamily(
                "sfsync_api_usage_limit",
                "The org's daily API allocation.",
                value=float(usage.limit),
            )
            yield GaugeMetricFamily(
                "sfsync_api_usage_remaining",
                "API calls left today for the whole org.",
                value=float(usage.remaining),
            )
        try:
            outbox = outbox_counts(self.store)
            jobs = job_summaries(self.store)
        except Exception as exc:  # a scrape must answer even when the DB does not
            log.warning("metrics_database_unavailable", error=exc)
            yield GaugeMetricFamily(
                "sfsync_database_up", "Whether the database answered.", value=0.0
            )
            return
        yield GaugeMetricFamily(
            "sfsync_database_up", "Whether the database answered.", value=1.0
        )
        yield GaugeMetricFamily(
            "sfsync_outbox_pending",
            "Outbox rows waiting to be written to Salesforce.",
            value=float(outbox.get("pending", 0)),
        )
        yield GaugeMetricFamily(
            "sfsync_outbox_parked",
            "Outbox rows parked with a permanent error, waiting for a person.",
            value=float(outbox.get("parked", 0)),
        )
        since = GaugeMetricFamily(
            "sfsync_seconds_since_success",
            "Seconds since each recorded job last succeeded.",
            labels=["job"],
        )
        last_calls = GaugeMetricFamily(
            "sfsync_last_run_api_calls",
            "API calls spent by each job's last run.",
            labels=["job"],
        )
        for job, summary in sorted(jobs.items()):
            if summary["seconds_since_success"] is not None:
                since.add_metric([job], float(summary["seconds_since_success"]))
            if "last_run" in summary:
                last_calls.add_metric([job], float(summary["last_run"]["api_calls"]))
        yield since
        yield last_calls


def database_answers(store: Store) -> bool:
    try:
        with store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds would flood the log; stay quiet."""


class MetricsServer:
    """Serves ``/metrics`` and ``/healthz`` on 127.0.0.1 or any host, in a thread.

    ``healthy`` is asked on each probe: it returns whether the service is
    working and a JSON-able detail. The probe answers 503 when it is not.
    """

    def __init__(
        self,
        metrics: ServiceMetrics,
        healthy: Callable[[], tuple[bool, dict[str, Any]]],
        *,
        host: str = "127.0.0.1",
        port: int = 9464,
    ) -> None:
        self.metrics = metrics
        self.healthy = healthy
        exporter = make_wsgi_app(metrics.registry)

        def application(
            environ: dict[str, Any], start_response: StartResponse
        ) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if path == "/healthz":
                ok, detail = self.healthy()
                body = json.dumps(
                    {"status": "ok" if ok else "unavailable", **detail}, default=str
                ).encode()
                status = "200 OK" if ok else "503 Service Unavailable"
                start_response(status, [("Content-Type", "application/json")])
                return [body]
            if path == "/metrics":
                return exporter(environ, start_response)  # type: ignore[no-any-return]
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found: try /metrics or /healthz\n"]

        self._server = make_server(
            host,
            port,
            application,
            server_class=_ThreadingServer,
            handler_class=_QuietHandler,
        )
        self.port: int = self._server.server_port
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="metrics-http",
            daemon=True,
        )
        self._thread.start()
        log.info("metrics_serving", port=self.port)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
