"""API call counters, the daily limit and the faults tests switch on."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

__all__ = ["Faults", "InjectedFailure", "Stats"]


class Stats:
    """Counts every API request the org serves, as Salesforce's usage does.

    ``total`` feeds ``Sforce-Limit-Info`` and the daily limit; logins are
    counted apart (``auth``) because Salesforce does not bill them either.
    """

    def __init__(self, *, daily_max: int = 15_000) -> None:
        self._lock = threading.Lock()
        self.daily_max = daily_max
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.auth = 0
            self.writes = 0
            self.record_writes = 0
            self.rejected = 0
            self.by_category: Counter[str] = Counter()
            self.by_method: Counter[str] = Counter()
            self.by_endpoint: Counter[str] = Counter()

    def count_request(self, category: str, method: str) -> int:
        with self._lock:
            self.total += 1
            self.by_category[category] += 1
            self.by_method[method] += 1
            self.by_endpoint[f"{method} {category}"] += 1
            return self.total

    def count_auth(self) -> None:
        with self._lock:
            self.auth += 1

    def count_writes(self, records: int) -> None:
        with self._lock:
            self.writes += 1
            self.record_writes += records

    def count_rejected(self) -> None:
        with self._lock:
            self.rejected += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self.total,
                "api_usage": {"used": self.total, "max": self.daily_max},
                "auth": self.auth,
                "writes": self.writes,
                "record_writes": self.record_writes,
                "rejected": self.rejected,
                "by_category": dict(self.by_category),
                "by_method": dict(self.by_method),
                "by_endpoint": dict(self.by_endpoint),
            }


@dataclass(frozen=True)
class InjectedFailure:
    status: int
    error_code: str
    message: str


class Faults:
    """One-shot and standing faults, consumed by the request path."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latency_ms = 0.0
        self._failures: list[InjectedFailure] = []
        self._resets = 0

    def fail_next(
        self,
        count: int,
        *,
        status: int = 503,
        error_code: str = "SERVER_UNAVAILABLE",
        message: str | None = None,
    ) -> None:
        text = message or _DEFAULT_MESSAGES.get(error_code, "Server unavailable")
        with self._lock:
            self._failures.extend(
                InjectedFailure(status, error_code, text) for _ in range(count)
            )

    def reset_connections_next(self, count: int) -> None:
        with self._lock:
            self._resets += count

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()
            self._resets = 0
            self.latency_ms = 0.0

    def take_failure(self) -> InjectedFailure | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def take_reset(self) -> bool:
        with self._lock:
            if self._resets <= 0:
                return False
            self._resets -= 1
            return True


_DEFAULT_MESSAGES = {
    "SERVER_UNAVAILABLE": "Server unavailable",
    "REQUEST_LIMIT_EXCEEDED": "TotalRequests Limit exceeded.",
    "UNABLE_TO_LOCK_ROW": "unable to obtain exclusive access to this record",
    "INVALID_SESSION_ID": "Session expired or invalid",
}
