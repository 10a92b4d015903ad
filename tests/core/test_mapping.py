"""Mapping files: errors that point at the line, conversion, describe checks."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from sfsync.errors import ConfigError, DescribeMismatchError
from sfsync.mapping import (
    ConversionStats,
    check_against_describe,
    convert_value,
    load_mapping,
    parse_sf_datetime,
)

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "opportunity.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def eastern_host() -> Iterator[None]:
    """Run with the process in a UTC-4/-5 zone, as on a host in New York."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "sobject: Opportunity\nfields:\n  name: {field: Name\n",
            r"opportunity.yaml:4: YAML syntax error",
            id="broken-yaml",
        ),
        pytest.param(
            "sobject: Opportunity\nfeilds:\n  name: Name\n",
            r"opportunity.yaml:2: unknown key 'feilds'",
            id="unknown-top-key",
        ),
        pytest.param(
            "sobject: Opportunity\nfields:\n  id: Id\n  nmae: Name\n",
            r"opportunity.yaml:4: 'nmae' is not a column",
            id="unknown-column",
        ),
        pytest.param(
            "sobject: Opportunity\nfields:\n  name: {field: Name, knd: text}\n",
            r"opportunity.yaml:3: unknown key 'knd' under 'name'",
            id="unknown-field-key",
        ),
        pytest.param(
            "sobject: Opportunity\nfields:\n  amount: {field: Amount, kind: money}\n",
            r"opportunity.yaml:3: kind 'money' is unknown",
            id="unknown-kind",
        ),
        pytest.param(
            "sobject: Lead\nfields:\n  name: Name\n",
            r"opportunity.yaml:1: sobject must be one of",
            id="unknown-object",
        ),
        pytest.param(
            "sobject: Opportunity\nfields:\n  name: Name\n  type: Name\n",
            r"field Name is mapped twice",
            id="field-twice",
        ),
    ],
)
def test_bad_mapping_file_names_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(ConfigError, match=message):
        load_mapping(path)


def test_shipped_mappings_load() -> None:
    opportunity = load_mapping(ROOT / "mappings" / "opportunity.yaml")
    account = load_mapping(ROOT / "mappings" / "account.yaml")

    assert {f.field for f in opportunity.fields} >= {
        "Id",
        "SystemModstamp",
        "IsDeleted",
    }
    assert account.sobject == "Account"


def test_close_date_stays_the_same_day_on_a_host_west_of_utc(
    eastern_host: None,
) -> None:
    """Case SC-13: a date is never passed through a zoned datetime."""
    assert convert_value("date", "2022-03-25") == date(2022, 3, 25)


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-31T10:00:00.000+0000",
        "2024-01-31T10:00:00.000Z",
        "2024-01-31T10:00:00Z",
        "2024-01-31T06:00:00.000-0400",
    ],
)
def test_salesforce_datetime_forms_parse_to_the_same_utc_instant(text: str) -> None:
    assert parse_sf_datetime(text) == datetime(2024, 1, 31, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        pytest.param(
            "currency", Decimal("1234.50"), Decimal("1234.50"), id="currency-json"
        ),
        pytest.param("currency", "1234.5", Decimal("1234.5"), id="currency-csv"),
        pytest.param("boolean", "true", True, id="boolean-csv"),
        pytest.param("boolean", None, False, id="boolean-null"),
        pytest.param("percent", 75, 75.0, id="percent"),
        pytest.param("integer", "1200", 1200, id="integer-csv"),
        pytest.param("text", "", None, id="empty-text-is-null"),
        pytest.param("text", "Łódź Sp. z o.o.", "Łódź Sp. z o.o.", id="non-ascii"),
        pytest.param("date", None, None, id="null-date"),
    ],
)
def test_values_convert_by_kind(kind: str, raw: object, expected: object) -> None:
    assert convert_value(kind, raw) == expected


def test_nul_bytes_are_removed_and_counted() -> None:
    """Case SC-15: the run continues, the value is stored without the NUL."""
    stats = ConversionStats()

    value = convert_value("text", "Kickoff\x00 done", stats)

    assert value == "Kickoff done"
    assert stats.nul_bytes_removed == 1


def describe_fields(shared: Path, name: str) -> dict[str, object]:
    reference = json.loads(
        (shared / "fixtures" / "salesforce" / "09-describe" / name).read_text()
    )
    return reference["response"]["body"]  # type: ignore[no-any-return]


def test_field_missing_from_describe_stops_with_file_line_and_name(
    tmp_path: Path, shared_dir: Path
) -> None:
    path = write(
        tmp_path,
        "sobject: Opportunity\nfields:\n  name: Name\n"
        "  stage_name: {field: Onboarding_Status__c, kind: picklist}\n",
    )
    mapping = load_mapping(path)
    describe = describe_fields(shared_dir, "opportunity-describe.json")

    with pytest.raises(DescribeMismatchError) as caught:
        check_against_describe(mapping, describe)

    message = str(caught.value)
    assert f"{path}:4" in message
    assert "Opportunity.Onboarding_Status__c" in message
    assert "missing or not visible" in message


def test_field_of_another_type_is_rejected(tmp_path: Path, shared_dir: Path) -> None:
    path = write(
        tmp_path,
        "sobject: Opportunity\nfields:\n  amount: {field: Name, kind: currency}\n",
    )
    mapping = load_mapping(path)

    with pytest.raises(
        DescribeMismatchError, match=r"Opportunity\.Name is of type string"
    ):
        check_against_describe(
            mapping, describe_fields(shared_dir, "opportunity-describe.json")
        )


def test_optional_field_absent_from_the_org_is_skipped(shared_dir: Path) -> None:
    mapping = load_mapping(ROOT / "mappings" / "opportunity.yaml")

    missing = check_against_describe(
        mapping, describe_fields(shared_dir, "opportunity-describe.json")
    )

    assert set(missing) == {
        "Onboarding_Manager__c",
        "Solutions_Engineer__c",
        "Target_Go_Live__c",
    }


def test_pushed_field_that_is_not_visible_stops_the_run(shared_dir: Path) -> None:
    """Case SC-12: field-level security hides a pushed field."""
    mapping = load_mapping(ROOT / "mappings" / "opportunity.yaml")

    with pytest.raises(DescribeMismatchError, match="Onboarding_Status__c"):
        check_against_describe(
            mapping,
            describe_fields(shared_dir, "opportunity-describe.json"),
            pushed=["Onboarding_Status__c"],
        )
