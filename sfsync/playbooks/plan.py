"""Critical-path analysis of a playbook in business-day offsets, free of any calendar.

Every duration and lag is counted in business days, so the whole forward and
backward pass can run on integers where 0 is the project's first business
day; a calendar only turns those offsets into dates. That is why a template
is planned once and every project built from it reuses the plan.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sfsync.playbooks.model import Playbook, Task

__all__ = ["Plan", "find_cycles", "plan_for", "topological_order"]


@dataclass(frozen=True, slots=True)
class Plan:
    """Offsets (business days from the project's first day, inclusive ends).

    ``rows`` holds (task id, phase id, start, end, slack) in file order: what
    the scheduler needs per task, laid out so dating a project is one loop.
    """

    order: tuple[str, ...]
    rows: tuple[tuple[str, str, int, int, int], ...]
    early_start: Mapping[str, int]
    early_finish: Mapping[str, int]
    slack: Mapping[str, int]
    milestone_offsets: Mapping[str, int]
    phase_spans: Mapping[str, tuple[int, int]]
    critical_path: tuple[str, ...]
    go_live_offset: int
    finish_offset: int


def topological_order(
    ids: Sequence[str], predecessors: Mapping[str, Sequence[str]]
) -> tuple[list[str], list[str]]:
    """Ids ordered so each comes after its predecessors, ties in file order.

    Returns the order and the ids left over because they sit on, or behind,
    a cycle. Predecessors that are not in ``ids`` are ignored.
    """
    position = {task_id: index for index, task_id in enumerate(ids)}
    successors: dict[str, list[str]] = {task_id: [] for task_id in ids}
    waiting: dict[str, int] = {}
    for task_id in ids:
        known = {p for p in predecessors.get(task_id, ()) if p in position}
        waiting[task_id] = len(known)
        for pred in known:
            successors[pred].append(task_id)
    ready = [(position[t], t) for t in ids if waiting[t] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, task_id = heapq.heappop(ready)
        order.append(task_id)
        for succ in successors[task_id]:
            waiting[succ] -= 1
            if waiting[succ] == 0:
                heapq.heappush(ready, (position[succ], succ))
    done = set(order)
    return order, [t for t in ids if t not in done]


def find_cycles(
    ids: Sequence[str], predecessors: Mapping[str, Sequence[str]]
) -> list[list[str]]:
    """Each distinct dependency cycle once, as ``[a, b, c, a]`` (a comes before b).

    Every id left over by a topological sort has a predecessor that is also
    left over, so walking predecessors from it must run into a cycle.
    """
    _, stuck = topological_order(ids, predecessors)
    remaining = set(stuck)
    position = {task_id: index for index, task_id in enumerate(ids)}
    seen_cycles: set[frozenset[str]] = set()
    cycles: list[list[str]] = []
    for begin in stuck:
        path: list[str] = []
        at: dict[str, int] = {}
        node = begin
        while node not in at:
            at[node] = len(path)
            path.append(node)
            node = next(p for p in predecessors[node] if p in remaining)
        loop = path[at[node] :]
        members = frozenset(loop)
        if members in seen_cycles:
            continue
        seen_cycles.add(members)
        # Walked against the arrows; turn it round and start at the task that
        # comes first in the file so the message reads in working order.
        loop.reverse()
        first = min(range(len(loop)), key=lambda i: position[loop[i]])
        loop = loop[first:] + loop[:first]
        cycles.append([*loop, loop[0]])
    return cycles


def plan_for(playbook: Playbook) -> Plan:
    """The playbook's plan, computed on first use and kept on the playbook."""
    cached = playbook._plan
    if isinstance(cached, Plan):
        return cached
    computed = _compute(playbook)
    playbook._plan = computed
    return computed


def _compute(playbook: Playbook) -> Plan:
    tasks = {task.id: task for task in playbook.tasks}
    predecessors = {t.id: [d.task for d in t.depends_on] for t in tasks.values()}
    order, stuck = topological_order(list(tasks), predecessors)
    if stuck:
        raise ValueError(f"playbook {playbook.key!r} has a dependency cycle")

    early_start, early_finish = _forward(order, tasks)
    finish = max(early_finish.values(), default=0)
    go_live = playbook.milestone_of_kind("go_live")
    go_live_offset = max(early_finish[t] for t in go_live.after)

    # Tasks that lead to go-live must end by go-live; the rest may run to the
    # project's last day without moving anything dated.
    deadlines = dict.fromkeys(tasks, finish)
    for task_id in go_live.after:
        deadlines[task_id] = go_live_offset
    late_finish = _backward(order, tasks, deadlines)
    slack = {t: late_finish[t] - early_finish[t] for t in order}

    feeding = _ancestors(go_live.after, predecessors)
    only_go_live = {
        t: (go_live_offset if t in go_live.after else finish) for t in tasks
    }
    go_live_late = _backward([t for t in order if t in feeding], tasks, only_go_live)
    rank = {task_id: index for index, task_id in enumerate(order)}
    critical = sorted(
        (t for t in feeding if go_live_late[t] == early_finish[t]),
        key=lambda t: (early_start[t], rank[t]),
    )

    milestones = {
        m.id: max(early_finish[t] for t in m.after) for m in playbook.milestones
    }
    spans = {
        phase.id: (
            min(early_start[t.id] for t in phase.tasks),
            max(early_finish[t.id] for t in phase.tasks),
        )
        for phase in playbook.phases
        if phase.tasks
    }
    rows = tuple(
        (t.id, phase.id, early_start[t.id], early_finish[t.id], slack[t.id])
        for phase in playbook.phases
        for t in phase.tasks
    )
    return Plan(
        order=tuple(order),
        rows=rows,
        early_start=early_start,
        early_finish=early_finish,
        slack=slack,
        milestone_offsets=milestones,
        phase_spans=spans,
        critical_path=tuple(critical),
        go_live_offset=go_live_offset,
        finish_offset=finish,
    )


def _forward(
    order: Sequence[str], tasks: Mapping[str, Task]
) -> tuple[dict[str, int], dict[str, int]]:
    early_start: dict[str, int] = {}
    early_finish: dict[str, int] = {}
    for task_id in order:
        task = tasks[task_id]
        start = 0
        for dep in task.depends_on:
            if dep.type == "FS":
                bound = early_finish[dep.task] + 1 + dep.lag
            elif dep.type == "SS":
                bound = early_start[dep.task] + dep.lag
            else:
                bound = early_finish[dep.task] + dep.lag - task.duration + 1
            start = max(start, bound)
        early_start[task_id] = start
        early_finish[task_id] = start + task.duration - 1
    return early_start, early_finish


def _backward(
    order: Sequence[str], tasks: Mapping[str, Task], deadlines: Mapping[str, int]
) -> dict[str, int]:
    late_finish = {task_id: deadlines[task_id] for task_id in order}
    for task_id in reversed(order):
        task = tasks[task_id]
        late_start = late_finish[task_id] - task.duration + 1
        for dep in task.depends_on:
            if dep.task not in late_finish:
                continue
            pred = tasks[dep.task]
            if dep.type == "FS":
                bound = late_start - 1 - dep.lag
            elif dep.type == "SS":
                bound = late_start - dep.lag + pred.duration - 1
            else:
                bound = late_finish[task_id] - dep.lag
            if bound < late_finish[dep.task]:
                late_finish[dep.task] = bound
    return late_finish


def _ancestors(
    targets: Sequence[str], predecessors: Mapping[str, Sequence[str]]
) -> set[str]:
    found: set[str] = set()
    stack = list(targets)
    while stack:
        task_id = stack.pop()
        if task_id not in found:
            found.add(task_id)
            stack.extend(predecessors[task_id])
    return found
