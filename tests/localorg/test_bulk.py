"""Bulk API 2.0 through simple-salesforce: query pages by locator, CSV ingest."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sfsync.localorg import LocalOrg
from tests.localorg.conftest import Raw, wire_fixture


def test_bulk_query_of_50000_records_arrives_in_several_locator_pages(
    localorg: LocalOrg,
) -> None:
    localorg.load_records("Account", ({"Name": f"A{n}"} for n in range(50_000)))
    sf = localorg.salesforce()

    pages = list(
        sf.bulk2.Account.query(
            "SELECT Id, Name FROM Account", max_records=50_000, wait=0
        )
    )

    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page))]
    assert len(pages) > 1
    assert len({row["Id"] for row in rows}) == 50_000
    assert localorg.stats()["by_category"]["bulk2"] >= len(pages) + 2


def test_bulk_query_csv_matches_the_reference_style(raw: Raw) -> None:
    account = raw.org.insert("Account", {"Name": 'Fabrikam "FB" Inc'})
    raw.org.insert(
        "Opportunity",
        {
            "Name": "Quote, with comma",
            "StageName": "Needs Analysis",
            "CloseDate": "2024-08-01",
            "AccountId": account,
        },
    )
    expected = wire_fixture("12-bulk2/query-results.csv").splitlines()
    job = raw(
        "POST",
        "jobs/query",
        json={
            "operation": "query",
            "query": "SELECT Id, Name, StageName, CloseDate, IsWon, Account.Name "
            "FROM Opportunity",
            "columnDelimiter": "COMMA",
            "lineEnding": "LF",
        },
    ).json()

    reply = raw("GET", f"jobs/query/{job['id']}/results", params={"maxRecords": 10})

    lines = reply.text.splitlines()
    assert job["state"] == "UploadComplete"
    assert lines[0] == expected[0]
    assert lines[1].split(",", 1)[1] == expected[4].split(",", 1)[1]
    assert reply.headers["Sforce-Locator"] == "null"
    assert reply.headers["Sforce-NumberOfRecords"] == "1"


def test_first_locator_is_the_base64_offset(raw: Raw) -> None:
    raw.org.load_records("Account", ({"Name": f"A{n}"} for n in range(12_000)))
    job = raw(
        "POST",
        "jobs/query",
        json={"operation": "query", "query": "SELECT Id FROM Account"},
    ).json()

    reply = raw("GET", f"jobs/query/{job['id']}/results", params={"maxRecords": 50_000})

    assert reply.headers["Sforce-Locator"] == "MTAwMDA"
    assert reply.headers["Sforce-NumberOfRecords"] == "10000"


def _csv_file(directory: Path, text: str) -> str:
    path = directory / "upload.csv"
    path.write_text(text, "utf-8", newline="")
    return str(path)


def test_ingest_insert_reports_successes_and_failures_as_csv(
    localorg: LocalOrg, tmp_path: Path
) -> None:
    sf = localorg.salesforce()
    upload = _csv_file(tmp_path, wire_fixture("12-bulk2/ingest-upload.csv"))
    failed_expected = wire_fixture("12-bulk2/ingest-failedResults.csv").splitlines()

    info = sf.bulk2.Opportunity.insert(csv_file=upload, wait=0)
    job_id = info[0]["job_id"]
    successes = sf.bulk2.Opportunity.get_successful_records(job_id)
    failures = sf.bulk2.Opportunity.get_failed_records(job_id)

    assert (info[0]["numberRecordsProcessed"], info[0]["numberRecordsFailed"]) == (3, 1)
    assert (
        successes.splitlines()[0] == '"sf__Id","sf__Created",Name,StageName,'
        "CloseDate,Amount"
    )
    assert '"Quote, with comma"' in successes
    assert failures.splitlines() == failed_expected
    names = {r["Name"] for r in sf.query("SELECT Name FROM Opportunity")["records"]}
    assert names == {"Fabrikam Upgrade", "Quote, with comma"}


def test_ingest_keeps_embedded_newlines_commas_and_nul_bytes(
    localorg: LocalOrg, tmp_path: Path
) -> None:
    sf = localorg.salesforce()
    text = 'Name,Description\n"Multi, line","first\nsecond"\n"Nul","a\x00b"\n'

    sf.bulk2.Account.insert(csv_file=_csv_file(tmp_path, text), wait=0)

    stored = {
        r["Name"]: r["Description"]
        for r in sf.query("SELECT Name, Description FROM Account")["records"]
    }
    assert stored == {"Multi, line": "first\nsecond", "Nul": "a\x00b"}


def test_ingest_upsert_and_delete_by_id(localorg: LocalOrg) -> None:
    sf = localorg.salesforce()
    existing = localorg.insert("Contact", {"LastName": "Old", "Email": "a@x.test"})

    sf.bulk2.Contact.upsert(
        records=[
            {"Email": "a@x.test", "LastName": "Updated"},
            {"Email": "b@x.test", "LastName": "New"},
        ],
        external_id_field="Email",
        wait=0,
    )
    sf.bulk2.Contact.delete(records=[{"Id": existing}], wait=0)

    names = [r["LastName"] for r in sf.query("SELECT LastName FROM Contact")["records"]]
    assert names == ["New"]


def test_closing_a_closed_job_is_an_invalid_job_state(raw: Raw) -> None:
    job = raw("POST", "jobs/ingest", json={"object": "Account", "operation": "insert"})
    job_id = job.json()["id"]
    raw(
        "PUT",
        f"jobs/ingest/{job_id}/batches",
        data=b"Name\nA\n",
        headers={"Content-Type": "text/csv"},
    )
    raw("PATCH", f"jobs/ingest/{job_id}", json={"state": "UploadComplete"})

    again = raw("PATCH", f"jobs/ingest/{job_id}", json={"state": "Aborted"})

    assert job.json()["state"] == "Open"
    assert job.json()["contentUrl"].startswith("services/data/v59.0/jobs/ingest/")
    assert again.status_code == 400
    assert again.json()[0]["errorCode"] == "INVALIDJOBSTATE"


def test_bulk_calls_can_report_a_dead_session_as_400_invalid_session_id(
    localorg: LocalOrg,
) -> None:
    sf = localorg.salesforce()
    localorg.expire_sessions()
    localorg.set_bulk_invalid_session_400()

    with pytest.raises(SalesforceMalformedRequest) as caught:
        list(sf.bulk2.Account.query("SELECT Id FROM Account", wait=0))

    assert caught.value.content[0]["errorCode"] == "InvalidSessionId"
