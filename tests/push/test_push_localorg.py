"""The push against a local org over HTTPS: calls spent, partial failures, limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from sfsync.app import App
from sfsync.cycle import run_pull
from sfsync.errors import LimitReachedError
from sfsync.handoff import run_handoff
from sfsync.localorg import LocalOrg
from sfsync.push.job import run_push
from sfsync.push.metadata import deployable_metadata
from sfsync.push.outbox import list_rows
from sfsync.settings import load_settings
from sfsync.store.models import KpiSnapshot, OutboxRow, Project

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2024, 6, 3)


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalOrg]:
    metadata = deployable_metadata(
        config_dir=ROOT / "config",
        mappings_dir=ROOT / "mappings",
        workdir=tmp_path_factory.mktemp("metadata"),
    )
    with LocalOrg.start(metadata_dirs=metadata) as org:
        yield org


def _seed(org: LocalOrg, accounts: int, per_account: int) -> list[str]:
    opportunity_ids = []
    for a in range(accounts):
        account = org.insert(
            "Account", {"Name": f"Customer {a}", "NumberOfEmployees": 200}
        )
        for o in range(per_account):
            opportunity_ids.append(
                org.insert(
                    "Opportunity",
                    {
                        "Name": f"Deal {a}-{o}",
                        "AccountId": account,
                        "StageName": "Closed Won",
                        "CloseDate": "2024-05-02",
                        "Amount": 50000,
                        "Type": "New Customer",
                    },
                )
            )
    return opportunity_ids


def _snapshot_all(app: App, health: str = "Amber") -> None:
    with app.store.transaction() as session:
        for project in session.exec(select(Project)):
            assert project.id is not None
            session.merge(
                KpiSnapshot(
                    project_id=project.id,
                    day=TODAY,
                    computed_at=datetime(2024, 6, 3, 6, tzinfo=UTC),
                    health=health,
                    data={
                        "health": health,
                        "health_summary": "Amber: 2 customer tasks overdue",
                        "percent_complete": 37.5,
                        "overdue_total": 2,
                        "go_live_likely": "2024-08-01",
                        "go_live_p50": "2024-08-01",
                    },
                )
            )


@pytest.fixture
def app(org: LocalOrg, tmp_path: Path) -> Iterator[App]:
    org.reset()
    overrides = {k.removeprefix("SFSYNC_").lower(): v for k, v in org.env().items()}
    settings = load_settings(
        **overrides, database_url=f"sqlite:///{tmp_path / 'push.db'}"
    )
    application = App(settings)
    yield application
    application.close()


def _prepare(org: LocalOrg, app: App, accounts: int, per_account: int) -> list[str]:
    ids = _seed(org, accounts, per_account)
    run_pull(app)
    run_handoff(app, today=TODAY)
    _snapshot_all(app)
    return ids


def test_first_push_writes_every_record_in_few_calls_and_second_push_spends_none(
    org: LocalOrg, app: App
) -> None:
    ids = _prepare(org, app, accounts=12, per_account=20)

    first = run_push(app, sleep=lambda _s: None)
    second = run_push(app, sleep=lambda _s: None)

    assert first.send is not None
    assert first.send.sent == 252
    # 252 records in two collections, plus one describe per pushed object.
    assert first.api_calls == 2  # describes came with the start-up check
    assert second.api_calls == 0
    assert second.changes == []
    record = org.get("Opportunity", ids[0])
    assert record is not None
    assert record["Onboarding_Health__c"] == "Amber"
    assert record["Predicted_Go_Live__c"] == "2024-08-01"


def test_after_a_pull_reads_the_pushed_values_back_nothing_is_resent(
    org: LocalOrg, app: App
) -> None:
    _prepare(org, app, accounts=3, per_account=2)
    run_push(app, sleep=lambda _s: None)

    run_pull(app)
    again = run_push(app, sleep=lambda _s: None)

    assert again.changes == []
    assert again.api_calls == 0


def test_only_the_changed_field_of_the_changed_record_is_sent(
    org: LocalOrg, app: App
) -> None:
    ids = _prepare(org, app, accounts=2, per_account=2)
    run_push(app, sleep=lambda _s: None)
    with app.store.transaction() as session:
        project = session.exec(
            select(Project).where(Project.opportunity_id == ids[0])
        ).one()
        snapshot = session.get(KpiSnapshot, (project.id, TODAY))
        assert snapshot is not None
        snapshot.data = {**snapshot.data, "percent_complete": 50.0}
        session.add(snapshot)

    report = run_push(app, sleep=lambda _s: None)

    assert [(c.record_id, c.fields) for c in report.changes] == [
        (
            ids[0],
            {
                "Onboarding_Percent_Complete__c": 50.0,
                # the stamp of when the values were computed goes along
                "Onboarding_Computed_At__c": "2024-06-03T06:00:00.000Z",
            },
        )
    ]
    assert report.api_calls == 1


def test_locked_rows_are_retried_alone_and_accepted_rows_never_resent(
    org: LocalOrg, app: App
) -> None:
    """Case SC-21: only the rows refused with UNABLE_TO_LOCK_ROW go again."""
    ids = _prepare(org, app, accounts=2, per_account=3)
    org.lock_ids([ids[2]], times=1)
    writes_before = org.stats()["record_writes"]

    report = run_push(app, sleep=lambda _s: None)

    assert report.send is not None
    assert (report.send.sent, report.send.retried) == (8, 1)
    assert org.stats()["record_writes"] - writes_before == 8 + 1
    assert report.api_calls == 2
    record = org.get("Opportunity", ids[2])
    assert record is not None
    assert record["Onboarding_Health__c"] == "Amber"


def test_a_refused_record_is_parked_with_its_error_and_the_rest_are_sent(
    org: LocalOrg, app: App
) -> None:
    """Cases SC-19 and SC-20: a per-record failure lands on our own row."""
    ids = _prepare(org, app, accounts=1, per_account=3)
    org.delete("Opportunity", ids[1])

    report = run_push(app, sleep=lambda _s: None)

    assert report.send is not None
    assert (report.send.sent, report.send.parked) == (3, 1)
    parked = list_rows(app.store, statuses=("parked",))
    assert [(r.record_id, r.error_code) for r in parked] == [
        (ids[1], "ENTITY_IS_DELETED")
    ]
    assert run_push(app, sleep=lambda _s: None).api_calls == 0


def test_a_reached_daily_limit_stops_the_push_and_keeps_the_rows_queued(
    org: LocalOrg, app: App
) -> None:
    """Case SC-06 for writes: stop at once, lose nothing, resume later."""
    ids = _prepare(org, app, accounts=1, per_account=2)
    app.settings.api_reserve_percent = 0
    used = org.stats()["api_usage"]["used"]
    # The describes came with the start-up check; no room left for the write.
    org.set_daily_limit(used)

    with pytest.raises(LimitReachedError):
        run_push(app, sleep=lambda _s: None)
    with app.store.session() as session:
        statuses = {r.status for r in session.exec(select(OutboxRow))}
    org.set_daily_limit(15_000)
    later = App(app.settings)  # a later cycle starts without the spent usage
    resumed = run_push(later, sleep=lambda _s: None)
    later.close()

    assert statuses == {"pending"}
    assert resumed.send is not None
    assert resumed.send.sent == 3
    record = org.get("Opportunity", ids[0])
    assert record is not None
    assert record["Onboarding_Health__c"] == "Amber"


def test_bulk_ingest_is_used_above_the_threshold(org: LocalOrg, app: App) -> None:
    ids = _prepare(org, app, accounts=2, per_account=3)
    app.settings.bulk_push_threshold = 5

    report = run_push(app, sleep=lambda _s: None)

    assert report.send is not None
    assert (report.send.via, report.send.sent) == ("bulk", 8)
    record = org.get("Opportunity", ids[5])
    assert record is not None
    assert record["Onboarding_Percent_Complete__c"] == 37.5


def _project_ids(app: App) -> dict[str, int]:
    with app.store.session() as session:
        return {
            p.opportunity_id: p.id
            for p in session.exec(select(Project))
            if p.id is not None
        }


def _set_health(app: App, opportunity_id: str, health: str) -> None:
    with app.store.transaction() as session:
        project = session.exec(
            select(Project).where(Project.opportunity_id == opportunity_id)
        ).one()
        snapshot = session.get(KpiSnapshot, (project.id, TODAY))
        assert snapshot is not None
        snapshot.health = health
        snapshot.data = {**snapshot.data, "health": health}
        session.add(snapshot)


def test_after_a_push_every_opportunity_and_account_hold_the_expected_values(
    org: LocalOrg, app: App
) -> None:
    ids = _prepare(org, app, accounts=4, per_account=3)

    run_push(app, sleep=lambda _s: None)

    projects = _project_ids(app)
    accounts = set()
    for opportunity_id in ids:
        record = org.get("Opportunity", opportunity_id)
        assert record is not None
        accounts.add(record["AccountId"])
        assert record["Onboarding_Health__c"] == "Amber"
        assert record["Onboarding_Health_Reason__c"] == (
            "Amber: 2 customer tasks overdue"
        )
        assert record["Onboarding_Percent_Complete__c"] == 37.5
        assert record["Predicted_Go_Live__c"] == "2024-08-01"
        assert record["Onboarding_Project_Id__c"] == str(projects[opportunity_id])
    assert len(accounts) == 4
    for account_id in accounts:
        account = org.get("Account", account_id)
        assert account is not None
        assert account["Onboarding_Health__c"] == "Amber"
        assert account["Active_Onboardings__c"] == 3
        assert account["Next_Go_Live__c"] == "2024-08-01"


def test_one_projects_health_change_is_one_call_carrying_one_record(
    org: LocalOrg, app: App
) -> None:
    ids = _prepare(org, app, accounts=2, per_account=2)
    # The first account already has a Red project, so a second one turning
    # Red leaves the account's worst health (its roll-up) as it is.
    _set_health(app, ids[0], "Red")
    run_push(app, sleep=lambda _s: None)
    writes_before = org.stats()["record_writes"]
    _set_health(app, ids[1], "Red")

    report = run_push(app, sleep=lambda _s: None)

    assert [c.record_id for c in report.changes] == [ids[1]]
    assert report.changes[0].fields["Onboarding_Health__c"] == "Red"
    assert report.api_calls == 1
    assert org.stats()["record_writes"] - writes_before == 1


def test_a_pushed_value_edited_by_hand_in_salesforce_is_restored_next_cycle(
    org: LocalOrg, app: App
) -> None:
    ids = _prepare(org, app, accounts=2, per_account=2)
    run_push(app, sleep=lambda _s: None)
    run_pull(app)
    org.update("Opportunity", ids[3], {"Onboarding_Health__c": "Green"})

    run_pull(app)
    report = run_push(app, sleep=lambda _s: None)

    assert [
        (c.record_id, c.fields["Onboarding_Health__c"]) for c in report.changes
    ] == [(ids[3], "Amber")]
    assert report.api_calls == 1
    record = org.get("Opportunity", ids[3])
    assert record is not None
    assert record["Onboarding_Health__c"] == "Amber"


def test_450_changes_with_3_locked_rows_take_4_calls_and_resend_only_those_3(
    org: LocalOrg, app: App
) -> None:
    """432 opportunities and their 18 accounts; 3 opportunities locked once."""
    ids = _prepare(org, app, accounts=18, per_account=24)
    locked = [ids[5], ids[200], ids[431]]
    org.lock_ids(locked, times=1)
    writes_before = org.stats()["record_writes"]

    report = run_push(app, sleep=lambda _s: None)

    assert report.send is not None
    assert (report.send.sent, report.send.retried) == (450, 3)
    assert report.api_calls == 3 + 1
    assert org.stats()["record_writes"] - writes_before == 450 + 3
    for record_id in locked:
        record = org.get("Opportunity", record_id)
        assert record is not None
        assert record["Onboarding_Health__c"] == "Amber"


def test_exported_metadata_deploys_into_a_local_org_and_matches_the_mapping(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from sfsync.cli.main import app as cli
    from sfsync.push.mapping import load_push_mapping

    exported = tmp_path / "push-fields"
    result = CliRunner().invoke(cli, ["metadata", "export", str(exported)])
    assert result.exit_code == 0, result.output
    mapping = load_push_mapping(ROOT / "mappings" / "push.yaml")
    types = {
        "text": "string",
        "picklist": "picklist",
        "date": "date",
        "datetime": "datetime",
        "number": "double",
        "percent": "percent",
        "boolean": "boolean",
    }

    with LocalOrg.start(
        metadata_dirs=[ROOT / "config" / "salesforce", exported]
    ) as org:
        sf = org.salesforce()
        described = {
            sobject: {f["name"]: f for f in getattr(sf, sobject).describe()["fields"]}
            for sobject in mapping.objects
        }

    assert (exported / "sfdx-project.json").is_file()
    for sobject, fields in mapping.objects.items():
        for pushed in fields:
            field = described[sobject].get(pushed.name)
            assert field is not None, f"{sobject}.{pushed.name} was not deployed"
            assert field["updateable"], f"{sobject}.{pushed.name} is read-only"
            assert field["type"] == types[pushed.type]
            if pushed.type == "text":
                assert field["length"] == pushed.length
            if pushed.type in {"number", "percent"}:
                assert (field["precision"], field["scale"]) == (
                    pushed.precision,
                    pushed.scale,
                )
            if pushed.type == "picklist":
                values = {v["value"] for v in field["picklistValues"]}
                assert values == set(pushed.values.values())
