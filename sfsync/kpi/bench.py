"""Times compute_kpis over 10,000 and 100,000 synthetic projects of 30 tasks."""

from __future__ import annotations

import random
import time
from datetime import date

from sfsync.kpi.facts import (
    WEEKENDS,
    EventFacts,
    MilestoneFacts,
    ProjectFacts,
    TaskFacts,
)
from sfsync.kpi.health import DEFAULT_HEALTH_RULES
from sfsync.kpi.history import History, build_history
from sfsync.kpi.snapshot import compute_kpis

__all__ = ["main", "run", "synthetic_project"]

TODAY = date(2026, 6, 1)
TASKS_PER_PROJECT = 30
PLAYBOOK_VERSIONS = ("1", "2", "3")
SEGMENTS = ("smb", "mid_market", "enterprise")


def synthetic_project(
    rng: random.Random, index: int, *, finished: bool
) -> ProjectFacts:
    """A 30-task project with a chain of three-business-day tasks and a random state."""
    handoff = WEEKENDS.add_business_days(date(2025, 6, 2), rng.randrange(0, 240))
    slip = rng.uniform(0.8, 1.6)
    tasks = []
    day = handoff
    for number in range(TASKS_PER_PROJECT):
        start = WEEKENDS.add_business_days(day, 1)
        end = WEEKENDS.add_business_days(start, 2)
        actual_end = WEEKENDS.add_business_days(handoff, round(3 * (number + 1) * slip))
        done = finished or actual_end < TODAY
        blocked = not done and rng.random() < 0.05
        tasks.append(
            TaskFacts(
                id=f"T{number}",
                phase_id=f"P{number // 10}",
                title=f"Task {number}",
                audience="customer" if number % 4 == 0 else "internal",
                effort=float(rng.randint(1, 8)),
                planned_start=start,
                planned_end=end,
                baseline_start=start,
                baseline_end=end,
                status="done" if done else ("blocked" if blocked else "not_started"),
                actual_end=actual_end if done else None,
                is_critical=number % 3 == 0,
                blocked_since=TODAY if blocked else None,
            )
        )
        day = end
    live = WEEKENDS.add_business_days(handoff, round(3 * TASKS_PER_PROJECT * slip))
    return ProjectFacts(
        project_id=f"P-{index}",
        playbook_key="standard",
        playbook_version=rng.choice(PLAYBOOK_VERSIONS),
        segment=rng.choice(SEGMENTS),
        handoff_date=handoff,
        close_date=WEEKENDS.add_business_days(handoff, -5),
        target_go_live=WEEKENDS.add_business_days(day, 5),
        tasks=tuple(tasks),
        milestones=(
            MilestoneFacts(
                "M-live", "go_live", day, day, actual=live if finished else None
            ),
        ),
        events=(
            EventFacts(
                WEEKENDS.add_business_days(TODAY, -rng.randrange(0, 15)), "progress"
            ),
            EventFacts(TODAY, "sentiment", value=float(rng.randint(1, 5))),
        ),
        status="done" if finished else "active",
    )


def _time(projects: list[ProjectFacts], history: History) -> float:
    start = time.perf_counter()
    for project in projects:
        compute_kpis(
            project,
            today=TODAY,
            calendar=WEEKENDS,
            history=history,
            health_rules=DEFAULT_HEALTH_RULES,
        )
    return time.perf_counter() - start


def run(
    sizes: tuple[int, ...] = (10_000, 100_000), *, seed: int = 7
) -> dict[int, float]:
    """Seconds to compute every project's snapshot, per project count.

    The history (spreads and cohorts) is built once from 500 finished
    projects and shared, as a scheduled recompute would.
    """
    rng = random.Random(seed)
    finished = [synthetic_project(rng, i, finished=True) for i in range(500)]
    start = time.perf_counter()
    history = build_history(finished, calendar=WEEKENDS)
    fit_seconds = time.perf_counter() - start
    print(f"history: {len(finished)} finished projects fitted in {fit_seconds:.3f} s")
    largest = max(sizes)
    projects = [synthetic_project(rng, i, finished=False) for i in range(largest)]
    results: dict[int, float] = {}
    for size in sizes:
        seconds = _time(projects[:size], history)
        results[size] = seconds
        print(
            f"{size:>7} projects: {seconds:.2f} s, "
            f"{seconds / size * 1e6:.0f} us per project"
        )
    if len(sizes) > 1:
        low, high = min(sizes), max(sizes)
        print(
            f"ratio {high:,}/{low:,}: {results[high] / results[low]:.2f} "
            f"(linear would be {high / low:.0f})"
        )
    return results


def main() -> None:
    """Run the benchmark with the default sizes."""
    run()


if __name__ == "__main__":
    main()
