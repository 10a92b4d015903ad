"""The one path to Salesforce: retries, renewal, error translation, counting."""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError as UpstreamError
from simple_salesforce.util import exception_handler
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from sfsync.errors import (
    AuthError,
    LimitReachedError,
    NonAdvancingCursorError,
    SalesforceError,
    SfsyncError,
    TransientSalesforceError,
)
from sfsync.logs import get_logger, scrub
from sfsync.salesforce.auth import (
    Token,
    TokenManager,
    tls_error,
    untrusted_certificate,
)
from sfsync.settings import Settings

__all__ = ["ApiUsage", "QueryPage", "QueryTimeoutError", "SalesforceClient"]

log = get_logger(__name__)
T = TypeVar("T")

TRANSIENT_CODES = frozenset(
    {"SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW", "TXN_SECURITY_METERING_ERROR"}
)


class QueryTimeoutError(SalesforceError):
    """Salesforce gave up on a query (QUERY_TIMEOUT); a narrower window may pass."""


@dataclass(frozen=True)
class ApiUsage:
    used: int
    limit: int

    @property
    def remaining(self) -> int:
        return self.limit - self.used


@dataclass(frozen=True)
class QueryPage:
    records: list[dict[str, Any]]
    total_size: int
    done: bool


class _CountingSession(requests.Session):
    """A requests session with a default timeout and a count of API calls."""

    def __init__(
        self, *, timeout: float, on_response: Callable[[requests.Response], None]
    ):
        super().__init__()
        self._timeout = timeout
        self._on_response = on_response

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("timeout", self._timeout)
        # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE in the environment
        # override a session's CA bundle; the configured one must win.
        kwargs.setdefault("verify", self.verify)
        response = super().request(method, url, *args, **kwargs)
        self._on_response(response)
        return response


def _error_items(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, list):
        return [c for c in content if isinstance(c, dict)]
    if isinstance(content, dict):
        return [content]
    return []


def _describe_upstream(exc: UpstreamError) -> tuple[str | None, str]:
    items = _error_items(exc.content)
    if items:
        first = items[0]
        code = first.get("errorCode") or first.get("error") or first.get("statusCode")
        message = first.get("message") or first.get("error_description") or ""
        return (str(code) if code else None), str(message)
    text = str(exc.content or "").strip()
    if text.startswith("<"):
        # An HTML error page (HTTP 414 for a too-long URL, a proxy's 502):
        # report its status, not markup.
        return None, f"non-JSON reply ({len(text)} characters of HTML)"
    return None, text[:300]


def _is_expired(exc: UpstreamError) -> bool:
    if exc.status == 401:
        return True
    code, _message = _describe_upstream(exc)
    # Bulk API 2.0 can report an expired session as HTTP 400 with this code.
    return code in {"INVALID_SESSION_ID", "InvalidSessionId"} or (
        "InvalidSessionId" in str(exc.content)
    )


def translate(exc: BaseException, operation: str) -> SfsyncError:
    """Map a simple-salesforce or requests exception to sfsync's own tree."""
    if isinstance(exc, SfsyncError):
        return exc
    if isinstance(exc, requests.exceptions.SSLError) and untrusted_certificate(exc):
        return tls_error(operation)
    if isinstance(exc, requests.Timeout):
        return TransientSalesforceError(
            f"{operation}: Salesforce did not answer in time ({type(exc).__name__})"
        )
    if isinstance(exc, requests.ConnectionError):
        return TransientSalesforceError(
            f"{operation}: connection to Salesforce failed ({type(exc).__name__})"
        )
    if isinstance(exc, UpstreamError):
        code, message = _describe_upstream(exc)
        status = exc.status
        text = scrub(
            f"{operation}: Salesforce answered HTTP {status}"
            + (f" {code}" if code else "")
            + (f": {message}" if message else "")
        )
        if code == "REQUEST_LIMIT_EXCEEDED":
            return LimitReachedError(
                text,
                error_code=code,
                status=status,
                hint="the org's daily API allocation is used up; the run stops and "
                "resumes from its watermark on a later cycle",
            )
        if code == "QUERY_TIMEOUT":
            return QueryTimeoutError(text, error_code=code, status=status)
        if status >= 500 or code in TRANSIENT_CODES:
            return TransientSalesforceError(text, error_code=code, status=status)
        return SalesforceError(text, error_code=code, status=status)
    if isinstance(exc, ValueError):
        # A reply that is not the JSON Salesforce sends (a proxy's or a
        # maintenance page served with 200) is not Salesforce's answer: asking
        # again, within the retry bound, is what can help.
        return TransientSalesforceError(
            f"{operation}: Salesforce's reply could not be read ({type(exc).__name__})",
            hint="check any proxy between sfsync and Salesforce if this repeats",
        )
    return SalesforceError(f"{operation}: {type(exc).__name__}: {scrub(str(exc))}")


