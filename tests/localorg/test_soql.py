"""Tests of the local org's SOQL engine: parsing, checking and running queries."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfsync.localorg.soql import FieldInfo, Result, SoqlError, execute, parse

NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)  # a Wednesday in Q2


class DictCatalog:
    """A Catalog over in-memory schema and rows, like the server's store."""

    def __init__(
        self,
        schema: dict[str, list[FieldInfo]],
        rows: dict[str, list[dict[str, Any]]],
    ) -> None:
        self.schema = {
            sobject: {info.name.lower(): info for info in fields}
            for sobject, fields in schema.items()
        }
        self.names = {sobject.lower(): sobject for sobject in schema}
        self.rows = rows
        self.by_id = {
            (sobject, row["Id"]): row
            for sobject, table in rows.items()
            for row in table
        }

    def object_name(self, name: str) -> str | None:
        return self.names.get(name.lower())

    def field(self, sobject: str, name: str) -> FieldInfo | None:
        return self.schema[sobject].get(name.lower())

    def parent(
        self, sobject: str, relationship_name: str
    ) -> tuple[str, tuple[str, ...]] | None:
        for info in self.schema[sobject].values():
            name = info.relationship_name
            if name and name.lower() == relationship_name.lower():
                return info.name, info.reference_to
        return None

    def records(
        self, sobject: str, *, include_deleted: bool
    ) -> Iterable[dict[str, Any]]:
        return [
            row
            for row in self.rows.get(sobject, [])
            if include_deleted or not row["IsDeleted"]
        ]

    def get(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        return self.by_id.get((sobject, record_id))


def _common(*extra: FieldInfo) -> list[FieldInfo]:
    return [
        FieldInfo("Id", "id"),
        FieldInfo("Name", "string"),
        FieldInfo("IsDeleted", "boolean"),
        FieldInfo("CreatedDate", "datetime"),
        FieldInfo("SystemModstamp", "datetime"),
        *extra,
    ]


def _owner() -> FieldInfo:
    return FieldInfo("OwnerId", "reference", ("User",), "Owner")


SCHEMA = {
    "User": _common(FieldInfo("IsActive", "boolean")),
    "Account": _common(
        FieldInfo("Industry", "picklist"),
        FieldInfo("AnnualRevenue", "currency"),
        FieldInfo("NumberOfEmployees", "int"),
        FieldInfo("Description", "textarea"),
        FieldInfo("ParentId", "reference", ("Account",), "Parent"),
        _owner(),
    ),
    "Opportunity": _common(
        FieldInfo("AccountId", "reference", ("Account",), "Account"),
        FieldInfo("StageName", "picklist"),
        FieldInfo("Amount", "currency"),
        FieldInfo("CloseDate", "date"),
        FieldInfo("IsWon", "boolean"),
        FieldInfo("Probability", "percent"),
        _owner(),
    ),
}


def aid(n: int) -> str:
    return f"0015g00000QxA{n:02d}AAF"


def oid(n: int) -> str:
    return f"0065g00000OpA{n:02d}AAF"


def uid(n: int) -> str:
    return f"0055g00000Usr{n:02d}AAJ"


STAMP = "2024-01-31T10:00:00.000+0000"

# Tables of test rows: columns split on "|", "-" is null, datetimes are UTC
# and written without their "+0000".
USERS = """
1 | Avery Placeholder | true
2 | Blake Sample      | true
3 | Zoë Ångström      | true
4 | Łukasz Nowak      | false
"""
ACCOUNTS = """
 n | Name                    | Industry       | Revenue   | Staff | Owner | Parent | SystemModstamp
 1 | Northwind Traders       | Retail         | 1000000.0 | 120   | 1     | -      | 2024-01-31T10:00:00.000
 2 | Contoso Ltd             | -              | -         | 50    | 2     | -      | 2024-01-31T10:00:00.123
 3 | Ærø Shipping            | Transportation | 2500.5    | -     | 3     | 1      | 2024-01-31T10:00:00.123
 4 | Čapek & Synové          | Manufacturing  | 75000     | 8     | 1     | -      | 2024-01-31T10:00:00.124
 5 | Zürich Rückversicherung | Finance        | 9e9       | 4000  | 4     | -      | 2024-02-01T00:00:00.000
 6 | acme corp               | Retail         | 10.0      | 3     | 2     | -      | 2024-05-15T11:59:59.999
 7 | ACME Holdings           | Retail         | 20.0      | 30    | 3     | 6      | 2024-05-15T12:00:00.000
 8 | Söderberg_100%          | Consulting     | -         | 12    | 1     | -      | 2023-12-31T23:59:59.999
 9 | O'Brien & Sons          | -              | 500.0     | 5     | -     | -      | 2024-01-31T09:59:59.999
10 | 東京商事                | Technology     | 123456.75 | 250   | 3     | 5      | 2024-03-01T08:30:00.000
11 | Deleted Co              | Retail         | 1.0       | 1     | 1     | -      | 2024-01-31T10:00:00.000
"""  # noqa: E501 - a table reads better on one line per row
OPPORTUNITIES = """
 n | Name              | Account | Owner | StageName          | Amount   | CloseDate  | IsWon | Prob. | CreatedDate
 1 | Northwind Renewal | 1       | 1     | Closed Won         | 60000.0  | 2024-03-15 | true  | 100.0 | 2024-01-04T17:21:09.000
 2 | Contoso Expansion | 2       | 2     | Prospecting        | -        | 2024-06-30 | false | 10.0  | 2024-02-11T08:02:44.000
 3 | Orphan Deal       | -       | 1     | Qualification      | 12500.5  | 2024-07-01 | false | 20.0  | 2024-02-12T23:59:59.000
 4 | Ærø Fleet         | 3       | 3     | Closed Won         | 250000.0 | 2024-05-15 | true  | 100.0 | 2024-05-15T00:00:00.000
 5 | Zürich Pilot      | 5       | 4     | Closed Lost        | 5000.0   | 2024-05-14 | false | 0.0   | 2024-05-14T23:59:59.999
 6 | acme add-on       | 6       | 2     | Negotiation/Review | 999.99   | 2024-05-16 | false | 90.0  | 2024-05-10T12:00:00.000
 7 | ACME upsell       | 7       | 3     | Closed Won         | 15000.0  | 2023-12-31 | true  | 100.0 | 2023-11-01T00:00:00.000
 8 | Ship renewal      | 3       | 1     | Prospecting        | -50.0    | 2025-01-02 | false | 10.0  | 2024-04-01T00:00:00.000
 9 | 東京 deal         | 10      | 3     | Closed Won         | 123.0    | 2024-04-01 | true  | 100.0 | 2024-04-01T00:00:00.000
10 | No date           | 4       | 1     | Prospecting        | 0.0      | -          | false | -     | 2024-01-31T10:00:00.123
"""  # noqa: E501 - a table reads better on one line per row


def _table(text: str) -> list[list[str]]:
    """Rows of a table above, without its header line."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines[0].split("|")[0].strip().isdigit():
        lines = lines[1:]
    return [[cell.strip() for cell in line.split("|")] for line in lines]


def _cell(cell: str) -> str | None:
    return None if cell == "-" else cell


def _number(cell: str) -> float | int | None:
    if cell == "-":
        return None
    return float(cell) if any(mark in cell for mark in ".e") else int(cell)


def _stamp(cell: str) -> str:
    return f"{cell}+0000"


def _users() -> list[dict[str, Any]]:
    return [
        {
            "Id": uid(int(n)),
            "Name": name,
            "IsDeleted": False,
            "CreatedDate": STAMP,
            "SystemModstamp": STAMP,
            "IsActive": active == "true",
        }
        for n, name, active in _table(USERS)
    ]


def _accounts() -> list[dict[str, Any]]:
    return [
        {
            "Id": aid(int(n)),
            "Name": name,
            "IsDeleted": name == "Deleted Co",
            "CreatedDate": STAMP,
            "SystemModstamp": _stamp(stamp),
            "Industry": _cell(industry),
            "AnnualRevenue": _number(revenue),
            "NumberOfEmployees": _number(staff),
            "Description": "Line one\nline two" if n == "1" else None,
            "ParentId": None if parent == "-" else aid(int(parent)),
            "OwnerId": None if owner == "-" else uid(int(owner)),
        }
        for n, name, industry, revenue, staff, owner, parent, stamp in _table(ACCOUNTS)
    ]


def _opportunities() -> list[dict[str, Any]]:
    rows = []
    for row in _table(OPPORTUNITIES):
        n, name, account, owner, stage, amount, close, won, probability, created = row
        rows.append(
            {
                "Id": oid(int(n)),
                "Name": name,
                "IsDeleted": False,
                "CreatedDate": _stamp(created),
                "SystemModstamp": _stamp(created),
                "AccountId": None if account == "-" else aid(int(account)),
                "OwnerId": uid(int(owner)),
                "StageName": stage,
                "Amount": _number(amount),
                "CloseDate": _cell(close),
                "IsWon": won == "true",
                "Probability": _number(probability),
            }
        )
    return rows


ROWS: dict[str, list[dict[str, Any]]] = {
    "User": _users(),
    "Account": _accounts(),
    "Opportunity": _opportunities(),
}


@pytest.fixture
def catalog() -> DictCatalog:
    return DictCatalog(SCHEMA, ROWS)


def run(
    catalog: DictCatalog,
    text: str,
    *,
    now: datetime = NOW,
    include_deleted: bool = False,
) -> Result:
    return execute(
        parse(text),
        catalog,
        now=now,
        api_version="59.0",
        include_deleted=include_deleted,
    )


def names(result: Result) -> list[str]:
    return [record["Name"] for record in result.records]


ALL_ACCOUNTS = [
    "Northwind Traders",
    "Contoso Ltd",
    "Ærø Shipping",
    "Čapek & Synové",
    "Zürich Rückversicherung",
    "acme corp",
    "ACME Holdings",
    "Söderberg_100%",
    "O'Brien & Sons",
    "東京商事",
]
ACCOUNTS_BY_NAME = [
    "acme corp",
    "ACME Holdings",
    "Contoso Ltd",
    "Northwind Traders",
    "O'Brien & Sons",
    "Söderberg_100%",
    "Zürich Rückversicherung",
    "Ærø Shipping",
    "Čapek & Synové",
    "東京商事",
]
WON_IN_ORDER = ["Northwind Renewal", "Ærø Fleet", "ACME upsell"]

VALID_QUERIES = [
    pytest.param(
        "SELECT Name FROM Account", ALL_ACCOUNTS, id="all-rows-in-store-order"
    ),
    pytest.param(
        "select NAME from ACCOUNT where industry = 'retail' order by NAME",
        ["acme corp", "ACME Holdings", "Northwind Traders"],
        id="keywords-objects-fields-any-case",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Name = 'NORTHWIND TRADERS'",
        ["Northwind Traders"],
        id="string-equality-ignores-case",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Industry != 'Retail' ORDER BY Name",
        [
            "Contoso Ltd",
            "O'Brien & Sons",
            "Söderberg_100%",
            "Zürich Rückversicherung",
            "Ærø Shipping",
            "Čapek & Synové",
            "東京商事",
        ],
        id="not-equal-includes-nulls",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Industry <> 'Retail' AND Industry != null",
        [
            "Ærø Shipping",
            "Čapek & Synové",
            "Zürich Rückversicherung",
            "Söderberg_100%",
            "東京商事",
        ],
        id="angle-not-equal-and-not-null",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Industry = null",
        ["Contoso Ltd", "O'Brien & Sons"],
        id="equals-null",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Industry != NULL AND NumberOfEmployees = null",
        ["Ærø Shipping"],
        id="null-keyword-any-case",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Name LIKE 'acme%' ORDER BY Name DESC",
        ["ACME Holdings", "acme corp"],
        id="like-prefix-ignores-case",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Name LIKE '_cme%'",
        ["acme corp", "ACME Holdings"],
        id="like-underscore-is-one-char",
    ),
    pytest.param(
        r"SELECT Name FROM Account WHERE Name LIKE '%\%'",
        ["Söderberg_100%"],
        id="like-escaped-percent-is-literal",
    ),
    pytest.param(
        r"SELECT Name FROM Account WHERE Name LIKE '%g\_1%'",
        ["Söderberg_100%"],
        id="like-escaped-underscore-is-literal",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Name LIKE 'zÜRICH%'",
        ["Zürich Rückversicherung"],
        id="like-ignores-case-beyond-ascii",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Description LIKE 'line one%two'",
        ["Northwind Traders"],
        id="like-percent-spans-newlines",
    ),
    pytest.param(
        r"SELECT Name FROM Account WHERE Name = 'O\'Brien & Sons'",
        ["O'Brien & Sons"],
        id="escaped-quote-in-string",
    ),
    pytest.param(
        r"SELECT Name FROM Account WHERE Name = '\u6771\u4eac\u5546\u4e8b'",
        ["東京商事"],
        id="unicode-escape-in-string",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Industry IN ('Finance', 'technology')",
        ["Zürich Rückversicherung", "東京商事"],
        id="in-list-ignores-case",
    ),
    pytest.param(
        "SELECT Name FROM Account "
        "WHERE Industry NOT IN ('Retail', 'Finance', 'Transportation')",
        [
            "Contoso Ltd",
            "Čapek & Synové",
            "Söderberg_100%",
            "O'Brien & Sons",
            "東京商事",
        ],
        id="not-in-includes-nulls",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Industry IN (null, 'Finance')",
        ["Contoso Ltd", "Zürich Rückversicherung", "O'Brien & Sons"],
        id="in-list-with-null",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE AnnualRevenue > 100000 ORDER BY AnnualRevenue",
        ["東京商事", "Northwind Traders", "Zürich Rückversicherung"],
        id="number-greater-than",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE AnnualRevenue = 2500.5",
        ["Ærø Shipping"],
        id="decimal-literal",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE Amount < -0.5",
        ["Ship renewal"],
        id="negative-decimal-literal",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE NumberOfEmployees >= 50 "
        "AND NumberOfEmployees <= 250 ORDER BY NumberOfEmployees DESC",
        ["東京商事", "Northwind Traders", "Contoso Ltd"],
        id="int-range-inclusive",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE IsWon = true ORDER BY CloseDate",
        ["ACME upsell", "Northwind Renewal", "東京 deal", "Ærø Fleet"],
        id="boolean-true",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity "
        "WHERE IsWon = FALSE AND StageName != 'Closed Lost'",
        ["Contoso Expansion", "Orphan Deal", "acme add-on", "Ship renewal", "No date"],
        id="boolean-false-any-case",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE (StageName = 'Closed Won' "
        "OR StageName = 'Closed Lost') AND Amount < 10000",
        ["Zürich Pilot", "東京 deal"],
        id="or-in-parentheses-under-and",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity "
        "WHERE Name = 'Orphan Deal' OR Name = 'No date' OR Name = 'missing'",
        ["Orphan Deal", "No date"],
        id="or-chain",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity "
        "WHERE IsWon = true AND Amount > 1000 AND Account.Industry != 'Retail'",
        ["Ærø Fleet"],
        id="and-chain-with-parent-field",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE NOT (Industry = 'Retail' OR Industry = null)",
        [
            "Ærø Shipping",
            "Čapek & Synové",
            "Zürich Rückversicherung",
            "Söderberg_100%",
            "東京商事",
        ],
        id="not-of-parenthesised-or",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE NOT Name LIKE 'a%'",
        [name for name in ALL_ACCOUNTS if not name.lower().startswith("a")],
        id="not-of-single-comparison",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE ((IsWon = true) AND (NOT (Amount < 1000)))",
        WON_IN_ORDER,
        id="nested-parentheses",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE CloseDate = 2024-05-15",
        ["Ærø Fleet"],
        id="date-literal-equality",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE CloseDate >= 2024-05-14 "
        "AND CloseDate < 2024-07-01 ORDER BY CloseDate",
        ["Zürich Pilot", "Ærø Fleet", "acme add-on", "Contoso Expansion"],
        id="date-literal-range",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE SystemModstamp >= 2024-01-31T10:00:00.123Z "
        "ORDER BY SystemModstamp, Id",
        [
            "Contoso Ltd",
            "Ærø Shipping",
            "Čapek & Synové",
            "Zürich Rückversicherung",
            "東京商事",
            "acme corp",
            "ACME Holdings",
        ],
        id="datetime-cursor-exact-to-the-millisecond",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE SystemModstamp > 2024-01-31T10:00:00.123Z "
        "AND SystemModstamp < 2024-02-01T00:00:00Z",
        ["Čapek & Synové"],
        id="datetime-greater-than-excludes-equal",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE SystemModstamp = 2024-01-31T11:00:00+01:00",
        ["Northwind Traders"],
        id="datetime-literal-with-positive-offset",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE SystemModstamp = 2024-01-31T04:59:59.999-05:00",
        ["O'Brien & Sons"],
        id="datetime-literal-with-negative-offset-and-millis",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE CloseDate = TODAY",
        ["Ærø Fleet"],
        id="today-on-date-field",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity "
        "WHERE CloseDate = this_quarter ORDER BY CloseDate",
        ["東京 deal", "Zürich Pilot", "Ærø Fleet", "acme add-on", "Contoso Expansion"],
        id="this-quarter-is-a-date-range",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE CloseDate > THIS_QUARTER",
        ["Orphan Deal", "Ship renewal"],
        id="greater-than-relative-means-after-range",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE CloseDate < THIS_YEAR",
        ["ACME upsell"],
        id="less-than-relative-means-before-range",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE CloseDate = N_DAYS_AGO:1",
        ["Zürich Pilot"],
        id="n-days-ago",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:1",
        ["acme add-on"],
        id="next-n-days-starts-tomorrow",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE SystemModstamp = TODAY",
        ["acme corp", "ACME Holdings"],
        id="today-on-datetime-field-is-an-instant-range",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE CreatedDate = LAST_N_DAYS:1",
        ["Ærø Fleet", "Zürich Pilot"],
        id="last-n-days-includes-today",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE CloseDate IN (TODAY, YESTERDAY)",
        ["Ærø Fleet", "Zürich Pilot"],
        id="relative-literals-in-list",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE Account.Industry = 'Retail' ORDER BY Name",
        ["acme add-on", "ACME upsell", "Northwind Renewal"],
        id="parent-field-in-where",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE Account.Owner.Name = 'Zoë Ångström'",
        ["Ærø Fleet", "ACME upsell", "Ship renewal", "東京 deal"],
        id="two-level-parent-path-in-where",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE Account.Name = null",
        ["Orphan Deal"],
        id="missing-parent-compares-as-null",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE Amount > 10000 ORDER BY Account.Name, Name",
        ["Orphan Deal", "ACME upsell", "Northwind Renewal", "Ærø Fleet"],
        id="order-by-parent-field-nulls-first",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Parent.Parent.Name = 'acme corp'",
        [],
        id="two-level-self-relationship-without-match",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Parent.Name LIKE '%corp'",
        ["ACME Holdings"],
        id="self-relationship",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity "
        "WHERE StageName = 'Prospecting' ORDER BY Amount DESC",
        ["No date", "Ship renewal", "Contoso Expansion"],
        id="desc-puts-nulls-last-by-default",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE StageName = 'Prospecting' ORDER BY Amount",
        ["Contoso Expansion", "Ship renewal", "No date"],
        id="asc-puts-nulls-first-by-default",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE StageName = 'Prospecting' "
        "ORDER BY Amount ASC NULLS LAST",
        ["Ship renewal", "No date", "Contoso Expansion"],
        id="asc-nulls-last",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE StageName = 'Prospecting' "
        "ORDER BY Amount DESC NULLS FIRST",
        ["Contoso Expansion", "No date", "Ship renewal"],
        id="desc-nulls-first",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Industry = 'Retail' "
        "ORDER BY Industry, NumberOfEmployees DESC",
        ["Northwind Traders", "ACME Holdings", "acme corp"],
        id="order-by-several-keys",
    ),
    pytest.param(
        "SELECT Name FROM Account ORDER BY Name",
        ACCOUNTS_BY_NAME,
        id="order-by-string-ignores-case",
    ),
    pytest.param(
        "SELECT Name FROM Account ORDER BY Name LIMIT 3",
        ACCOUNTS_BY_NAME[:3],
        id="limit",
    ),
    pytest.param(
        "SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 3",
        ["Northwind Traders", "O'Brien & Sons"],
        id="limit-and-offset",
    ),
    pytest.param(
        "SELECT Name FROM Account ORDER BY Name OFFSET 20",
        [],
        id="offset-beyond-end",
    ),
    pytest.param("SELECT Name FROM Account LIMIT 0", [], id="limit-zero"),
    pytest.param(
        "SELECT Name FROM Account WHERE Id = '0015g00000QxA03'",
        ["Ærø Shipping"],
        id="id-equals-15-char-id",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Id = '0015g00000QxA03AAF'",
        ["Ærø Shipping"],
        id="id-equals-18-char-id",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Id = '0015G00000QXA03'",
        [],
        id="id-comparison-is-case-sensitive",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE AccountId = '0015g00000QxA03'",
        ["Ærø Fleet", "Ship renewal"],
        id="reference-field-accepts-15-char-id",
    ),
    pytest.param(
        "SELECT Name FROM Account "
        "WHERE Id IN ('0015g00000QxA01', '0015g00000QxA02AAF')",
        ["Northwind Traders", "Contoso Ltd"],
        id="id-in-list-of-mixed-lengths",
    ),
    pytest.param(
        "SELECT Account.Name FROM Account WHERE Account.Industry = 'Finance'",
        ["Zürich Rückversicherung"],
        id="field-path-may-start-with-queried-object",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Name < 'b' ORDER BY Name",
        ["acme corp", "ACME Holdings"],
        id="string-less-than-ignores-case",
    ),
    pytest.param(
        "SELECT Name FROM Opportunity WHERE Probability = 100 ORDER BY Name",
        ["ACME upsell", "Northwind Renewal", "Ærø Fleet", "東京 deal"],
        id="integer-literal-on-percent-field",
    ),
    pytest.param(
        "SELECT Name FROM User WHERE IsActive = false",
        ["Łukasz Nowak"],
        id="user-object",
    ),
    pytest.param(
        "SELECT Name\nFROM Account\n\tWHERE Industry = 'Finance'  ",
        ["Zürich Rückversicherung"],
        id="newlines-and-tabs-are-whitespace",
    ),
    pytest.param(
        "SELECT Name FROM Account WHERE Name = 'nobody'",
        [],
        id="no-match",
    ),
]


@pytest.mark.parametrize(("text", "expected"), VALID_QUERIES)
def test_valid_query_returns_expected_rows(
    catalog: DictCatalog, text: str, expected: list[str]
) -> None:
    query = parse(text)

    result = execute(query, catalog, now=NOW, api_version="59.0")

    assert names(result) == expected
    assert result.total_size == len(expected)


INVALID_QUERIES = [
    # Syntax.
    pytest.param("", "MALFORMED_QUERY", id="empty-text"),
    pytest.param(
        "SELECT Id, Name, FROM Account", "MALFORMED_QUERY", id="comma-before-from"
    ),
    pytest.param("SELECT Id", "MALFORMED_QUERY", id="missing-from"),
    pytest.param("SELECT FROM Account", "MALFORMED_QUERY", id="empty-field-list"),
    pytest.param("SELECT Id FROM Account;", "MALFORMED_QUERY", id="trailing-semicolon"),
    pytest.param(
        "SELECT Industry FROM Account GROUP BY Industry",
        "MALFORMED_QUERY",
        id="group-by",
    ),
    pytest.param(
        "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
        "MALFORMED_QUERY",
        id="child-subquery",
    ),
    pytest.param(
        "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity)",
        "MALFORMED_QUERY",
        id="semi-join",
    ),
    pytest.param(
        "SELECT Id FROM Account FOR UPDATE", "MALFORMED_QUERY", id="for-update"
    ),
    pytest.param(
        "SELECT Id FROM Account WITH SECURITY_ENFORCED",
        "MALFORMED_QUERY",
        id="with-clause",
    ),
    pytest.param(
        "SELECT TYPEOF What WHEN Account THEN Name END FROM Event",
        "MALFORMED_QUERY",
        id="typeof",
    ),
    pytest.param("SELECT SUM(Amount) FROM Opportunity", "MALFORMED_QUERY", id="sum"),
    pytest.param(
        "SELECT Name, COUNT(Id) FROM Account",
        "MALFORMED_QUERY",
        id="aggregate-with-ungrouped-field",
    ),
    pytest.param(
        "SELECT COUNT(), Name FROM Account",
        "MALFORMED_QUERY",
        id="count-star-not-alone",
    ),
    pytest.param(
        "SELECT COUNT(Id) FROM Account ORDER BY Name",
        "MALFORMED_QUERY",
        id="aggregate-ordered-by-ungrouped-field",
    ),
    pytest.param(
        "SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'",
        "MALFORMED_QUERY",
        id="and-or-mixed-without-parentheses",
    ),
    pytest.param(
        'SELECT Id FROM Account WHERE Name = "x"', "MALFORMED_QUERY", id="double-quotes"
    ),
    pytest.param(
        "SELECT Id FROM Account WHERE Name = 'abc",
        "MALFORMED_QUERY",
        id="unterminated-string",
    ),
    pytest.param(
        r"SELECT Id FROM Account WHERE Name = 'a\qb'",
        "MALFORMED_QUERY",
        id="bad-escape",
    ),
    pytest.param(
        "SELECT Id FROM Account WHERE Name = foo",
        "MALFORMED_QUERY",
        id="bare-word-value",
    ),
    pytest.param(
        "SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS",
        "MALFORMED_QUERY",
        id="relative-literal-missing-n",
    ),
    pytest.param(
        "SELECT Id FROM Opportunity WHERE CloseDate = TODAY:3",
        "MALFORMED_QUERY",
        id="relative-literal-with-unwanted-n",
    ),
    pytest.param(
        "SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS:-1",
        "MALFORMED_QUERY",
        id="relative-literal-negative-n",
    ),
    pytest.param(
        "SELECT Id FROM Opportunity WHERE CloseDate = 2024-02-30",
        "MALFORMED_QUERY",
        id="impossible-date",
    ),
    pytest.param(
        "SELECT Id FROM Account WHERE SystemModstamp = 2024-01-31T10:00:00",
        "MALFORMED_QUERY",
        id="datetime-without-zone",
    ),
    pytest.param(
        "SELECT Id FROM Account LIMIT 1.5", "MALFORMED_QUERY", id="limit-fraction"
    ),
    pytest.param(
        "SELECT Id FROM Account LIMIT -1", "MALFORMED_QUERY", id="limit-negative"
    ),
    pytest.param(
        "SELECT Id FROM Account OFFSET 5 LIMIT 1",
        "MALFORMED_QUERY",
        id="offset-before-limit",
    ),
    pytest.param(
        "SELECT Name, name FROM Account", "MALFORMED_QUERY", id="duplicate-field"
    ),
    pytest.param(
        "SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS:999999999",
        "MALFORMED_QUERY",
        id="relative-literal-out-of-range",
    ),
    # Objects.
    pytest.param("SELECT Id FROM Foo", "INVALID_TYPE", id="unknown-object"),
    pytest.param(
        "select count() from XYZZY", "INVALID_TYPE", id="count-unknown-object"
    ),
    # Fields and literals.
    pytest.param("SELECT Id, Foo__c FROM Account", "INVALID_FIELD", id="unknown-field"),
    pytest.param(
        "SELECT Id FROM Account WHERE Bogus = 'x'",
        "INVALID_FIELD",
        id="unknown-where-field",
    ),
    pytest.param(
        "SELECT Id FROM Account ORDER BY Bogus",
        "INVALID_FIELD",
        id="unknown-order-field",
    ),
    pytest.param(
        "SELECT COUNT(Bogus) FROM Account", "INVALID_FIELD", id="unknown-count-field"
    ),
    pytest.param(
        "SELECT Nope.Name FROM Opportunity", "INVALID_FIELD", id="unknown-relationship"
    ),
    pytest.param(
        "SELECT Account.Nope FROM Opportunity",
        "INVALID_FIELD",
        id="unknown-parent-field",
    ),
    pytest.param(
        "SELECT Account FROM Opportunity",
        "INVALID_FIELD",
        id="relationship-without-field",
    ),
    pytest.param(
        "SELECT Id FROM Opportunity WHERE CloseDate = '2024-01-31'",
        "INVALID_FIELD",
        id="quoted-date",
    ),
    pytest.param(
        "SELECT Id FROM Opportunity WHERE CloseDate = 2024-01-31T00:00:00Z",
        "INVALID_FIELD",
        id="datetime-for-date-field",
    ),
    pytest.param(
        "SELECT Id FROM Opportunity WHERE CreatedDate = 2024-01-31",
        "INVALID_FIELD",
        id="date-for-datetime-field",
    ),
    pytest.param(
        "SELECT Id FROM Account WHERE Name = 5", "INVALID_FIELD", id="number-for-string"
    ),
    pytest.param(
        "SELECT Id FROM Opportunity WHERE Amount = '5'",
        "INVALID_FIELD",
        id="string-for-number",
    ),
    pytest.param(
        "SELECT Id FROM Opportunity WHERE IsWon = 'true'",
        "INVALID_FIELD",
        id="string-for-boolean",
    ),
    pytest.param(
        "SELECT Id FROM Opportunity WHERE Amount = TODAY",
        "INVALID_FIELD",
        id="relative-date-for-number",
    ),
    pytest.param(
        "SELECT Id FROM Opportunity WHERE Amount IN (1, 'two')",
        "INVALID_FIELD",
        id="mismatch-inside-in-list",
    ),
    pytest.param(
        "SELECT Id FROM Opportunity WHERE Amount LIKE '5%'",
        "INVALID_FIELD",
        id="like-on-number",
    ),
    pytest.param(
        "SELECT Id FROM Opportunity WHERE IsWon > false",
        "INVALID_FIELD",
        id="ordering-operator-on-boolean",
    ),
]


@pytest.mark.parametrize(("text", "error_code"), INVALID_QUERIES)
def test_invalid_query_raises_soql_error_with_code(
    catalog: DictCatalog, text: str, error_code: str
) -> None:
    with pytest.raises(SoqlError) as caught:
        run(catalog, text)

    assert caught.value.error_code == error_code
    assert caught.value.message


def test_syntax_error_message_has_salesforce_caret_layout() -> None:
    with pytest.raises(SoqlError) as caught:
        parse("SELECT Id, Name, FROM Account")

    assert caught.value.message == (
        "\nSELECT Id, Name, FROM Account\n"
        "                 ^\n"
        "ERROR at Row:1:Column:18\n"
        "unexpected token: 'FROM'"
    )


def test_unexpected_end_of_text_is_named_eof() -> None:
    with pytest.raises(SoqlError) as caught:
        parse("SELECT Id FROM")

    assert caught.value.description == "unexpected token: '<EOF>'"
    assert caught.value.column == len("SELECT Id FROM") + 1


def test_unknown_field_message_names_field_and_object(catalog: DictCatalog) -> None:
    with pytest.raises(SoqlError) as caught:
        run(catalog, "SELECT Id, Foo__c FROM Account")

    assert caught.value.message == (
        "\nSELECT Id, Foo__c FROM Account\n"
        "           ^\n"
        "ERROR at Row:1:Column:12\n"
        "No such column 'Foo__c' on entity 'Account'. If you are attempting to use "
        "a custom field, be sure to append the '__c' after the custom field name. "
        "Please reference your WSDL or the describe call for the appropriate names."
    )


def test_unknown_object_message_matches_salesforce(catalog: DictCatalog) -> None:
    with pytest.raises(SoqlError) as caught:
        run(catalog, "select count() from XYZZY")

    assert caught.value.message == (
        "\nselect count() from XYZZY\n"
        "                    ^\n"
        "ERROR at Row:1:Column:21\n"
        "sObject type 'XYZZY' is not supported. If you are attempting to use a custom "
        "object, be sure to append the '__c' after the entity name. Please reference "
        "your WSDL or the describe call for the appropriate names."
    )


def test_quoted_date_message_says_date_must_not_be_quoted(catalog: DictCatalog) -> None:
    with pytest.raises(SoqlError) as caught:
        run(catalog, "SELECT Id FROM Opportunity WHERE closedate = '2024-01-31'")

    assert caught.value.description == (
        "value of filter criterion for field 'CloseDate' must be of type date "
        "and should not be enclosed in quotes"
    )


def test_unknown_parent_field_is_reported_on_the_parent_object(
    catalog: DictCatalog,
) -> None:
    with pytest.raises(SoqlError) as caught:
        run(catalog, "SELECT Account.Nope FROM Opportunity")

    assert "No such column 'Nope' on entity 'Account'" in caught.value.description


def test_records_nest_parents_in_wire_shape(catalog: DictCatalog) -> None:
    text = (
        "SELECT Id, Name, Account.Name, Account.Industry, Owner.Name, Amount, "
        "CloseDate, IsWon, CreatedDate FROM Opportunity "
        "WHERE Name IN ('Contoso Expansion', 'Orphan Deal') ORDER BY CloseDate"
    )

    result = run(catalog, text)

    assert result.records == [
        {
            "attributes": {
                "type": "Opportunity",
                "url": f"/services/data/v59.0/sobjects/Opportunity/{oid(2)}",
            },
            "Id": oid(2),
            "Name": "Contoso Expansion",
            "Account": {
                "attributes": {
                    "type": "Account",
                    "url": f"/services/data/v59.0/sobjects/Account/{aid(2)}",
                },
                "Name": "Contoso Ltd",
                "Industry": None,
            },
            "Owner": {
                "attributes": {
                    "type": "User",
                    "url": f"/services/data/v59.0/sobjects/User/{uid(2)}",
                },
                "Name": "Blake Sample",
            },
            "Amount": None,
            "CloseDate": "2024-06-30",
            "IsWon": False,
            "CreatedDate": "2024-02-11T08:02:44.000+0000",
        },
        {
            "attributes": {
                "type": "Opportunity",
                "url": f"/services/data/v59.0/sobjects/Opportunity/{oid(3)}",
            },
            "Id": oid(3),
            "Name": "Orphan Deal",
            "Account": None,
            "Owner": {
                "attributes": {
                    "type": "User",
                    "url": f"/services/data/v59.0/sobjects/User/{uid(1)}",
                },
                "Name": "Avery Placeholder",
            },
            "Amount": 12500.5,
            "CloseDate": "2024-07-01",
            "IsWon": False,
            "CreatedDate": "2024-02-12T23:59:59.000+0000",
        },
    ]


def test_field_keys_use_describe_case_in_select_order(catalog: DictCatalog) -> None:
    text = "select name, ID, account.NAME from opportunity where name = 'Ærø Fleet'"

    result = run(catalog, text)

    record = result.records[0]
    assert list(record) == ["attributes", "Name", "Id", "Account"]
    assert list(record["Account"]) == ["attributes", "Name"]


def test_two_level_parents_nest_twice_and_merge_shared_relationships(
    catalog: DictCatalog,
) -> None:
    text = (
        "SELECT Account.Owner.Name, Account.Name FROM Opportunity "
        "WHERE Name = 'Ærø Fleet'"
    )

    result = run(catalog, text)

    assert result.records[0]["Account"] == {
        "attributes": {
            "type": "Account",
            "url": f"/services/data/v59.0/sobjects/Account/{aid(3)}",
        },
        "Owner": {
            "attributes": {
                "type": "User",
                "url": f"/services/data/v59.0/sobjects/User/{uid(3)}",
            },
            "Name": "Zoë Ångström",
        },
        "Name": "Ærø Shipping",
    }


def test_empty_lookup_renders_relationship_as_null(catalog: DictCatalog) -> None:
    result = run(catalog, "SELECT Name, Owner.Name FROM Account WHERE Name LIKE 'O%'")

    assert result.records[0]["Owner"] is None


def test_currency_stored_as_int_is_rendered_as_float(catalog: DictCatalog) -> None:
    result = run(catalog, "SELECT AnnualRevenue FROM Account WHERE Name LIKE 'Č%'")

    value = result.records[0]["AnnualRevenue"]
    assert value == 75000.0
    assert isinstance(value, float)


def test_url_version_accepts_leading_v(catalog: DictCatalog) -> None:
    query = parse("SELECT Id FROM User WHERE Name = 'Blake Sample'")

    result = execute(query, catalog, now=NOW, api_version="v61.0")

    assert result.records[0]["attributes"]["url"] == (
        f"/services/data/v61.0/sobjects/User/{uid(2)}"
    )


def test_count_star_returns_total_size_and_no_records(catalog: DictCatalog) -> None:
    query = parse("SELECT COUNT() FROM Account WHERE Industry = 'Retail'")

    result = execute(query, catalog, now=NOW, api_version="59.0")

    assert query.count_only is True
    assert query.sobject == "Account"
    assert result.records == []
    assert result.total_size == 3


def test_count_star_respects_limit(catalog: DictCatalog) -> None:
    result = run(catalog, "select count() from account limit 4")

    assert result.total_size == 4


def test_count_field_returns_one_aggregate_result(catalog: DictCatalog) -> None:
    query = parse("SELECT COUNT(Id), COUNT(Industry) withIndustry FROM Account")

    result = execute(query, catalog, now=NOW, api_version="59.0")

    assert query.count_only is False
    assert result.records == [
        {"attributes": {"type": "AggregateResult"}, "expr0": 10, "withIndustry": 8}
    ]
    assert result.total_size == 1


def test_deleted_rows_appear_only_when_asked(catalog: DictCatalog) -> None:
    text = "SELECT Name FROM Account WHERE IsDeleted = true"

    hidden = run(catalog, text)
    shown = run(catalog, text, include_deleted=True)

    assert names(hidden) == []
    assert names(shown) == ["Deleted Co"]


def test_object_named_order_is_not_taken_for_order_by() -> None:
    query = parse("SELECT Id FROM Order ORDER BY Order.Name")

    assert query.sobject == "Order"
    assert query.order_by[0].field.names == ("Order", "Name")


def test_count_field_query_is_aggregate_not_count_only() -> None:
    query = parse("SELECT COUNT(Id) total FROM Account")

    assert query.count_only is False
    assert query.aggregate is True


def test_query_keeps_object_name_as_written() -> None:
    query = parse("SELECT Id FROM opportunity")

    assert query.sobject == "opportunity"
    assert query.count_only is False


# Relative date literals, against a fixed `now`.


def _day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _dated_catalog() -> DictCatalog:
    """One opportunity per day from 2021 to 2027, stamped at both ends of its day."""
    rows = []
    for number, day in enumerate(_day_range(date(2021, 1, 1), date(2027, 12, 31))):
        for stamp in ("00:00:00.000", "23:59:59.999"):
            rows.append(
                {
                    "Id": f"006{number:07d}{stamp[0]}AAAAAAA",
                    "Name": day.isoformat(),
                    "IsDeleted": False,
                    "CloseDate": day.isoformat() if stamp[0] == "0" else None,
                    "CreatedDate": f"{day.isoformat()}T{stamp}+0000",
                    "SystemModstamp": f"{day.isoformat()}T{stamp}+0000",
                }
            )
    return DictCatalog({"Opportunity": SCHEMA["Opportunity"]}, {"Opportunity": rows})


DATED = _dated_catalog()

RELATIVE_RANGES = [
    ("TODAY", "2024-05-15", "2024-05-15"),
    ("YESTERDAY", "2024-05-14", "2024-05-14"),
    ("TOMORROW", "2024-05-16", "2024-05-16"),
    ("THIS_WEEK", "2024-05-12", "2024-05-18"),
    ("LAST_WEEK", "2024-05-05", "2024-05-11"),
    ("NEXT_WEEK", "2024-05-19", "2024-05-25"),
    ("THIS_MONTH", "2024-05-01", "2024-05-31"),
    ("LAST_MONTH", "2024-04-01", "2024-04-30"),
    ("NEXT_MONTH", "2024-06-01", "2024-06-30"),
    ("THIS_QUARTER", "2024-04-01", "2024-06-30"),
    ("LAST_QUARTER", "2024-01-01", "2024-03-31"),
    ("NEXT_QUARTER", "2024-07-01", "2024-09-30"),
    ("THIS_YEAR", "2024-01-01", "2024-12-31"),
    ("LAST_YEAR", "2023-01-01", "2023-12-31"),
    ("NEXT_YEAR", "2025-01-01", "2025-12-31"),
    ("THIS_FISCAL_YEAR", "2024-01-01", "2024-12-31"),
    ("LAST_90_DAYS", "2024-02-15", "2024-05-15"),
    ("NEXT_90_DAYS", "2024-05-16", "2024-08-13"),
    ("LAST_N_DAYS:7", "2024-05-08", "2024-05-15"),
    ("NEXT_N_DAYS:7", "2024-05-16", "2024-05-22"),
    ("N_DAYS_AGO:3", "2024-05-12", "2024-05-12"),
    ("LAST_N_WEEKS:2", "2024-04-28", "2024-05-11"),
    ("NEXT_N_WEEKS:2", "2024-05-19", "2024-06-01"),
    ("N_WEEKS_AGO:2", "2024-04-28", "2024-05-04"),
    ("LAST_N_MONTHS:2", "2024-03-01", "2024-04-30"),
    ("NEXT_N_MONTHS:2", "2024-06-01", "2024-07-31"),
    ("N_MONTHS_AGO:12", "2023-05-01", "2023-05-31"),
    ("LAST_N_QUARTERS:2", "2023-10-01", "2024-03-31"),
    ("NEXT_N_QUARTERS:1", "2024-07-01", "2024-09-30"),
    ("N_QUARTERS_AGO:4", "2023-04-01", "2023-06-30"),
    ("LAST_N_YEARS:2", "2022-01-01", "2023-12-31"),
    ("NEXT_N_YEARS:1", "2025-01-01", "2025-12-31"),
    ("N_YEARS_AGO:1", "2023-01-01", "2023-12-31"),
]


@pytest.mark.parametrize(
    ("literal", "first", "last"),
    [pytest.param(*case, id=case[0]) for case in RELATIVE_RANGES],
)
def test_relative_literal_on_date_field_covers_whole_days(
    literal: str, first: str, last: str
) -> None:
    text = f"SELECT Name FROM Opportunity WHERE CloseDate = {literal}"  # noqa: S608 - SOQL under test
    query = parse(text)

    result = execute(query, DATED, now=NOW, api_version="59.0")

    expected = [
        day.isoformat()
        for day in _day_range(date.fromisoformat(first), date.fromisoformat(last))
    ]
    assert names(result) == expected


@pytest.mark.parametrize(
    ("literal", "first", "last"),
    [pytest.param(*case, id=case[0]) for case in RELATIVE_RANGES],
)
def test_relative_literal_on_datetime_field_covers_first_to_last_instant(
    literal: str, first: str, last: str
) -> None:
    text = f"SELECT CreatedDate FROM Opportunity WHERE CreatedDate = {literal}"  # noqa: S608 - SOQL under test

    result = execute(parse(text), DATED, now=NOW, api_version="59.0")

    stamps = [record["CreatedDate"] for record in result.records]
    assert stamps[0] == f"{first}T00:00:00.000+0000"
    assert stamps[-1] == f"{last}T23:59:59.999+0000"
    days = (date.fromisoformat(last) - date.fromisoformat(first)).days + 1
    assert len(stamps) == 2 * days


def test_relative_literals_use_the_utc_date_of_now() -> None:
    evening_in_chicago = datetime.fromisoformat("2024-05-15T23:30:00-05:00")
    query = parse("SELECT Name FROM Opportunity WHERE CloseDate = TODAY")

    result = execute(query, DATED, now=evening_in_chicago, api_version="59.0")

    assert names(result) == ["2024-05-16"]


def test_relative_range_comparisons_use_range_ends() -> None:
    before = parse("SELECT Name FROM Opportunity WHERE CloseDate <= LAST_MONTH")
    after = parse("SELECT Name FROM Opportunity WHERE CloseDate >= NEXT_MONTH")

    through_april = execute(before, DATED, now=NOW, api_version="59.0")
    from_june = execute(after, DATED, now=NOW, api_version="59.0")

    assert names(through_april)[-1] == "2024-04-30"
    assert names(from_june)[0] == "2024-06-01"


# Robustness and speed.

VOCABULARY = [
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "LIKE", "IN", "ORDER", "BY",
    "ASC", "DESC", "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "COUNT", "(", ")",
    ",", ".", ":", "=", "!=", "<>", "<", "<=", ">", ">=", "Id", "Name", "Amount",
    "CloseDate", "CreatedDate", "IsWon", "Account", "Owner", "Parent", "Industry",
    "Opportunity", "Account", "User", "Bogus", "null", "true", "false", "TODAY",
    "LAST_N_DAYS:3", "THIS_QUARTER", "'x'", "'%a_'", r"'\u00e9'", "5", "-2.5",
    "2024-01-31", "2024-01-31T10:00:00Z", "2024-01-31T10:00:00.123+05:30",
    "GROUP", "HAVING", "'", '"', "\\", "\x00", "\u00e9",
]  # fmt: skip


def _outcome(text: str) -> str:
    """What a query ends in: "result", or the code of the SoqlError raised."""
    try:
        query = parse(text)
    except SoqlError as exc:
        return f"parse {exc.error_code}"
    try:
        execute(query, DictCatalog(SCHEMA, ROWS), now=NOW, api_version="59.0")
    except SoqlError as exc:
        return exc.error_code
    return "result"


CLEAN_OUTCOMES = {
    "parse MALFORMED_QUERY",
    "MALFORMED_QUERY",
    "INVALID_FIELD",
    "INVALID_TYPE",
    "result",
}


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_parses_or_raises_soql_error(text: str) -> None:
    assert _outcome(text) in CLEAN_OUTCOMES


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(VOCABULARY), max_size=30))
def test_token_soup_runs_or_raises_soql_error(tokens: list[str]) -> None:
    assert _outcome(" ".join(tokens)) in CLEAN_OUTCOMES


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(VOCABULARY), max_size=12),
    st.sampled_from(["Account", "Opportunity", "User", "Nope"]),
)
def test_query_shaped_soup_runs_or_raises_soql_error(
    tokens: list[str], sobject: str
) -> None:
    text = f"SELECT Id, Name FROM {sobject} WHERE {' '.join(tokens)}"  # noqa: S608 - SOQL under test

    assert _outcome(text) in CLEAN_OUTCOMES


def test_deeply_nested_parentheses_are_read(catalog: DictCatalog) -> None:
    text = (
        "SELECT Name FROM Account WHERE "
        + "(" * 5000
        + "Name = 'acme corp'"
        + ")" * 5000
    )

    result = run(catalog, text)

    assert names(result) == ["acme corp"]


def test_thousands_of_nested_nots_raise_soql_error_not_recursion_error(
    catalog: DictCatalog,
) -> None:
    text = "SELECT Name FROM Account WHERE " + "NOT " * 5000 + "Name = 'acme corp'"

    with pytest.raises(SoqlError) as caught:
        run(catalog, text)

    assert caught.value.error_code == "MALFORMED_QUERY"


def test_or_of_thousands_of_terms_runs(catalog: DictCatalog) -> None:
    terms = [f"Name = 'nobody {number}'" for number in range(5000)]
    where = " OR ".join(["Name = 'acme corp'", *terms])
    text = f"SELECT Name FROM Account WHERE {where}"  # noqa: S608 - SOQL under test

    result = run(catalog, text)

    assert names(result) == ["acme corp"]


def _stamp_of_second(second: int) -> str:
    hours, rest = divmod(second, 3600)
    return f"2024-01-01T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}.000+0000"


def test_hundred_thousand_rows_filter_and_sort_in_well_under_two_seconds() -> None:
    rows = [
        {
            "Id": f"006{number:012d}AAA",
            "Name": f"Deal {number}",
            "IsDeleted": False,
            "AccountId": None,
            "Amount": float(number % 977),
            # Scattered over one day, many rows sharing a second.
            "SystemModstamp": _stamp_of_second(number * 7919 % 86_400),
        }
        for number in range(100_000)
    ]
    big = DictCatalog({"Opportunity": SCHEMA["Opportunity"]}, {"Opportunity": rows})
    query = parse(
        "SELECT Id, Name, Amount FROM Opportunity "
        "WHERE SystemModstamp >= 2024-01-01T12:00:00.000Z AND Amount > 10 "
        "ORDER BY SystemModstamp, Id"
    )

    # CPU time of this process, so that other work on the machine does not count.
    started = time.process_time()
    result = execute(query, big, now=NOW, api_version="59.0")
    elapsed = time.process_time() - started

    assert result.total_size > 40_000
    assert elapsed < 1.5, f"took {elapsed:.2f} s of CPU"
