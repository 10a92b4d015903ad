"""SOQL over REST: paging from a server-side cursor, queryAll, error bodies."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sfsync.localorg import LocalOrg
from tests.localorg.conftest import Raw, wire_fixture


def _accounts(org: LocalOrg, count: int) -> list[str]:
    return org.load_records(
        "Account", ({"Name": f"Account {n:05d}"} for n in range(count))
    )


def test_query_all_over_4500_records_takes_three_query_calls(
    localorg: LocalOrg,
) -> None:
    _accounts(localorg, 4500)
    sf = localorg.salesforce()

    result = sf.query_all("SELECT Id, Name FROM Account")

    assert result["totalSize"] == 4500
    assert len({r["Id"] for r in result["records"]}) == 4500
    assert localorg.stats()["by_category"] == {"query": 3}


def test_first_page_links_to_the_next_with_a_query_locator(raw: Raw) -> None:
    _accounts(raw.org, 2500)
    expected = wire_fixture("04-query/query-paginated-first-page.json")

    body = raw("GET", "query/", params={"q": "SELECT Id, Name FROM Account"}).json()

    assert list(body) == list(expected["response"]["body"])
    assert body["done"] is False
    assert len(body["records"]) == 2000
    locator = body["nextRecordsUrl"].rsplit("/", 1)[1]
    assert locator.startswith("01g")
    assert locator.endswith("-2000")


def test_last_page_has_no_next_records_url(raw: Raw) -> None:
    _accounts(raw.org, 2100)
    first = raw("GET", "query/", params={"q": "SELECT Id FROM Account"}).json()

    last = raw.session.get(raw.org.base_url + first["nextRecordsUrl"], timeout=30)

    assert last.json()["done"] is True
    assert "nextRecordsUrl" not in last.json()
    assert len(last.json()["records"]) == 100
    assert last.json()["totalSize"] == 2100


@pytest.mark.parametrize(
    ("asked", "served"),
    [
        pytest.param(500, 500, id="inside-range"),
        pytest.param(50, 200, id="below-minimum"),
        pytest.param(5000, 2000, id="above-maximum"),
    ],
)
def test_batch_size_header_is_honoured_within_salesforce_bounds(
    raw: Raw, asked: int, served: int
) -> None:
    _accounts(raw.org, 2500)

    body = raw(
        "GET",
        "query/",
        params={"q": "SELECT Id FROM Account"},
        headers={"Sforce-Query-Options": f"batchSize={asked}"},
    ).json()

    assert len(body["records"]) == served


def test_unknown_query_locator_is_invalid(raw: Raw) -> None:
    reply = raw("GET", "query/01g000000000000AAA-2000")

    assert reply.status_code == 400
    assert reply.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_hides_deleted_records_and_query_all_shows_them(
    localorg: LocalOrg,
) -> None:
    sf = localorg.salesforce()
    kept, gone = _accounts(localorg, 2)
    sf.Account.delete(gone)

    live = sf.query("SELECT Id FROM Account")
    everything = sf.query_all("SELECT Id, IsDeleted FROM Account", include_deleted=True)

    assert [r["Id"] for r in live["records"]] == [kept]
    assert {r["Id"]: r["IsDeleted"] for r in everything["records"]} == {
        kept: False,
        gone: True,
    }


def test_parent_relationship_comes_back_nested(localorg: LocalOrg) -> None:
    sf = localorg.salesforce()
    account = localorg.insert("Account", {"Name": "Northwind", "Industry": "Retail"})
    localorg.insert(
        "Opportunity",
        {
            "Name": "Renewal",
            "StageName": "Closed Won",
            "CloseDate": "2024-03-15",
            "AccountId": account,
            "Amount": 60000,
        },
    )
    localorg.insert(
        "Opportunity",
        {"Name": "Orphan", "StageName": "Prospecting", "CloseDate": "2024-07-01"},
    )

    result = sf.query(
        "SELECT Id, Name, Account.Name, StageName, Amount, IsWon FROM Opportunity "
        "ORDER BY Name DESC"
    )

    renewal, orphan = result["records"]
    assert renewal["Account"]["Name"] == "Northwind"
    assert renewal["Account"]["attributes"]["type"] == "Account"
    assert renewal["Amount"] == 60000.0
    assert renewal["IsWon"] is True
    assert orphan["Account"] is None


def test_count_query_reports_total_size_only(localorg: LocalOrg) -> None:
    _accounts(localorg, 17)
    expected = wire_fixture("04-query/query-count-only.json")["response"]["body"]

    result = localorg.salesforce().query("select count() from Account")

    assert dict(result) == dict(expected)


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        pytest.param("SELECT Id, Name, FROM Account", "MALFORMED_QUERY", id="syntax"),
        pytest.param("SELECT Id, Foo__c FROM Account", "INVALID_FIELD", id="field"),
        pytest.param("select count() from XYZZY", "INVALID_TYPE", id="object"),
        pytest.param("DROP TABLE Account; --", "MALFORMED_QUERY", id="not-soql"),
        pytest.param("SELECT", "MALFORMED_QUERY", id="truncated"),
        pytest.param(
            "SELECT Id FROM Account WHERE Name = 'open",
            "MALFORMED_QUERY",
            id="unterminated-string",
        ),
    ],
)
def test_bad_queries_get_salesforce_errors_and_the_server_keeps_serving(
    localorg: LocalOrg, soql: str, code: str
) -> None:
    sf = localorg.salesforce()

    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(soql)

    assert caught.value.status == 400
    assert caught.value.content[0]["errorCode"] == code
    assert "fields" not in caught.value.content[0]
    assert sf.query("SELECT Id FROM User")["totalSize"] == 1


def test_malformed_query_message_matches_the_reference(localorg: LocalOrg) -> None:
    expected = wire_fixture("05-errors/MALFORMED_QUERY.json")["response"]["body"]

    with pytest.raises(SalesforceMalformedRequest) as caught:
        localorg.salesforce().query("SELECT Id, Name, FROM Account")

    assert caught.value.content == expected
