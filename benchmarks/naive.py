"""The naive integration sfsync is compared with, written as a first script would be.

It reads every opportunity with its account through ``query_all`` into a
list, plans each won deal's onboarding and its KPIs in plain Python over
that list, and writes every value back with one PATCH per record, every
cycle, whether it changed or not.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import requests
from simple_salesforce import Salesforce

__all__ = [
    "NAIVE_SOQL",
    "CountingSession",
    "connect",
    "naive_cycle",
    "naive_pull",
    "naive_values",
    "run_naive_steps",
]

NAIVE_SOQL = (
    "SELECT Id, Name, StageName, IsWon, CloseDate, Amount, AccountId, "
    "Account.Name, Account.NumberOfEmployees FROM Opportunity"
)
TASKS = 30
TASK_DAYS = 3


class CountingSession(requests.Session):
    """A requests session that counts the API calls it makes."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.trust_env = False

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        response = super().request(method, url, *args, **kwargs)
        if "/services/data/" in url:
            self.calls += 1
        return response


def connect(instance_url: str, session_id: str, ca_file: str) -> Salesforce:
    session = CountingSession()
    session.verify = ca_file
    return Salesforce(instance_url=instance_url, session_id=session_id, session=session)


def calls(sf: Salesforce) -> int:
    session = sf.session
    return session.calls if isinstance(session, CountingSession) else 0


def naive_pull(sf: Salesforce) -> list[dict[str, Any]]:
    """Every opportunity and its account, all at once, into memory."""
    records: list[dict[str, Any]] = sf.query_all(NAIVE_SOQL)["records"]
    return records


def _add_business_days(day: date, count: int) -> date:
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def naive_values(
    records: list[dict[str, Any]], *, today: date
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Opportunity and Account field values, recomputed from scratch each time."""
    opportunities: dict[str, dict[str, Any]] = {}
    by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if not record.get("IsWon"):
            continue
        start = date.fromisoformat(record["CloseDate"])
        ends = [_add_business_days(start, TASK_DAYS * (n + 1)) for n in range(TASKS)]
        done = sum(1 for end in ends if end < today)
        values = {
            "Onboarding_Status__c": "In Progress",
            "Onboarding_Health__c": "Green",
            "Onboarding_Health_Reason__c": "Green: on plan",
            "Onboarding_Percent_Complete__c": round(100 * done / TASKS, 1),
            "Predicted_Go_Live__c": ends[-1].isoformat(),
            "Onboarding_Overdue_Customer_Tasks__c": 0,
        }
        opportunities[record["Id"]] = values
        if record.get("AccountId"):
            by_account[record["AccountId"]].append(values)
    accounts = {
        account_id: {
            "Onboarding_Health__c": "Green",
            "Active_Onboardings__c": len(deals),
            "Next_Go_Live__c": min(d["Predicted_Go_Live__c"] for d in deals),
        }
        for account_id, deals in by_account.items()
    }
    return opportunities, accounts


def naive_cycle(sf: Salesforce, *, today: date, sample: int | None) -> dict[str, Any]:
    """Pull, plan and write everything; PATCH only ``sample`` records when given.

    The calls of a full run are exact (one query page per 2,000 rows, one
    PATCH per record); the time of the PATCHes not sent is the sampled
    average times their number.
    """
    started = time.perf_counter()
    records = naive_pull(sf)
    pull_calls = calls(sf)
    pull_seconds = time.perf_counter() - started

    started = time.perf_counter()
    opportunities, accounts = naive_values(records, today=today)
    compute_seconds = time.perf_counter() - started

    writes = [("Opportunity", i, v) for i, v in opportunities.items()]
    writes += [("Account", i, v) for i, v in accounts.items()]
    chosen = _sample(writes, sample)
    started = time.perf_counter()
    for sobject, record_id, values in chosen:
        getattr(sf, sobject).update(record_id, values)
    patch_seconds = time.perf_counter() - started
    per_patch = patch_seconds / len(chosen) if chosen else 0.0
    return {
        "records": len(records),
        "pull_calls": pull_calls,
        "pull_seconds": pull_seconds,
        "compute_seconds": compute_seconds,
        "patches": len(writes),
        "patches_sent": len(chosen),
        "patch_seconds_sent": patch_seconds,
        "calls": pull_calls + len(writes),
        "calls_sent": calls(sf),
        "seconds": pull_seconds + compute_seconds + per_patch * len(writes),
        "extrapolated": len(chosen) < len(writes),
    }


def _sample(
    writes: list[tuple[str, str, dict[str, Any]]], sample: int | None
) -> list[tuple[str, str, dict[str, Any]]]:
    """Every write, or ``sample`` of them taken evenly across both objects."""
    if sample is None or sample >= len(writes):
        return writes
    step = len(writes) / sample
    return [writes[int(n * step)] for n in range(sample)]


def run_naive_steps(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Run the spec's naive steps in this (fresh) process, measured like sfsync's."""
    from benchmarks.scenarios import TODAY, OrgAdmin, measure

    admin = OrgAdmin(spec["org_url"], spec["ca_file"])
    results = []
    for step in spec["steps"]:
        sf = connect(spec["org_url"], spec["session_id"], spec["ca_file"])
        if step["kind"] == "naive_pull":

            def pull(sf: Salesforce = sf) -> dict[str, Any]:
                records = naive_pull(sf)
                return {"records": len(records), "calls": calls(sf)}

            results.append(measure("naive_pull", pull, admin, None))
        else:

            def cycle(
                sf: Salesforce = sf, sample: int | None = step.get("sample")
            ) -> Any:
                return naive_cycle(sf, today=TODAY, sample=sample)

            results.append(measure("naive_cycle", cycle, admin, None))
    return results
