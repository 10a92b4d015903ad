"""The updated/deleted replication resources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sfsync.localorg import LocalOrg
from tests.localorg.conftest import wire_fixture


def test_updated_lists_ids_changed_in_the_window(localorg: LocalOrg) -> None:
    sf = localorg.salesforce()
    old = localorg.insert(
        "Contact", {"LastName": "Old", "SystemModstamp": "2020-01-01T00:00:00.000+0000"}
    )
    new = localorg.insert("Contact", {"LastName": "New"})
    now = datetime.now(UTC)
    expected = wire_fixture("10-replication/updated.json")["response"]["body"]

    body = sf.Contact.updated(now - timedelta(minutes=5), now + timedelta(minutes=1))

    assert list(body) == list(expected)
    assert body["ids"] == [new]
    assert old not in body["ids"]


def test_deleted_lists_records_removed_in_the_window(localorg: LocalOrg) -> None:
    sf = localorg.salesforce()
    gone = localorg.insert("Contact", {"LastName": "Gone"})
    sf.Contact.delete(gone)
    now = datetime.now(UTC)
    expected = wire_fixture("10-replication/deleted.json")["response"]["body"]

    body = sf.Contact.deleted(now - timedelta(minutes=5), now + timedelta(minutes=1))

    assert list(body) == list(expected)
    assert [r["id"] for r in body["deletedRecords"]] == [gone]
    assert body["deletedRecords"][0]["deletedDate"].endswith("+0000")
