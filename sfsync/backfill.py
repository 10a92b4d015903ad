"""Backfill: pull a range of historical opportunities, hand them off, compute, push.

Opportunities are read in batches ordered by SystemModstamp then Id, each batch
a fresh query continuing after the last (stamp, Id) done, so a resumed run
never re-reads what a killed one finished. Each batch commits (mirror rows and
projects) and then writes the checkpoint file, so a kill repeats at most one
batch, which is harmless: upserts and project creation are idempotent.

Each batch's writes, and the KPI and push steps at the end, hold the ``sync``
lock that the service's cycle holds, waiting up to ``LOCK_WAIT_S`` for a cycle
in flight to finish: the two never write the mirror, the projects or the
outbox at the same time, and nothing is pushed twice.

A query that Salesforce gives up on (QUERY_TIMEOUT, usual for a five-year
window) is narrowed: the batch asks for the first half of the remaining
SystemModstamp window, then the next, up to ``MAX_WINDOW_SPLITS`` halvings in
a row before it stops with a clear error.

At the end, ``SELECT COUNT()`` over the same filter is compared with the
number of distinct records read (a record edited during the run is read twice
but counted once); on a mismatch the Ids Salesforce has and the run did not
read are named.

A dry run reads from Salesforce and the local database only: it writes no row
(not even a run record), no checkpoint, and sends no write call.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session

from sfsync.errors import InputError, LimitReachedError, SalesforceError
from sfsync.handoff import HandoffConfig, handoff, sf_view
from sfsync.kpi_job import run_kpis
from sfsync.logs import get_logger
from sfsync.mapping import ConversionStats, parse_sf_datetime
from sfsync.pull import (
    MAX_WINDOW_SPLITS,
    PullPlan,
    changed_rows,
    row_for,
    upsert_rows,
)
from sfsync.push.job import run_push
from sfsync.runs import recorded_run
from sfsync.salesforce.client import QueryTimeoutError
from sfsync.salesforce.soql import literal
from sfsync.salesforce.soql import select as soql_select
from sfsync.service.locks import SYNC_LOCK, job_lock
from sfsync.store.db import Store, open_store
from sfsync.store.models import Account, Opportunity, OutboxRow, Project

__all__ = [
    "Action",
    "BackfillRange",
    "BackfillResult",
    "Checkpoint",
    "backfill",
    "write_report",
]

log = get_logger(__name__)

DEFAULT_BATCH_SIZE = 2000
# How long a batch waits for a cycle in flight to release the sync lock.
LOCK_WAIT_S = 600.0
# How many Ids not read are named in the log after a count mismatch.
MISSING_IDS_SHOWN = 20
# What a batch records for each opportunity it read.
BATCH_ACTIONS = frozenset({"created_project", "skipped"})
# Ids per IN clause when fetching accounts: keeps the query URL well under
# the length Salesforce and proxies accept.
IDS_PER_QUERY = 200

Progress = Callable[[int, int | None, int], None]


@dataclass(frozen=True)
class BackfillRange:
    """Which opportunities: a range of close dates or of SystemModstamp (inclusive)."""

    close_from: date | None = None
    close_to: date | None = None
    modified_from: datetime | None = None
    modified_to: datetime | None = None

    def __post_init__(self) -> None:
        by_close = self.close_from is not None or self.close_to is not None
        by_stamp = self.modified_from is not None or self.modified_to is not None
        if by_close == by_stamp:
            raise InputError(
                "a backfill needs a range of close dates or of SystemModstamp, "
                "not both and not neither",
                hint="pass --close-from/--close-to or --modified-from/--modified-to",
            )
        for value in (self.modified_from, self.modified_to):
            if value is not None and value.tzinfo is None:
                raise InputError(
                    f"--modified-from/--modified-to {value.isoformat()} has no time "
                    "zone",
                    hint="write it in UTC, e.g. 2024-01-01T00:00:00Z",
                )
        for low, high, flags in (
            (self.close_from, self.close_to, "--close-from/--close-to"),
            (self.modified_from, self.modified_to, "--modified-from/--modified-to"),
        ):
            if low is not None and high is not None and low > high:
                raise InputError(
                    f"{flags}: the range starts ({low.isoformat()}) after it ends "
                    f"({high.isoformat()})",
                    hint="swap the two values",
                )

    def where(self) -> str:
        field_name, low, high = (
            ("CloseDate", self.close_from, self.close_to)
            if self.close_from is not None or self.close_to is not None
            else ("SystemModstamp", self.modified_from, self.modified_to)
        )
        parts = []
        if low is not None:
            parts.append(f"{field_name} >= {literal(low)}")
        if high is not None:
            parts.append(f"{field_name} <= {literal(high)}")
        return " AND ".join(parts)

    def key(self) -> str:
        """A short stable name for this range's checkpoint file."""
        return hashlib.sha256(self.where().encode()).hexdigest()[:12]

    def describe(self) -> dict[str, str | None]:
        return {k: (v.isoformat() if v else None) for k, v in asdict(self).items()}


