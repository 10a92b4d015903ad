"""The real-world sync cases SC-01..SC-25 that no other test pins, one behaviour each.

Cases already covered elsewhere (see the coverage table in the review) are not
repeated here. Wire-level cases use ``responses``; the rest run against one
local org shared by this module and reset between tests.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
import responses
import structlog
from sqlmodel import select

import sfsync.backfill
from sfsync.app import App
from sfsync.backfill import Action, BackfillRange, backfill, write_report
from sfsync.cli.context import emit_json
from sfsync.cycle import run_pull
from sfsync.demo_data import wire_datetime
from sfsync.errors import (
    AuthError,
    ConfigError,
    LimitReachedError,
    NonAdvancingCursorError,
    SalesforceError,
    TransientSalesforceError,
)
from sfsync.localorg import LocalOrg
from sfsync.mapping import load_mappings
from sfsync.pull import PullPlan, pull_object
from sfsync.push.metadata import deployable_metadata
from sfsync.push.outbox import Outcome
from sfsync.push.send import send_rows
from sfsync.salesforce.bulk import bulk_ingest, bulk_query, csv_uploads
from sfsync.salesforce.client import SalesforceClient
from sfsync.salesforce.soql import literal
from sfsync.salesforce.soql import select as soql_select
from sfsync.settings import load_settings
from sfsync.store.db import open_store
from sfsync.store.models import Account, Opportunity, OutboxRow, SyncRun, SyncState

ROOT = Path(__file__).resolve().parents[2]
BASE = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
WIDE_FIELDS = 900
EXTERNAL_KEY = "Customer_Key__c"

LOGIN = "https://login.example.test"
INSTANCE = "https://example-dev-ed.my.salesforce.com"
DATA = f"{INSTANCE}/services/data/v59.0"


# -- a local org with the shipped fields, an external id and a very wide Account --


def _field_xml(name: str, extra: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<CustomField xmlns="http://soap.sforce.com/2006/04/metadata">\n'
        f"  <fullName>{name}</fullName>\n  <label>{name}</label>\n"
        f"  <type>Text</type>\n  <length>255</length>\n{extra}</CustomField>\n"
    )


def _case_metadata(tmp: Path) -> list[Path]:
    deployed = deployable_metadata(
        config_dir=ROOT / "config", mappings_dir=ROOT / "mappings", workdir=tmp
    )
    fields = tmp / "case-metadata" / "objects" / "Account" / "fields"
    fields.mkdir(parents=True)
    (fields / f"{EXTERNAL_KEY}.field-meta.xml").write_text(
        _field_xml(EXTERNAL_KEY, "  <externalId>true</externalId>\n"), "utf-8"
    )
    return [*deployed, tmp / "case-metadata"]


def _wide_metadata(tmp: Path) -> Path:
    fields = tmp / "wide-metadata" / "objects" / "Account" / "fields"
    fields.mkdir(parents=True)
    for n in range(1, WIDE_FIELDS + 1):
        name = f"Customer_Attribute_{n:03d}__c"
        (fields / f"{name}.field-meta.xml").write_text(_field_xml(name), "utf-8")
    return tmp / "wide-metadata"


@pytest.fixture(scope="module")
def org_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalOrg]:
    metadata = _case_metadata(tmp_path_factory.mktemp("metadata"))
    with LocalOrg.start(metadata_dirs=metadata, daily_limit=10_000_000) as org:
        yield org


@pytest.fixture
def org(org_server: LocalOrg) -> LocalOrg:
    org_server.reset()
    return org_server


@pytest.fixture
def wide_org(tmp_path: Path) -> Iterator[LocalOrg]:
    """An org whose Account has 900 more custom fields (its describe is slow)."""
    metadata = [*_case_metadata(tmp_path), _wide_metadata(tmp_path)]
    with LocalOrg.start(metadata_dirs=metadata) as org:
        yield org


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[Callable[..., App]]:
    made: list[App] = []

    def build(org: LocalOrg, **overrides: Any) -> App:
        values: dict[str, Any] = {
            k.removeprefix("SFSYNC_").lower(): v for k, v in org.env().items()
        }
        values.update(
            database_url=f"sqlite:///{tmp_path / 'sfsync.db'}",
            state_dir=tmp_path / "state",
        )
        values.update(overrides)
        app = App(load_settings(**values))
        made.append(app)
        return app

    yield build
    for app in made:
        app.close()


def _opportunity(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "Name": f"Deal {n}",
        "StageName": "Prospecting",
        "CloseDate": "2025-09-30",
        "Amount": 1000 + n,
        **fields,
    }


def _stamped(when: datetime, **fields: Any) -> dict[str, Any]:
    return {
        **fields,
        "LastModifiedDate": wire_datetime(when),
        "SystemModstamp": wire_datetime(when),
    }


def _won(n: int, **fields: Any) -> dict[str, Any]:
    return _opportunity(
        n,
        StageName="Closed Won",
        CloseDate="2023-05-02",
        Amount=50000,
        Type="New Customer",
        **fields,
    )


def _urls(app: App) -> list[str]:
    """Every URL the app's client requests from now on, decoded."""
    seen: list[str] = []

    def keep(response: Any, *_args: Any, **_kwargs: Any) -> None:
        seen.append(unquote_plus(response.request.url))

    app.client.http.hooks["response"].append(keep)
    return seen


def _stored(app: App, model: Any) -> dict[str, Any]:
    with app.store.session() as session:
        return {row.id: row for row in session.exec(select(model))}


