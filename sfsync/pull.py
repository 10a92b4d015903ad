"""Incremental pull of one sObject into the local mirror, safe to kill at any point.

Records are read ordered by SystemModstamp then Id, from the watermark minus an
overlap window, and upserted by Id. Each page commits together with the
watermark it covers, so a crash repeats work but never skips it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session

from sfsync.errors import SalesforceError
from sfsync.logs import get_logger
from sfsync.mapping import ConversionStats, ObjectMapping, parse_sf_datetime
from sfsync.runs import RunStats
from sfsync.salesforce.bulk import BulkQueryStats, bulk_query
from sfsync.salesforce.client import QueryTimeoutError, SalesforceClient
from sfsync.salesforce.soql import datetime_literal
from sfsync.salesforce.soql import select as soql_select
from sfsync.settings import Settings
from sfsync.store.db import Store, upsert_insert
from sfsync.store.models import SyncState

__all__ = ["PullPlan", "PullResult", "changed_rows", "pull_object", "upsert_rows"]

log = get_logger(__name__)

CHUNK = 2000
# A timed-out query window is halved at most this many times (2**6 = 64
# windows) before the pull gives up with a clear error.
MAX_WINDOW_SPLITS = 6


@dataclass(frozen=True)
class PullPlan:
    """What one object's pull selects: its mapping, minus fields the org lacks."""

    mapping: ObjectMapping
    skip: frozenset[str] = frozenset()
    pushed_fields: tuple[str, ...] = ()

    def soql_fields(self) -> list[str]:
        fields = self.mapping.soql_fields(skip=self.skip)
        known = {f.lower() for f in fields}
        return fields + [f for f in self.pushed_fields if f.lower() not in known]

    @property
    def hides_extra(self) -> bool:
        """Whether a skipped field lands in ``extra``, so stored keys must be kept."""
        return any(
            f.field in self.skip and f.column.startswith("extra.")
            for f in self.mapping.fields
        )


@dataclass
class PullResult:
    sobject: str
    read: int = 0
    written: int = 0
    deleted: int = 0
    pages: int = 0
    via: str = "rest"
    since: datetime | None = None
    watermark: datetime | None = None
    repairs: ConversionStats = field(default_factory=ConversionStats)


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def row_for(
    plan: PullPlan, record: dict[str, Any], stats: ConversionStats, pulled_at: datetime
) -> dict[str, Any]:
    row = plan.mapping.convert(record, stats=stats, skip=plan.skip)
    extra = {
        k.removeprefix("extra."): jsonable(row.pop(k))
        for k in list(row)
        if k.startswith("extra.")
    }
    for key, value in extra.items():
        if hasattr(value, "isoformat"):
            extra[key] = value.isoformat()
    row["extra"] = extra
    row["sf_pushed"] = {
        f: jsonable(record.get(f) if record.get(f) != "" else None)
        for f in plan.pushed_fields
    }
    row["pulled_at"] = pulled_at
    if row.get("is_deleted"):
        row["deleted_at"] = row.get("system_modstamp")
    return row


def upsert_rows(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    keep_extra: bool = False,
) -> None:
    """Insert or update ``rows`` by primary key ``id`` in one statement.

    With ``keep_extra``, each row's ``extra`` is laid over the stored one
    instead of replacing it: a field the org hides from this pull (an
    optional one missing from describe) keeps the value it last had, where
    a plain update would erase it.
    """
    if not rows:
        return
    if keep_extra:
        stored = dict(
            session.execute(
                select(table.c.id, table.c.extra).where(
                    table.c.id.in_([r["id"] for r in rows])
                )
            ).all()
        )
        rows = [
            {**r, "extra": {**(stored.get(r["id"]) or {}), **r["extra"]}} for r in rows
        ]
    # One statement executed for many parameter sets: SQLAlchemy batches it
    # without compiling a parameter per value, which a multi-row VALUES
    # literal would do (seconds per page of 2,000).
    statement = upsert_insert(session, table)
    columns = [c for c in rows[0] if c != "id"]
    statement = statement.on_conflict_do_update(
        index_elements=["id"],
        set_={c: statement.excluded[c] for c in columns},
    )
    session.execute(statement, rows)


