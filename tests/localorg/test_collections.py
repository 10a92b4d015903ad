"""sObject Collections and Composite: one result per record, allOrNone, limits."""

from __future__ import annotations

from sfsync.localorg import LocalOrg
from tests.localorg.conftest import Raw, wire_fixture


def _accounts(org: LocalOrg, count: int) -> list[str]:
    return org.load_records("Account", ({"Name": f"A{n}"} for n in range(count)))


def test_updating_450_records_takes_3_calls_with_a_result_per_record(
    localorg: LocalOrg,
) -> None:
    ids = _accounts(localorg, 450)
    sf = localorg.salesforce()
    records = [{"Id": i, "Industry": "Retail"} for i in ids]

    results = [
        result
        for start in range(0, len(records), 200)
        for result in sf.restful(
            "composite/sobjects",
            method="PATCH",
            json={
                "allOrNone": False,
                "records": [
                    {"attributes": {"type": "Account"}, **r}
                    for r in records[start : start + 200]
                ],
            },
        )
    ]

    stats = localorg.stats()
    assert stats["by_category"] == {"collections": 3}
    assert stats["record_writes"] == 450
    assert [r["id"] for r in results] == ids
    assert all(r["success"] for r in results)


def test_failed_create_has_no_id_and_errors_use_status_code(raw: Raw) -> None:
    expected = wire_fixture("07-collections/create-allornone-false.json")
    body = expected["request"]["body"]
    body["records"][0].pop("CleanStatus")

    reply = raw("POST", "composite/sobjects", json=body)

    first, second, third = reply.json()
    assert reply.status_code == 200
    assert list(first) == ["id", "success", "errors"]
    assert second == expected["response"]["body"][1]
    assert third["success"] is True


def test_all_or_none_rolls_back_every_record(raw: Raw) -> None:
    expected = wire_fixture("07-collections/create-allornone-true-rollback.json")

    reply = raw("POST", "composite/sobjects", json=expected["request"]["body"])

    assert reply.json() == expected["response"]["body"]
    assert raw.org.count("Account") == 0


def test_more_than_200_records_is_refused(raw: Raw) -> None:
    records = [{"attributes": {"type": "Account"}, "Name": str(n)} for n in range(201)]

    reply = raw("POST", "composite/sobjects", json={"records": records})

    assert reply.status_code == 400
    assert reply.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert raw.org.count("Account") == 0


def test_update_of_a_missing_record_fails_that_record_only(raw: Raw) -> None:
    (kept,) = _accounts(raw.org, 1)
    records = [
        {"attributes": {"type": "Account"}, "id": kept, "Name": "New"},
        {"attributes": {"type": "Account"}, "id": "0015g00000Nope1AAB", "Name": "X"},
    ]

    reply = raw("PATCH", "composite/sobjects", json={"records": records})

    ok, failed = reply.json()
    assert ok == {"id": kept, "success": True, "errors": []}
    assert failed["success"] is False
    assert "id" not in failed
    assert failed["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"


def test_locked_rows_fail_with_unable_to_lock_row(raw: Raw) -> None:
    first, second = _accounts(raw.org, 2)
    raw.org.lock_ids([second], times=1)
    records = [
        {"attributes": {"type": "Account"}, "Id": i, "Name": "X"}
        for i in (first, second)
    ]

    reply = raw("PATCH", "composite/sobjects", json={"records": records})
    retry = raw("PATCH", "composite/sobjects", json={"records": records[1:]})

    assert [r["success"] for r in reply.json()] == [True, False]
    assert reply.json()[1]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert retry.json()[0]["success"] is True


def test_upsert_collection_reports_created_per_record(raw: Raw) -> None:
    raw.org.insert("Contact", {"LastName": "Example", "Email": "ari@example.com"})
    expected = wire_fixture("07-collections/upsert-by-external-id.json")

    reply = raw(
        "PATCH", "composite/sobjects/Contact/Email", json=expected["request"]["body"]
    )

    assert [r["created"] for r in reply.json()] == [False, True]
    assert [list(r) for r in reply.json()] == [
        list(r) for r in expected["response"]["body"]
    ]


def test_delete_collection_answers_per_id(raw: Raw) -> None:
    ids = _accounts(raw.org, 2)

    reply = raw(
        "DELETE",
        "composite/sobjects",
        params={"ids": ",".join(ids), "allOrNone": "false"},
    )

    assert reply.json() == [{"id": i, "success": True, "errors": []} for i in ids]
    assert raw.org.count("Account") == 0


def test_delete_collection_without_ids_is_refused(raw: Raw) -> None:
    reply = raw("DELETE", "composite/sobjects")

    assert reply.status_code == 400
    assert reply.json()[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_composite_carries_two_queries_in_one_call(raw: Raw) -> None:
    _accounts(raw.org, 3)
    body = {
        "compositeRequest": [
            {
                "method": "GET",
                "referenceId": "accounts",
                "url": "/services/data/v59.0/query/?q=select count() from Account",
            },
            {
                "method": "GET",
                "referenceId": "bad",
                "url": "/services/data/v59.0/query/?q=select count() from XYZZY",
            },
        ]
    }

    reply = raw("POST", "composite", json=body)

    first, second = reply.json()["compositeResponse"]
    assert raw.org.stats()["total"] == 1
    assert first["body"]["totalSize"] == 3
    assert (second["httpStatusCode"], second["body"][0]["errorCode"]) == (
        400,
        "INVALID_TYPE",
    )


def test_composite_references_an_earlier_result(raw: Raw) -> None:
    expected = wire_fixture("08-composite/composite-with-references.json")

    reply = raw("POST", "composite", json=expected["request"]["body"])

    statuses = [r["httpStatusCode"] for r in reply.json()["compositeResponse"]]
    assert statuses == [
        r["httpStatusCode"] for r in expected["response"]["body"]["compositeResponse"]
    ]
