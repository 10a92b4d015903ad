"""Injected faults, counters, limits and the admin endpoint."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

from sfsync.localorg import LocalOrg
from sfsync.localorg.cli import admin_call
from tests.localorg.conftest import Raw, wire_fixture


def test_fail_next_answers_the_given_status_then_recovers(localorg: LocalOrg) -> None:
    sf = localorg.salesforce()
    localorg.fail_next(2)

    for _ in range(2):
        with pytest.raises(SalesforceGeneralError) as caught:
            sf.query("SELECT Id FROM User")
        assert caught.value.status == 503
    result = sf.query("SELECT Id FROM User")

    assert result["totalSize"] == 1
    assert localorg.stats()["by_category"] == {"query": 3}


def test_daily_limit_gives_403_request_limit_exceeded(localorg: LocalOrg) -> None:
    sf = localorg.salesforce()
    expected = wire_fixture("05-errors/REQUEST_LIMIT_EXCEEDED.json")["response"]
    localorg.set_daily_limit(2)
    sf.query("SELECT Id FROM User")
    sf.query("SELECT Id FROM User")

    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM User")

    assert caught.value.content == expected["body"]
    assert sf.api_usage["api-usage"].used == 2


def test_limits_report_daily_api_requests(raw: Raw) -> None:
    expected = wire_fixture("11-limits/limits.json")["response"]["body"]
    raw("GET", "query/", params={"q": "SELECT Id FROM User"})

    body = raw("GET", "limits/").json()

    assert body["DailyApiRequests"] == {"Max": 15000, "Remaining": 14998}
    assert set(body) <= set(expected)
    assert list(body) == sorted(body)


def test_every_reply_carries_sforce_limit_info(raw: Raw) -> None:
    first = raw("GET", "sobjects/")
    second = raw("GET", "sobjects/Nope/describe")

    assert first.headers["Sforce-Limit-Info"] == "api-usage=1/15000"
    assert second.headers["Sforce-Limit-Info"] == "api-usage=2/15000"


def test_reset_connection_drops_the_request(raw: Raw) -> None:
    raw.org.reset_connections_next(1)

    with pytest.raises(requests.exceptions.ConnectionError):
        raw("GET", "limits/")
    after = raw("GET", "limits/")

    assert after.status_code == 200


def test_latency_delays_replies(localorg: LocalOrg) -> None:
    import time

    sf = localorg.salesforce()
    localorg.set_latency(200)

    began = time.perf_counter()
    sf.query("SELECT Id FROM User")

    assert time.perf_counter() - began >= 0.2


def test_lock_ids_fails_single_record_updates(localorg: LocalOrg) -> None:
    sf = localorg.salesforce()
    record_id = localorg.insert("Account", {"Name": "Acme"})
    localorg.lock_ids([record_id])

    with pytest.raises(Exception) as caught:  # noqa: PT011 - any client error class
        sf.Account.update(record_id, {"Name": "New"})

    assert caught.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"  # type: ignore[attr-defined]


def test_admin_endpoint_drives_faults_and_reads_stats(localorg: LocalOrg) -> None:
    sf = localorg.salesforce()
    admin_call(
        localorg.base_url,
        "fail_next",
        {"count": 1, "status": 500, "error_code": "UNKNOWN_EXCEPTION"},
        ca_file=localorg.ca_file,
    )

    with pytest.raises(SalesforceGeneralError):
        sf.query("SELECT Id FROM User")
    stats = admin_call(localorg.base_url, "stats", ca_file=localorg.ca_file)

    assert stats["total"] == 1
    assert stats["by_method"] == {"GET": 1}


def test_admin_rejects_unknown_actions_without_stopping(localorg: LocalOrg) -> None:
    with pytest.raises(requests.HTTPError):
        admin_call(localorg.base_url, "explode", ca_file=localorg.ca_file)

    assert admin_call(localorg.base_url, "health", ca_file=localorg.ca_file)["ok"]


def test_helpers_are_not_counted_as_api_calls(localorg: LocalOrg) -> None:
    record_id = localorg.insert("Account", {"Name": "Acme"})
    localorg.update("Account", record_id, {"Name": "New"})
    localorg.get("Account", record_id)

    assert localorg.stats()["total"] == 0
