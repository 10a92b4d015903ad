"""Single-record REST calls: create, read, update, delete, upsert, validation."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from sfsync.localorg import LocalOrg
from sfsync.localorg.ids import checksum
from tests.localorg.conftest import Raw, wire_fixture


def test_create_answers_201_with_the_reference_body(raw: Raw) -> None:
    expected = wire_fixture("06-sobject-crud/create-201.json")

    reply = raw("POST", "sobjects/Account/", json={"Name": "Acme"})

    assert reply.status_code == 201
    assert list(reply.json()) == list(expected["response"]["body"])
    assert reply.headers["Location"].endswith(reply.json()["id"])
    assert reply.headers["Sforce-Limit-Info"] == "api-usage=1/15000"


def test_new_ids_carry_the_key_prefix_and_case_checksum(localorg: LocalOrg) -> None:
    sf = localorg.salesforce()

    record_id = sf.Opportunity.create(
        {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2024-09-30"}
    )["id"]

    assert record_id.startswith("006")
    assert len(record_id) == 18
    assert record_id[15:] == checksum(record_id[:15])


def test_a_15_character_id_reads_the_same_record(localorg: LocalOrg) -> None:
    sf = localorg.salesforce()
    record_id = localorg.insert("Account", {"Name": "Acme"})

    record = sf.Account.get(record_id[:15])

    assert record["Id"] == record_id


def test_get_returns_every_field_in_describe_order(raw: Raw) -> None:
    record_id = raw.org.insert("Account", {"Name": "Acme", "AccountNumber": "A-1"})
    described = raw("GET", "sobjects/Account/describe").json()

    record = raw("GET", f"sobjects/Account/{record_id}").json()

    assert list(record)[1:] == [f["name"] for f in described["fields"]]
    assert record["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v59.0/sobjects/Account/{record_id}",
    }
    assert record["BillingAddress"] is None


def test_get_with_fields_returns_only_those(raw: Raw) -> None:
    record_id = raw.org.insert("Account", {"Name": "Acme", "Industry": "Retail"})

    record = raw(
        "GET", f"sobjects/Account/{record_id}", params={"fields": "name,Industry"}
    )

    assert list(record.json()) == ["attributes", "Name", "Industry"]


def test_update_answers_204_and_stamps_the_record(localorg: LocalOrg) -> None:
    sf = localorg.salesforce()
    record_id = localorg.insert(
        "Account",
        {
            "Name": "Acme",
            "SystemModstamp": "2020-01-01T00:00:00.000+0000",
            "LastModifiedDate": "2020-01-01T00:00:00.000+0000",
        },
    )

    status = sf.Account.update(record_id, {"Industry": "Retail"})

    record = localorg.get("Account", record_id)
    assert status == 204
    assert record is not None
    assert record["SystemModstamp"] > "2020-01-01T00:00:00.000+0000"
    assert record["SystemModstamp"] == record["LastModifiedDate"]
    assert record["SystemModstamp"].endswith("+0000")


def test_stamps_never_go_backwards_between_writes(localorg: LocalOrg) -> None:
    record_id = localorg.insert("Account", {"Name": "Acme"})
    stamps = []

    for n in range(20):
        localorg.update("Account", record_id, {"Description": str(n)})
        record = localorg.get("Account", record_id)
        assert record is not None
        stamps.append(record["SystemModstamp"])

    assert stamps == sorted(stamps)


@pytest.mark.parametrize(
    ("stage", "won", "closed", "probability", "forecast"),
    [
        pytest.param("Prospecting", False, False, 10.0, "Pipeline", id="prospecting"),
        pytest.param(
            "Negotiation/Review", False, False, 90.0, "Pipeline", id="negotiation"
        ),
        pytest.param("Closed Won", True, True, 100.0, "Closed", id="closed-won"),
        pytest.param("Closed Lost", False, True, 0.0, "Omitted", id="closed-lost"),
    ],
)
def test_stage_sets_won_closed_probability_and_forecast(
    localorg: LocalOrg,
    stage: str,
    won: bool,
    closed: bool,
    probability: float,
    forecast: str,
) -> None:
    sf = localorg.salesforce()
    record_id = sf.Opportunity.create(
        {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2024-09-30"}
    )["id"]

    sf.Opportunity.update(record_id, {"StageName": stage})

    record = sf.Opportunity.get(record_id)
    assert (record["IsWon"], record["IsClosed"]) == (won, closed)
    assert record["Probability"] == probability
    assert record["ForecastCategoryName"] == forecast


def test_delete_moves_to_recycle_bin_and_a_second_delete_is_entity_is_deleted(
    raw: Raw,
) -> None:
    record_id = raw.org.insert("Account", {"Name": "Acme"})
    expected = wire_fixture("05-errors/ENTITY_IS_DELETED.json")["response"]

    first = raw("DELETE", f"sobjects/Account/{record_id}")
    second = raw("DELETE", f"sobjects/Account/{record_id}")

    assert first.status_code == 204
    assert (second.status_code, second.json()) == (expected["status"], expected["body"])
    assert raw.org.get("Account", record_id)["IsDeleted"] is True  # type: ignore[index]


def test_deleting_an_account_cascades_to_its_opportunities(localorg: LocalOrg) -> None:
    sf = localorg.salesforce()
    account = localorg.insert("Account", {"Name": "Acme"})
    deal = localorg.insert(
        "Opportunity",
        {
            "Name": "Deal",
            "StageName": "Prospecting",
            "CloseDate": "2024-01-01",
            "AccountId": account,
        },
    )

    sf.Account.delete(account)

    assert localorg.get("Opportunity", deal)["IsDeleted"] is True  # type: ignore[index]


def test_missing_record_gets_the_reference_not_found(raw: Raw) -> None:
    expected = wire_fixture("05-errors/NOT_FOUND.json")["response"]

    reply = raw("GET", "sobjects/Account/0015g00000Nope1AAB")

    assert (reply.status_code, reply.json()) == (expected["status"], expected["body"])


def test_update_naming_an_unknown_field_raises_invalid_field(
    localorg: LocalOrg,
) -> None:
    sf = localorg.salesforce()
    record_id = localorg.insert("Account", {"Name": "Acme"})

    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Account.update(record_id, {"Foo__c": "x"})

    assert caught.value.content == [
        {
            "message": "No such column 'Foo__c' on sobject of type Account",
            "errorCode": "INVALID_FIELD",
        }
    ]


@pytest.mark.parametrize(
    ("fixture", "sobject", "body"),
    [
        pytest.param(
            "STRING_TOO_LONG",
            "Account",
            {
                "Name": "Acme",
                "AccountNumber": "12345678901234567890123456789012345678901234567890",
            },
            id="string-too-long",
        ),
        pytest.param(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "Opportunity",
            {
                "Name": "Deal",
                "StageName": "Prospecting",
                "CloseDate": "2024-01-01",
                "ForecastCategoryName": "Maybe",
            },
            id="restricted-picklist",
        ),
        pytest.param(
            "REQUIRED_FIELD_MISSING",
            "Account",
            {"Industry": "Retail"},
            id="required-field",
        ),
    ],
)
def test_invalid_values_get_the_reference_error_body(
    raw: Raw, fixture: str, sobject: str, body: dict[str, object]
) -> None:
    expected = wire_fixture(f"05-errors/{fixture}.json")["response"]

    reply = raw("POST", f"sobjects/{sobject}/", json=body)

    assert (reply.status_code, reply.json()) == (expected["status"], expected["body"])


def test_read_only_field_gets_invalid_field_for_insert_update(raw: Raw) -> None:
    reply = raw(
        "POST",
        "sobjects/Opportunity/",
        json={
            "Name": "Deal",
            "StageName": "Prospecting",
            "CloseDate": "2024-01-01",
            "IsWon": True,
        },
    )

    assert reply.status_code == 400
    assert reply.json()[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert reply.json()[0]["fields"] == ["IsWon"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"Name": "Acme"', id="truncated"),
        pytest.param(b"not json at all", id="garbage"),
        pytest.param(b"[1, 2, 3]", id="array"),
        pytest.param(b'{"NumberOfEmployees": "many"}', id="wrong-type"),
    ],
)
def test_malformed_json_gets_json_parser_error_and_the_server_keeps_serving(
    raw: Raw, body: bytes
) -> None:
    reply = raw("POST", "sobjects/Account/", data=body)

    assert reply.status_code == 400
    assert reply.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert raw("GET", "limits/").status_code == 200


def test_unknown_object_is_not_found(localorg: LocalOrg) -> None:
    sf = localorg.salesforce()

    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Foo.describe()

    assert caught.value.content[0]["errorCode"] == "NOT_FOUND"


def test_upsert_creates_then_updates_by_external_id(localorg: LocalOrg) -> None:
    sf = localorg.salesforce()

    created = sf.Contact.upsert("Email/ari@example.com", {"LastName": "Example"})
    updated = sf.Contact.upsert("Email/ari@example.com", {"FirstName": "Ari"})

    result = sf.query("SELECT Name, Email FROM Contact")
    assert (created, updated) == (201, 200)
    assert [(r["Name"], r["Email"]) for r in result["records"]] == [
        ("Ari Example", "ari@example.com")
    ]


def test_upsert_with_several_matches_answers_300(localorg: LocalOrg) -> None:
    sf = localorg.salesforce()
    for _ in range(2):
        localorg.insert("Contact", {"LastName": "Dup", "Email": "dup@example.com"})

    with pytest.raises(SalesforceMoreThanOneRecord) as caught:
        sf.Contact.upsert("Email/dup@example.com", {"LastName": "X"})

    assert caught.value.status == 300
    assert len(caught.value.content) == 2


def test_upsert_on_a_field_that_is_not_an_id_lookup_is_not_found(raw: Raw) -> None:
    reply = raw("PATCH", "sobjects/Account/Industry/Retail", json={"Name": "X"})

    assert reply.status_code == 404
    assert reply.json()[0]["errorCode"] == "NOT_FOUND"


def test_upsert_reply_matches_the_reference(raw: Raw) -> None:
    expected = wire_fixture("06-sobject-crud/upsert-created-201.json")["response"]

    reply = raw("PATCH", "sobjects/Contact/Email/x@example.com", json={"LastName": "X"})

    assert reply.status_code == expected["status"]
    assert list(reply.json()) == list(expected["body"])
