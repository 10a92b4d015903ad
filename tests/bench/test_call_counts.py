"""Exact API call counts of the benchmark's scenarios, on a small org; no times."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from benchmarks import naive, scenarios
from benchmarks.run import pull_limit, split_calls
from sfsync.app import App
from sfsync.cycle import run_pull
from sfsync.localorg import LocalOrg

OPPORTUNITIES = 300


def _endpoints(org: LocalOrg) -> dict[str, int]:
    endpoints: dict[str, int] = org.stats()["by_endpoint"]
    return endpoints


def _settled(org: LocalOrg, app: App) -> dict[str, Any]:
    """First sync with its push, then the cycle that reads the pushed values back."""
    app.check()
    scenarios.cycle_once(app, scenarios.TODAY)
    return scenarios.cycle_once(app, scenarios.TODAY)


@pytest.mark.parametrize(
    ("records", "calls"),
    [(0, 1), (1, 1), (2000, 1), (2001, 2), (100_000, 50)],
    ids=["empty", "one", "one-full-page", "one-over", "hundred-thousand"],
)
def test_rest_query_minimum_is_one_call_per_page_of_2000(
    records: int, calls: int
) -> None:
    assert scenarios.rest_query_minimum(records) == calls


@pytest.mark.parametrize(
    ("records", "via", "calls"),
    [
        (0, "collections", 0),
        (200, "collections", 1),
        (450, "collections", 3),
        (6000, "bulk", 5),
    ],
    ids=["nothing", "one-collection", "three-collections", "bulk-job"],
)
def test_push_minimum_counts_collections_of_200_or_one_bulk_job(
    records: int, via: str, calls: int
) -> None:
    assert scenarios.push_minimum(records, via=via) == calls


def test_bulk_query_minimum_is_create_poll_and_one_call_per_results_page() -> None:
    assert scenarios.bulk_query_minimum(100_000) == 2 + 10


def test_first_pull_takes_one_query_per_object(
    bench_org: LocalOrg, make_bench_app: Callable[[LocalOrg], App]
) -> None:
    scenarios.load_org(bench_org, OPPORTUNITIES, won=30)
    app = make_bench_app(bench_org)
    app.check()
    bench_org.reset_stats()

    pulled = run_pull(app)

    assert _endpoints(bench_org) == {"GET query": 2}
    assert {p.sobject: p.read for p in pulled} == {
        "Account": OPPORTUNITIES // 4,
        "Opportunity": OPPORTUNITIES,
    }
    minimum, _ = pull_limit({p.sobject: [p.read, 0, p.via] for p in pulled})
    assert minimum == 2


def test_start_up_describes_each_pulled_object_once(
    bench_org: LocalOrg, make_bench_app: Callable[[LocalOrg], App]
) -> None:
    scenarios.load_org(bench_org, OPPORTUNITIES, won=30)
    app = make_bench_app(bench_org)

    app.check()
    app.plans()

    assert _endpoints(bench_org) == {"GET describe": 2}


def test_idle_cycle_takes_two_queries_and_writes_nothing(
    bench_org: LocalOrg, make_bench_app: Callable[[LocalOrg], App]
) -> None:
    scenarios.load_org(bench_org, OPPORTUNITIES, won=30)
    app = make_bench_app(bench_org)
    _settled(bench_org, app)
    bench_org.reset_stats()
    calls_before = app.client.calls

    idle = scenarios.cycle_once(app, scenarios.TODAY)

    assert app.client.calls - calls_before == 2
    assert _endpoints(bench_org) == {"GET query": 2}
    assert bench_org.stats()["writes"] == 0
    assert idle["push"]["changes"] == 0


def test_push_of_450_changed_records_takes_three_collections_calls(
    bench_org: LocalOrg, make_bench_app: Callable[[LocalOrg], App]
) -> None:
    scenarios.load_org(
        bench_org, OPPORTUNITIES, won=OPPORTUNITIES, accounts_per_opportunity=0.5
    )
    app = make_bench_app(bench_org)
    app.check()
    bench_org.reset_stats()

    cycle = scenarios.cycle_once(app, scenarios.TODAY)

    assert cycle["push"]["changes"] == 450
    # The push checks its fields against the describe the start-up check
    # already fetched: no describe call in the cycle.
    assert _endpoints(bench_org) == {"GET query": 2, "PATCH collections": 3}
    assert bench_org.stats()["record_writes"] == 450


def test_burst_of_won_deals_takes_two_queries_and_one_collections_call(
    bench_org: LocalOrg, make_bench_app: Callable[[LocalOrg], App]
) -> None:
    account_ids = scenarios.load_org(bench_org, OPPORTUNITIES, won=0)
    app = make_bench_app(bench_org)
    _settled(bench_org, app)
    for record in scenarios.opportunity_records(30, account_ids, won=30, seed=3):
        fresh = {k: v for k, v in record.items() if k not in scenarios.STAMPS}
        bench_org.load_records(
            "Opportunity", [fresh | {"Name": "Won " + fresh["Name"]}]
        )
    bench_org.reset_stats()
    calls_before = app.client.calls

    burst = scenarios.cycle_once(app, scenarios.TODAY)

    assert burst["projects_created"] == 30
    assert burst["push"]["changes"] == 60  # 30 deals and their 30 accounts
    assert split_calls(app.client.calls_by_operation)["push"] == 1
    assert _endpoints(bench_org) == {"GET query": 2, "PATCH collections": 1}
    assert app.client.calls - calls_before == 3


def test_naive_cycle_spends_a_query_page_and_one_patch_per_record(
    bench_org: LocalOrg,
) -> None:
    scenarios.load_org(bench_org, OPPORTUNITIES, won=30)
    sf = naive.connect(bench_org.base_url, bench_org.new_session(), bench_org.ca_file)

    result = naive.naive_cycle(sf, today=scenarios.TODAY, sample=None)

    assert result["patches"] == 30 + 30
    assert result["calls"] == result["calls_sent"] == 1 + 60
    assert bench_org.stats()["total"] == 61
    assert not result["extrapolated"]


def test_sampled_naive_cycle_counts_every_patch_it_did_not_send(
    bench_org: LocalOrg,
) -> None:
    scenarios.load_org(bench_org, OPPORTUNITIES, won=30)
    sf = naive.connect(bench_org.base_url, bench_org.new_session(), bench_org.ca_file)

    result = naive.naive_cycle(sf, today=scenarios.TODAY, sample=10)

    assert result["calls"] == 1 + 60
    assert result["calls_sent"] == bench_org.stats()["total"] == 1 + 10
    assert result["extrapolated"]
