"""Logins and sessions: the OAuth token endpoint, SOAP login, session expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sfsync.localorg.errors import ApiError

__all__ = ["Credentials", "OAuthError", "Session", "Sessions", "make_credentials"]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


@dataclass(frozen=True)
class Credentials:
    """What an integration user of the org logs in with."""

    username: str
    password: str
    security_token: str
    client_id: str
    client_secret: str
    refresh_token: str
    jwt_private_key_pem: str
    jwt_certificate_pem: str


def make_credentials(username: str = "integration.user@localorg.test") -> Credentials:
    """Fresh random secrets and an RSA key pair for the JWT bearer flow."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localorg-jwt")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return Credentials(
        username=username,
        password=secrets.token_urlsafe(12),
        security_token=secrets.token_hex(12).upper(),
        client_id="3MVG9" + secrets.token_urlsafe(60)[:80],
        client_secret=secrets.token_hex(32).upper(),
        refresh_token="5Aep" + secrets.token_urlsafe(60)[:80],
        jwt_private_key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        jwt_certificate_pem=certificate.public_bytes(
            serialization.Encoding.PEM
        ).decode(),
    )


class OAuthError(Exception):
    """A token-endpoint refusal: HTTP 400 ``{"error", "error_description"}``."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass
class Session:
    token: str
    user_id: str
    expires_at: float


class Sessions:
    """Issued access tokens and their expiry (``session_ttl_s`` after issue)."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        org_id: str,
        user_id: str,
        ttl_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self.org_id = org_id
        self.user_id = user_id
        self.ttl_s = ttl_s
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        # The Bulk endpoints of a real org sometimes report a dead session as
        # HTTP 400 InvalidSessionId; tests switch this on to reproduce it.
        self.bulk_invalid_session_400 = False

    def issue(self) -> str:
        token = f"{self.org_id[:15]}!{secrets.token_urlsafe(48)}"
        with self._lock:
            self._sessions[token] = Session(
                token, self.user_id, self._clock() + self.ttl_s
            )
        return token

    def expire_all(self) -> None:
        with self._lock:
            self._sessions.clear()

    def check(self, authorization: str | None, *, bulk: bool = False) -> Session:
        token = ""
        if authorization and authorization.lower().startswith(("bearer ", "oauth ")):
            token = authorization.split(" ", 1)[1].strip()
        with self._lock:
            session = self._sessions.get(token)
            if session is not None and session.expires_at <= self._clock():
                del self._sessions[token]
                session = None
        if session is None:
            if bulk and self.bulk_invalid_session_400:
                raise ApiError(400, "InvalidSessionId", "Invalid session id")
            raise ApiError(
                401,
                "INVALID_SESSION_ID",
                "Session expired or invalid",
                headers={"WWW-Authenticate": "Token"},
            )
        return session

    # -- OAuth token endpoint ------------------------------------------------

    def token(
        self, form: dict[str, str], basic: tuple[str, str] | None, login_url: str
    ) -> dict[str, Any]:
        grant = form.get("grant_type", "")
        if grant == "password":
            self._check_client(form.get("client_id"), form.get("client_secret"))
            expected = self.credentials.password + self.credentials.security_token
            if form.get("username") != self.credentials.username or not (
                secrets.compare_digest(form.get("password", ""), expected)
            ):
                raise OAuthError("invalid_grant", "authentication failure")
            return self._reply(login_url, scope=None, signed=True)
        if grant == "client_credentials":
            client_id, secret = basic or (
                form.get("client_id", ""),
                form.get("client_secret", ""),
            )
            self._check_client(client_id, secret)
            return self._reply(login_url, scope="api", signed=True, scope_first=True)
        if grant == JWT_BEARER:
            self._check_assertion(form.get("assertion", ""), login_url)
            return self._reply(login_url, scope="web api", signed=False)
        if grant == "refresh_token":
            self._check_client(form.get("client_id"), form.get("client_secret"))
            if form.get("refresh_token") != self.credentials.refresh_token:
                raise OAuthError("invalid_grant", "expired access/refresh token")
            return self._reply(login_url, scope="api", signed=True, scope_first=True)
        raise OAuthError("unsupported_grant_type", "grant type not supported")

    def _check_client(self, client_id: str | None, secret: str | None) -> None:
        if client_id != self.credentials.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if secret is not None and not secrets.compare_digest(
            secret, self.credentials.client_secret
        ):
            raise OAuthError("invalid_client", "invalid client credentials")

    def _check_assertion(self, assertion: str, login_url: str) -> None:
        try:
            claims = jwt.decode(
                assertion,
                _public_key(self.credentials.jwt_certificate_pem),
                algorithms=["RS256"],
                # exp arrives as a string from some clients; checked below.
                options={"verify_exp": False, "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise OAuthError("invalid_grant", "invalid assertion") from exc
        if claims.get("iss") != self.credentials.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        audiences = {
            login_url,
            login_url.replace("127.0.0.1", "localhost"),
            "https://login.salesforce.com",
            "https://test.salesforce.com",
        }
        if claims.get("aud") not in audiences:
            raise OAuthError("invalid_grant", "audience is invalid")
        try:
            expires = float(claims.get("exp", 0))
        except (TypeError, ValueError) as exc:
            raise OAuthError("invalid_grant", "invalid assertion") from exc
        if expires < self._clock():
            raise OAuthError("invalid_grant", "expired authorization code")
        if claims.get("sub") != self.credentials.username:
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")

    def _reply(
        self,
        login_url: str,
        *,
        scope: str | None,
        signed: bool,
        scope_first: bool = False,
    ) -> dict[str, Any]:
        token = self.issue()
        identity = f"{login_url}/id/{self.org_id}/{self.user_id}"
        issued_at = str(int(self._clock() * 1000))
        signature = base64.b64encode(
            hmac.new(
                self.credentials.client_secret.encode(),
                (identity + issued_at).encode(),
                hashlib.sha256,
            ).digest()
        ).decode()
        body: dict[str, Any] = {"access_token": token}
        if scope_first:
            body.update(signature=signature, scope=scope)
        elif scope is not None:
            body["scope"] = scope
        body.update(instance_url=login_url, id=identity)
        body["token_type"] = "Bearer"  # noqa: S105 - the OAuth token type, no secret
        if signed:
            body["issued_at"] = issued_at
            if not scope_first:
                body["signature"] = signature
        return body

    # -- SOAP login ----------------------------------------------------------

    def soap_login(self, envelope: bytes, login_url: str, version: str) -> str:
        """Answer a partner ``login`` call; raise OAuthError for a fault."""
        try:
            root = ET.fromstring(envelope)  # noqa: S314 - size-bounded request body
        except ET.ParseError as exc:
            raise OAuthError("INVALID_LOGIN", "Invalid login request") from exc
        username = password = ""
        for node in root.iter():
            tag = node.tag.rsplit("}", 1)[-1]
            if tag == "username":
                username = node.text or ""
            elif tag == "password":
                password = node.text or ""
        expected = self.credentials.password + self.credentials.security_token
        if username != self.credentials.username or password != expected:
            raise OAuthError(
                "INVALID_LOGIN",
                "Invalid username, password, security token; or user locked out.",
            )
        token = self.issue()
        org15 = self.org_id[:15]
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<soapenv:Envelope xmlns:soapenv="{_SOAP_ENV}" '
            'xmlns="urn:partner.soap.sforce.com" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<soapenv:Body><loginResponse><result>"
            f"<metadataServerUrl>{login_url}/services/Soap/m/{version}/{org15}"
            "</metadataServerUrl>"
            "<passwordExpired>false</passwordExpired><sandbox>false</sandbox>"
            f"<serverUrl>{login_url}/services/Soap/u/{version}/{org15}</serverUrl>"
            f"<sessionId>{escape(token)}</sessionId><userId>{self.user_id}</userId>"
            "<userInfo><organizationId>"
            f"{self.org_id}</organizationId><organizationName>Local Org"
            f"</organizationName><sessionSecondsValid>{int(self.ttl_s)}"
            f"</sessionSecondsValid><userEmail>{escape(self.credentials.username)}"
            "</userEmail><userFullName>Integration User</userFullName>"
            f"<userId>{self.user_id}</userId>"
            f"<userName>{escape(self.credentials.username)}</userName>"
            "</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )


def soap_fault(error: OAuthError) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{_SOAP_ENV}" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>{error.error}</faultcode>"
        f"<faultstring>{error.error}: {escape(error.description)}</faultstring>"
        '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
        f"<sf:exceptionCode>{error.error}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(error.description)}</sf:exceptionMessage>"
        "</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )


def _public_key(certificate_pem: str) -> Any:
    return x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()
