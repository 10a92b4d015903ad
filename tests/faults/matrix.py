"""Running one faulted scenario to its end state and comparing it with a baseline."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sfsync.app import App
from sfsync.errors import SfsyncError
from sfsync.localorg import LocalOrg

from .scenario import (
    Recovery,
    Seeded,
    Trigger,
    armed,
    differences,
    end_state,
    records_in,
    run_until_success,
    seed_org,
    settle,
)
from .summary import Tally

SECRET_SETTINGS = ("SFSYNC_PASSWORD", "SFSYNC_SECURITY_TOKEN", "SFSYNC_CLIENT_SECRET")


@dataclass
class Outcome:
    """A faulted run: whether the fault fired, how it recovered, what differs."""

    recovery: Recovery
    found: list[str]
    fired: bool
    app: App
    seeded: Seeded
    notes: list[str] = field(default_factory=list)

    def unclear_failures(self, secrets: tuple[str, ...]) -> list[str]:
        """Failures that are not sfsync errors, or whose text leaks a secret."""
        bad = []
        for exc in self.recovery.failures:
            text = str(exc)
            if not isinstance(exc, SfsyncError):
                bad.append(f"{type(exc).__name__} is not an SfsyncError: {text[:300]}")
            elif any(s and s in text for s in secrets):
                bad.append(f"a secret appears in: {type(exc).__name__}")
        return bad


def secrets_of(org: LocalOrg) -> tuple[str, ...]:
    env = org.env()
    return tuple(env[name] for name in SECRET_SETTINGS)


def restore(org: LocalOrg) -> Callable[[], None]:
    """What an operator's next cycle finds: the fault gone, a new day's allocation."""

    def clear() -> None:
        org.clear_faults()
        org.set_daily_limit(10_000_000)
        # Long enough for a usage reading made short-lived by the limit
        # faults (api_usage_fresh_s) to stop standing for the org.
        time.sleep(1.1)

    return clear


def run_faulted(
    org: LocalOrg,
    app_factory: Callable[..., App],
    database_url: str,
    expected: dict[str, dict[str, Any]],
    tally: Tally,
    *,
    trigger: Trigger,
    seed: int,
    opportunities: int,
    overrides: dict[str, Any] | None = None,
    faults: int = 1,
) -> Outcome:
    """Seed, run cycles with ``trigger`` armed until one succeeds, settle, compare."""
    seeded = seed_org(org, seed=seed, opportunities=opportunities)
    app = app_factory(org, database_url, **(overrides or {}))
    base = datetime.now(UTC)
    with armed(app, trigger):
        recovery = run_until_success(app, base=base, between=restore(org))
    restore(org)()
    settle(app, base=base)
    actual = end_state(app, org, seeded)
    found = differences(expected, actual)
    outcome = Outcome(recovery, found, trigger.fired, app, seeded)
    tally.add(
        faults_injected=faults if trigger.fired else 0,
        runs_recovered=int(recovery.recovered),
        runs_not_recovered=int(not recovery.recovered),
        records_compared=records_in(expected),
        differences=len(found),
    )
    return outcome
