"""Task status changes keep actual dates, milestones and the project's status true."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from sfsync.errors import InputError
from sfsync.progress import update_task
from sfsync.store.db import Store, make_engine, open_store
from sfsync.store.models import Project

from .seeding import SELF_SERVE_TASKS, events, make_project, milestone, task

MON = datetime(2026, 11, 9, 15, 30, tzinfo=UTC)
WED = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)
FRI = datetime(2026, 11, 13, 17, 0, tzinfo=UTC)


def _set(store: Store, project_id: int, key: str, status: str, at: datetime) -> None:
    update_task(
        store, project_id=project_id, task_key=key, status=status, actor="ana", at=at
    )


def _project(store: Store, project_id: int) -> Project:
    with store.session() as session:
        project = session.get(Project, project_id)
        assert project is not None
        return project


def test_starting_then_finishing_a_task_sets_actual_dates_and_records_events(
    store: Store, project_id: int
) -> None:
    _set(store, project_id, "review_handoff", "in_progress", MON)

    done = update_task(
        store,
        project_id=project_id,
        task_key="review_handoff",
        status="done",
        actor="ana",
        at=WED,
        note="notes read",
    )

    assert (done.actual_start, done.actual_end) == (MON.date(), WED.date())
    recorded = events(store, project_id, "task_status")
    assert [(e.from_value, e.to_value, e.at) for e in recorded] == [
        ("not_started", "in_progress", MON),
        ("in_progress", "done", WED),
    ]
    assert recorded[1].task_key == "review_handoff"
    assert recorded[1].actor == "ana"
    assert recorded[1].note == "notes read"
    assert recorded[1].data["on"] == "2026-11-11"


def test_done_without_a_start_starts_and_ends_on_the_same_day(
    store: Store, project_id: int
) -> None:
    _set(store, project_id, "review_handoff", "done", WED)

    finished = task(store, project_id, "review_handoff")
    assert (finished.actual_start, finished.actual_end) == (WED.date(), WED.date())


def test_skipping_a_task_ends_it_without_a_start(store: Store, project_id: int) -> None:
    _set(store, project_id, "review_handoff", "skipped", WED)

    skipped = task(store, project_id, "review_handoff")
    assert (skipped.actual_start, skipped.actual_end) == (None, WED.date())


def test_reopening_a_done_task_clears_its_end_and_keeps_its_start(
    store: Store, project_id: int
) -> None:
    _set(store, project_id, "review_handoff", "in_progress", MON)
    _set(store, project_id, "review_handoff", "done", WED)

    _set(store, project_id, "review_handoff", "in_progress", FRI)

    reopened = task(store, project_id, "review_handoff")
    assert (reopened.actual_start, reopened.actual_end) == (MON.date(), None)


def test_blocking_sets_blocked_since_and_resuming_clears_it(
    store: Store, project_id: int
) -> None:
    _set(store, project_id, "review_handoff", "blocked", MON)
    blocked = task(store, project_id, "review_handoff")

    _set(store, project_id, "review_handoff", "in_progress", WED)

    resumed = task(store, project_id, "review_handoff")
    assert blocked.blocked_since == MON.date()
    assert blocked.actual_start is None
    assert resumed.blocked_since is None
    assert resumed.actual_start == WED.date()


def test_setting_the_status_a_task_already_has_records_nothing(
    store: Store, project_id: int
) -> None:
    _set(store, project_id, "review_handoff", "in_progress", MON)

    _set(store, project_id, "review_handoff", "in_progress", WED)

    assert len(events(store, project_id, "task_status")) == 1
    assert task(store, project_id, "review_handoff").actual_start == MON.date()


def test_a_past_date_sets_the_actual_dates_and_the_event_day(
    store: Store, project_id: int
) -> None:
    update_task(
        store,
        project_id=project_id,
        task_key="review_handoff",
        status="done",
        actor="ana",
        at=FRI,
        on=date(2026, 11, 10),
    )

    (event,) = events(store, project_id, "task_status")
    assert task(store, project_id, "review_handoff").actual_end == date(2026, 11, 10)
    assert event.at.date() == date(2026, 11, 10)
    assert event.data["recorded_at"] == FRI.isoformat()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"task_key": "kickof_call"},
            "has no task 'kickof_call'; its tasks are: review_handoff, ",
            id="unknown-task",
        ),
        pytest.param(
            {"project_id": 999_999},
            "project 999999 does not exist; list projects with `sfsync projects`",
            id="unknown-project",
        ),
        pytest.param(
            {"on": date(2026, 11, 14)},
            "the date 2026-11-14 is in the future (today is 2026-11-13)",
            id="future-date",
        ),
    ],
)
def test_bad_input_is_refused_with_what_was_wrong_and_what_is_valid(
    store: Store, project_id: int, changes: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {
        "project_id": project_id,
        "task_key": "review_handoff",
        "status": "done",
        "actor": "ana",
        "at": FRI,
    }
    arguments.update(changes)

    with pytest.raises(InputError) as caught:
        update_task(store, **arguments)  # type: ignore[arg-type]

    assert message in str(caught.value)
    assert events(store, project_id, "task_status") == []


def test_finishing_before_the_task_started_is_refused(
    store: Store, project_id: int
) -> None:
    _set(store, project_id, "review_handoff", "in_progress", WED)

    with pytest.raises(InputError, match="before it started on 2026-11-11"):
        update_task(
            store,
            project_id=project_id,
            task_key="review_handoff",
            status="done",
            actor="ana",
            at=FRI,
            on=date(2026, 11, 10),
        )


@pytest.mark.parametrize(
    ("status", "at", "message"),
    [
        pytest.param(
            "finished",
            FRI,
            "unknown task status 'finished'; use one of: not_started, in_progress, "
            "blocked, done, skipped",
            id="bad-status",
        ),
        pytest.param(
            "done", datetime(2026, 11, 9, 12), "has no time zone", id="naive-time"
        ),
    ],
)
def test_a_bad_status_or_time_is_refused_before_the_database_is_touched(
    status: str, at: datetime, message: str
) -> None:
    unopened = Store(make_engine("sqlite://"))

    with pytest.raises(InputError) as caught:
        _set(unopened, 1, "review_handoff", status, at)

    assert message in str(caught.value)


def test_closing_the_last_task_before_go_live_reaches_it_on_the_latest_end(
    store: Store, project_id: int
) -> None:
    _set(store, project_id, "go_live_check", "in_progress", MON)

    _set(store, project_id, "go_live_check", "done", WED)

    go_live = milestone(store, project_id, "go_live")
    (reached,) = events(store, project_id, "milestone_reached")
    assert go_live.actual == WED.date()
    assert reached.data == {"milestone_key": "go_live", "kind": "go_live"}
    assert reached.to_value == "2026-11-11"


def test_reopening_a_task_clears_the_milestone_it_reached(
    store: Store, project_id: int
) -> None:
    _set(store, project_id, "kickoff_call", "done", MON)

    _set(store, project_id, "kickoff_call", "in_progress", WED)

    assert milestone(store, project_id, "kickoff").actual is None
    assert len(events(store, project_id, "milestone_reopened")) == 1


def test_closing_every_task_finishes_the_project_and_reopening_resumes_it(
    store: Store, project_id: int
) -> None:
    for key in SELF_SERVE_TASKS[:-1]:
        _set(store, project_id, key, "done", MON)
    _set(store, project_id, SELF_SERVE_TASKS[-1], "skipped", WED)
    finished = _project(store, project_id).status

    _set(store, project_id, "usage_check", "in_progress", FRI)

    assert finished == "done"
    assert _project(store, project_id).status == "active"
    assert [e.to_value for e in events(store, project_id, "project_done")] == ["done"]
    assert len(events(store, project_id, "project_reopened")) == 1


def test_a_project_on_hold_stays_on_hold_when_its_tasks_close(store: Store) -> None:
    project_id = make_project(store, 2)
    with store.transaction() as session:
        project = session.exec(select(Project).where(Project.id == project_id)).one()
        project.status = "on_hold"
        session.add(project)

    for key in SELF_SERVE_TASKS:
        _set(store, project_id, key, "done", MON)

    assert _project(store, project_id).status == "on_hold"
    assert events(store, project_id, "project_done") == []


@pytest.mark.postgres
def test_two_people_closing_the_last_two_tasks_at_once_finish_the_project(
    postgres_url: str,
) -> None:
    shared = open_store(postgres_url)
    project_id = make_project(shared)
    *first, last_a, last_b = SELF_SERVE_TASKS
    for key in first:
        _set(shared, project_id, key, "done", MON)
    barrier = threading.Barrier(2)

    def close(key: str) -> None:
        barrier.wait()
        _set(shared, project_id, key, "done", WED)

    workers = [threading.Thread(target=close, args=(k,)) for k in (last_a, last_b)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert _project(shared, project_id).status == "done"
    assert len(events(shared, project_id, "project_done")) == 1
    shared.dispose()


def test_the_same_status_with_another_date_is_refused_and_says_how_to_redate(
    store: Store, project_id: int
) -> None:
    _set(store, project_id, "review_handoff", "done", FRI)

    with pytest.raises(InputError, match="already done since 2026-11-13") as caught:
        update_task(
            store,
            project_id=project_id,
            task_key="review_handoff",
            status="done",
            actor="ana",
            at=FRI,
            on=WED.date(),
        )
    _set(store, project_id, "review_handoff", "not_started", FRI)
    redated = update_task(
        store,
        project_id=project_id,
        task_key="review_handoff",
        status="done",
        actor="ana",
        at=FRI,
        on=WED.date(),
    )

    assert "then to done with --date 2026-11-11" in str(caught.value)
    assert redated.actual_end == WED.date()
    assert len(events(store, project_id, "task_status")) == 3
