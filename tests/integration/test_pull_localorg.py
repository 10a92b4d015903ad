"""The pull against a local org over HTTPS, through the unmodified client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trustme
from sqlmodel import select

from sfsync.app import App
from sfsync.cycle import run_pull
from sfsync.demo_data import wire_datetime
from sfsync.errors import (
    DescribeMismatchError,
    LimitReachedError,
    SalesforceError,
    TransientSalesforceError,
)
from sfsync.localorg import LocalOrg
from sfsync.store.models import Account, Opportunity, SyncRun, SyncState

BASE = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


def seed(
    org: LocalOrg,
    accounts: int = 3,
    opportunities: int = 10,
    stamp: Callable[[int], datetime] | None = None,
) -> tuple[list[str], list[str]]:
    account_ids = [
        org.insert(
            "Account", {"Name": f"Account {i}", "SystemModstamp": wire_datetime(BASE)}
        )
        for i in range(accounts)
    ]
    opp_ids = []
    for i in range(opportunities):
        when = stamp(i) if stamp else BASE + timedelta(minutes=i)
        opp_ids.append(
            org.insert(
                "Opportunity",
                {
                    "Name": f"Deal {i}",
                    "AccountId": account_ids[i % accounts],
                    "StageName": "Prospecting",
                    "CloseDate": "2025-09-30",
                    "Amount": 1000 + i,
                    "SystemModstamp": wire_datetime(when),
                },
            )
        )
    return account_ids, opp_ids


def mirror(app: App) -> dict[str, tuple[Any, ...]]:
    with app.store.session() as session:
        return {
            o.id: (o.name, o.amount, o.stage_name, o.is_deleted)
            for o in session.exec(select(Opportunity))
        }


@pytest.fixture
def app(org: LocalOrg, make_app: Callable[..., App], pull_only_mappings: Path) -> App:
    return make_app(org, mappings_dir=pull_only_mappings)


def test_first_sync_mirrors_every_account_and_opportunity(
    org: LocalOrg, app: App
) -> None:
    account_ids, opp_ids = seed(org)

    run_pull(app)

    assert set(mirror(app)) == set(opp_ids)
    with app.store.session() as session:
        assert {a.id for a in session.exec(select(Account))} >= set(account_ids)


def test_three_edits_are_pulled_with_one_query_per_object(
    org: LocalOrg, app: App
) -> None:
    _, opp_ids = seed(org)
    app.plans()
    run_pull(app)
    for record_id in opp_ids[:3]:
        org.update("Opportunity", record_id, {"StageName": "Negotiation/Review"})
    org.reset_stats()

    results = run_pull(app)

    by_object = {r.sobject: r for r in results}
    assert by_object["Opportunity"].written == 3
    assert by_object["Account"].written == 0
    assert org.stats()["total"] == 2
    assert [v[2] for k, v in mirror(app).items() if k in opp_ids[:3]] == [
        "Negotiation/Review"
    ] * 3


def test_deleted_opportunity_is_marked_deleted_locally(org: LocalOrg, app: App) -> None:
    _, opp_ids = seed(org)
    run_pull(app)

    org.delete("Opportunity", opp_ids[4])
    run_pull(app)

    assert mirror(app)[opp_ids[4]][3] is True
    assert sum(1 for v in mirror(app).values() if v[3]) == 1


def test_paged_pull_has_no_gap_or_duplicate_with_shared_stamps_at_page_edges(
    org: LocalOrg, app: App
) -> None:
    """2,500 changed records across pages; pairs share a SystemModstamp."""
    _, opp_ids = seed(
        org, opportunities=2500, stamp=lambda i: BASE + timedelta(seconds=i // 2)
    )

    results = run_pull(app)

    opportunities = next(r for r in results if r.sobject == "Opportunity")
    assert opportunities.read == 2500
    assert opportunities.pages == 2
    assert set(mirror(app)) == set(opp_ids)


def test_failure_after_second_page_then_new_run_gives_the_same_mirror(
    org: LocalOrg,
    make_app: Callable[..., App],
    pull_only_mappings: Path,
    tmp_path: Path,
) -> None:
    seed(org, opportunities=4500)
    broken = make_app(
        org,
        mappings_dir=pull_only_mappings,
        retry_attempts=2,
        database_url=f"sqlite:///{tmp_path / 'broken.db'}",
    )
    clean = make_app(
        org,
        mappings_dir=pull_only_mappings,
        database_url=f"sqlite:///{tmp_path / 'clean.db'}",
    )
    pages_seen = 0

    def fail_after_second_page(response: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal pages_seen
        if (
            "/query" in response.url and "Opportunity" in response.url
        ) or "/query/01g" in response.url:
            pages_seen += 1
            if pages_seen == 2:
                org.fail_next(10, status=503)

    broken.client.http.hooks["response"].append(fail_after_second_page)

    with pytest.raises(TransientSalesforceError):
        run_pull(broken)
    org.clear_faults()
    run_pull(broken)
    run_pull(clean)

    assert mirror(broken) == mirror(clean)
    assert len(mirror(broken)) == 4500
    with broken.store.session() as session:
        outcomes = [
            r.outcome
            for r in session.exec(select(SyncRun).order_by(SyncRun.started_at))
        ]
    assert outcomes == ["failed", "succeeded"]


def test_expired_session_mid_pull_is_renewed_without_failing(
    org: LocalOrg, app: App
) -> None:
    seed(org, opportunities=4500)
    expired = False

    def expire_after_first_page(response: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal expired
        if "Opportunity" in response.url and not expired:
            expired = True
            org.expire_sessions()

    app.client.http.hooks["response"].append(expire_after_first_page)

    run_pull(app)

    assert len(mirror(app)) == 4500
    assert app.client.tokens.logins == 2


def test_mapping_to_a_field_the_org_lacks_stops_and_writes_nothing(
    org: LocalOrg, make_app: Callable[..., App], pull_only_mappings: Path
) -> None:
    seed(org)
    mapping = pull_only_mappings / "opportunity.yaml"
    mapping.write_text(
        mapping.read_text(encoding="utf-8").replace(
            "  lead_source: {field: LeadSource, kind: picklist}",
            "  lead_source: {field: Lead_Channel__c, kind: picklist}",
        ),
        encoding="utf-8",
    )
    app = make_app(org, mappings_dir=pull_only_mappings)

    with pytest.raises(DescribeMismatchError) as caught:
        run_pull(app)

    assert "Opportunity.Lead_Channel__c" in str(caught.value)
    assert f"{mapping}:" in str(caught.value)
    assert mirror(app) == {}


def test_record_committed_late_behind_the_watermark_is_still_pulled(
    org: LocalOrg, app: App
) -> None:
    """Case SC-01: B stamped before A but visible only after run 1."""
    run_1 = datetime.now(UTC)
    a = org.insert(
        "Opportunity",
        {
            "Name": "A",
            "StageName": "Prospecting",
            "CloseDate": "2025-09-30",
            "SystemModstamp": wire_datetime(run_1 - timedelta(seconds=2)),
        },
    )
    run_pull(app)

    b = org.insert(
        "Opportunity",
        {
            "Name": "B",
            "StageName": "Prospecting",
            "CloseDate": "2025-09-30",
            "SystemModstamp": wire_datetime(run_1 - timedelta(seconds=5)),
        },
    )
    run_pull(app)

    assert set(mirror(app)) == {a, b}


def test_idle_cycle_does_not_re_read_a_burst_already_pulled(
    org: LocalOrg, app: App
) -> None:
    """Changes read by a complete pull are not read again once it has aged past
    the overlap, even while the watermark stays on them."""
    recent = datetime.now(UTC) - timedelta(seconds=400)
    seed(org, opportunities=2500, stamp=lambda i: recent + timedelta(seconds=i / 100))
    run_pull(app)
    org.reset_stats()

    results = run_pull(app)

    assert sum(r.read for r in results) == 0
    assert org.stats()["total"] == 2


def test_limit_reached_mid_pull_keeps_committed_pages_and_defers_the_run(
    org: LocalOrg, app: App
) -> None:
    """Case SC-06: stop at once, keep what arrived, no retry loop."""
    seed(org, opportunities=7000)
    app.plans()
    org.set_daily_limit(org.stats()["api_usage"]["used"] + 5)

    with pytest.raises(LimitReachedError):
        run_pull(app)

    with app.store.session() as session:
        run = session.exec(select(SyncRun).order_by(SyncRun.started_at.desc())).first()  # type: ignore[union-attr]
        state = session.get(SyncState, "Opportunity")
    assert run is not None
    assert run.outcome == "deferred"
    assert state is not None
    assert state.watermark is not None
    assert 0 < len(mirror(app)) < 7000


def test_large_pull_switches_to_bulk_and_streams(
    org: LocalOrg, make_app: Callable[..., App], pull_only_mappings: Path
) -> None:
    _, opp_ids = seed(org, opportunities=3000)
    org.update("Opportunity", opp_ids[7], {"Name": "Kickoff\x00 done"})
    app = make_app(
        org,
        mappings_dir=pull_only_mappings,
        bulk_pull_threshold=1000,
        bulk_page_size=1000,
    )

    results = run_pull(app)

    opportunities = next(r for r in results if r.sobject == "Opportunity")
    assert opportunities.via == "bulk"
    assert opportunities.read == 3000
    assert set(mirror(app)) == set(opp_ids)
    assert mirror(app)[opp_ids[7]][0] == "Kickoff done"
    assert opportunities.repairs.nul_bytes_removed == 1


def test_twenty_thousand_records_sharing_one_stamp_arrive_exactly_once(
    org: LocalOrg, app: App
) -> None:
    """Case SC-02: a mass update gives 20,000 records one SystemModstamp."""
    stamp = wire_datetime(BASE)
    org.load_records(
        "Opportunity",
        [
            {
                "Name": f"Mass {i}",
                "StageName": "Prospecting",
                "CloseDate": "2025-09-30",
                "SystemModstamp": stamp,
            }
            for i in range(20_000)
        ],
    )
    org.reset_stats()

    results = run_pull(app)

    opportunities = next(r for r in results if r.sobject == "Opportunity")
    assert opportunities.read == 20_000
    assert opportunities.written == 20_000
    assert len(mirror(app)) == 20_000
    # Ten pages of 2,000 opportunities and one of accounts: the cursor moved
    # through the shared stamp without asking for the same second again.
    assert org.stats()["by_category"] == {"describe": 2, "query": 11}


def test_change_to_system_modstamp_alone_is_pulled(org: LocalOrg, app: App) -> None:
    """Case SC-08: a system change moves SystemModstamp, not LastModifiedDate."""
    _, opp_ids = seed(org)
    run_pull(app)
    before = org.get("Opportunity", opp_ids[0])
    assert before is not None

    org.update(
        "Opportunity",
        opp_ids[0],
        {
            "StageName": "Qualification",
            "LastModifiedDate": before["LastModifiedDate"],
            "SystemModstamp": wire_datetime(datetime.now(UTC)),
        },
    )
    results = run_pull(app)

    assert next(r for r in results if r.sobject == "Opportunity").written == 1
    assert mirror(app)[opp_ids[0]][2] == "Qualification"


def _stored_value(stored: Opportunity, column: str) -> Any:
    if column.startswith("extra."):
        return stored.extra.get(column.removeprefix("extra."))
    return str(getattr(stored, column))


@pytest.mark.parametrize(
    ("field", "column"),
    [
        ("Target_Go_Live__c", "target_go_live"),
        ("Solutions_Engineer__c", "extra.solutions_engineer_id"),
    ],
    ids=["own-column", "extra-json"],
)
def test_field_hidden_from_the_integration_user_keeps_its_stored_value(
    org: LocalOrg,
    make_app: Callable[..., App],
    pull_only_mappings: Path,
    tmp_path: Path,
    field: str,
    column: str,
) -> None:
    """Case SC-12: an optional field that is not selected is never written as null."""
    _, opp_ids = seed(org)
    engineer = org.insert(
        "User",
        {
            "Username": "se@example.test",
            "LastName": "Engineer",
            "Email": "se@example.test",
            "Alias": "seng",
        },
    )
    value = {"Target_Go_Live__c": "2026-02-27", "Solutions_Engineer__c": engineer}
    org.update("Opportunity", opp_ids[0], {field: value[field]})
    url = f"sqlite:///{tmp_path / 'hidden.db'}"
    run_pull(make_app(org, mappings_dir=pull_only_mappings, database_url=url))
    org.hide_field("Opportunity", field)
    org.update("Opportunity", opp_ids[0], {"StageName": "Qualification"})

    later = make_app(org, mappings_dir=pull_only_mappings, database_url=url)
    run_pull(later)

    with later.store.session() as session:
        stored = session.get(Opportunity, opp_ids[0])
    assert stored is not None
    assert stored.stage_name == "Qualification"
    assert _stored_value(stored, column) == value[field]


def test_an_untrusted_certificate_is_a_clear_error_tried_once(
    org: LocalOrg, make_app: Callable[..., App], tmp_path: Path
) -> None:
    """A CA bundle that does not sign the org's certificate is not an outage."""
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    app = make_app(org, ca_file=str(other_ca))
    logins_before = org.stats()["auth"]

    with pytest.raises(SalesforceError, match="certificate is not trusted") as caught:
        run_pull(app)

    assert caught.value.error_code == "TLS_CERTIFICATE"
    assert not caught.value.retryable
    assert "SFSYNC_CA_FILE" in str(caught.value)
    assert org.stats()["auth"] == logins_before
