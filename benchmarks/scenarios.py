"""Benchmark data, the minimum-call arithmetic and sfsync's measured steps."""

from __future__ import annotations

import json
import math
import random
import resource
import ssl
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = [
    "BULK_INGEST_CALLS",
    "BULK_RESULTS_PAGE",
    "COLLECTION_SIZE",
    "REST_PAGE",
    "STAMPS",
    "TODAY",
    "OrgAdmin",
    "Sizes",
    "account_records",
    "bulk_query_minimum",
    "collections_minimum",
    "cycle_once",
    "load_org",
    "measure",
    "metadata_dirs",
    "opportunity_records",
    "planned_push",
    "pull_minimum",
    "push_minimum",
    "rest_query_minimum",
    "run_sfsync_steps",
    "sour_projects",
    "write_spec",
]

# The day every cycle runs on, a Tuesday; won deals closed the day before so
# that their projects start healthy and a change of health stands out.
TODAY = date(2025, 6, 3)
# Record histories end before TODAY: the pull's overlap window then covers
# only the newest few records, as in an org whose data has aged.
HISTORY_START = datetime(2019, 1, 1, tzinfo=UTC)
HISTORY_END = datetime(2025, 5, 1, tzinfo=UTC)

REST_PAGE = 2000
COLLECTION_SIZE = 200
# localorg cuts Bulk API 2.0 query results into pages of at most this many
# rows whatever maxRecords asks for (Salesforce cuts them by size instead).
BULK_RESULTS_PAGE = 10_000
# create, upload, close, one poll, one results file (the successful rows).
BULK_INGEST_CALLS = 5

# Audit fields a record loaded "now" leaves for the org to fill in.
STAMPS = ("CreatedDate", "LastModifiedDate", "SystemModstamp")
INDUSTRIES = ("Banking", "Healthcare", "Retail", "Manufacturing", "Technology")
COUNTRIES = ("United States", "United Kingdom", "Germany", "France", "Canada")
OPEN_STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Negotiation/Review")
TYPES = ("New Customer", "Existing Customer - Upgrade")


@dataclass(frozen=True)
class Sizes:
    """How big each scenario is; ``--quick`` divides every size by ten."""

    pull_small: int = 10_000
    pull_large: int = 100_000
    projects: int = 10_000
    burst: int = 1_000
    quiet_share: float = 0.01
    kpi_small: int = 10_000
    kpi_large: int = 100_000
    accounts_per_opportunity: float = 0.25
    naive_sample: int = 100

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            pull_small=1_000,
            pull_large=10_000,
            projects=1_000,
            burst=100,
            kpi_small=1_000,
            kpi_large=10_000,
            naive_sample=40,
        )


# -- the minimum-call arithmetic (benchmarks/README.md explains it) ---------


def rest_query_minimum(records: int) -> int:
    """One call per page of 2,000 rows; an empty result still takes one call."""
    return max(1, math.ceil(records / REST_PAGE))


def bulk_query_minimum(records: int, *, page: int = BULK_RESULTS_PAGE) -> int:
    """Create the job, poll it once, fetch each results page."""
    return 2 + max(1, math.ceil(records / page))


def collections_minimum(records: int) -> int:
    """One sObject Collections call per 200 records; nothing to send costs none."""
    return math.ceil(records / COLLECTION_SIZE)


def push_minimum(records: int, *, via: str) -> int:
    if records == 0:
        return 0
    return BULK_INGEST_CALLS if via == "bulk" else collections_minimum(records)


def pull_minimum(records: int, *, via: str) -> int:
    return bulk_query_minimum(records) if via == "bulk" else rest_query_minimum(records)


# -- org data ----------------------------------------------------------------


