"""Tests for dating a playbook's tasks and milestones from a handoff date."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfsync.calendar import BusinessCalendar
from sfsync.playbooks import Playbook, load_playbook, schedule

from .samples import MINIMAL_PLAYBOOK, WriteFile

WEEKENDS_ONLY = BusinessCalendar(None)
GB = BusinessCalendar("GB")
MONDAY = date(2026, 3, 2)


def playbook_of(tasks: list[dict[str, Any]], go_live_after: list[str]) -> Playbook:
    """A one-phase playbook around ``tasks``, owned by one role."""
    for task in tasks:
        task.setdefault("title", task["id"])
        task.setdefault("owner_role", "onboarding_manager")
    return Playbook.model_validate(
        {
            "key": "test",
            "name": "Test",
            "version": "1",
            "roles": {"onboarding_manager": {"from_field": "Onboarding_Manager__c"}},
            "phases": [{"id": "only", "name": "Only", "tasks": tasks}],
            "milestones": [
                {"id": "k", "name": "K", "kind": "kickoff", "after": [tasks[0]["id"]]},
                {"id": "g", "name": "G", "kind": "go_live", "after": go_live_after},
                {
                    "id": "v",
                    "name": "V",
                    "kind": "first_value",
                    "after": [tasks[-1]["id"]],
                },
            ],
        }
    )


def dates(plan: Any) -> dict[str, tuple[date, date]]:
    return {t.task_id: (t.planned_start, t.planned_end) for t in plan.tasks.values()}


def test_handoff_before_christmas_in_gb_skips_weekends_and_holidays(
    write_file: WriteFile,
) -> None:
    text = MINIMAL_PLAYBOOK.replace("duration: 2", "duration: 4")
    playbook = load_playbook(write_file("tiny.yaml", text))

    plan = schedule(playbook, start=date(2026, 12, 23), calendar=GB)

    # 25 Dec (Fri), 26-27 (weekend), 28 Dec (Boxing Day observed) and
    # 1 Jan are all skipped.
    assert dates(plan) == {
        "kickoff_call": (date(2026, 12, 23), date(2026, 12, 23)),
        "setup": (date(2026, 12, 24), date(2026, 12, 31)),
        "review": (date(2027, 1, 4), date(2027, 1, 4)),
    }
    assert (plan.start, plan.end, plan.last_end) == (
        date(2026, 12, 23),
        date(2026, 12, 31),
        date(2027, 1, 4),
    )


def test_shipped_self_serve_over_christmas_in_gb_goes_live_on_11_january() -> None:
    playbook = load_playbook("config/playbooks/self-serve.yaml")

    plan = schedule(playbook, start=date(2026, 12, 23), calendar=GB)

    assert plan.milestone_date("kickoff") == date(2026, 12, 29)
    assert plan.end == date(2027, 1, 11)
    closed = {date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 28)}
    for task in plan.tasks.values():
        for day in (task.planned_start, task.planned_end):
            assert day.weekday() < 5
            assert day not in closed


def test_handoff_on_a_saturday_starts_work_on_monday(write_file: WriteFile) -> None:
    playbook = load_playbook(write_file("tiny.yaml", MINIMAL_PLAYBOOK))

    plan = schedule(playbook, start=date(2026, 3, 7), calendar=WEEKENDS_ONLY)

    assert plan.handoff_date == date(2026, 3, 7)
    assert plan.start == plan.tasks["kickoff_call"].planned_start == date(2026, 3, 9)


@pytest.mark.parametrize(
    ("dependency", "duration", "expected"),
    [
        pytest.param("a", 2, (date(2026, 3, 5), date(2026, 3, 6)), id="fs-plain"),
        pytest.param(
            {"task": "a", "type": "FS", "lag": 2},
            1,
            (date(2026, 3, 9), date(2026, 3, 9)),
            id="fs-lag-2-crosses-weekend",
        ),
        pytest.param(
            {"task": "a", "type": "FS", "lag": -1},
            1,
            (date(2026, 3, 4), date(2026, 3, 4)),
            id="fs-lead-1-overlaps",
        ),
        pytest.param(
            {"task": "a", "type": "SS", "lag": 1},
            2,
            (date(2026, 3, 3), date(2026, 3, 4)),
            id="ss-lag-1",
        ),
        pytest.param(
            {"task": "a", "type": "SS"},
            1,
            (date(2026, 3, 2), date(2026, 3, 2)),
            id="ss-same-day",
        ),
        pytest.param(
            {"task": "a", "type": "FF", "lag": 2},
            1,
            (date(2026, 3, 6), date(2026, 3, 6)),
            id="ff-lag-2",
        ),
        pytest.param(
            {"task": "a", "type": "FF"},
            5,
            (date(2026, 3, 2), date(2026, 3, 6)),
            id="ff-long-task-starts-at-project-start",
        ),
    ],
)
def test_dependency_types_and_lags_place_the_successor(
    dependency: Any, duration: int, expected: tuple[date, date]
) -> None:
    playbook = playbook_of(
        [
            {"id": "a", "duration": 3},
            {"id": "b", "duration": duration, "depends_on": [dependency]},
        ],
        go_live_after=["b"],
    )

    plan = schedule(playbook, start=MONDAY, calendar=WEEKENDS_ONLY)

    assert dates(plan)["a"] == (date(2026, 3, 2), date(2026, 3, 4))
    assert dates(plan)["b"] == expected


def diamond() -> Playbook:
    return playbook_of(
        [
            {"id": "a", "duration": 1},
            {"id": "long", "duration": 5, "depends_on": ["a"]},
            {"id": "short", "duration": 2, "depends_on": ["a"]},
            {"id": "join", "duration": 1, "depends_on": ["long", "short"]},
            {"id": "side", "duration": 1},
            {"id": "after_go_live", "duration": 10, "depends_on": ["join"]},
        ],
        go_live_after=["join"],
    )


def test_critical_path_follows_the_longest_chain_to_go_live() -> None:
    plan = schedule(diamond(), start=MONDAY, calendar=WEEKENDS_ONLY)

    assert plan.critical_path == ("a", "long", "join")


def test_slack_is_how_far_a_task_can_slip_without_moving_a_date() -> None:
    plan = schedule(diamond(), start=MONDAY, calendar=WEEKENDS_ONLY)

    slack = {task_id: task.slack for task_id, task in plan.tasks.items()}

    # "side" leads nowhere, so it may slip until the project's last day.
    assert slack == {
        "a": 0,
        "long": 0,
        "short": 3,
        "join": 0,
        "side": 16,
        "after_go_live": 0,
    }
    assert plan.tasks["after_go_live"].is_critical
    assert not plan.tasks["short"].is_critical


def test_milestone_date_is_the_latest_end_of_its_tasks() -> None:
    plan = schedule(diamond(), start=MONDAY, calendar=WEEKENDS_ONLY)

    assert plan.milestones["g"].planned_date == plan.tasks["join"].planned_end
    assert plan.end == date(2026, 3, 10)
    assert plan.last_end == date(2026, 3, 24)


def test_schedule_records_the_playbook_key_version_and_phase_span(
    write_file: WriteFile,
) -> None:
    playbook = load_playbook(write_file("tiny.yaml", MINIMAL_PLAYBOOK))

    plan = schedule(playbook, start=MONDAY, calendar=WEEKENDS_ONLY)

    assert (plan.playbook_key, plan.playbook_version) == ("tiny", "1")
    assert plan.phases["start"].planned_start == MONDAY
    assert plan.phases["start"].planned_end == date(2026, 3, 4)


def test_scheduling_a_thousand_projects_takes_well_under_a_second() -> None:
    playbook = load_playbook("config/playbooks/enterprise.yaml")
    calendar = BusinessCalendar("US")
    starts = [calendar.add_business_days(date(2026, 1, 5), i) for i in range(1000)]

    began = time.perf_counter()
    for start in starts:
        schedule(playbook, start=start, calendar=calendar)
    elapsed = time.perf_counter() - began

    assert elapsed < 0.5


CALENDARS = [WEEKENDS_ONLY, GB, BusinessCalendar("US"), BusinessCalendar("DE")]


@st.composite
def random_playbooks(draw: st.DrawFn) -> Playbook:
    count = draw(st.integers(min_value=1, max_value=12))
    tasks: list[dict[str, Any]] = []
    for index in range(count):
        predecessors = draw(
            st.lists(st.integers(0, index - 1), max_size=3, unique=True)
            if index
            else st.just([])
        )
        tasks.append(
            {
                "id": f"t{index}",
                "duration": draw(st.integers(1, 8)),
                "depends_on": [
                    {
                        "task": f"t{pred}",
                        "type": draw(st.sampled_from(["FS", "SS", "FF"])),
                        "lag": draw(st.integers(-2, 4)),
                    }
                    for pred in predecessors
                ],
            }
        )
    go_live = draw(st.lists(st.sampled_from([t["id"] for t in tasks]), min_size=1))
    return playbook_of(tasks, go_live_after=sorted(set(go_live)))


@settings(max_examples=200, deadline=None)
@given(
    playbook=random_playbooks(),
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)),
    calendar=st.sampled_from(CALENDARS),
)
def test_every_date_is_a_business_day_and_every_dependency_holds(
    playbook: Playbook, start: date, calendar: BusinessCalendar
) -> None:
    plan = schedule(playbook, start=start, calendar=calendar)

    between = calendar.business_days_between
    for task in playbook.tasks:
        planned = plan.tasks[task.id]
        assert calendar.is_business_day(planned.planned_start)
        assert calendar.is_business_day(planned.planned_end)
        assert planned.planned_start >= start
        assert between(planned.planned_start, planned.planned_end) == task.duration - 1
        assert planned.slack >= 0
        for dep in task.depends_on:
            pred = plan.tasks[dep.task]
            if dep.type == "FS":
                assert between(pred.planned_end, planned.planned_start) >= 1 + dep.lag
                if dep.lag >= 0:
                    assert planned.planned_start > pred.planned_end
            elif dep.type == "SS":
                assert between(pred.planned_start, planned.planned_start) >= dep.lag
            else:
                assert between(pred.planned_end, planned.planned_end) >= dep.lag
    for milestone in plan.milestones.values():
        assert calendar.is_business_day(milestone.planned_date)
    assert set(plan.critical_path) <= {t for t, p in plan.tasks.items() if p.slack == 0}