def _last_run(app: App) -> SyncRun:
    with app.store.session() as session:
        run = session.exec(select(SyncRun).order_by(SyncRun.started_at.desc())).first()  # type: ignore[union-attr]
    assert run is not None
    return run


@contextmanager
def _captured_logs() -> Iterator[list[dict[str, Any]]]:
    """Every structlog event at any level, whatever an earlier test configured."""
    before = structlog.get_config()
    capture = structlog.testing.LogCapture()
    structlog.configure(
        processors=[capture],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
        cache_logger_on_first_use=False,
    )
    try:
        yield capture.entries
    finally:
        structlog.configure(**before)


# -- wire-level helpers -----------------------------------------------------------


def _wire_client(**overrides: Any) -> SalesforceClient:
    settings = load_settings(
        login_url=LOGIN,
        username="integration.user@example.com",
        password="pw-value",
        security_token="tok-value",
        client_id="consumer-key",
        client_secret="consumer-secret",
        **overrides,
    )
    return SalesforceClient(settings, sleep=lambda _s: None)


def _add_token(token: str) -> None:
    responses.add(
        responses.POST,
        f"{LOGIN}/services/oauth2/token",
        json={
            "access_token": token,
            "instance_url": INSTANCE,
            "id": f"{LOGIN}/id/00D/005",
            "token_type": "Bearer",
            "issued_at": "1717000000000",
            "signature": "c2ln",
        },
    )


def _csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _outbox(record_ids: list[str], fields: dict[str, Any], group: str) -> list[Any]:
    return [
        OutboxRow(
            id=n,
            sobject="Opportunity",
            record_id=record_id,
            group_key=group,
            fields=dict(fields),
        )
        for n, record_id in enumerate(record_ids, start=1)
    ]


# -- SC-02 cursor that cannot advance --------------------------------------------


@responses.activate
def test_page_marked_not_done_without_a_next_page_fails_instead_of_looping() -> None:
    """Case SC-02: `done: false` with no nextRecordsUrl is a cursor that cannot move."""
    _add_token("00Dtoken!first")
    responses.add(
        responses.GET,
        f"{DATA}/query/",
        json={"totalSize": 2, "done": False, "records": [{"Id": "006A"}]},
    )
    client = _wire_client()

    with pytest.raises(NonAdvancingCursorError, match="no next page"):
        list(client.query_pages("SELECT Id FROM Opportunity"))

    assert client.calls == 1


@responses.activate
def test_bulk_pull_with_rows_out_of_stamp_order_still_advances_the_watermark(
    tmp_path: Path,
) -> None:
    """Case SC-02: a bulk pull must end with a watermark, whatever the row order."""
    _add_token("00Dtoken!first")
    stamps = [BASE + timedelta(seconds=s) for s in (3, 1, 2)]
    ids = [f"0060000000000{n}AAA" for n in (3, 1, 2)]
    responses.add(
        responses.GET,
        f"{DATA}/queryAll/",
        json={"totalSize": 3, "done": True, "records": []},
    )
    responses.add(responses.POST, f"{DATA}/jobs/query", json={"id": "750Q"})
    responses.add(
        responses.GET, f"{DATA}/jobs/query/750Q", json={"state": "JobComplete"}
    )
    responses.add(
        responses.GET,
        f"{DATA}/jobs/query/750Q/results",
        body=_csv_text(
            [["Id", "Name", "SystemModstamp", "IsDeleted"]]
            + [
                [i, f"Deal {i}", s.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "false"]
                for i, s in zip(ids, stamps, strict=True)
            ]
        ),
        content_type="text/csv",
        headers={"Sforce-Locator": "null"},
    )
    client = _wire_client(bulk_pull_threshold=1)
    store = open_store(f"sqlite:///{tmp_path / 'bulk.db'}")
    plan = PullPlan(mapping=load_mappings(ROOT / "mappings")["Opportunity"])

    try:
        result = pull_object(client, store, plan, settings=client.settings)
    finally:
        store.dispose()

    assert (result.via, result.read) == ("bulk", 3)
    assert result.watermark == max(stamps)


@responses.activate
def test_bulk_results_locator_given_twice_fails_instead_of_rereading() -> None:
    """Case SC-02: a results locator that repeats is a cursor that cannot move."""
    _add_token("00Dtoken!first")
    responses.add(responses.POST, f"{DATA}/jobs/query", json={"id": "750L"})
    responses.add(
        responses.GET, f"{DATA}/jobs/query/750L", json={"state": "JobComplete"}
    )
    for _ in range(3):
        responses.add(
            responses.GET,
            f"{DATA}/jobs/query/750L/results",
            body=_csv_text([["Id"], ["006000000000001AAA"]]),
            content_type="text/csv",
            headers={"Sforce-Locator": "MTAwMDA"},
        )
    client = _wire_client()
    rows: list[dict[str, str]] = []

    with pytest.raises(NonAdvancingCursorError, match="MTAwMDA"):
        rows.extend(bulk_query(client, "SELECT Id FROM Opportunity", sleep=_no_wait))

    assert len(rows) == 2
    assert client.calls == 4


@responses.activate
def test_bulk_job_that_never_finishes_is_given_up_on_with_its_id() -> None:
    """Case SC-02: polling a job stuck in InProgress ends, bounded by a setting."""
    _add_token("00Dtoken!first")
    responses.add(responses.POST, f"{DATA}/jobs/query", json={"id": "750S"})
    responses.add(
        responses.GET, f"{DATA}/jobs/query/750S", json={"state": "InProgress"}
    )
    client = _wire_client(bulk_poll_interval_s=1.0, bulk_job_timeout_s=5.0)
    slept: list[float] = []

    with pytest.raises(SalesforceError, match="750S is still InProgress") as caught:
        list(bulk_query(client, "SELECT Id FROM Opportunity", sleep=slept.append))

    assert caught.value.error_code == "BULK_JOB_TIMEOUT"
    assert slept == [1.0, 2.0, 4.0]
    assert client.calls == 1 + 4