@dataclass
class Checkpoint:
    """Where a backfill stands: the last (SystemModstamp, Id) committed, and counts."""

    range: dict[str, str | None]
    last_stamp: str | None = None
    last_id: str | None = None
    done: int = 0
    created: int = 0
    failed: int = 0

    @classmethod
    def read(cls, path: Path) -> Checkpoint | None:
        if not path.is_file():
            return None
        try:
            return cls(**json.loads(path.read_text("utf-8")))
        except (ValueError, TypeError) as exc:
            raise InputError(
                f"checkpoint {path} cannot be read ({exc})",
                hint="delete it and run the backfill without --resume",
            ) from None

    def write(self, path: Path) -> None:
        """Replace the file atomically, readable by its owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)


@dataclass(frozen=True)
class Action:
    """One thing the backfill did (or, in a dry run, would do) to one record."""

    action: str
    sobject: str
    record_id: str
    project_id: int | None = None
    detail: str = ""


@dataclass
class BackfillResult:
    dry_run: bool
    processed: int = 0
    total_done: int = 0
    distinct: int = 0
    created: int = 0
    skipped: int = 0
    failed: int = 0
    api_calls: int = 0
    expected: int | None = None
    complete: bool = False
    stopped: str | None = None
    steps: dict[str, Any] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    checkpoint: Path | None = None
    missing_ids: list[str] = field(default_factory=list)

    @property
    def count_matches(self) -> bool | None:
        if not self.complete or self.expected is None:
            return None
        return self.expected == self.distinct

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.count_matches is not False and not self.stopped


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for first in range(0, len(values), size):
        yield values[first : first + size]


class _Backfill:
    def __init__(
        self,
        app: Any,
        spec: BackfillRange,
        *,
        dry_run: bool,
        today: date,
        batch_size: int,
        stop: threading.Event | None,
        progress: Progress | None,
    ) -> None:
        self.app = app
        self.spec = spec
        self.dry_run = dry_run
        self.today = today
        self.batch_size = batch_size
        self.stop = stop
        self.progress = progress
        self.client = app.client
        plans = {p.mapping.sobject: p for p in app.plans()}
        self.opp_plan: PullPlan = plans["Opportunity"]
        self.account_plan: PullPlan = plans["Account"]
        # A dry run must not migrate (a write): it reads the schema as it is.
        self.store: Store = (
            open_store(app.settings.database_url, migrate=False)
            if dry_run
            else app.store
        )
        self.config = HandoffConfig.load(
            config_dir=app.settings.config_dir,
            mappings_dir=app.settings.mappings_dir,
            mappings=app.mappings,
            country=app.settings.holiday_country,
        )
        self.repairs = ConversionStats()
        self.accounts_seen: set[str] = set()
        self.seen_ids: set[str] = set()
        # Where the stamps still to read begin, once a timed-out window has
        # been read up to a bound (inclusive); None until then.
        self.floor: datetime | None = None
        self.progress_total: int | None = None
        self.now = datetime.now(UTC)

    # -- reading ------------------------------------------------------------

    def soql(
        self, after: tuple[str, str] | None, size: int, upper: datetime | None = None
    ) -> str:
        where = self.spec.where()
        if after is not None:
            stamp = literal(parse_sf_datetime(after[0]))
            ident = literal(after[1])
            where += (
                f" AND (SystemModstamp > {stamp} OR "
                f"(SystemModstamp = {stamp} AND Id > {ident}))"
            )
        if self.floor is not None:
            where += f" AND SystemModstamp >= {literal(self.floor)}"
        if upper is not None:
            where += f" AND SystemModstamp < {literal(upper)}"
        return soql_select(
            "Opportunity",
            self.opp_plan.soql_fields(),
            where=where,
            order_by=["SystemModstamp", "Id"],
            limit=size,
        )

    def query(
        self, after: tuple[str, str] | None, size: int, upper: datetime | None
    ) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for page in self.client.query_pages(
            self.soql(after, size, upper), operation="backfill Opportunity"
        ):
            records.extend(page.records)
        return records

    def lowest_stamp(self, after: tuple[str, str] | None) -> datetime:
        """Where the stamps still to read begin, for halving a window."""
        candidates = [self.floor, self.spec.modified_from]
        if after is not None:
            candidates.append(parse_sf_datetime(after[0]))
        known = [c for c in candidates if c is not None]
        return max(known) if known else self.app.settings.pull_floor

    def read_batch(
        self, after: tuple[str, str] | None, size: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``size`` records after ``after``, and whether none remain."""
        records: list[dict[str, Any]] = []
        upper: datetime | None = None
        splits = 0
        while True:
            try:
                found = self.query(after, size - len(records), upper)
            except QueryTimeoutError:
                splits += 1
                if splits > MAX_WINDOW_SPLITS:
                    raise SalesforceError(
                        "backfill: the Opportunity query still timed out after "
                        f"halving its SystemModstamp window {MAX_WINDOW_SPLITS} times",
                        error_code="QUERY_TIMEOUT",
                        hint="resume later with --resume, with a smaller "
                        "--batch-size, or backfill a narrower range",
                    ) from None
                low = self.lowest_stamp(after)
                upper = low + ((upper or self.now) - low) / 2
                log.warning(
                    "backfill_window_split",
                    since=low.isoformat(),
                    until=upper.isoformat(),
                    splits=splits,
                )
                continue
            splits = 0
            records.extend(found)
            if found:
                last = found[-1]
                after = (str(last["SystemModstamp"]), str(last["Id"]))
            if len(records) >= size:
                return records, False
            if upper is None:
                return records, True
            # The narrowed window is read to its end: go on from its bound.
            self.floor, upper = upper, None

    def count(self) -> int:
        # The filter is built from typed values by ``literal``; nothing is user text.
        soql = f"SELECT COUNT() FROM Opportunity WHERE {self.spec.where()}"  # noqa: S608
        reply = self.client.call("backfill count", lambda sf: sf.query(soql))
        return int(reply.get("totalSize", 0))

    def missing_ids(self) -> list[str]:
        """Ids that match the filter in Salesforce and that no batch read."""
        soql = soql_select("Opportunity", ["Id"], where=self.spec.where())
        missing = {
            str(record["Id"])
            for page in self.client.query_pages(soql, operation="backfill Id check")
            for record in page.records
        } - self.seen_ids
        return sorted(missing)

    def accounts(self, ids: list[str]) -> list[dict[str, Any]]:
        wanted = sorted(set(ids) - self.accounts_seen)
        records: list[dict[str, Any]] = []
        for chunk in _chunks(wanted, IDS_PER_QUERY):
            soql = soql_select(
                "Account",
                self.account_plan.soql_fields(),
                where=f"Id IN {literal(chunk)}",
            )
            for page in self.client.query_pages(soql, operation="backfill Account"):
                records.extend(page.records)
        self.accounts_seen.update(wanted)
        return records

    # -- one batch ----------------------------------------------------------

    def batch(self, records: list[dict[str, Any]]) -> list[Action]:
        account_ids = [r["AccountId"] for r in records if r.get("AccountId")]
        accounts = self.accounts(account_ids)
        opp_rows = [row_for(self.opp_plan, r, self.repairs, self.now) for r in records]
        account_rows = [
            row_for(self.account_plan, r, self.repairs, self.now) for r in accounts
        ]
        if self.dry_run:
            return self.plan_only(opp_rows, account_rows)
        ids = [r["id"] for r in opp_rows]
        with job_lock(self.store, SYNC_LOCK, wait_s=LOCK_WAIT_S):
            with self.store.transaction() as session:
                _upsert_changed(session, Account, account_rows, plan=self.account_plan)
                _upsert_changed(session, Opportunity, opp_rows, plan=self.opp_plan)
            result = handoff(
                self.store, self.config, today=self.today, opportunity_ids=ids
            )
        made = set(result.created)
        with self.store.session() as session:
            projects = {
                p.opportunity_id: p
                for p in session.execute(
                    select(Project).where(Project.opportunity_id.in_(ids))  # type: ignore[attr-defined]
                ).scalars()
            }
        actions = []
        for row in opp_rows:
            project = projects.get(row["id"])
            if project is not None and project.id in made:
                actions.append(
                    Action(
                        "created_project",
                        "Opportunity",
                        row["id"],
                        project.id,
                        f"playbook {project.playbook_key} from {project.handoff_date}",
                    )
                )
            elif project is not None:
                actions.append(
                    Action(
                        "skipped",
                        "Opportunity",
                        row["id"],
                        project.id,
                        f"project exists ({project.status})",
                    )
                )
            else:
                actions.append(
                    Action("skipped", "Opportunity", row["id"], None, "not handed off")
                )
        return actions

    def plan_only(
        self, opp_rows: list[dict[str, Any]], account_rows: list[dict[str, Any]]
    ) -> list[Action]:
        ids = [r["id"] for r in opp_rows]
        accounts = {r["id"]: Account(**r) for r in account_rows}
        with self.store.session() as session:
            existing: dict[str, str] = dict(
                session.execute(
                    select(Project.opportunity_id, Project.status).where(  # type: ignore[call-overload]
                        Project.opportunity_id.in_(ids)  # type: ignore[attr-defined]
                    )
                ).all()
            )
        pushed = self.pushed_fields()
        actions = []
        for row in opp_rows:
            opp = Opportunity(**row)
            opp_view = sf_view(self.config.mappings["Opportunity"], opp)
            won = not opp.is_deleted and self.config.rules.is_handed_off(opp_view)
            if row["id"] in existing:
                actions.append(
                    Action(
                        "skipped",
                        "Opportunity",
                        opp.id,
                        None,
                        f"project exists ({existing[row['id']]})",
                    )
                )
            elif not won:
                actions.append(
                    Action("skipped", "Opportunity", opp.id, None, "not handed off")
                )
            else:
                account = accounts.get(opp.account_id or "")
                account_view = (
                    sf_view(self.config.mappings["Account"], account)
                    if account
                    else None
                )
                choice = self.config.rules.choose(opp_view, account_view)
                start = opp.close_date if opp.close_date else self.today
                actions.append(
                    Action(
                        "would_create_project",
                        "Opportunity",
                        opp.id,
                        None,
                        f"playbook {choice.playbook_key} from {min(start, self.today)}",
                    )
                )
                if pushed:
                    actions.append(
                        Action(
                            "would_push",
                            "Opportunity",
                            opp.id,
                            None,
                            "fields " + ", ".join(pushed),
                        )
                    )
        return actions

    def pushed_fields(self) -> tuple[str, ...]:
        try:
            return tuple(self.app.pushed_fields("Opportunity"))
        except ImportError:
            return ()

    # -- after the batches --------------------------------------------------

    def later_steps(self, result: BackfillResult) -> None:
        with job_lock(self.store, SYNC_LOCK, wait_s=LOCK_WAIT_S):
            kpis = run_kpis(self.app, today=self.today)
            push = run_push(self.app, today=self.today, stop=self.stop)
        result.steps["kpis"] = _summary(kpis)
        result.steps["push"] = _summary(push)
        result.failed += kpis.failed
        if push.send is not None and push.send.stopped:
            result.stopped = "interrupted during the push; resume with --resume"
        if push.send is not None:
            # Parked rows were refused for good; deferred ones were still
            # refused after every retry: neither reached Salesforce.
            result.failed += push.send.parked + push.send.deferred
        for change in push.changes:
            result.actions.append(
                Action(
                    "pushed",
                    str(change.sobject),
                    str(change.record_id),
                    None,
                    "fields " + ", ".join(sorted(change.fields)),
                )
            )
        self.parked_actions(result)

    def parked_actions(self, result: BackfillResult) -> None:
        with self.store.session() as session:
            parked = session.execute(
                select(OutboxRow.sobject, OutboxRow.record_id, OutboxRow.error).where(  # type: ignore[call-overload]
                    OutboxRow.status == "parked"
                )
            ).all()
        for sobject, record_id, error in parked:
            result.actions.append(
                Action("failed", sobject, record_id, None, str(error or ""))
            )


