"""The push's pure parts: mapping, wire values, desired values, diff and batching."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sfsync.errors import ConfigError, DescribeMismatchError
from sfsync.push.desired import ProjectState, desired_records
from sfsync.push.diff import diff_records
from sfsync.push.format import canonical, to_wire
from sfsync.push.mapping import (
    PushMapping,
    check_push_describe,
    load_push_mapping,
)
from sfsync.push.metadata import export_metadata
from sfsync.push.send import plan_batches
from sfsync.store.models import OutboxRow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def mapping() -> PushMapping:
    return load_push_mapping(ROOT / "mappings" / "push.yaml")


def _state(
    opp: str, account: str | None, status: str = "active", **kpi: Any
) -> ProjectState:
    columns = {
        "id": 7,
        "opportunity_id": opp,
        "account_id": account,
        "status": status,
    }
    return ProjectState(columns, kpi or None)


def test_shipped_push_mapping_lists_the_fields_the_pull_reads_back(
    mapping: PushMapping,
) -> None:
    pushed = mapping.fields_for("Opportunity")

    assert "Onboarding_Health__c" in pushed
    assert "Active_Onboardings__c" in mapping.fields_for("Account")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            "objects: {Lead: {fields: {}}}", "not 'Lead'", id="unknown-object"
        ),
        pytest.param(
            "objects:\n  Opportunity:\n    fields:\n"
            "      X__c: {source: kpi.health, type: colour}",
            "type 'colour'",
            id="unknown-type",
        ),
        pytest.param(
            "objects:\n  Opportunity:\n    fields:\n"
            "      X__c: {source: project.nope, type: text}",
            "'nope' is not a column",
            id="unknown-project-column",
        ),
        pytest.param(
            "objects:\n  Opportunity:\n    fields:\n"
            "      X__c: {source: kpi.health, type: picklist}",
            "needs 'values'",
            id="picklist-without-values",
        ),
    ],
)
def test_push_mapping_errors_name_file_and_line(
    tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "push.yaml"
    path.write_text(body, "utf-8")

    with pytest.raises(ConfigError) as caught:
        load_push_mapping(path)

    assert message in str(caught.value)
    assert f"{path}:" in str(caught.value)


def test_describe_check_refuses_a_read_only_pushed_field(
    mapping: PushMapping,
) -> None:
    """Case SC-12: a pushed field must be visible and updateable."""
    fields = mapping.objects["Account"]
    describe = {
        "fields": [
            {"name": f.name, "type": "picklist", "updateable": True} for f in fields
        ]
    }
    describe["fields"][1]["updateable"] = False

    with pytest.raises(DescribeMismatchError) as caught:
        check_push_describe(fields, describe)

    assert "Active_Onboardings__c is not updateable" in str(caught.value)
    assert "push.yaml:" in str(caught.value)


@pytest.mark.parametrize(
    "host_zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"], indirect=True
)
def test_date_is_sent_as_its_calendar_day_whatever_the_zone(
    mapping: PushMapping, host_zone: str
) -> None:
    """Case SC-13: a date never passes through a zoned datetime (UTC+14, UTC-11)."""
    pushed = mapping.lookup("Opportunity", "Predicted_Go_Live__c")

    assert to_wire(pushed, date(2022, 3, 25)) == "2022-03-25"
    assert to_wire(pushed, "2022-03-25") == "2022-03-25"
    with pytest.raises(ValueError, match="pass the calendar day"):
        to_wire(pushed, datetime(2022, 3, 25, 23, tzinfo=UTC))


def test_naive_datetime_is_refused_and_aware_one_sent_as_utc(
    mapping: PushMapping,
) -> None:
    """Case SC-14: a naive datetime is never sent as if it were UTC."""
    pushed = mapping.lookup("Opportunity", "Predicted_Go_Live__c")
    stamp = type(pushed)(**{**pushed.__dict__, "type": "datetime"})
    minus_four = timezone(timedelta(hours=-4))

    with pytest.raises(ValueError, match="naive"):
        to_wire(stamp, datetime(2024, 5, 1, 9, 30))
    assert (
        to_wire(stamp, datetime(2024, 5, 1, 9, 30, tzinfo=minus_four))
        == "2024-05-01T13:30:00.000Z"
    )


def test_text_longer_than_the_field_is_shortened_to_fit(mapping: PushMapping) -> None:
    pushed = mapping.lookup("Opportunity", "Onboarding_Health_Reason__c")

    sent = to_wire(pushed, "x" * 400)

    assert len(sent) == 255
    assert sent.endswith("…")


def test_unknown_picklist_value_names_the_mapping_line(mapping: PushMapping) -> None:
    pushed = mapping.lookup("Opportunity", "Onboarding_Status__c")

    with pytest.raises(ConfigError, match=r"push\.yaml:\d+.*'Archived'"):
        to_wire(pushed, "Archived")


@pytest.mark.parametrize(
    ("held", "wanted"),
    [
        pytest.param("42.0", 42.04, id="bulk-csv-string"),
        pytest.param(42.0, "42", id="rest-float"),
    ],
)
def test_numbers_compare_at_the_fields_scale(
    mapping: PushMapping, held: Any, wanted: Any
) -> None:
    pushed = mapping.lookup("Opportunity", "Onboarding_Percent_Complete__c")

    assert canonical(pushed, held) == canonical(pushed, wanted)


def test_diff_sends_only_the_fields_that_differ(mapping: PushMapping) -> None:
    state = _state(
        "006A",
        "001A",
        onboarding_status="In Progress",
        health="Amber",
        percent_complete=40.0,
        overdue_customer=2,
    )
    held: dict[tuple[str, str], dict[str, Any]] = {
        ("Opportunity", "006A"): {
            "Onboarding_Status__c": "In Progress",
            "Onboarding_Health__c": "Green",
            "Onboarding_Percent_Complete__c": "40.0",
            "Onboarding_Overdue_Customer_Tasks__c": 2,
            "Onboarding_Project_Id__c": "7",
        }
    }
    desired = desired_records(mapping, [state], live=held)

    changes = diff_records(mapping, desired, held)

    assert len(changes) == 1
    assert changes[0].fields == {"Onboarding_Health__c": "Amber"}
    assert changes[0].previous == {"Onboarding_Health__c": "Green"}


def test_time_stamps_go_out_only_with_another_change(mapping: PushMapping) -> None:
    held: dict[tuple[str, str], dict[str, Any]] = {
        ("Opportunity", "006A"): {
            "Onboarding_Health__c": "Green",
            "Onboarding_Project_Id__c": "7",
            "Onboarding_Computed_At__c": "2026-12-01T06:00:00.000Z",
        }
    }
    same = _state(
        "006A", "001A", health="Green", computed_at="2026-12-02T06:00:00.000Z"
    )
    changed = _state(
        "006A", "001A", health="Red", computed_at="2026-12-02T06:00:00.000Z"
    )

    idle = diff_records(mapping, desired_records(mapping, [same], live=held), held)
    busy = diff_records(mapping, desired_records(mapping, [changed], live=held), held)

    assert idle == []
    assert busy[0].fields == {
        "Onboarding_Health__c": "Red",
        "Onboarding_Computed_At__c": "2026-12-02T06:00:00.000Z",
    }


def test_diff_never_blanks_a_field_it_has_not_read_back(
    mapping: PushMapping,
) -> None:
    """Case SC-12: no null is written for a field that was never selected."""
    held: dict[tuple[str, str], dict[str, Any]] = {("Opportunity", "006A"): {}}
    desired = desired_records(mapping, [_state("006A", None, health=None)], live=held)

    changes = diff_records(mapping, desired, held)

    assert changes[0].fields == {"Onboarding_Project_Id__c": "7"}


def test_kpi_fields_are_left_alone_before_the_first_snapshot(
    mapping: PushMapping,
) -> None:
    desired = desired_records(mapping, [_state("006A", None)])

    assert desired[0].values == {"Onboarding_Project_Id__c": "7"}


def test_account_rolls_up_its_active_projects(mapping: PushMapping) -> None:
    states = [
        _state("006A", "001A", health="Green", go_live_likely="2024-07-01"),
        _state("006B", "001A", health="Red", go_live_likely="2024-06-03"),
        _state("006C", "001A", status="done", health="Red"),
    ]

    records = desired_records(mapping, states)

    account = next(r for r in records if r.sobject == "Account")
    assert account.values == {
        "Onboarding_Health__c": "Red",
        "Active_Onboardings__c": 2,
        "Next_Go_Live__c": "2024-06-03",
    }


def test_records_missing_from_the_mirror_get_nothing(mapping: PushMapping) -> None:
    records = desired_records(mapping, [_state("006A", "001A")], live=set())

    assert records == []


def _rows(group_sizes: list[int]) -> list[OutboxRow]:
    rows: list[OutboxRow] = []
    for group, size in enumerate(group_sizes):
        for n in range(size):
            rows.append(
                OutboxRow(
                    id=len(rows) + 1,
                    sobject="Opportunity",
                    record_id=f"006{group:05d}{n:05d}",
                    group_key=f"001{group:05d}",
                )
            )
    return rows


@pytest.mark.parametrize(
    ("groups", "batches"),
    [
        pytest.param([150, 150, 50, 50], 2, id="groups-packed"),
        pytest.param([1] * 450, 3, id="many-singles"),
        pytest.param([450], 3, id="one-group-split"),
    ],
)
def test_batches_keep_an_accounts_records_together(
    groups: list[int], batches: int
) -> None:
    """Case SC-21: one account's children go in one call when they fit."""
    rows = _rows(groups)

    planned = plan_batches(rows)

    assert len(planned) == batches
    assert all(len(b) <= 200 for b in planned)
    if max(groups) <= 200:
        for batch in planned:
            for key in {r.group_key for r in batch}:
                assert sum(r.group_key == key for r in rows) == sum(
                    r.group_key == key for r in batch
                )