def _next_page(url: str) -> Callable[[Salesforce], Any]:
    def fetch(sf: Salesforce) -> Any:
        return sf.query_more(url, identifier_is_url=True)

    return fetch


class SalesforceClient:
    """Every call to Salesforce goes through here, counted and retried the same way."""

    def __init__(
        self,
        settings: Settings,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.version = settings.api_version
        self._sleep = sleep
        self._lock = threading.Lock()
        self.calls = 0
        self.calls_by_operation: dict[str, int] = {}
        self.usage: ApiUsage | None = None
        self._usage_seen = 0.0
        # Salesforce's clock, from the Date header of the latest reply.
        self.server_time: datetime | None = None
        self.http = _CountingSession(
            timeout=settings.request_timeout_s, on_response=self._observe
        )
        if settings.ca_file is not None:
            self.http.verify = str(settings.ca_file)
        self.tokens = TokenManager(settings, self.http)
        self._sf: Salesforce | None = None
        self._sf_token: Token | None = None
        self._operation = "?"

    # -- accounting ---------------------------------------------------------

    def _observe(self, response: requests.Response) -> None:
        if "/services/oauth2/" in response.url:
            return
        with self._lock:
            self.calls += 1
            op = self._operation
            self.calls_by_operation[op] = self.calls_by_operation.get(op, 0) + 1
        served = response.headers.get("Date")
        if served:
            with contextlib.suppress(TypeError, ValueError):
                self.server_time = parsedate_to_datetime(served).astimezone(UTC)
        header = response.headers.get("Sforce-Limit-Info", "")
        for part in header.split(";"):
            name, _, value = part.strip().partition("=")
            if name == "api-usage" and "/" in value:
                used, _, limit = value.partition("/")
                if used.isdigit() and limit.isdigit():
                    self.usage = ApiUsage(int(used), int(limit))
                    self._usage_seen = time.monotonic()

    @property
    def reserve(self) -> int | None:
        if self.usage is None:
            return None
        return math.ceil(self.usage.limit * self.settings.api_reserve_percent / 100)

    def _check_reserve(self, operation: str) -> None:
        if time.monotonic() - self._usage_seen > self.settings.api_usage_fresh_s:
            # The allocation is a rolling 24 hours: an old reading says
            # nothing about now. The next reply brings a fresh one.
            return
        reserve = self.reserve
        if (
            self.usage is not None
            and reserve is not None
            and self.usage.remaining <= reserve
        ):
            raise LimitReachedError(
                f"{operation}: not sent; the org has used {self.usage.used} of "
                f"{self.usage.limit} daily API calls and sfsync keeps {reserve} "
                "for the org's other users",
                error_code="SFSYNC_API_RESERVE",
                hint="the run resumes on a later cycle; lower "
                "SFSYNC_API_RESERVE_PERCENT only if the org can spare it",
            )

    # -- the one path -------------------------------------------------------

    def _client_for(self, token: Token) -> Salesforce:
        if self._sf is None or self._sf_token is not token:
            self._sf = Salesforce(
                instance_url=token.instance_url,
                session_id=token.access_token,
                session=self.http,
                version=self.version,
                parse_float=Decimal,
            )
            self._sf_token = token
        return self._sf

    def _once(self, operation: str, fn: Callable[[Salesforce, Token], T]) -> T:
        token = self.tokens.token()
        renewed = False
        while True:
            self._check_reserve(operation)
            self._operation = operation
            try:
                return fn(self._client_for(token), token)
            except UpstreamError as exc:
                if not _is_expired(exc):
                    raise translate(exc, operation) from exc
                if renewed:
                    raise AuthError(
                        f"{operation}: the session was refused again right after "
                        "logging in anew",
                        error_code="INVALID_SESSION_ID",
                        status=exc.status,
                        hint="check the integration user's access and session "
                        "settings in Salesforce",
                    ) from None
                log.info("session_expired", operation=operation)
                token = self.tokens.renew(token)
                renewed = True
            except (requests.RequestException, ValueError) as exc:
                raise translate(exc, operation) from exc

    def call(self, operation: str, fn: Callable[[Salesforce], T]) -> T:
        """Run ``fn`` against the org with retries for transient failures."""
        return self._retrying(
            operation, lambda: self._once(operation, lambda sf, _t: fn(sf))
        )

    def _retrying(self, operation: str, attempt: Callable[[], T]) -> T:
        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.warning(
                "salesforce_retry",
                operation=operation,
                attempt=state.attempt_number,
                error=str(error),
            )

        retrying = Retrying(
            stop=stop_after_attempt(self.settings.retry_attempts),
            wait=wait_exponential_jitter(
                multiplier=self.settings.retry_initial_wait_s,
                max=self.settings.retry_max_wait_s,
                jitter=self.settings.retry_initial_wait_s,
            ),
            retry=retry_if_exception(lambda e: getattr(e, "retryable", False)),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(attempt)

    def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        expected: tuple[int, ...] = (200,),
        stream: bool = False,
        retry: bool = True,
        **kwargs: Any,
    ) -> requests.Response:
        """A raw call under ``/services/data/vXX.X/``, same retries and counting."""

        # Taken out once, here: every attempt (a retry, or a resend after
        # renewing the session) must carry the caller's headers again.
        extra_headers: dict[str, str] = dict(kwargs.pop("headers", None) or {})

        def send(_sf: Salesforce, token: Token) -> requests.Response:
            url = (
                f"{token.instance_url.rstrip('/')}/services/data/v{self.version}/{path}"
            )
            headers = {
                "Authorization": f"Bearer {token.access_token}",
                "Accept": "application/json",
                **extra_headers,
            }
            if "json" in kwargs:
                headers.setdefault("Content-Type", "application/json")
            reply: requests.Response = self.http.request(
                method, url, headers=headers, stream=stream, **kwargs
            )
            if reply.status_code not in expected:
                exception_handler(reply, name=operation)
            return reply

        if not retry:
            return self._once(operation, send)
        return self._retrying(operation, lambda: self._once(operation, send))

    def request_json(
        self, method: str, path: str, *, operation: str, **kwargs: Any
    ) -> Any:
        """``request`` whose reply is decoded as JSON inside the retried attempt.

        A body that is not JSON becomes a ``TransientSalesforceError`` there,
        never a decoding error escaping to the caller.
        """

        def attempt() -> Any:
            reply = self.request(
                method, path, operation=operation, retry=False, **kwargs
            )
            try:
                return reply.json()
            except ValueError as exc:
                raise translate(exc, operation) from exc

        return self._retrying(operation, attempt)

    # -- conveniences -------------------------------------------------------

    def describe(self, sobject: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            f"describe {sobject}", lambda sf: getattr(sf, sobject).describe()
        )
        return result

    def query_pages(
        self,
        soql: str,
        *,
        include_deleted: bool = False,
        operation: str = "query",
    ) -> Iterator[QueryPage]:
        """Yield each page of a query, following nextRecordsUrl until done."""
        reply = self.call(
            operation, lambda sf: sf.query(soql, include_deleted=include_deleted)
        )
        seen_urls: set[str] = set()
        while True:
            records = [dict(r) for r in reply.get("records", [])]
            done = bool(reply.get("done", True))
            yield QueryPage(records, int(reply.get("totalSize", 0)), done)
            if done:
                return
            next_url = reply.get("nextRecordsUrl")
            if not next_url or next_url in seen_urls or not records:
                raise NonAdvancingCursorError(
                    f"{operation}: Salesforce said more records follow but gave "
                    f"{'no next page' if not next_url else 'a page already read'}; "
                    "stopping instead of looping",
                    hint="run again; if it repeats, reconcile with `sfsync reconcile`",
                )
            seen_urls.add(next_url)
            reply = self.call(f"{operation} (next page)", _next_page(next_url))