def _summary(report: Any) -> Any:
    if report is None:
        return None
    if hasattr(report, "__dataclass_fields__"):
        return {
            k: v
            for k, v in asdict(report).items()
            if isinstance(v, int | float | str | bool | dict | type(None))
        }
    return str(report)


def _upsert_changed(
    session: Session, model: Any, rows: list[dict[str, Any]], *, plan: PullPlan
) -> None:
    """Upsert ``rows`` whose stamp or deletion differs from what is stored."""
    table: Table = model.__table__
    changed = changed_rows(session, table, rows) if rows else []
    upsert_rows(session, table, changed, keep_extra=plan.hides_extra)


def checkpoint_path(state_dir: Path, spec: BackfillRange) -> Path:
    return Path(state_dir) / f"backfill-{spec.key()}.json"


def _append_actions(path: Path, actions: list[Action]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        for action in actions:
            handle.write(json.dumps(asdict(action)) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def _read_actions(path: Path) -> list[Action]:
    if not path.is_file():
        return []
    return [
        Action(**json.loads(line))
        for line in path.read_text("utf-8").splitlines()
        if line.strip()
    ]


def backfill(
    app: Any,
    spec: BackfillRange,
    *,
    dry_run: bool = False,
    resume: bool = False,
    limit: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    today: date | None = None,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
) -> BackfillResult:
    """Backfill the opportunities in ``spec``; see the module docstring.

    ``limit`` caps the records read by this invocation (the checkpoint is kept
    so a later ``resume`` continues). Reaching the API reserve ends the run
    cleanly with ``stopped`` set and the checkpoint kept.
    """
    if batch_size <= 0 or (limit is not None and limit <= 0):
        raise InputError("--batch-size and --limit must be positive numbers")
    today = today or datetime.now(UTC).date()
    job = _Backfill(
        app,
        spec,
        dry_run=dry_run,
        today=today,
        batch_size=batch_size,
        stop=stop,
        progress=progress,
    )
    path = checkpoint_path(app.settings.state_dir, spec)
    actions_path = path.with_suffix(".actions.jsonl")
    checkpoint = Checkpoint.read(path) if resume else None
    if checkpoint is None:
        checkpoint = Checkpoint(range=spec.describe())
        if resume:
            log.info("backfill_no_checkpoint", path=str(path))
        elif not dry_run and actions_path.exists():
            actions_path.unlink()
    elif checkpoint.range != spec.describe():
        raise InputError(
            f"checkpoint {path} belongs to another range ({checkpoint.range})",
            hint="pass the same range as the interrupted run, or drop --resume",
        )
    else:
        job.seen_ids.update(
            a.record_id
            for a in _read_actions(actions_path)
            if a.action in BATCH_ACTIONS
        )
    result = BackfillResult(dry_run=dry_run, checkpoint=None if dry_run else path)
    calls_before = job.client.calls
    with recorded_run(job.store, "backfill", calls=job.client, dry_run=dry_run) as run:
        run.details["range"] = spec.describe()
        try:
            _loop(job, checkpoint, result, limit, path, actions_path)
            if result.complete:
                # Counted before the push, whose writes move SystemModstamp.
                result.expected = job.count()
                if result.count_matches is False:
                    result.missing_ids = job.missing_ids()
            if not dry_run:
                job.later_steps(result)
        except LimitReachedError as exc:
            result.stopped = str(exc)
            log.warning("backfill_stopped_api_reserve", done=checkpoint.done)
        result.api_calls = job.client.calls - calls_before
        run.read = result.processed
        run.written = result.created
        run.failed = result.failed
        run.details.update(
            complete=result.complete,
            expected=result.expected,
            total_done=result.total_done,
            distinct=result.distinct,
            stopped=result.stopped,
            nul_bytes_removed=job.repairs.nul_bytes_removed,
        )
    if not dry_run:
        result.actions = _read_actions(actions_path) + result.actions
        if result.complete and not result.stopped:
            path.unlink(missing_ok=True)
            actions_path.unlink(missing_ok=True)
    if job.repairs.nul_bytes_removed:
        log.warning(
            "backfill_values_repaired", nul_bytes_removed=job.repairs.nul_bytes_removed
        )
    if result.count_matches is False:
        log.error(
            "backfill_count_mismatch",
            expected=result.expected,
            distinct_read=result.distinct,
            not_read=result.missing_ids[:MISSING_IDS_SHOWN],
            not_read_count=len(result.missing_ids),
            hint="records changed during the backfill or were not all read; run it "
            "again over the same range",
        )
    return result


def _loop(
    job: _Backfill,
    checkpoint: Checkpoint,
    result: BackfillResult,
    limit: int | None,
    path: Path,
    actions_path: Path,
) -> None:
    total = job.count()
    job.progress_total = max(total - checkpoint.done, 0)
    if limit is not None:
        job.progress_total = min(job.progress_total, limit)
    if job.progress:
        job.progress(0, job.progress_total, job.client.calls)
    after = (
        (checkpoint.last_stamp, checkpoint.last_id)
        if checkpoint.last_stamp and checkpoint.last_id
        else None
    )
    while True:
        if job.stop is not None and job.stop.is_set():
            result.stopped = "interrupted; resume with --resume"
            break
        size = job.batch_size
        if limit is not None:
            size = min(size, limit - result.processed)
            if size <= 0:
                break
        records, exhausted = job.read_batch(after, size)
        if records:
            after = _handle_batch(job, checkpoint, result, records, path, actions_path)
        if exhausted:
            result.complete = True
            break
    result.total_done = checkpoint.done
    result.distinct = len(job.seen_ids)


def _handle_batch(
    job: _Backfill,
    checkpoint: Checkpoint,
    result: BackfillResult,
    records: list[dict[str, Any]],
    path: Path,
    actions_path: Path,
) -> tuple[str, str]:
    """Write (or plan) one batch, then move the checkpoint past it."""
    actions = job.batch(records)
    last = records[-1]
    after = (str(last["SystemModstamp"]), str(last["Id"]))
    created = sum(
        a.action in {"created_project", "would_create_project"} for a in actions
    )
    job.seen_ids.update(str(r["Id"]) for r in records)
    result.processed += len(records)
    result.created += created
    result.skipped += sum(a.action == "skipped" for a in actions)
    checkpoint.done += len(records)
    checkpoint.created += created
    checkpoint.last_stamp, checkpoint.last_id = after
    if job.dry_run:
        result.actions.extend(actions)
    else:
        _append_actions(actions_path, actions)
        checkpoint.write(path)
    log.info(
        "backfill_batch",
        records=len(records),
        created=created,
        done=checkpoint.done,
        api_calls=job.client.calls,
    )
    if job.progress:
        job.progress(result.processed, job.progress_total, job.client.calls)
    return after


def write_report(path: Path, actions: list[Action]) -> None:
    """Write every action to ``path`` as CSV or JSON (chosen by its suffix)."""
    rows = [asdict(a) for a in actions]
    if path.suffix == ".json":
        path.write_text(json.dumps(rows, indent=2, default=str), "utf-8")
    elif path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(
                handle,
                fieldnames=["action", "sobject", "record_id", "project_id", "detail"],
            )
            writer.writeheader()
            writer.writerows(rows)
    else:
        raise InputError(
            f"report file {path} must end in .csv or .json",
            hint="for example --report backfill.csv",
        )
