"""Logins, sessions and TLS of the local org."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from sfsync.localorg import LocalOrg
from tests.localorg.conftest import wire_fixture


def _token(org: LocalOrg, form: dict[str, str], **kwargs: object) -> requests.Response:
    session = org.requests_session()
    return session.post(
        f"{org.base_url}/services/oauth2/token", data=form, timeout=30, **kwargs
    )


def _password_form(org: LocalOrg) -> dict[str, str]:
    creds = org.credentials
    return {
        "grant_type": "password",
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "username": creds.username,
        "password": creds.password + creds.security_token,
    }


def test_server_certificate_verifies_against_the_ca_file(localorg: LocalOrg) -> None:
    session = requests.Session()
    session.trust_env = False

    reply = session.get(
        f"{localorg.base_url}/services/data/", verify=localorg.ca_file, timeout=30
    )

    assert reply.status_code == 200


def test_server_certificate_is_refused_without_the_ca_file(localorg: LocalOrg) -> None:
    session = requests.Session()
    session.trust_env = False

    with pytest.raises(requests.exceptions.SSLError):
        session.get(f"{localorg.base_url}/services/data/", timeout=30)


def test_versions_list_matches_the_reference(localorg: LocalOrg) -> None:
    expected = wire_fixture("03-versions/versions.json")["response"]["body"]

    reply = localorg.requests_session().get(
        f"{localorg.base_url}/services/data/", timeout=30
    )

    assert reply.json() == expected


def test_password_login_answers_with_the_reference_keys(localorg: LocalOrg) -> None:
    expected = wire_fixture("01-auth/oauth-token-password.json")["response"]["body"]

    reply = _token(localorg, _password_form(localorg))

    assert reply.status_code == 200
    assert list(reply.json()) == list(expected)
    assert reply.json()["instance_url"] == localorg.base_url


def test_password_login_token_works_with_simple_salesforce(localorg: LocalOrg) -> None:
    token = _token(localorg, _password_form(localorg)).json()["access_token"]
    sf = Salesforce(
        instance_url=localorg.base_url,
        session_id=token,
        session=localorg.requests_session(),
        version="59.0",
    )

    result = sf.query("SELECT Id FROM User")

    assert result["totalSize"] == 1


def test_wrong_password_gets_invalid_grant(localorg: LocalOrg) -> None:
    form = dict(_password_form(localorg), password="wrong")

    reply = _token(localorg, form)

    assert reply.status_code == 400
    assert reply.json() == {
        "error": "invalid_grant",
        "error_description": "authentication failure",
    }


def test_unknown_client_id_gets_invalid_client_id(localorg: LocalOrg) -> None:
    form = dict(_password_form(localorg), client_id="nope")

    reply = _token(localorg, form)

    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_client_id"


def test_client_credentials_accepts_a_basic_header(localorg: LocalOrg) -> None:
    creds = localorg.credentials
    expected = wire_fixture("01-auth/oauth-token-client-credentials.json")

    reply = _token(
        localorg,
        {"grant_type": "client_credentials"},
        auth=(creds.client_id, creds.client_secret),
    )

    assert reply.status_code == 200
    assert list(reply.json()) == list(expected["response"]["body"])


def test_client_credentials_refuses_a_wrong_secret(localorg: LocalOrg) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": localorg.credentials.client_id,
        "client_secret": "wrong",
    }

    reply = _token(localorg, form)

    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_client"


def _assertion(org: LocalOrg, key_pem: str, **claims: object) -> str:
    body = {
        "iss": org.credentials.client_id,
        "sub": org.credentials.username,
        "aud": org.base_url,
        "exp": f"{(datetime.now(UTC) + timedelta(minutes=3)).timestamp():.0f}",
    }
    body.update(claims)
    return jwt.encode(body, key_pem, algorithm="RS256")


def test_jwt_bearer_login_checks_the_configured_certificate(localorg: LocalOrg) -> None:
    assertion = _assertion(localorg, localorg.credentials.jwt_private_key_pem)
    expected = wire_fixture("01-auth/oauth-token-jwt-bearer.json")["response"]["body"]

    reply = _token(
        localorg,
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": assertion,
        },
    )

    assert reply.status_code == 200
    assert list(reply.json()) == list(expected)


@pytest.mark.parametrize(
    ("claims", "own_key"),
    [
        pytest.param({}, False, id="signed-by-another-key"),
        pytest.param({"aud": "https://elsewhere.example"}, True, id="wrong-audience"),
        pytest.param({"exp": str(int(time.time()) - 10)}, True, id="expired"),
        pytest.param({"sub": "someone@else.test"}, True, id="unknown-user"),
    ],
)
def test_jwt_bearer_refuses_bad_assertions(
    localorg: LocalOrg, claims: dict[str, object], own_key: bool
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key = localorg.credentials.jwt_private_key_pem if own_key else other_pem

    reply = _token(
        localorg,
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": _assertion(localorg, key, **claims),
        },
    )

    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_grant"


def test_refresh_token_grant_issues_a_new_session(localorg: LocalOrg) -> None:
    creds = localorg.credentials
    form = {
        "grant_type": "refresh_token",
        "refresh_token": creds.refresh_token,
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
    }

    reply = _token(localorg, form)

    assert reply.status_code == 200
    assert reply.json()["access_token"]


def test_soap_login_returns_session_and_server_url(localorg: LocalOrg) -> None:
    creds = localorg.credentials
    envelope = wire_fixture("02-soap-login/soap-login-request.xml")
    envelope = envelope.replace("integration.user@example.com", creds.username)
    start = envelope.index("<n1:password>") + len("<n1:password>")
    end = envelope.index("</n1:password>")
    envelope = envelope[:start] + creds.password + creds.security_token + envelope[end:]

    reply = localorg.requests_session().post(
        f"{localorg.base_url}/services/Soap/u/59.0",
        data=envelope.encode(),
        headers={"content-type": "text/xml", "SOAPAction": "login"},
        timeout=30,
    )

    assert reply.status_code == 200
    assert "<sessionId>" in reply.text
    assert f"<serverUrl>{localorg.base_url}/services/Soap/u/59.0/" in reply.text


def test_soap_login_with_bad_password_is_a_login_fault(localorg: LocalOrg) -> None:
    envelope = wire_fixture("02-soap-login/soap-login-request.xml")

    reply = localorg.requests_session().post(
        f"{localorg.base_url}/services/Soap/u/59.0",
        data=envelope.encode(),
        headers={"content-type": "text/xml", "SOAPAction": "login"},
        timeout=30,
    )

    assert reply.status_code == 500
    assert "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in reply.text


def test_expired_session_gets_401_invalid_session_id(localorg: LocalOrg) -> None:
    sf = localorg.salesforce()
    expected = wire_fixture("05-errors/INVALID_SESSION_ID.json")["response"]
    localorg.expire_sessions()

    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.query("SELECT Id FROM Account")

    assert caught.value.status == 401
    assert caught.value.content == expected["body"]


def test_sessions_expire_after_the_configured_ttl() -> None:
    with LocalOrg.start(session_ttl_s=0.3) as org:
        sf = org.salesforce()
        sf.query("SELECT Id FROM User")
        time.sleep(0.5)

        with pytest.raises(SalesforceExpiredSession):
            sf.query("SELECT Id FROM User")