def test_exported_metadata_is_one_file_per_pushed_field(
    mapping: PushMapping, tmp_path: Path
) -> None:
    written = export_metadata(mapping, tmp_path)

    fields = [p for p in written if p.name.endswith(".field-meta.xml")]
    assert len(fields) == sum(len(f) for f in mapping.objects.values())
    text = (
        tmp_path / "force-app/main/default/objects/Opportunity/fields"
        "/Onboarding_Percent_Complete__c.field-meta.xml"
    ).read_text("utf-8")
    assert "<type>Percent</type>" in text
    assert "<scale>1</scale>" in text


@pytest.mark.parametrize(
    ("name", "editable"),
    [("Sfsync_Integration", "true"), ("Sfsync_Onboarding_Read", "false")],
)
def test_exported_permission_sets_grant_every_pushed_field(
    mapping: PushMapping, tmp_path: Path, name: str, editable: str
) -> None:
    """The integration user edits the pushed fields; everyone else only reads."""
    export_metadata(mapping, tmp_path)
    path = (
        tmp_path
        / f"force-app/main/default/permissionsets/{name}.permissionset-meta.xml"
    )
    namespace = "{http://soap.sforce.com/2006/04/metadata}"

    root = ET.parse(path).getroot()  # noqa: S314 - a file the test just wrote

    granted = {
        node.findtext(f"{namespace}field"): (
            node.findtext(f"{namespace}readable"),
            node.findtext(f"{namespace}editable"),
        )
        for node in root.iter(f"{namespace}fieldPermissions")
    }
    expected = {
        f"{sobject}.{pushed.name}": ("true", editable)
        for sobject, fields in mapping.objects.items()
        for pushed in fields
    }
    assert granted == expected