def _no_wait(_seconds: float) -> None:
    return None


# -- SC-04 too-wide select -------------------------------------------------------


def test_object_with_900_custom_fields_is_pulled_with_its_mapped_fields_only(
    wide_org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-04: selecting all 900 fields would pass 16 KB; only mapped ones go."""
    account = wide_org.insert(
        "Account", {"Name": "Wide Co", "Customer_Attribute_450__c": "x"}
    )
    app = make_app(wide_org)
    app.plans()
    urls = _urls(app)

    run_pull(app)

    account_queries = [u for u in urls if "/queryAll" in u and "FROM Account" in u]
    assert len(account_queries) == 1
    assert len(account_queries[0].encode()) < 16 * 1024
    assert "Customer_Attribute_" not in account_queries[0]
    assert set(_stored(app, Account)) == {account}


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda c: list(c.query_pages("SELECT Id FROM Opportunity")), id="query"
        ),
        pytest.param(
            lambda c: list(bulk_query(c, "SELECT Id FROM Opportunity")),
            id="bulk-create",
        ),
        pytest.param(
            lambda c: c.request_json(
                "PATCH", "composite/sobjects", operation="push update", json={}
            ),
            id="collections",
        ),
    ],
)
@responses.activate
def test_a_200_reply_that_is_not_json_is_retried_then_a_clear_error(
    call: Callable[[SalesforceClient], Any],
) -> None:
    """Case SC-04: an HTML page served with 200 is an error, never a decoding crash."""
    _add_token("00Dtoken!first")
    page = "<html><body>Down for maintenance</body></html>"
    for method, path in (
        (responses.GET, "query/"),
        (responses.POST, "jobs/query"),
        (responses.PATCH, "composite/sobjects"),
    ):
        responses.add(method, f"{DATA}/{path}", body=page, content_type="text/html")
    client = _wire_client(retry_attempts=3)

    with pytest.raises(TransientSalesforceError, match="could not be read"):
        call(client)

    assert client.calls == 3


# -- SC-05 query timeout on a long window ---------------------------------------


def test_query_timeout_splits_the_window_and_the_pull_continues(
    org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-05: a QUERY_TIMEOUT on the backfill window is split, not fatal."""
    account = org.insert(
        "Account", _stamped(datetime(2015, 3, 1, tzinfo=UTC), Name="A")
    )
    opportunities = [
        org.insert("Opportunity", _opportunity(n, AccountId=account)) for n in range(5)
    ]
    app = make_app(org)
    app.plans()
    urls = _urls(app)
    org.fail_next(1, status=400, error_code="QUERY_TIMEOUT")

    run_pull(app)

    account_queries = [u for u in urls if "FROM Account" in u]
    assert len(account_queries) == 3
    assert all("SystemModstamp <" not in u for u in account_queries[:1])
    assert "SystemModstamp <" in account_queries[1]
    assert set(_stored(app, Account)) == {account}
    assert set(_stored(app, Opportunity)) == set(opportunities)
    assert _last_run(app).outcome == "succeeded"


def test_query_that_keeps_timing_out_stops_after_a_bounded_number_of_splits(
    org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-05: after bounded splits, a clear error instead of endless halving."""
    org.insert("Account", {"Name": "A"})
    app = make_app(org)
    app.plans()
    calls_before = app.client.calls
    org.fail_next(100, status=400, error_code="QUERY_TIMEOUT")

    with pytest.raises(SalesforceError, match="still timed out after splitting") as e:
        run_pull(app)

    org.clear_faults()
    assert e.value.error_code == "QUERY_TIMEOUT"
    assert app.client.calls - calls_before == 7  # the window, then six halvings
    assert _last_run(app).outcome == "failed"


def _time_out_first_batches(org: LocalOrg, times: int) -> Any:
    """A progress callback that makes the backfill's next ``times`` queries time out.

    The backfill reports progress 0 after its opening ``SELECT COUNT()`` and
    before its first batch query, so the faults land on the batches.
    """

    def progress(done: int, _total: int | None, _calls: int) -> None:
        if done == 0:
            org.fail_next(times, status=400, error_code="QUERY_TIMEOUT")

    return progress


def test_backfill_query_timeout_narrows_the_window_and_the_backfill_completes(
    org: LocalOrg, make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Case SC-05: a five-year backfill window that times out is split, not fatal."""
    account = org.insert("Account", {"Name": "Customer", "NumberOfEmployees": 200})
    ids = {
        org.insert(
            "Opportunity",
            _stamped(
                datetime(2020 + n, 3, 1, tzinfo=UTC), **_won(n, AccountId=account)
            ),
        )
        for n in range(5)
    }
    app = make_app(org)
    urls = _urls(app)
    monkeypatch.setattr(
        sfsync.backfill, "run_push", _quiet_push(sfsync.backfill.run_push)
    )

    result = backfill(
        app,
        BackfillRange(close_from=date(2023, 1, 1), close_to=date(2023, 12, 31)),
        batch_size=3,
        progress=_time_out_first_batches(org, 2),
        today=date(2023, 6, 1),
    )

    batches = [u for u in urls if "FROM Opportunity" in u and "COUNT()" not in u]
    assert sum("SystemModstamp <" in u for u in batches) >= 2
    assert (result.distinct, result.expected) == (5, 5)
    assert result.ok
    assert set(_stored(app, Opportunity)) == ids


def test_backfill_query_that_keeps_timing_out_stops_with_a_clear_error(
    org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-05: bounded halvings, then an error that says what to do."""
    account = org.insert("Account", {"Name": "Customer", "NumberOfEmployees": 200})
    org.insert("Opportunity", _won(1, AccountId=account))
    app = make_app(org)
    urls = _urls(app)

    with pytest.raises(SalesforceError, match="after halving") as caught:
        backfill(
            app,
            BackfillRange(close_from=date(2023, 1, 1), close_to=date(2023, 12, 31)),
            progress=_time_out_first_batches(org, 100),
            today=date(2023, 6, 1),
        )

    org.clear_faults()
    batches = [u for u in urls if "FROM Opportunity" in u and "COUNT()" not in u]
    assert len(batches) == 7  # the window, then six halvings
    assert caught.value.error_code == "QUERY_TIMEOUT"
    assert "--resume" in str(caught.value.hint)


# -- SC-06 daily limit reached mid-pull -------------------------------------------


def _seed_paged(org: LocalOrg, count: int) -> None:
    org.load_records(
        "Opportunity",
        [
            _opportunity(n, SystemModstamp=wire_datetime(BASE + timedelta(seconds=n)))
            for n in range(count)
        ],
    )


def _after_opportunity_page(app: App, page: int, action: Callable[[], None]) -> None:
    seen = 0

    def hook(response: Any, *_args: Any, **_kwargs: Any) -> None:
        nonlocal seen
        url = unquote_plus(response.url)
        if "FROM Opportunity" in url or "/query/01g" in url:
            seen += 1
            if seen == page:
                action()

    app.client.http.hooks["response"].append(hook)


def test_limit_exceeded_on_page_four_keeps_pages_one_to_three_and_their_watermark(
    org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-06: a 403 REQUEST_LIMIT_EXCEEDED stops at once, nothing lost."""
    _seed_paged(org, 3 * 2000 + 1)
    app = make_app(org, api_reserve_percent=0)
    app.plans()
    _after_opportunity_page(app, 3, lambda: org.set_daily_limit(org.stats()["total"]))

    with pytest.raises(LimitReachedError):
        run_pull(app)

    stored = _stored(app, Opportunity)
    with app.store.session() as session:
        state = session.get(SyncState, "Opportunity")
    assert len(stored) == 3 * 2000
    assert state is not None
    assert state.watermark == max(o.system_modstamp for o in stored.values())
    assert org.stats()["rejected"] == 1
    assert _last_run(app).outcome == "deferred"


def test_configured_reserve_stops_the_pull_before_salesforce_refuses_a_call(
    org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-06: the reserve ends the job while the org still has calls left."""
    _seed_paged(org, 2000 + 1)
    app = make_app(org, api_reserve_percent=10)
    app.plans()
    org.reset_stats()
    # The Account query, then Opportunity page 1: after the second call the
    # remaining allocation equals the 10% reserve.
    limit = next(n for n in range(2, 100) if n - math.ceil(n / 10) == 2)
    org.set_daily_limit(limit)

    with pytest.raises(LimitReachedError) as caught:
        run_pull(app)

    assert caught.value.error_code == "SFSYNC_API_RESERVE"
    assert org.stats()["rejected"] == 0
    assert len(_stored(app, Opportunity)) == 2000
    assert _last_run(app).outcome == "deferred"


# -- SC-07 implicit start date ----------------------------------------------------


def test_first_pull_starts_at_the_explicit_floor_and_logs_it(
    org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-07: records from 2015 arrive; no hidden "now minus two years"."""
    old = [
        org.insert(
            "Opportunity",
            _stamped(datetime(2015, 4, n + 1, tzinfo=UTC), **_opportunity(n)),
        )
        for n in range(3)
    ]
    app = make_app(org)

    with _captured_logs() as logs:
        results = run_pull(app)

    opportunities = next(r for r in results if r.sobject == "Opportunity")
    assert opportunities.since == datetime(2000, 1, 1, tzinfo=UTC)
    assert set(_stored(app, Opportunity)) == set(old)
    first_runs = {
        e["sobject"]: e["floor"] for e in logs if e["event"] == "pull_first_run"
    }
    assert first_runs["Opportunity"] == "2000-01-01T00:00:00+00:00"


def test_backfill_whose_count_differs_from_select_count_is_not_ok(
    org: LocalOrg, make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Case SC-07: a record the batches never read makes the count check fail."""
    account = org.insert("Account", {"Name": "Customer", "NumberOfEmployees": 200})
    for n in range(4):
        org.insert("Opportunity", _won(n, AccountId=account))
    app = make_app(org)
    inserted: list[str] = []

    def progress(done: int, _total: int | None, _calls: int) -> None:
        if done and not inserted:
            # Committed behind the cursor while the backfill runs.
            inserted.append(
                org.insert(
                    "Opportunity",
                    _stamped(datetime(2020, 1, 1, tzinfo=UTC), **_won(99)),
                )
            )

    monkeypatch.setattr(
        sfsync.backfill, "run_push", _quiet_push(sfsync.backfill.run_push)
    )

    result = backfill(
        app,
        BackfillRange(close_from=date(2023, 1, 1), close_to=date(2023, 12, 31)),
        batch_size=2,
        progress=progress,
        today=date(2023, 6, 1),
    )

    assert (result.distinct, result.expected) == (4, 5)
    assert result.count_matches is False
    assert result.missing_ids == inserted
    assert not result.ok


def test_backfill_count_is_of_distinct_records_so_a_reread_cannot_hide_a_miss(
    org: LocalOrg, make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Case SC-07: an edit read twice must not make up for a record never read."""
    account = org.insert("Account", {"Name": "Customer", "NumberOfEmployees": 200})
    ids = [org.insert("Opportunity", _won(n, AccountId=account)) for n in range(4)]
    app = make_app(org)
    inserted: list[str] = []

    def progress(done: int, _total: int | None, _calls: int) -> None:
        if done and not inserted:
            # One record is edited (its new stamp puts it ahead of the cursor,
            # so it is read again) and one is committed behind the cursor.
            org.update("Opportunity", ids[0], {"Description": "edited mid-run"})
            inserted.append(
                org.insert(
                    "Opportunity",
                    _stamped(datetime(2020, 1, 1, tzinfo=UTC), **_won(99)),
                )
            )

    monkeypatch.setattr(
        sfsync.backfill, "run_push", _quiet_push(sfsync.backfill.run_push)
    )

    result = backfill(
        app,
        BackfillRange(close_from=date(2023, 1, 1), close_to=date(2023, 12, 31)),
        batch_size=2,
        progress=progress,
        today=date(2023, 6, 1),
    )

    assert result.total_done == 5  # four records, one of them read twice
    assert (result.distinct, result.expected) == (4, 5)
    assert result.count_matches is False
    assert result.missing_ids == inserted
    assert not result.ok


# -- SC-08 LastModifiedDate misses system changes ------------------------------


def test_system_change_that_leaves_last_modified_date_alone_is_pulled_for_both_objects(
    org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-08: only SystemModstamp moves; Account and Opportunity both follow it."""
    account = org.insert("Account", _stamped(BASE, Name="Before"))
    opportunity = org.insert(
        "Opportunity", _stamped(BASE, **_opportunity(1, AccountId=account))
    )
    app = make_app(org)
    run_pull(app)
    system_change = {
        "LastModifiedDate": wire_datetime(BASE),
        "SystemModstamp": wire_datetime(datetime.now(UTC)),
    }
    org.update("Account", account, {"Name": "After", **system_change})
    org.update(
        "Opportunity", opportunity, {"StageName": "Qualification", **system_change}
    )

    run_pull(app)

    assert _stored(app, Account)[account].name == "After"
    assert _stored(app, Opportunity)[opportunity].stage_name == "Qualification"


# -- SC-11 old API version ------------------------------------------------------


def test_configured_api_version_is_logged_at_start_and_used_for_every_call(
    org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-11: one API version, configured, logged, and the only one spoken."""
    org.insert("Opportunity", _opportunity(1))
    app = make_app(org, api_version="57.0")

    with _captured_logs() as logs:
        urls = _urls(app)
        run_pull(app)

    started = [e for e in logs if e["event"] == "salesforce_client"]
    assert [e["api_version"] for e in started] == ["57.0"]
    data_calls = [u for u in urls if "/services/data/" in u]
    assert data_calls
    assert all("/services/data/v57.0/" in u for u in data_calls)


# -- SC-13 date shifted by a time zone -------------------------------------------


@pytest.mark.parametrize(
    "host_zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"], indirect=True
)
def test_close_date_pulled_on_a_far_zoned_host_stays_the_same_day(
    org: LocalOrg, make_app: Callable[..., App], host_zone: str
) -> None:
    """Case SC-13: CloseDate 2022-03-25 is stored as 2022-03-25 at UTC+14 and -11."""
    record = org.insert("Opportunity", _opportunity(1, CloseDate="2022-03-25"))
    app = make_app(org)

    run_pull(app)

    assert _stored(app, Opportunity)[record].close_date == date(2022, 3, 25)


# -- SC-15 NUL bytes ---------------------------------------------------------


def test_nul_byte_in_a_bulk_csv_row_is_removed_and_the_repair_logged(
    org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-15: the bulk pull goes on, stores the value clean, logs one repair."""
    ids = [org.insert("Opportunity", _opportunity(n)) for n in range(3)]
    org.update("Opportunity", ids[1], {"Name": "Kickoff\x00 done"})
    app = make_app(org, bulk_pull_threshold=1)

    with _captured_logs() as logs:
        results = run_pull(app)

    opportunities = next(r for r in results if r.sobject == "Opportunity")
    assert opportunities.via == "bulk"
    assert _stored(app, Opportunity)[ids[1]].name == "Kickoff done"
    repairs = [
        e["nul_bytes_removed"]
        for e in logs
        if e["event"] == "pull_repaired_values" and e["sobject"] == "Opportunity"
    ]
    assert repairs == [1]


# -- SC-16 non-Latin text in ops files -------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_backfill_report_keeps_non_latin_names_as_utf8(
    tmp_path: Path, suffix: str
) -> None:
    """Case SC-16: the ops file sfsync writes reads back as UTF-8, names intact."""
    path = tmp_path / f"report{suffix}"
    actions = [
        Action("created_project", "Opportunity", "006A", 1, "Łódź Sp. z o.o."),
        Action("skipped", "Opportunity", "006B", None, "Škoda Auto a.s."),
    ]

    write_report(path, actions)

    text = path.read_bytes().decode("utf-8")
    if suffix == ".csv":
        details = [r["detail"] for r in csv.DictReader(io.StringIO(text))]
    else:
        details = [r["detail"] for r in json.loads(text)]
    assert details == ["Łódź Sp. z o.o.", "Škoda Auto a.s."]


def test_json_on_a_latin1_standard_output_is_written_as_utf8(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Case SC-16: machine output under a Latin-1 locale keeps the names whole."""
    raw = io.BytesIO()
    latin1 = io.TextIOWrapper(raw, encoding="latin-1")
    monkeypatch.setattr(sys, "stdout", latin1)

    emit_json({"names": ["Łódź Sp. z o.o.", "Škoda Auto a.s."]})

    shown = json.loads(raw.getvalue().decode("utf-8"))
    assert shown == {"names": ["Łódź Sp. z o.o.", "Škoda Auto a.s."]}


# -- SC-17 embedded newlines and commas in CSV -----------------------------------

MULTILINE = "Kickoff done, waiting on IT\nsecond line"


def test_bulk_ingest_value_with_comma_and_line_break_arrives_intact(
    org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-17: a multi-line value amid 500 rows is one record, unchanged."""
    ids = org.load_records("Opportunity", [_opportunity(n) for n in range(500)])
    rows = [{"Id": i, "Description": f"Note {n}"} for n, i in enumerate(ids)]
    rows[250]["Description"] = MULTILINE
    app = make_app(org)

    result = bulk_ingest(app.client, "Opportunity", rows, sleep=lambda _s: None)

    assert (len(result.succeeded), result.failed, result.unprocessed) == (500, {}, [])
    assert (org.get("Opportunity", ids[250]) or {})["Description"] == MULTILINE
    assert (org.get("Opportunity", ids[251]) or {})["Description"] == "Note 251"


def test_bulk_ingest_split_into_several_uploads_cuts_only_between_records(
    org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-17: uploads over the size limit are cut by records, never mid-value."""
    ids = org.load_records("Opportunity", [_opportunity(n) for n in range(500)])
    rows = [{"Id": i, "Description": f"Note {n}"} for n, i in enumerate(ids)]
    rows[250]["Description"] = MULTILINE
    app = make_app(org)
    org.reset_stats()

    result = bulk_ingest(
        app.client, "Opportunity", rows, max_upload_bytes=4096, sleep=lambda _s: None
    )

    uploads = org.stats()["by_endpoint"]["PUT bulk2"]
    assert uploads == len(result.job_ids) > 1
    assert (len(result.succeeded), result.failed, result.unprocessed) == (500, {}, [])
    assert [(org.get("Opportunity", i) or {})["Description"] for i in ids[249:252]] == [
        "Note 249",
        MULTILINE,
        "Note 251",
    ]


def test_csv_uploads_hold_whole_records_under_the_limit() -> None:
    """Case SC-17: each upload parses alone, with the header, to whole records."""
    rows = [{"Id": f"006{n:015d}", "Description": MULTILINE} for n in range(40)]

    uploads = list(csv_uploads(rows, ["Id", "Description"], max_bytes=300))

    assert all(len(u) <= 300 for u in uploads)
    parsed = [
        r for u in uploads for r in csv.DictReader(io.StringIO(u.decode(), newline=""))
    ]
    assert parsed == rows


def test_bulk_query_row_with_comma_and_line_break_is_read_as_one_value(
    org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-17: reading the value back through Bulk API 2.0 CSV keeps it whole."""
    ids = org.load_records("Opportunity", [_opportunity(n) for n in range(3)])
    org.update("Opportunity", ids[1], {"Description": MULTILINE})
    app = make_app(org)

    rows = list(
        bulk_query(
            app.client,
            "SELECT Id, Description FROM Opportunity ORDER BY Id",
            sleep=lambda _s: None,
        )
    )

    assert len(rows) == 3
    assert {r["Id"]: r["Description"] for r in rows}[ids[1]] == MULTILINE


# -- SC-18 external ids with reserved characters -------------------------------


def test_upsert_by_external_id_with_slash_and_space_updates_the_one_record(
    org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-18: `ACME/EMEA 2024` reaches its record; no second one is created."""
    acme = org.insert("Account", {"Name": "ACME EMEA", EXTERNAL_KEY: "ACME/EMEA 2024"})
    app = make_app(org)

    result = bulk_ingest(
        app.client,
        "Account",
        [{EXTERNAL_KEY: "ACME/EMEA 2024", "Name": "ACME EMEA GmbH"}],
        operation="upsert",
        key=EXTERNAL_KEY,
        sleep=lambda _s: None,
    )

    assert result.succeeded == {"ACME/EMEA 2024": acme}
    assert org.count("Account") == 1
    assert (org.get("Account", acme) or {})["Name"] == "ACME EMEA GmbH"


def test_fetch_by_external_id_with_slash_and_space_finds_exactly_that_record(
    org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-18: the key is quoted into SOQL and encoded on the wire."""
    acme = org.insert("Account", {"Name": "ACME EMEA", EXTERNAL_KEY: "ACME/EMEA 2024"})
    org.insert("Account", {"Name": "ACME", EXTERNAL_KEY: "ACME"})
    app = make_app(org)
    soql = soql_select(
        "Account", ["Id"], where=f"{EXTERNAL_KEY} = {literal('ACME/EMEA 2024')}"
    )

    found = [r["Id"] for p in app.client.query_pages(soql) for r in p.records]

    assert found == [acme]


# -- SC-19 failed rows without ids -----------------------------------------------


@responses.activate
def test_bulk_results_out_of_order_with_empty_failure_id_land_on_our_own_rows() -> None:
    """Case SC-19: Bulk 2.0 results are matched by the key column, not position."""
    _add_token("00Dtoken!first")
    ids = ["006000000000001AAA", "006000000000002AAA", "006000000000003AAA"]
    error = "FIELD_CUSTOM_VALIDATION_EXCEPTION:Go-live needs a manager:--"
    responses.add(responses.POST, f"{DATA}/jobs/ingest", json={"id": "750I"})
    responses.add(responses.PUT, f"{DATA}/jobs/ingest/750I/batches", status=201)
    responses.add(responses.PATCH, f"{DATA}/jobs/ingest/750I", json={"id": "750I"})
    responses.add(
        responses.GET,
        f"{DATA}/jobs/ingest/750I",
        json={
            "state": "JobComplete",
            "numberRecordsProcessed": 3,
            "numberRecordsFailed": 1,
        },
    )
    responses.add(
        responses.GET,
        f"{DATA}/jobs/ingest/750I/successfulResults",
        body=_csv_text(
            [["sf__Id", "sf__Created", "Id", "NextStep"]]
            + [[i, "false", i, "Kickoff"] for i in (ids[2], ids[0])]
        ),
        content_type="text/csv",
    )
    responses.add(
        responses.GET,
        f"{DATA}/jobs/ingest/750I/failedResults",
        body=_csv_text(
            [["sf__Id", "sf__Error", "Id", "NextStep"], ["", error, ids[1], "Kickoff"]]
        ),
        content_type="text/csv",
    )
    rows = _outbox(ids, {"NextStep": "Kickoff"}, "001000000000001AAA")
    outcomes: list[Outcome] = []

    report = send_rows(
        _wire_client(),
        rows,
        record=outcomes.extend,
        bulk_threshold=0,
        sleep=lambda _s: None,
    )

    by_row = {o.row_id: (o.result, o.error_code) for o in outcomes}
    assert by_row == {
        1: ("sent", None),
        2: ("park", "FIELD_CUSTOM_VALIDATION_EXCEPTION"),
        3: ("sent", None),
    }
    assert (report.via, report.sent, report.parked) == ("bulk", 2, 1)


# -- SC-20 per-row failures that raise nothing ----------------------------------


@responses.activate
def test_every_row_refused_with_http_200_is_counted_and_parked_with_its_error() -> None:
    """Case SC-20: three INVALID_FIELD rows in a 200 reply: three parked, none sent."""
    _add_token("00Dtoken!first")
    refused = {
        "id": None,
        "success": False,
        "errors": [
            {
                "statusCode": "INVALID_FIELD",
                "message": "No such column 'Go_Live__c' on sobject of type Opportunity",
                "fields": [],
            }
        ],
    }
    responses.add(responses.PATCH, f"{DATA}/composite/sobjects", json=[refused] * 3)
    ids = [f"00600000000000{n}AAA" for n in range(1, 4)]
    outcomes: list[Outcome] = []

    report = send_rows(
        _wire_client(),
        _outbox(ids, {"Go_Live__c": "2024-01-01"}, "001000000000001AAA"),
        record=outcomes.extend,
        bulk_threshold=5000,
        sleep=lambda _s: None,
    )

    assert (report.sent, report.parked, report.errors) == (0, 3, {"INVALID_FIELD": 3})
    assert [o.result for o in outcomes] == ["park"] * 3
    assert all("No such column 'Go_Live__c'" in (o.error or "") for o in outcomes)
    assert report.retried == 0


def _quiet_push(push: Callable[..., Any]) -> Callable[..., Any]:
    """The real push, without the seconds of wall-clock wait between retry rounds."""

    def run(app: App, **kwargs: Any) -> Any:
        return push(app, sleep=lambda _s: None, **kwargs)

    return run


def _backfill_won_deals(app: App, **kwargs: Any) -> Any:
    return backfill(
        app,
        BackfillRange(close_from=date(2023, 1, 1), close_to=date(2023, 12, 31)),
        today=date(2023, 6, 1),
        **kwargs,
    )


def test_backfill_whose_pushed_rows_are_refused_is_not_ok(
    org: LocalOrg, make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Case SC-20: a row parked by the backfill's push makes the backfill fail."""
    account = org.insert("Account", {"Name": "Customer", "NumberOfEmployees": 200})
    ids = [org.insert("Opportunity", _won(n, AccountId=account)) for n in range(3)]
    monkeypatch.setattr(
        sfsync.backfill, "run_push", _quiet_push(sfsync.backfill.run_push)
    )

    def progress(done: int, _total: int | None, _calls: int) -> None:
        if done:
            org.delete("Opportunity", ids[0])  # gone before the push writes it

    result = _backfill_won_deals(make_app(org), progress=progress)

    assert result.failed == 1
    assert not result.ok
    assert [
        (a.action, a.record_id) for a in result.actions if a.action == "failed"
    ] == [("failed", ids[0])]


def test_backfill_whose_pushed_rows_stay_refused_through_the_retries_is_not_ok(
    org: LocalOrg, make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Case SC-20: a row that failed every attempt is a failed row for the backfill."""
    account = org.insert("Account", {"Name": "Customer", "NumberOfEmployees": 200})
    ids = [org.insert("Opportunity", _won(n, AccountId=account)) for n in range(3)]
    org.lock_ids([ids[0]], times=None)
    monkeypatch.setattr(
        sfsync.backfill, "run_push", _quiet_push(sfsync.backfill.run_push)
    )

    result = _backfill_won_deals(make_app(org))

    assert result.steps["push"]["send"]["deferred"] == 1
    assert result.failed == 1
    assert not result.ok


# -- SC-21 lock contention -------------------------------------------------------


def test_permanently_locked_row_is_retried_alone_with_bounded_backoff(
    org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-21: 200 children of one account in one call; only row 3 goes again."""
    account = org.insert("Account", {"Name": "Customer"})
    ids = org.load_records(
        "Opportunity", [_opportunity(n, AccountId=account) for n in range(200)]
    )
    org.lock_ids([ids[2]], times=None)
    app = make_app(org)
    bodies: list[list[str]] = []

    def keep(response: Any, *_args: Any, **_kwargs: Any) -> None:
        if response.request.method == "PATCH":
            sent = json.loads(response.request.body)["records"]
            bodies.append([r["id"] for r in sent])

    app.client.http.hooks["response"].append(keep)
    outcomes: list[Outcome] = []
    sleeps: list[float] = []

    report = send_rows(
        app.client,
        _outbox(ids, {"NextStep": "Kickoff booked"}, account),
        record=outcomes.extend,
        bulk_threshold=5000,
        sleep=sleeps.append,
    )

    assert [len(b) for b in bodies] == [200, 1, 1]
    assert bodies[1] == bodies[2] == [ids[2]]
    assert sleeps == [1.0, 2.0]
    assert (report.sent, report.deferred, report.retried) == (199, 1, 2)
    assert [(o.row_id, o.error_code) for o in outcomes if o.result != "sent"] == [
        (3, "UNABLE_TO_LOCK_ROW")
    ]


# -- SC-22 session expiry on the bulk path ---------------------------------------


@responses.activate
def test_bulk_session_refused_again_after_renewal_is_a_clear_auth_error() -> None:
    """Case SC-22: renew once on a 400 InvalidSessionId, retry once, then stop."""
    _add_token("00Dtoken!first")
    _add_token("00Dtoken!second")
    responses.add(
        responses.GET,
        f"{DATA}/jobs/query/750X",
        status=400,
        json=[{"errorCode": "InvalidSessionId", "message": "Invalid session id"}],
    )
    client = _wire_client()

    with pytest.raises(AuthError, match="refused again"):
        client.request("GET", "jobs/query/750X", operation="bulk query status")

    assert client.tokens.logins == 2
    assert client.calls == 2


# -- SC-24 naive datetimes at the boundary ---------------------------------------


def test_naive_pull_floor_is_refused_when_settings_are_loaded() -> None:
    """Case SC-24: a configured time without a zone never reaches a query."""
    with pytest.raises(ConfigError, match="pull_floor needs a time zone"):
        load_settings(pull_floor=datetime(2015, 1, 1))


# -- SC-25 bulk work through the one token manager -------------------------------


def test_bulk_pull_renews_an_expired_session_through_the_token_manager(
    org: LocalOrg, make_app: Callable[..., App]
) -> None:
    """Case SC-25: a session expiring mid-job is renewed once; the job completes."""
    ids = org.load_records("Opportunity", [_opportunity(n) for n in range(30)])
    app = make_app(org, bulk_pull_threshold=10)
    app.plans()
    org.set_bulk_invalid_session_400()
    expired = False

    def expire_after_job_created(response: Any, *_args: Any, **_kwargs: Any) -> None:
        nonlocal expired
        created = response.request.method == "POST" and "/jobs/query" in response.url
        if created and not expired:
            expired = True
            org.expire_sessions()

    app.client.http.hooks["response"].append(expire_after_job_created)

    results = run_pull(app)

    assert next(r for r in results if r.sobject == "Opportunity").via == "bulk"
    assert set(_stored(app, Opportunity)) == set(ids)
    assert expired
    assert app.client.tokens.logins == 2


@responses.activate
def test_bulk_upload_retried_after_session_renewal_is_still_sent_as_csv() -> None:
    """Case SC-25: the renewed upload is the same CSV request with a new token."""
    _add_token("00Dtoken!first")
    _add_token("00Dtoken!second")
    upload = f"{DATA}/jobs/ingest/750I/batches"
    responses.add(responses.POST, f"{DATA}/jobs/ingest", json={"id": "750I"})
    responses.add(
        responses.PUT,
        upload,
        status=401,
        json=[{"errorCode": "INVALID_SESSION_ID", "message": "Session expired"}],
    )
    responses.add(responses.PUT, upload, status=201)
    responses.add(responses.PATCH, f"{DATA}/jobs/ingest/750I", json={"id": "750I"})
    responses.add(
        responses.GET,
        f"{DATA}/jobs/ingest/750I",
        json={
            "state": "JobComplete",
            "numberRecordsProcessed": 1,
            "numberRecordsFailed": 0,
        },
    )
    responses.add(
        responses.GET,
        f"{DATA}/jobs/ingest/750I/successfulResults",
        body=_csv_text(
            [
                ["sf__Id", "sf__Created", "Id", "NextStep"],
                ["006000000000001AAA", "false", "006000000000001AAA", "Kickoff"],
            ]
        ),
        content_type="text/csv",
    )
    client = _wire_client()

    result = bulk_ingest(
        client,
        "Opportunity",
        [{"Id": "006000000000001AAA", "NextStep": "Kickoff"}],
        sleep=lambda _s: None,
    )

    puts = [c.request for c in responses.calls if c.request.method == "PUT"]
    assert len(puts) == 2
    assert puts[1].headers["Authorization"] == "Bearer 00Dtoken!second"
    assert puts[1].headers.get("Content-Type") == "text/csv"
    assert result.succeeded == {"006000000000001AAA": "006000000000001AAA"}
