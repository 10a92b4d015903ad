"""Scenarios for the fault matrix: seed an org, run whole cycles, compare end states.

This module is imported by the tests and by ``driver.py`` (run in a child
process), so it depends on sfsync and the standard library only, never on
pytest.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from sqlmodel import col, func, select

from sfsync.app import App
from sfsync.cli.demo import load_demo_org
from sfsync.cycle import run_cycle
from sfsync.demo_data import make_demo_org
from sfsync.kpi_job import run_kpis
from sfsync.push.job import run_push
from sfsync.push.mapping import load_push_mapping
from sfsync.settings import load_settings
from sfsync.store.models import (
    Account,
    KpiSnapshot,
    Opportunity,
    OutboxRow,
    Project,
    ProjectEvent,
    ProjectMilestone,
    ProjectPhase,
    ProjectTask,
    SyncRun,
)

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2025, 6, 2)
# Each cycle's push runs one day after the previous one: a row deferred by a
# lock or a limit waits minutes to hours, and the next cycle is when it goes.
CYCLE_SPACING = timedelta(days=1)
# Pages of 200 records (Salesforce's smallest batch size) so that a modest
# data set still has several pages to interrupt.
QUERY_OPTIONS = "batchSize=200"
# Data sets: a small one (one page per object) for most scenarios, and one
# whose opportunities span two pages for faults in the middle of paging.
SMALL = 120
PAGED = 250


def pushed_fields() -> dict[str, tuple[str, ...]]:
    """The fields the push writes, per object, without the time stamps.

    A pushed date-time (when the KPIs were computed, how fresh the data was)
    records when a run happened, not what it found, so no two runs agree on
    it; a project's local id depends on the order rows were inserted in.
    """
    mapping = load_push_mapping(ROOT / "mappings" / "push.yaml")
    return {
        sobject: tuple(
            f.name for f in fields if f.type != "datetime" and f.source != "project.id"
        )
        for sobject, fields in mapping.objects.items()
    }


# Columns that record when something happened on this run's clock, not what
# the state is: they differ between any two runs and are left out.
VOLATILE = frozenset(
    {
        "id",
        "project_id",
        "pulled_at",
        "system_modstamp",
        "last_modified_date",
        "deleted_at",
        "created_at",
        "updated_at",
        "computed_at",
        "data_as_of",
        "at",
        "sent_at",
        "next_attempt_at",
    }
)


@dataclass
class Seeded:
    """A loaded org's data: references of every record by their Salesforce Id."""

    ref_of: dict[str, str]
    opportunities: int
    accounts: int

    def ids_of(self, prefix: str) -> list[str]:
        return sorted(i for i, r in self.ref_of.items() if r.startswith(prefix))


def seed_org(org: Any, *, seed: int = 7, opportunities: int = SMALL) -> Seeded:
    """Reset the org and load the demo data set; same seed, same records."""
    org.reset()
    org.set_daily_limit(10_000_000)
    data = make_demo_org(today=TODAY, seed=seed, opportunities=opportunities)
    ids = load_demo_org(org, data)
    return Seeded(
        ref_of={v: k for k, v in ids.items()},
        opportunities=len(data.opportunities),
        accounts=len(data.accounts),
    )


def settings_values(org_env: dict[str, str], database_url: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        k.removeprefix("SFSYNC_").lower(): v for k, v in org_env.items()
    }
    values.update(
        database_url=database_url,
        retry_attempts=6,
        retry_initial_wait_s=0.01,
        retry_max_wait_s=0.05,
        mappings_dir=str(ROOT / "mappings"),
        config_dir=str(ROOT / "config"),
    )
    return values


def build_app(org_env: dict[str, str], database_url: str, **overrides: Any) -> App:
    values = settings_values(org_env, database_url) | overrides
    app = App(load_settings(**values))
    app.client.http.headers["Sforce-Query-Options"] = QUERY_OPTIONS
    return app


def _jobs_run(app: App) -> int:
    with app.store.session() as session:
        return int(
            session.exec(
                select(func.count())
                .select_from(SyncRun)
                .where(col(SyncRun.job).in_(["kpis", "push"]))
            ).one()
        )


def full_cycle(app: App, *, cycle: int, base: datetime | None = None) -> None:
    """One cycle with every step: pull, handoff, KPIs, push.

    ``run_cycle`` runs the steps it has been given; the KPI and push steps
    run here when it has not run them itself, so the matrix covers the whole
    service either way. The push's clock is ``base`` plus one day per cycle.
    """
    base = base or datetime.now(UTC)
    before = _jobs_run(app)
    run_cycle(app, today=TODAY)
    if _jobs_run(app) == before:
        run_kpis(app, today=TODAY)
        run_push(
            app,
            now=lambda: base + CYCLE_SPACING * cycle,
            sleep=lambda _s: None,
            retry_wait_s=0,
        )


