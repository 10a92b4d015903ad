"""Tests that the shipped playbooks load, schedule and keep their promise."""

from __future__ import annotations

from datetime import date

import pytest

from sfsync.calendar import BusinessCalendar
from sfsync.playbooks import Playbook, load_playbooks, schedule

SHIPPED = load_playbooks("config/playbooks")
US = BusinessCalendar("US")


def test_the_three_playbooks_are_shipped() -> None:
    assert sorted(SHIPPED) == ["enterprise", "mid-market", "self-serve"]


@pytest.mark.parametrize(
    ("key", "low", "high"),
    [
        pytest.param("self-serve", 8, 12, id="self-serve-about-two-weeks"),
        pytest.param("mid-market", 25, 35, id="mid-market-about-six-weeks"),
        pytest.param("enterprise", 55, 65, id="enterprise-about-twelve-weeks"),
    ],
)
@pytest.mark.parametrize(
    "handoff",
    [
        pytest.param(date(2026, 3, 2), id="march"),
        pytest.param(date(2026, 11, 20), id="before-thanksgiving-and-christmas"),
    ],
)
def test_go_live_falls_in_the_intended_range(
    key: str, low: int, high: int, handoff: date
) -> None:
    plan = schedule(SHIPPED[key], start=handoff, calendar=US)

    assert low <= US.business_days_between(plan.start, plan.end) <= high


@pytest.mark.parametrize(
    ("key", "low", "high"),
    [
        pytest.param("self-serve", 8, 14, id="self-serve"),
        pytest.param("mid-market", 20, 32, id="mid-market"),
        pytest.param("enterprise", 35, 50, id="enterprise"),
    ],
)
def test_task_counts_match_the_size_of_each_playbook(
    key: str, low: int, high: int
) -> None:
    assert low <= len(SHIPPED[key].tasks) <= high


@pytest.mark.parametrize("playbook", SHIPPED.values(), ids=list(SHIPPED))
def test_each_playbook_gives_the_customer_a_plan_and_tasks(playbook: Playbook) -> None:
    on_plan = [t for t in playbook.tasks if t.customer_plan]
    customer_tasks = [t for t in playbook.tasks if t.audience == "customer"]
    customer_roles = {r for r, source in playbook.roles.items() if source.customer}

    assert len(on_plan) >= 5
    assert customer_tasks
    assert {t.owner_role for t in customer_tasks} <= customer_roles


@pytest.mark.parametrize("playbook", SHIPPED.values(), ids=list(SHIPPED))
def test_each_phase_has_a_checklist(playbook: Playbook) -> None:
    assert all(phase.checklist for phase in playbook.phases)


@pytest.mark.parametrize("playbook", SHIPPED.values(), ids=list(SHIPPED))
def test_kickoff_comes_before_go_live_and_go_live_before_first_value(
    playbook: Playbook,
) -> None:
    plan = schedule(playbook, start=date(2026, 3, 2), calendar=US)

    kickoff, go_live, value = (
        plan.milestone_date(kind) for kind in ("kickoff", "go_live", "first_value")
    )
    assert kickoff < go_live < value
    assert plan.critical_path[-1] in playbook.milestone_of_kind("go_live").after


@pytest.mark.parametrize(
    ("key", "words"),
    [
        pytest.param("self-serve", ["success measure"], id="self-serve"),
        pytest.param("mid-market", ["success criteria", "baseline"], id="mid-market"),
        pytest.param(
            "enterprise",
            ["migration", "acceptance test", "baseline", "success criteria"],
            id="enterprise",
        ),
    ],
)
def test_playbook_covers_its_key_steps(key: str, words: list[str]) -> None:
    titles = " ".join(t.title.lower() for t in SHIPPED[key].tasks)

    assert all(word in titles for word in words)