def _wire(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _stamps(rng: random.Random, index: int, count: int) -> dict[str, str]:
    """Creation spread over the years, last change up to a year later."""
    span = (HISTORY_END - HISTORY_START).total_seconds()
    created = HISTORY_START + timedelta(seconds=span * index / max(count, 1))
    changed = min(created + timedelta(days=rng.uniform(0, 365)), HISTORY_END)
    return {
        "CreatedDate": _wire(created),
        "LastModifiedDate": _wire(changed),
        "SystemModstamp": _wire(changed),
    }


def account_records(count: int, *, seed: int = 11) -> Iterator[dict[str, Any]]:
    """Accounts of 50 to 900 employees, so that won deals get the mid-market plan."""
    rng = random.Random(seed)
    for n in range(count):
        yield {
            "Name": f"Customer {n:06d}",
            "Industry": INDUSTRIES[n % len(INDUSTRIES)],
            "BillingCountry": COUNTRIES[n % len(COUNTRIES)],
            "NumberOfEmployees": rng.randint(50, 900),
            "AnnualRevenue": float(rng.randint(1, 500) * 100_000),
            **_stamps(rng, n, count),
        }


def opportunity_records(
    count: int, account_ids: list[str], *, won: int, seed: int = 13
) -> Iterator[dict[str, Any]]:
    """``count`` deals spread over the accounts; the first ``won`` are Closed Won."""
    rng = random.Random(seed)
    for n in range(count):
        is_won = n < won
        close = TODAY if is_won else TODAY + timedelta(days=30)
        yield {
            "Name": f"Deal {n:06d}",
            "AccountId": account_ids[n % len(account_ids)],
            "StageName": "Closed Won" if is_won else OPEN_STAGES[n % len(OPEN_STAGES)],
            "CloseDate": close.isoformat(),
            "Amount": float(rng.randint(20, 90) * 1000),
            "Type": TYPES[n % len(TYPES)],
            "LeadSource": "Web",
            **_stamps(rng, n, count),
        }


def metadata_dirs(workdir: Path) -> list[Path]:
    """The custom fields an admin deploys: pulled ones and the exported pushed ones."""
    from sfsync.push.metadata import deployable_metadata
    from sfsync.settings import PROJECT_ROOT

    return deployable_metadata(
        config_dir=PROJECT_ROOT / "config",
        mappings_dir=PROJECT_ROOT / "mappings",
        workdir=workdir,
    )


def load_org(
    org: Any, opportunities: int, *, won: int, accounts_per_opportunity: float = 0.25
) -> list[str]:
    """Load accounts and opportunities straight into an org; returns account Ids."""
    accounts = max(1, int(opportunities * accounts_per_opportunity))
    account_ids: list[str] = org.load_records("Account", account_records(accounts))
    org.load_records(
        "Opportunity", opportunity_records(opportunities, account_ids, won=won)
    )
    return account_ids


# -- the org's uncounted admin endpoint, seen from a worker process ---------


class OrgAdmin:
    """Reads localorg's counters over its admin endpoint, which is not billed."""

    def __init__(self, base_url: str, ca_file: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.context = ssl.create_default_context(cafile=ca_file)

    def stats(self) -> dict[str, Any]:
        # An https URL of the org this process was handed; no other scheme.
        request = urllib.request.Request(  # noqa: S310
            f"{self.base_url}/__admin/stats", data=b"{}", method="POST"
        )
        with urllib.request.urlopen(request, context=self.context) as reply:  # noqa: S310
            result: dict[str, Any] = json.loads(reply.read())
            return result


def _status_kb(key: str) -> int | None:
    """A memory figure of this process from /proc (Linux), in kB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> None:
    """Start a new peak-RSS measurement (Linux: "5" to /proc/self/clear_refs).

    ``ru_maxrss`` is no use here: Linux carries it over ``exec`` from the
    parent, which holds the org and its 100,000 records.
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        pass


def _rss_kb() -> int:
    return _status_kb("VmRSS") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _peak_kb() -> int:
    return _status_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _org_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    endpoints = {
        k: v - before["by_endpoint"].get(k, 0)
        for k, v in after["by_endpoint"].items()
        if v - before["by_endpoint"].get(k, 0)
    }
    return {
        "total": after["total"] - before["total"],
        "writes": after["writes"] - before["writes"],
        "record_writes": after["record_writes"] - before["record_writes"],
        "by_endpoint": endpoints,
    }


def measure(
    name: str, fn: Callable[[], dict[str, Any]], admin: OrgAdmin | None, client: Any
) -> dict[str, Any]:
    """Run one step and record its calls, time and the process's peak memory."""
    before_org = admin.stats() if admin is not None else None
    calls_before = client.calls if client is not None else 0
    ops_before = dict(client.calls_by_operation) if client is not None else {}
    _reset_peak()
    rss_before = _rss_kb()
    started = time.perf_counter()
    details = fn()
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "step": name,
        "seconds": seconds,
        "rss_before_kb": rss_before,
        "rss_peak_kb": _peak_kb(),
        "details": details,
    }
    if client is not None:
        result["client_calls"] = client.calls - calls_before
        result["by_operation"] = {
            op: n - ops_before.get(op, 0)
            for op, n in client.calls_by_operation.items()
            if n - ops_before.get(op, 0)
        }
    if admin is not None and before_org is not None:
        result["org"] = _org_delta(before_org, admin.stats())
    return result


# -- sfsync's steps, run inside a fresh worker process ----------------------


def cycle_once(app: Any, today: date) -> dict[str, Any]:
    """One cycle: pull, hand off, KPIs, push.

    ``run_cycle`` when it runs all four steps; otherwise the four step
    functions in that order, so that a change of health is pushed in the
    cycle that computed it.
    """
    from sfsync import cycle
    from sfsync.handoff import run_handoff
    from sfsync.kpi_job import run_kpis
    from sfsync.push.job import run_push

    if {"run_kpis", "run_push"} <= set(cycle.run_cycle.__code__.co_names):
        report = cycle.run_cycle(app, today=today)
        kpis = getattr(report, "kpis", None)
        return {
            "via": "run_cycle",
            "kpis": {"computed": kpis.computed, "health": kpis.health}
            if kpis
            else None,
            "pulled": {p.sobject: [p.read, p.written, p.via] for p in report.pulls},
            "projects_created": len(report.handoff.created) if report.handoff else 0,
            "push": report.push.details() if report.push else None,
        }
    pulls = cycle.run_pull(app)
    created = run_handoff(app, today=today).created
    kpis = run_kpis(app, today=today)
    push = run_push(app, today=today)
    return {
        "via": "steps",
        "pulled": {p.sobject: [p.read, p.written, p.via] for p in pulls},
        "projects_created": len(created),
        "kpis": {"computed": kpis.computed, "health": kpis.health},
        "push": push.details(),
    }


def planned_push(app: Any) -> dict[str, Any]:
    """What the push would write now; the caller writes it into the org, uncounted.

    Setting up thousands of projects through the push would take minutes of
    local work that no scenario measures; the org then holds the same values
    a successful push leaves behind.
    """
    from sfsync.push.job import plan_push

    changes = [
        {"sobject": c.sobject, "id": c.record_id, "fields": c.fields}
        for c in plan_push(app)
    ]
    return {"records": len(changes), "changes": changes}


def sour_projects(app: Any, count: int, *, seed: int = 5) -> dict[str, Any]:
    """Give ``count`` projects, each on its own account, an unhappy customer."""
    from sqlmodel import select

    from sfsync.progress import record_sentiment
    from sfsync.store.models import Opportunity, Project

    with app.store.session() as session:
        rows = list(
            session.exec(
                select(Project.id, Opportunity.account_id)
                .join(Opportunity, Opportunity.id == Project.opportunity_id)  # type: ignore[arg-type]
                .where(Project.status == "active")
                .order_by(Project.id)  # type: ignore[arg-type]
            )
        )
    rng = random.Random(seed)
    rng.shuffle(rows)
    chosen: list[int] = []
    accounts: set[str | None] = set()
    for project_id, account_id in rows:
        if account_id in accounts:
            continue
        accounts.add(account_id)
        chosen.append(int(project_id))
        if len(chosen) == count:
            break
    at = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    for project_id in chosen:
        record_sentiment(
            app.store, project_id=project_id, score=1, actor="benchmark", at=at
        )
    return {"projects": len(chosen)}


def _kpi_engine(projects: int, *, seed: int = 7) -> dict[str, Any]:
    """compute_kpis over synthetic 30-task projects, history fitted once."""
    from sfsync.kpi import DEFAULT_HEALTH_RULES, build_history, compute_kpis
    from sfsync.kpi.bench import TODAY as KPI_TODAY
    from sfsync.kpi.bench import synthetic_project
    from sfsync.kpi.facts import WEEKENDS

    rng = random.Random(seed)
    finished = [synthetic_project(rng, i, finished=True) for i in range(500)]
    history = build_history(finished, calendar=WEEKENDS)
    health: dict[str, int] = {}
    started = time.perf_counter()
    # Projects are built one at a time and dropped, as the KPI job's chunks
    # are: memory measures the engine, not a list of 100,000 inputs.
    for index in range(projects):
        snapshot = compute_kpis(
            synthetic_project(rng, index, finished=False),
            today=KPI_TODAY,
            calendar=WEEKENDS,
            history=history,
            health_rules=DEFAULT_HEALTH_RULES,
        )
        colour = str(snapshot.to_dict().get("health"))
        health[colour] = health.get(colour, 0) + 1
    return {"projects": projects, "seconds": time.perf_counter() - started}


def run_sfsync_steps(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Run the spec's steps against the org in this (fresh) process."""
    from sfsync.app import App
    from sfsync.logs import configure_logging
    from sfsync.settings import load_settings

    configure_logging(fmt="console", level="ERROR")
    admin = OrgAdmin(spec["org_url"], spec["ca_file"]) if spec.get("org_url") else None
    results: list[dict[str, Any]] = []
    app: Any = None
    if spec.get("settings"):
        app = App(load_settings(**spec["settings"]))
    today = date.fromisoformat(spec.get("today", TODAY.isoformat()))
    try:
        for step in spec["steps"]:
            kind = step["kind"]
            client = app.client if app is not None and kind != "kpi_engine" else None
            fn = _step_function(kind, step, app, today, spec)
            results.append(measure(step.get("name", kind), fn, admin, client))
    finally:
        if app is not None:
            app.close()
    return results


def _step_function(
    kind: str, step: dict[str, Any], app: Any, today: date, spec: dict[str, Any]
) -> Callable[[], dict[str, Any]]:
    def check() -> dict[str, Any]:
        return {"objects": len(app.check())}

    def pull() -> dict[str, Any]:
        from sfsync.cycle import run_pull

        return {
            "pulled": {p.sobject: [p.read, p.written, p.via] for p in run_pull(app)}
        }

    def handoff() -> dict[str, Any]:
        from sfsync.handoff import run_handoff

        return {"created": len(run_handoff(app, today=today).created)}

    def kpis() -> dict[str, Any]:
        from sfsync.kpi_job import run_kpis

        report = run_kpis(app, today=today)
        return {"computed": report.computed, "health": report.health}

    def push() -> dict[str, Any]:
        from sfsync.push.job import run_push

        report: dict[str, Any] = run_push(app, today=today).details()
        return report

    steps: dict[str, Callable[[], dict[str, Any]]] = {
        "check": check,
        "pull": pull,
        "handoff": handoff,
        "kpis": kpis,
        "push": push,
        "cycle": lambda: cycle_once(app, today),
        "planned_push": lambda: planned_push(app),
        "sour": lambda: sour_projects(app, int(step["count"])),
        "kpi_engine": lambda: _kpi_engine(int(step["projects"])),
    }
    return steps[kind]


def write_spec(path: Path, spec: dict[str, Any]) -> None:
    path.write_text(json.dumps(spec, default=str), "utf-8")