@dataclass
class Recovery:
    """How a faulted scenario went: failed cycles with their errors, then success."""

    failures: list[BaseException] = field(default_factory=list)
    cycles: int = 0

    @property
    def recovered(self) -> bool:
        return self.cycles > len(self.failures)


def run_until_success(
    app: App,
    *,
    base: datetime,
    between: Callable[[], None] = lambda: None,
    max_cycles: int = 6,
    first_cycle: int = 0,
) -> Recovery:
    """Run cycles until one succeeds; ``between`` clears a fault before a retry."""
    recovery = Recovery()
    for number in range(first_cycle, first_cycle + max_cycles):
        recovery.cycles += 1
        try:
            full_cycle(app, cycle=number, base=base)
        except Exception as exc:
            recovery.failures.append(exc)
            between()
            continue
        return recovery
    return recovery


def settle(app: App, *, base: datetime, cycle: int = 50) -> None:
    """One clean cycle after success, then a push on a later day's clock.

    The cycle reads the pushed values back; the extra push sends rows that a
    lock or a limit deferred, as the next cycle after their backoff would
    (the cycle's own push runs on the real clock, which a test cannot wait for).
    """
    full_cycle(app, cycle=cycle, base=base)
    run_push(
        app,
        now=lambda: base + CYCLE_SPACING * cycle,
        sleep=lambda _s: None,
        retry_wait_s=0,
    )


# -- end states ---------------------------------------------------------------


def _plain(value: Any, ref_of: dict[str, str]) -> Any:
    if isinstance(value, str):
        return ref_of.get(value, value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v, ref_of) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(v, ref_of) for v in value]
    return value


def _row(model: Any, ref_of: dict[str, str]) -> dict[str, Any]:
    return {
        k: _plain(v, ref_of) for k, v in model.model_dump().items() if k not in VOLATILE
    }


def end_state(app: App, org: Any, seeded: Seeded) -> dict[str, dict[str, Any]]:
    """Everything a user sees, as plain values keyed by stable references."""
    ref = seeded.ref_of
    pushed = pushed_fields()
    kept = {name for names in pushed.values() for name in names}
    state: dict[str, dict[str, Any]] = {
        "account": {},
        "opportunity": {},
        "project": {},
        "phase": {},
        "task": {},
        "milestone": {},
        "events": {},
        "kpi": {},
        "outbox_open": {},
        "outbox_delivered": {},
        "salesforce": {},
    }
    with app.store.session() as session:
        for account in session.exec(select(Account)):
            row = _row(account, ref)
            row["sf_pushed"] = {
                k: ("<project id>" if k == LOCAL_ID_FIELD else v)
                for k, v in row["sf_pushed"].items()
                if k in kept
            }
            state["account"][ref.get(account.id, account.id)] = row
        for opp in session.exec(select(Opportunity)):
            row = _row(opp, ref)
            row["sf_pushed"] = {
                k: ("<project id>" if k == LOCAL_ID_FIELD else v)
                for k, v in row["sf_pushed"].items()
                if k in kept
            }
            state["opportunity"][ref.get(opp.id, opp.id)] = row
        owner: dict[int, str] = {}
        for project in session.exec(select(Project)):
            key = ref.get(project.opportunity_id, project.opportunity_id)
            assert project.id is not None
            owner[project.id] = key
            state["project"][key] = _row(project, ref)
        children: list[tuple[str, Any, str]] = [
            ("phase", ProjectPhase, "phase_key"),
            ("task", ProjectTask, "task_key"),
            ("milestone", ProjectMilestone, "milestone_key"),
        ]
        for name, model, key_column in children:
            for child in session.exec(select(model)):
                key = f"{owner.get(child.project_id)}/{getattr(child, key_column)}"
                state[name][key] = _row(child, ref)
        events: dict[str, list[Any]] = {}
        for event in session.exec(select(ProjectEvent)):
            events.setdefault(str(owner.get(event.project_id)), []).append(
                _row(event, ref)
            )
        state["events"] = {
            k: sorted(v, key=lambda e: json.dumps(e, sort_keys=True))
            for k, v in events.items()
        }
        for snap in session.exec(select(KpiSnapshot)):
            key = f"{owner.get(snap.project_id)}/{snap.day.isoformat()}"
            state["kpi"][key] = _row(snap, ref)
            # Project ids come from a sequence that a rolled-back insert
            # still advances; the project is named by its deal instead.
            state["kpi"][key].get("data", {}).pop("project_id", None)
        for row in session.exec(
            select(OutboxRow).where(col(OutboxRow.status).in_(["pending", "parked"]))
        ):
            key = f"{row.sobject}/{ref.get(row.record_id, row.record_id)}"
            state["outbox_open"][key] = {
                "status": row.status,
                "fields": {
                    k: v for k, v in _plain(row.fields, ref).items() if k in kept
                },
                "error_code": row.error_code,
            }
        for row in session.exec(
            # A row whose write reached Salesforce before a crash is found
            # already held there on the next run: superseded, not sent again.
            select(OutboxRow).where(col(OutboxRow.status).in_(["sent", "superseded"]))
        ):
            key = f"{row.sobject}/{ref.get(row.record_id, row.record_id)}"
            delivered = state["outbox_delivered"]
            delivered[key] = delivered.get(key, 0) + 1
    for record_id in seeded.ids_of("opportunity-"):
        held = org.get("Opportunity", record_id) or {}
        state["salesforce"][ref[record_id]] = {
            name: _plain(held.get(name), ref) for name in pushed.get("Opportunity", ())
        }
    for record_id in seeded.ids_of("account-"):
        held = org.get("Account", record_id) or {}
        state["salesforce"][ref[record_id]] = {
            name: _plain(held.get(name), ref) for name in pushed.get("Account", ())
        }
    for fields in (*state["salesforce"].values(), *state["outbox_open"].values()):
        target = fields.get("fields", fields)
        if LOCAL_ID_FIELD in target:
            target[LOCAL_ID_FIELD] = "<project id>"
    return state


