"""Measures load and query rates of a 100,000-record org (prints, asserts nothing)."""

from __future__ import annotations

import time
from datetime import date, timedelta

from sfsync.localorg.server import LocalOrg

__all__ = ["run"]

_STAGES = (
    "Prospecting",
    "Qualification",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)


def run(records: int = 100_000) -> dict[str, float]:
    """Load ``records`` Opportunities, then read them back through the API."""
    start_day = date(2024, 1, 1)
    with LocalOrg.start() as org:
        rows = (
            {
                "Name": f"Deal {n}",
                "StageName": _STAGES[n % len(_STAGES)],
                "CloseDate": (start_day + timedelta(days=n % 365)).isoformat(),
                "Amount": float(1000 + n % 50_000),
            }
            for n in range(records)
        )
        began = time.perf_counter()
        org.load_records("Opportunity", rows)
        load_s = time.perf_counter() - began

        sf = org.salesforce()
        began = time.perf_counter()
        fetched = sum(
            1
            for _ in sf.query_all_iter(
                "SELECT Id, Name, StageName, CloseDate, Amount, SystemModstamp "
                "FROM Opportunity"
            )
        )
        query_s = time.perf_counter() - began
        calls = org.stats()["by_category"].get("query", 0)

        began = time.perf_counter()
        bulk_rows = sum(
            len(page.splitlines()) - 1
            for page in sf.bulk2.Opportunity.query(
                "SELECT Id, Name, Amount FROM Opportunity", max_records=50_000
            )
        )
        bulk_s = time.perf_counter() - began
    result = {
        "records": float(records),
        "load_per_s": records / load_s,
        "rest_query_per_s": fetched / query_s,
        "rest_query_calls": float(calls),
        "bulk_query_per_s": bulk_rows / bulk_s,
    }
    for name, value in result.items():
        print(f"{name:>18}: {value:,.0f}")
    return result


if __name__ == "__main__":
    run()
