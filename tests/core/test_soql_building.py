"""SOQL is assembled with quoting, never by pasting values into text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from sfsync.salesforce.soql import datetime_literal, literal, select


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("O'Brien", r"'O\'Brien'", id="quote"),
        pytest.param("a\\b", r"'a\\b'", id="backslash"),
        pytest.param("line\nbreak", r"'line\nbreak'", id="newline"),
        pytest.param("' OR Name != '", r"'\' OR Name != \''", id="injection-attempt"),
        pytest.param(True, "true", id="boolean"),
        pytest.param(None, "null", id="null"),
        pytest.param(Decimal("100000.00"), "100000.00", id="decimal"),
        pytest.param(date(2022, 3, 25), "2022-03-25", id="date"),
        pytest.param(["a", "b'c"], r"('a','b\'c')", id="list"),
    ],
)
def test_values_are_quoted_for_soql(value: object, expected: str) -> None:
    assert literal(value) == expected


def test_datetime_literal_is_utc_with_milliseconds() -> None:
    eastern = timezone(timedelta(hours=-4))
    value = datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=eastern)

    assert datetime_literal(value) == "2026-03-01T13:30:00.123Z"


def test_naive_datetime_is_refused_at_the_boundary() -> None:
    """Cases SC-14 and SC-24: a naive time is never sent as if it were UTC."""
    with pytest.raises(ValueError, match="naive"):
        datetime_literal(datetime(2026, 3, 1, 9, 30))


def test_select_rejects_a_name_that_is_not_an_identifier() -> None:
    with pytest.raises(ValueError, match="not a Salesforce field"):
        select("Account", ["Id", "Name FROM User --"])


def test_select_assembles_fields_filter_and_order() -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)

    text = select(
        "Opportunity",
        ["Id", "Account.Name"],
        where=f"SystemModstamp >= {literal(since)}",
        order_by=["SystemModstamp", "Id"],
    )

    assert text == (
        "SELECT Id, Account.Name FROM Opportunity WHERE SystemModstamp >= "
        "2026-01-01T00:00:00.000Z ORDER BY SystemModstamp, Id"
    )