# The pushed field that carries sfsync's own project id (see above).
LOCAL_ID_FIELD = "Onboarding_Project_Id__c"


def records_in(state: dict[str, dict[str, Any]]) -> int:
    return sum(len(v) for v in state.values())


def differences(
    expected: dict[str, dict[str, Any]], actual: dict[str, dict[str, Any]]
) -> list[str]:
    """Every record that is missing, extra or different, named by table and key."""
    found: list[str] = []
    for table in sorted(set(expected) | set(actual)):
        want, got = expected.get(table, {}), actual.get(table, {})
        for key in sorted(set(want) | set(got), key=str):
            if key not in got:
                found.append(f"{table}[{key}] missing after the fault")
            elif key not in want:
                found.append(f"{table}[{key}] extra after the fault: {got[key]}")
            elif want[key] != got[key]:
                found.append(_describe(table, key, want[key], got[key]))
    return found


def _describe(table: str, key: str, want: Any, got: Any) -> str:
    if isinstance(want, dict) and isinstance(got, dict):
        changed = {
            k: (want.get(k), got.get(k))
            for k in set(want) | set(got)
            if want.get(k) != got.get(k)
        }
        return f"{table}[{key}] differs (expected, got): {changed}"
    return f"{table}[{key}] differs: expected {want!r}, got {got!r}"


# -- triggers -----------------------------------------------------------------


def _endpoint(response: requests.Response) -> str:
    """A short name for the API call behind ``response``: query, write, ..."""
    url = response.url
    method = response.request.method or "GET"
    if "/services/oauth2/" in url or "/services/Soap/" in url:
        return "login"
    if "/describe" in url:
        return "describe"
    if "/query" in url or "/queryAll" in url:
        return "query"
    if "/composite/sobjects" in url and method in {"PATCH", "POST"}:
        return "write"
    if "/jobs/" in url:
        return "bulk"
    return "other"


@dataclass
class Trigger:
    """Arms a fault after the ``after``-th response of one kind of API call."""

    endpoint: str
    after: int
    arm: Callable[[], None]
    seen: int = 0
    fired: bool = False

    def __call__(self, response: requests.Response, *_a: Any, **_k: Any) -> None:
        if self.fired or _endpoint(response) != self.endpoint:
            return
        self.seen += 1
        if self.seen >= self.after:
            self.fired = True
            self.arm()


@contextmanager
def armed(app: App, trigger: Trigger) -> Iterator[Trigger]:
    """Arm ``trigger``: after a response, or for ``write``, just before one.

    A push's first write follows whatever the push asks first (or nothing),
    so the fault for it is armed as the write request leaves.
    """
    http = app.client.http
    if trigger.endpoint != "write":
        http.hooks["response"].append(trigger)
        try:
            yield trigger
        finally:
            http.hooks["response"].remove(trigger)
        return
    send = http.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if method.upper() in {"PATCH", "POST"} and "/composite/sobjects" in url:
            trigger.seen += 1
            if not trigger.fired and trigger.seen >= trigger.after:
                trigger.fired = True
                trigger.arm()
        return send(method, url, *args, **kwargs)

    http.request = request  # type: ignore[method-assign]
    try:
        yield trigger
    finally:
        del http.request


def later(seconds: float, action: Callable[[], None]) -> threading.Timer:
    """Run ``action`` after ``seconds`` on a timer thread (to end a latency spike)."""
    timer = threading.Timer(seconds, action)
    timer.daemon = True
    timer.start()
    return timer


def kill_plan(seed: int, *, responses: int) -> dict[str, Any]:
    """Where a seeded kill lands: the k-th API response or commit, or a delay."""
    rng = random.Random(seed)
    mode = ("response", "commit", "delay")[seed % 3]
    if mode == "response":
        return {"mode": mode, "count": rng.randrange(1, responses + 1)}
    if mode == "commit":
        return {"mode": mode, "count": rng.randrange(1, 18)}
    return {"mode": mode, "fraction": rng.uniform(0.05, 0.95)}
