"""The Salesforce client's requests and replies, pinned against the wire reference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
from simple_salesforce import exceptions as sfexc

from sfsync.errors import (
    AuthError,
    LimitReachedError,
    NonAdvancingCursorError,
    SalesforceError,
    TransientSalesforceError,
)
from sfsync.salesforce.client import QueryTimeoutError, SalesforceClient, translate
from sfsync.settings import load_settings

LOGIN = "https://login.example.test"
INSTANCE = "https://example-dev-ed.my.salesforce.com"
QUERY_URL = f"{INSTANCE}/services/data/v59.0/query/"
QUERY_ALL_URL = f"{INSTANCE}/services/data/v59.0/queryAll/"


def fixture(shared: Path, name: str) -> dict[str, Any]:
    return json.loads((shared / "fixtures" / "salesforce" / name).read_text())


def make_client(**overrides: Any) -> SalesforceClient:
    settings = load_settings(
        login_url=LOGIN,
        username="integration.user@example.com",
        password="pw-value",
        security_token="tok-value",
        client_id="consumer-key",
        client_secret="consumer-secret",
        **overrides,
    )
    return SalesforceClient(settings, sleep=lambda _s: None)


def add_token(rsps: responses.RequestsMock, token: str = "00Dtoken!first") -> None:
    rsps.add(
        responses.POST,
        f"{LOGIN}/services/oauth2/token",
        json={
            "access_token": token,
            "instance_url": INSTANCE,
            "id": f"{LOGIN}/id/00D/005",
            "token_type": "Bearer",
            "issued_at": "1717000000000",
            "signature": "c2ln",
        },
    )


def page(
    records: list[dict[str, Any]],
    *,
    done: bool,
    next_url: str | None = None,
    total: int = 0,
) -> dict[str, Any]:
    body: dict[str, Any] = {"totalSize": total, "done": done, "records": records}
    if next_url:
        body["nextRecordsUrl"] = next_url
    return body


@responses.activate
def test_password_login_sends_the_reference_form(shared_dir: Path) -> None:
    reference = fixture(shared_dir, "01-auth/oauth-token-password.json")
    add_token(responses.mock)
    responses.add(responses.GET, QUERY_URL, json=page([], done=True))
    client = make_client()

    list(client.query_pages("SELECT Id FROM Account"))

    sent = parse_qs(responses.calls[0].request.body)
    assert set(sent) == set(reference["request"]["body_form"])
    assert sent["grant_type"] == ["password"]
    assert sent["password"] == ["pw-valuetok-value"]
    assert (
        responses.calls[1].request.headers["Authorization"] == "Bearer 00Dtoken!first"
    )


@responses.activate
def test_refused_login_is_an_auth_error_without_the_password(shared_dir: Path) -> None:
    reference = fixture(shared_dir, "01-auth/oauth-error-invalid-grant.json")
    responses.add(
        responses.POST,
        f"{LOGIN}/services/oauth2/token",
        status=400,
        json=reference["response"]["body"],
    )
    client = make_client()

    with pytest.raises(AuthError) as caught:
        list(client.query_pages("SELECT Id FROM Account"))

    assert "invalid_grant" in str(caught.value)
    assert "pw-value" not in str(caught.value)


@responses.activate
def test_short_page_that_is_not_the_last_is_followed() -> None:
    """Case SC-03: page length never signals the end; `done` does."""
    add_token(responses.mock)
    first = [{"Id": f"006{i:015d}"} for i in range(1000)]
    second = [{"Id": f"006{i:015d}"} for i in range(1000, 1500)]
    responses.add(
        responses.GET,
        QUERY_URL,
        json=page(
            first,
            done=False,
            next_url="/services/data/v59.0/query/01gX-1000",
            total=1500,
        ),
    )
    responses.add(
        responses.GET,
        f"{INSTANCE}/services/data/v59.0/query/01gX-1000",
        json=page(second, done=True, total=1500),
    )
    client = make_client()

    records = [
        r for p in client.query_pages("SELECT Id FROM Opportunity") for r in p.records
    ]

    assert len(records) == 1500
    assert client.calls == 2


@responses.activate
def test_next_page_url_that_repeats_fails_instead_of_looping() -> None:
    """Case SC-02: a cursor that cannot advance stops the pull loudly."""
    add_token(responses.mock)
    loop = "/services/data/v59.0/query/01gX-2000"
    responses.add(
        responses.GET, QUERY_URL, json=page([{"Id": "a"}], done=False, next_url=loop)
    )
    responses.add(
        responses.GET,
        f"{INSTANCE}{loop}",
        json=page([{"Id": "b"}], done=False, next_url=loop),
    )
    client = make_client()

    with pytest.raises(NonAdvancingCursorError):
        list(client.query_pages("SELECT Id FROM Opportunity"))


@responses.activate
def test_expired_session_is_renewed_once_and_the_call_retried(shared_dir: Path) -> None:
    expired = fixture(shared_dir, "05-errors/INVALID_SESSION_ID.json")["response"]
    add_token(responses.mock, "00Dtoken!first")
    add_token(responses.mock, "00Dtoken!second")
    responses.add(responses.GET, QUERY_URL, status=401, json=expired["body"])
    responses.add(responses.GET, QUERY_URL, json=page([{"Id": "x"}], done=True))
    client = make_client()

    pages = list(client.query_pages("SELECT Id FROM Account"))

    assert pages[0].records == [{"Id": "x"}]
    assert client.tokens.logins == 2
    assert (
        responses.calls[-1].request.headers["Authorization"] == "Bearer 00Dtoken!second"
    )


@responses.activate
def test_session_refused_again_after_renewal_stops_with_auth_error(
    shared_dir: Path,
) -> None:
    """Case SC-23: renewal is bounded: renew once, retry once, then a clear error."""
    expired = fixture(shared_dir, "05-errors/INVALID_SESSION_ID.json")["response"]
    add_token(responses.mock)
    asked: list[str] = []

    def refuse_twice(request: Any) -> tuple[int, dict[str, str], str]:
        # Refused twice, then served: a client that retried past its bound
        # would succeed here and fail the test, instead of hanging it.
        asked.append(request.url)
        if len(asked) <= 2:
            return 401, {}, json.dumps(expired["body"])
        return 200, {}, json.dumps({"totalSize": 0, "done": True, "records": []})

    responses.add_callback(responses.GET, QUERY_URL, callback=refuse_twice)
    client = make_client()

    with pytest.raises(AuthError, match="refused again"):
        list(client.query_pages("SELECT Id FROM Account"))

    assert client.tokens.logins == 2
    assert len(asked) == 2


@responses.activate
def test_bulk_invalid_session_in_a_400_body_renews_the_session() -> None:
    """Case SC-22: Bulk answers 400 with InvalidSessionId instead of 401."""
    add_token(responses.mock, "00Dtoken!first")
    add_token(responses.mock, "00Dtoken!second")
    status_url = f"{INSTANCE}/services/data/v59.0/jobs/query/750X"
    responses.add(
        responses.GET,
        status_url,
        status=400,
        json=[{"errorCode": "InvalidSessionId", "message": "Invalid session id"}],
    )
    responses.add(
        responses.GET, status_url, json={"id": "750X", "state": "JobComplete"}
    )
    client = make_client()

    reply = client.request("GET", "jobs/query/750X", operation="bulk query status")

    assert reply.json()["state"] == "JobComplete"
    assert client.tokens.logins == 2


@responses.activate
def test_server_unavailable_is_retried_then_succeeds() -> None:
    add_token(responses.mock)
    responses.add(
        responses.GET,
        QUERY_URL,
        status=503,
        json=[{"errorCode": "SERVER_UNAVAILABLE", "message": "busy"}],
    )
    responses.add(responses.GET, QUERY_URL, json=page([], done=True))
    client = make_client()

    list(client.query_pages("SELECT Id FROM Account"))

    assert client.calls == 2


@responses.activate
def test_request_limit_exceeded_stops_without_retrying(shared_dir: Path) -> None:
    """Case SC-06: no retry loop on an exhausted daily allocation."""
    limit = fixture(shared_dir, "05-errors/REQUEST_LIMIT_EXCEEDED.json")["response"]
    add_token(responses.mock)
    responses.add(responses.GET, QUERY_URL, status=limit["status"], json=limit["body"])
    client = make_client()

    with pytest.raises(LimitReachedError):
        list(client.query_pages("SELECT Id FROM Account"))

    assert client.calls == 1


@responses.activate
def test_reserve_stops_the_next_call_before_it_is_sent() -> None:
    add_token(responses.mock)
    responses.add(
        responses.GET,
        QUERY_URL,
        json=page([], done=True),
        headers={"Sforce-Limit-Info": "api-usage=9500/10000"},
    )
    client = make_client(api_reserve_percent=10)
    list(client.query_pages("SELECT Id FROM Account"))

    with pytest.raises(LimitReachedError, match="keeps 1000"):
        list(client.query_pages("SELECT Id FROM Account"))

    assert client.calls == 1


@responses.activate
def test_html_error_body_is_reported_not_decoded() -> None:
    """Case SC-04: a 414 with an HTML page is a clear error, not a JSON crash."""
    add_token(responses.mock)
    responses.add(
        responses.GET,
        QUERY_URL,
        status=414,
        body="<html><body>URI Too Long</body></html>",
        content_type="text/html",
    )
    client = make_client()

    with pytest.raises(SalesforceError, match=r"HTTP 414.*non-JSON"):
        list(client.query_pages("SELECT Id FROM Account"))


@responses.activate
def test_query_timeout_is_its_own_error() -> None:
    add_token(responses.mock)
    responses.add(
        responses.GET,
        QUERY_ALL_URL,
        status=400,
        json=[
            {
                "errorCode": "QUERY_TIMEOUT",
                "message": "Your query request was running for too long.",
            }
        ],
    )
    client = make_client()

    with pytest.raises(QueryTimeoutError):
        list(client.query_pages("SELECT Id FROM Account", include_deleted=True))


@pytest.mark.parametrize(
    ("upstream", "status", "content", "expected"),
    [
        pytest.param(
            sfexc.SalesforceMoreThanOneRecord,
            300,
            [{"errorCode": "X"}],
            SalesforceError,
            id="300-more-than-one",
        ),
        pytest.param(
            sfexc.SalesforceMalformedRequest,
            400,
            [{"errorCode": "INVALID_FIELD", "message": "No such column"}],
            SalesforceError,
            id="400-invalid-field",
        ),
        pytest.param(
            sfexc.SalesforceMalformedRequest,
            400,
            [{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}],
            TransientSalesforceError,
            id="400-lock-is-transient",
        ),
        pytest.param(
            sfexc.SalesforceRefusedRequest,
            403,
            [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "limit"}],
            LimitReachedError,
            id="403-limit",
        ),
        pytest.param(
            sfexc.SalesforceResourceNotFound,
            404,
            [{"errorCode": "NOT_FOUND", "message": "gone"}],
            SalesforceError,
            id="404-not-found",
        ),
        pytest.param(
            sfexc.SalesforceGeneralError,
            503,
            "Service Unavailable",
            TransientSalesforceError,
            id="503-general",
        ),
        pytest.param(
            sfexc.SalesforceGeneralError,
            500,
            [{"errorCode": "UNKNOWN_EXCEPTION", "message": "x"}],
            TransientSalesforceError,
            id="500-unknown",
        ),
    ],
)
def test_every_upstream_error_class_maps_to_our_tree(
    upstream: type[sfexc.SalesforceError],
    status: int,
    content: Any,
    expected: type[Exception],
) -> None:
    exc = upstream("https://x/services/data/v59.0/query", status, "query", content)

    translated = translate(exc, "query")

    assert type(translated) is expected
    assert translated.status == status  # type: ignore[attr-defined]