def changed_rows(
    session: Session, table: Table, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The rows whose SystemModstamp or deletion differs from what is stored."""
    ids = [r["id"] for r in rows]
    stored = {
        rid: (stamp, deleted)
        for rid, stamp, deleted in session.execute(
            select(table.c.id, table.c.system_modstamp, table.c.is_deleted).where(
                table.c.id.in_(ids)
            )
        )
    }
    return [
        r
        for r in rows
        if stored.get(r["id"]) != (r.get("system_modstamp"), bool(r.get("is_deleted")))
    ]


def _chunks(
    records: Iterable[dict[str, Any]], size: int
) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


class _Puller:
    def __init__(
        self,
        client: SalesforceClient,
        store: Store,
        plan: PullPlan,
        settings: Settings,
        run: RunStats | None,
    ) -> None:
        self.client = client
        self.store = store
        self.plan = plan
        self.settings = settings
        self.run = run
        self.table: Table = plan.mapping.table.__table__  # type: ignore[attr-defined]
        self.sobject = plan.mapping.sobject
        self.result = PullResult(sobject=self.sobject)
        self.now = datetime.now(UTC)
        self.first_reply_at: datetime | None = None

    def state(self) -> SyncState:
        with self.store.transaction() as session:
            # Made with ON CONFLICT DO NOTHING: a second process making the
            # same first row at the same moment is not an error.
            session.execute(
                upsert_insert(session, SyncState.__table__)  # type: ignore[attr-defined]
                .values(
                    sobject=self.sobject,
                    floor=self.settings.pull_floor,
                    updated_at=self.now,
                )
                .on_conflict_do_nothing(index_elements=["sobject"])
            )
            state = session.get(SyncState, self.sobject)
            assert state is not None
            return state

    def soql(self, since: datetime, until: datetime | None) -> str:
        where = f"SystemModstamp >= {datetime_literal(since)}"
        if until is not None:
            where += f" AND SystemModstamp < {datetime_literal(until)}"
        return soql_select(
            self.sobject,
            self.plan.soql_fields(),
            where=where,
            order_by=["SystemModstamp", "Id"],
        )

    def store_chunk(self, records: list[dict[str, Any]], *, advance: bool) -> None:
        rows = [row_for(self.plan, r, self.result.repairs, self.now) for r in records]
        with self.store.transaction() as session:
            changed = changed_rows(session, self.table, rows)
            upsert_rows(session, self.table, changed, keep_extra=self.plan.hides_extra)
            last = rows[-1]
            if advance:
                state = session.get(SyncState, self.sobject)
                assert state is not None
                stamp = last["system_modstamp"]
                if state.watermark is None or stamp >= state.watermark:
                    state.watermark = stamp
                    state.watermark_id = last["id"]
                state.updated_at = self.now
                session.add(state)
        self.result.read += len(rows)
        self.result.written += len(changed)
        self.result.deleted += sum(1 for r in changed if r.get("is_deleted"))
        if self.run is not None:
            self.run.read += len(rows)
            self.run.written += len(changed)
            self.run.deleted += sum(1 for r in changed if r.get("is_deleted"))

    def rest_window(self, since: datetime, until: datetime | None, depth: int) -> None:
        soql = self.soql(since, until)
        try:
            pages = self.client.query_pages(
                soql, include_deleted=True, operation=f"pull {self.sobject}"
            )
            for number, page in enumerate(pages):
                if number == 0 and depth == 0:
                    self.first_reply_at = self.client.server_time
                if (
                    number == 0
                    and depth == 0
                    and page.total_size > self.settings.bulk_pull_threshold
                ):
                    log.info(
                        "pull_switching_to_bulk",
                        sobject=self.sobject,
                        total=page.total_size,
                        threshold=self.settings.bulk_pull_threshold,
                    )
                    self.bulk(soql)
                    return
                self.result.pages += 1
                if page.records:
                    self.store_chunk(page.records, advance=True)
        except QueryTimeoutError:
            if depth >= MAX_WINDOW_SPLITS:
                raise SalesforceError(
                    f"pull {self.sobject}: the query still timed out after splitting "
                    f"the window {MAX_WINDOW_SPLITS} times",
                    error_code="QUERY_TIMEOUT",
                    hint="lower SFSYNC_BULK_PULL_THRESHOLD so that the pull uses "
                    "Bulk API 2.0, or backfill a narrower range with `sfsync backfill`",
                ) from None
            end = until or self.now
            middle = since + (end - since) / 2
            log.warning(
                "pull_window_split",
                sobject=self.sobject,
                since=since.isoformat(),
                until=end.isoformat(),
                depth=depth + 1,
            )
            self.rest_window(since, middle, depth + 1)
            self.rest_window(middle, until, depth + 1)

    def bulk(self, soql: str) -> None:
        self.result.via = "bulk"
        stats = BulkQueryStats()
        highest: tuple[datetime, str] | None = None
        rows = bulk_query(
            self.client,
            soql,
            include_deleted=True,
            page_size=self.settings.bulk_page_size,
            stats=stats,
        )
        # Bulk API 2.0 does not promise to return rows in the query's order,
        # so the watermark cannot move chunk by chunk: a row stamped earlier
        # may still be on its way. It moves once, when the whole job is in; a
        # crash before that reads the window again, which repeats work but
        # skips nothing.
        for chunk in _chunks(rows, CHUNK):
            self.store_chunk(chunk, advance=False)
            for record in chunk:
                key = (parse_sf_datetime(record["SystemModstamp"]), record["Id"])
                if highest is None or key > highest:
                    highest = key
        if highest is not None:
            with self.store.transaction() as session:
                state = session.get(SyncState, self.sobject)
                if state is not None and (
                    state.watermark is None or highest[0] >= state.watermark
                ):
                    state.watermark, state.watermark_id = highest
                    state.updated_at = self.now
                    session.add(state)
        self.result.pages += stats.pages
        self.result.repairs.nul_bytes_removed += stats.nul_bytes_removed
        if self.run is not None:
            self.run.details.setdefault("bulk", {})[self.sobject] = {
                "job_id": stats.job_id,
                "pages": stats.pages,
                "polls": stats.polls,
                "records": stats.records,
            }

    def finish(self, before: datetime | None) -> None:
        """Record when this complete pull queried, in Salesforce's clock."""
        asked = self.first_reply_at or before
        if asked is None:
            return
        with self.store.transaction() as session:
            state = session.get(SyncState, self.sobject)
            if state is not None:
                # The Date header has whole seconds and comes after the query
                # ran; one second back keeps the bound on the safe side.
                state.read_until = asked - timedelta(seconds=1)
                session.add(state)

    def pull(self) -> PullResult:
        state = self.state()
        if state.watermark is None:
            since = state.floor or self.settings.pull_floor
            log.info("pull_first_run", sobject=self.sobject, floor=since.isoformat())
        else:
            overlap = timedelta(seconds=self.settings.pull_overlap_s)
            since = state.watermark - overlap
            if state.read_until is not None:
                # A record not read by the last complete pull was invisible
                # then, so it is stamped after that query less the overlap;
                # starting there keeps an idle cycle from re-reading a burst
                # of changes that the watermark alone would keep in view.
                since = max(since, state.read_until - overlap)
        self.result.since = since
        asked_at = self.client.server_time
        self.rest_window(since, None, 0)
        self.finish(asked_at)
        with self.store.session() as session:
            final = session.get(SyncState, self.sobject)
            self.result.watermark = final.watermark if final else None
        if self.result.repairs.nul_bytes_removed:
            log.warning(
                "pull_repaired_values",
                sobject=self.sobject,
                nul_bytes_removed=self.result.repairs.nul_bytes_removed,
            )
        log.info(
            "pull_finished",
            sobject=self.sobject,
            read=self.result.read,
            written=self.result.written,
            deleted=self.result.deleted,
            pages=self.result.pages,
            via=self.result.via,
            watermark=self.result.watermark.isoformat()
            if self.result.watermark
            else None,
        )
        return self.result


def pull_object(
    client: SalesforceClient,
    store: Store,
    plan: PullPlan,
    *,
    settings: Settings,
    run: RunStats | None = None,
) -> PullResult:
    """Pull every record of ``plan``'s object changed since its watermark."""
    return _Puller(client, store, plan, settings, run).pull()


def pull_all(
    client: SalesforceClient,
    store: Store,
    plans: Sequence[PullPlan],
    *,
    settings: Settings,
    run: RunStats | None = None,
) -> list[PullResult]:
    return [pull_object(client, store, p, settings=settings, run=run) for p in plans]
