"""Logging in to Salesforce and renewing the session, for REST and Bulk alike."""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import requests

from sfsync.errors import (
    AuthError,
    ConfigError,
    SalesforceError,
    TransientSalesforceError,
)
from sfsync.logs import get_logger
from sfsync.settings import Settings

__all__ = ["Token", "TokenManager", "tls_error", "untrusted_certificate"]

log = get_logger(__name__)

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME_S = 180


def untrusted_certificate(exc: BaseException) -> bool:
    """Whether ``exc`` (a requests SSLError) is a certificate that failed to verify.

    Other TLS failures (a connection reset or closed mid-handshake) are
    transient like any dropped connection.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        error = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, ssl.SSLCertVerificationError):
            return True
        pending.extend(a for a in error.args if isinstance(a, BaseException))
        pending.extend(e for e in (error.__cause__, error.__context__) if e is not None)
        reason = getattr(error, "reason", None)
        if isinstance(reason, BaseException):
            pending.append(reason)
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def tls_error(target: str) -> SalesforceError:
    """A certificate that is not trusted: a setting to fix, not an outage."""
    return SalesforceError(
        f"{target}: the server's TLS certificate is not trusted",
        error_code="TLS_CERTIFICATE",
        hint="check SFSYNC_CA_FILE (unset it for Salesforce's public certificates; "
        "for a local org, use the CA file its env file names while it runs)",
    )


@dataclass(frozen=True)
class Token:
    """An access token and the instance it is valid for."""

    access_token: str = field(repr=False)
    instance_url: str
    issued_at: float

    @property
    def instance_host(self) -> str:
        return self.instance_url.split("://", 1)[-1].rstrip("/")


def _require(value: Any, name: str, flow: str) -> Any:
    if value is None or (
        hasattr(value, "get_secret_value") and not value.get_secret_value()
    ):
        raise ConfigError(
            f"the {flow} login needs SFSYNC_{name.upper()}, which is not set",
            hint=f"set SFSYNC_{name.upper()} in the environment or the env file",
        )
    return value


class TokenManager:
    """Obtains a token with the configured flow, caches it, and renews it on demand."""

    def __init__(self, settings: Settings, http: requests.Session) -> None:
        self._settings = settings
        self._http = http
        self._lock = threading.Lock()
        self._token: Token | None = None
        self.logins = 0

    @property
    def token_url(self) -> str:
        return self._settings.login_url.rstrip("/") + "/services/oauth2/token"

    def token(self) -> Token:
        with self._lock:
            if self._token is None:
                self._token = self._login()
            return self._token

    def renew(self, stale: Token) -> Token:
        """Log in again, unless another thread already replaced ``stale``."""
        with self._lock:
            if self._token is None or self._token is stale:
                log.info("session_renewing", flow=self._settings.auth_flow)
                self._token = self._login()
            return self._token

    def _form(self) -> tuple[dict[str, str], tuple[str, str] | None]:
        s = self._settings
        flow = s.auth_flow
        if flow == "password":
            password = _require(s.password, "password", flow).get_secret_value()
            token = s.security_token.get_secret_value() if s.security_token else ""
            form = {
                "grant_type": "password",
                "client_id": _require(s.client_id, "client_id", flow),
                "client_secret": _require(
                    s.client_secret, "client_secret", flow
                ).get_secret_value(),
                "username": _require(s.username, "username", flow),
                "password": password + token,
            }
            return form, None
        if flow == "client_credentials":
            basic = (
                _require(s.client_id, "client_id", flow),
                _require(s.client_secret, "client_secret", flow).get_secret_value(),
            )
            return {"grant_type": "client_credentials"}, basic
        return {"grant_type": JWT_BEARER, "assertion": self._assertion()}, None

    def _assertion(self) -> str:
        s = self._settings
        key_file: Path = _require(s.private_key_file, "private_key_file", "jwt")
        try:
            key = key_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"cannot read the JWT private key {key_file}: {exc.strerror}",
                hint="point SFSYNC_PRIVATE_KEY_FILE at a PEM key readable by this user",
            ) from None
        claims = {
            "iss": _require(s.client_id, "client_id", "jwt"),
            "sub": _require(s.username, "username", "jwt"),
            "aud": s.login_url.rstrip("/"),
            "exp": int(time.time()) + JWT_LIFETIME_S,
        }
        try:
            return jwt.encode(claims, key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            raise ConfigError(
                f"the JWT private key {key_file} is not a usable RSA key "
                f"({type(exc).__name__})",
                hint="use the PEM private key whose certificate the connected app "
                "holds",
            ) from None

    def _login(self) -> Token:
        form, basic = self._form()
        try:
            reply = self._http.post(
                self.token_url,
                data=form,
                auth=basic,
                timeout=self._settings.request_timeout_s,
            )
        except requests.RequestException as exc:
            if untrusted_certificate(exc):
                raise tls_error(f"login at {self.token_url}") from None
            raise TransientSalesforceError(
                f"cannot reach {self.token_url}: {type(exc).__name__}",
                hint="check SFSYNC_LOGIN_URL and the network; the next run retries",
            ) from None
        self.logins += 1
        try:
            body = reply.json()
        except ValueError:
            body = {}
        if reply.status_code >= 500:
            raise TransientSalesforceError(
                f"login at {self.token_url} answered HTTP {reply.status_code}",
                status=reply.status_code,
            )
        if reply.status_code != 200 or "access_token" not in body:
            error = body.get("error", f"HTTP {reply.status_code}")
            description = body.get("error_description", "")
            raise AuthError(
                f"login refused by {self.token_url} ({self._settings.auth_flow} flow): "
                f"{error} {description}".strip(),
                error_code=str(error),
                status=reply.status_code,
                hint="check the username, credentials and connected app settings; "
                "`sfsync check` retries the login",
            )
        log.info("session_started", flow=self._settings.auth_flow)
        return Token(
            access_token=body["access_token"],
            instance_url=body["instance_url"],
            issued_at=time.time(),
        )
