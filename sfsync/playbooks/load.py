"""Loads playbook YAML files and reports every problem in them with file and line."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sfsync.errors import ConfigError
from sfsync.playbooks.model import (
    REQUIRED_MILESTONE_KINDS,
    ChecklistItem,
    Dependency,
    Milestone,
    Phase,
    Playbook,
    RoleSource,
    Task,
)
from sfsync.playbooks.plan import find_cycles, plan_for
from sfsync.playbooks.source import Loc, Problem, YamlSource, format_problems, read_yaml

__all__ = ["PlaybookError", "load_playbook", "load_playbooks"]


class PlaybookError(ConfigError):
    """One or more playbook files are wrong; ``problems`` lists each with its line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = sorted(problems)
        super().__init__(
            format_problems(self.problems),
            hint="fix the playbook at each line named; `sfsync check` reads the "
            "playbooks again",
        )


def load_playbook(path: Path | str) -> Playbook:
    """Read and validate one playbook file; PlaybookError lists all its problems."""
    source, playbook = _load(path)
    if playbook is None:
        raise PlaybookError(source.problems)
    return playbook


def load_playbooks(directory: Path | str) -> dict[str, Playbook]:
    """Every ``*.yaml`` playbook in ``directory``, keyed by playbook key.

    Problems from all files are gathered into one PlaybookError, so a single
    run shows everything there is to fix.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise ConfigError(
            f"playbook directory {folder} does not exist",
            hint="create it or point the setting at config/playbooks",
        )
    paths = sorted(folder.glob("*.yaml"))
    if not paths:
        raise ConfigError(
            f"no playbook files (*.yaml) in {folder}",
            hint="add at least one playbook, for example a copy of mid-market.yaml",
        )
    problems: list[Problem] = []
    found: dict[str, tuple[Playbook, YamlSource]] = {}
    for path in paths:
        source, playbook = _load(path)
        problems.extend(source.problems)
        if playbook is None:
            continue
        if playbook.key in found:
            other = found[playbook.key][1].file
            line = source.line_of(("key",))
            message = f"playbook key {playbook.key!r} is already used by {other}"
            problems.append(Problem(source.file, line, message))
            continue
        found[playbook.key] = (playbook, source)
    if problems:
        raise PlaybookError(problems)
    return {key: playbook for key, (playbook, _) in found.items()}


def _load(path: Path | str) -> tuple[YamlSource, Playbook | None]:
    source = read_yaml(path)
    if source.problems and source.data is None:
        return source, None
    if not isinstance(source.data, dict):
        source.problem((), "a playbook file must be a mapping with key, name, phases")
        return source, None

    playbook: Playbook | None = None
    try:
        playbook = Playbook.model_validate(source.data)
    except ValidationError as exc:
        for error in exc.errors():
            source.problem(error["loc"], _describe(source.data, error))
    _check_references(source)
    if source.problems or playbook is None:
        return source, None

    _check_phase_milestones(source, playbook)
    if source.problems:
        return source, None
    return source, playbook


# Validation of each field's type and of unknown keys is pydantic's; what
# follows checks how the parts refer to each other. It reads the raw YAML so
# that it still runs, and still reports, when some part failed validation.


def _check_references(source: YamlSource) -> None:
    data = source.data
    tasks = list(_items(data, ("phases",), "tasks"))
    phases = list(_items(data, (), "phases"))
    milestones = list(_items(data, (), "milestones"))

    first_use: dict[str, tuple[str, int]] = {}
    for kind, entries in (
        ("phase", phases),
        ("task", tasks),
        ("milestone", milestones),
    ):
        for loc, raw in entries:
            item_id = _id(raw)
            if item_id is None:
                continue
            line = source.line_of((*loc, "id"))
            if item_id in first_use:
                other_kind, other_line = first_use[item_id]
                source.problem(
                    (*loc, "id"),
                    f"duplicate id {item_id!r}: {other_kind} on line {other_line} "
                    f"already uses it; ids of phases, tasks and milestones must differ",
                )
            else:
                first_use[item_id] = (kind, line)
    seen_items: dict[str, int] = {}
    for phase_loc, phase in phases:
        for loc, item in _sequence(phase, (*phase_loc, "checklist")):
            item_id = _id(item)
            if item_id is None:
                continue
            if item_id in seen_items:
                source.problem(
                    (*loc, "id"),
                    f"duplicate checklist item id {item_id!r}: line "
                    f"{seen_items[item_id]} already uses it",
                )
            else:
                seen_items[item_id] = source.line_of((*loc, "id"))

    task_ids = [t for t in (_id(raw) for _, raw in tasks) if t is not None]
    known_tasks = set(task_ids)
    predecessors: dict[str, list[str]] = {t: [] for t in task_ids}
    for loc, raw in tasks:
        task_id = _id(raw)
        for dep_loc, target in _dependencies(raw, loc):
            if target not in known_tasks:
                source.problem(
                    dep_loc,
                    f"task {task_id!r} depends on unknown task {target!r}"
                    + _did_you_mean(target, task_ids),
                )
            elif task_id is not None:
                predecessors[task_id].append(target)
    for cycle in find_cycles(task_ids, predecessors):
        loc = next(loc for loc, raw in tasks if _id(raw) == cycle[0])
        source.problem(
            (*loc, "depends_on"),
            "dependency cycle: " + " -> ".join(cycle) + " (each task waits for the "
            "one before it); remove one of these dependencies",
        )

    _check_roles(source, tasks)
    _check_milestones(source, milestones, task_ids)

    milestone_ids = [m for m in (_id(raw) for _, raw in milestones) if m is not None]
    for loc, raw in phases:
        before = raw.get("before_milestone")
        if isinstance(before, str) and before not in milestone_ids:
            source.problem(
                (*loc, "before_milestone"),
                f"phase {_id(raw)!r} is before unknown milestone {before!r}"
                + _did_you_mean(before, milestone_ids),
            )


def _check_roles(source: YamlSource, tasks: list[tuple[Loc, dict[str, Any]]]) -> None:
    roles = source.data.get("roles")
    if not isinstance(roles, dict):
        return
    declared = [str(role) for role in roles]
    for loc, raw in tasks:
        role = raw.get("owner_role")
        if isinstance(role, str) and role not in roles:
            source.problem(
                (*loc, "owner_role"),
                f"task {_id(raw)!r} has owner_role {role!r}, which is not declared "
                f"under roles" + _did_you_mean(role, declared),
            )


def _check_milestones(
    source: YamlSource,
    milestones: list[tuple[Loc, dict[str, Any]]],
    task_ids: list[str],
) -> None:
    kinds: dict[str, str] = {}
    for loc, raw in milestones:
        milestone_id = _id(raw)
        after = raw.get("after")
        if isinstance(after, list) and not after:
            source.problem((*loc, "after"), _nothing_leads_to(milestone_id))
        for index, target in enumerate(after if isinstance(after, list) else ()):
            if isinstance(target, str) and target not in task_ids:
                source.problem(
                    (*loc, "after", index),
                    f"milestone {milestone_id!r} is after unknown task {target!r}"
                    + _did_you_mean(target, task_ids),
                )
        kind = raw.get("kind")
        if kind in REQUIRED_MILESTONE_KINDS and isinstance(kind, str):
            if kind in kinds:
                source.problem(
                    (*loc, "kind"),
                    f"milestone {milestone_id!r} is a second {kind} milestone after "
                    f"{kinds[kind]!r}; keep one",
                )
            else:
                kinds[kind] = str(milestone_id)
    for kind in REQUIRED_MILESTONE_KINDS:
        if kind not in kinds:
            source.problem(
                ("milestones",),
                f"no {kind} milestone; every playbook needs kickoff, go_live and "
                f"first_value milestones",
            )


def _check_phase_milestones(source: YamlSource, playbook: Playbook) -> None:
    plan = plan_for(playbook)
    for index, phase in enumerate(playbook.phases):
        if phase.before_milestone is None or not phase.tasks:
            continue
        limit = plan.milestone_offsets[phase.before_milestone]
        last = max(phase.tasks, key=lambda task: plan.early_finish[task.id])
        overrun = plan.early_finish[last.id] - limit
        if overrun > 0:
            source.problem(
                ("phases", index, "before_milestone"),
                f"phase {phase.id!r} ends after milestone {phase.before_milestone!r} "
                f"it must come before: task {last.id!r} ends {overrun} business "
                f"day(s) later; add it to the milestone's after list or move it "
                f"to a later phase",
            )


def _nothing_leads_to(milestone_id: object) -> str:
    return (
        f"milestone {milestone_id!r} has nothing leading to it; list the tasks "
        f"it follows under after"
    )


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _id(raw: dict[str, Any]) -> str | None:
    value = raw.get("id")
    return value if isinstance(value, str) else None


def _sequence(parent: Any, loc: Loc) -> Iterator[tuple[Loc, dict[str, Any]]]:
    values = parent.get(loc[-1]) if isinstance(parent, dict) else None
    if isinstance(values, list):
        for index, value in enumerate(values):
            if isinstance(value, dict):
                yield (*loc, index), value


def _items(
    data: dict[str, Any], outer: Loc, key: str
) -> Iterator[tuple[Loc, dict[str, Any]]]:
    """Mappings under ``key``, either at top level or inside each ``outer`` item."""
    if not outer:
        yield from _sequence(data, (key,))
        return
    for outer_loc, parent in _sequence(data, outer):
        yield from _sequence(parent, (*outer_loc, key))


def _dependencies(raw: dict[str, Any], loc: Loc) -> Iterator[tuple[Loc, str]]:
    entries = raw.get("depends_on")
    if not isinstance(entries, list):
        return
    for index, entry in enumerate(entries):
        target = entry.get("task") if isinstance(entry, dict) else entry
        if isinstance(target, str):
            yield (*loc, "depends_on", index), target


_CHILDREN: dict[tuple[type[BaseModel], str], tuple[type[BaseModel], str]] = {
    (Playbook, "phases"): (Phase, "phase"),
    (Playbook, "milestones"): (Milestone, "milestone"),
    (Playbook, "roles"): (RoleSource, "role"),
    (Phase, "tasks"): (Task, "task"),
    (Phase, "checklist"): (ChecklistItem, "checklist item"),
    (Task, "depends_on"): (Dependency, "dependency"),
}


def _describe(data: Any, error: ErrorDetails) -> str:
    """Turn a pydantic error into a sentence naming the task, phase or milestone."""
    loc = error["loc"]
    model: type[BaseModel] = Playbook
    label = "playbook"
    raw: Any = data
    index = 0
    while index + 1 < len(loc) and (model, str(loc[index])) in _CHILDREN:
        model, kind = _CHILDREN[(model, str(loc[index]))]
        key = loc[index + 1]
        container = raw.get(loc[index]) if isinstance(raw, dict) else None
        try:
            raw = container[key]  # type: ignore[index]
        except (TypeError, KeyError, IndexError):
            raw = None
        item_id = _id(raw) if isinstance(raw, dict) else None
        if kind == "role":
            label = f"role {key!r}"
        elif kind == "dependency":
            label = f"dependency {int(key) + 1} of {label}"
        elif item_id is not None:
            label = f"{kind} {item_id!r}"
        else:
            label = f"{kind} {int(key) + 1} of {label}"
        index += 2
    rest = loc[index:]
    field = ".".join(str(part) for part in rest)
    kind_of_error = error["type"]
    message = error["msg"].removeprefix("Value error, ")

    if kind_of_error == "extra_forbidden":
        allowed = ", ".join(model.model_fields)
        return f"{label}: unknown key {field!r}; allowed keys are {allowed}"
    if kind_of_error == "missing":
        if model is Task and field == "owner_role":
            return (
                f"{label} has no owner_role; name the role that owns it, "
                f"one declared under roles"
            )
        if model is Milestone and field == "after":
            return _nothing_leads_to(_id(raw) if isinstance(raw, dict) else None)
        return f"{label}: {field!r} is required"
    if model is Task and field == "duration" and kind_of_error == "greater_than":
        return (
            f"{label} has duration {error['input']!r}; a duration is a whole "
            f"number of business days above 0"
        )
    if not field:
        return f"{label}: {message}"
    value = error.get("input")
    shown = f", got {value!r}" if isinstance(value, str | int | float | bool) else ""
    return f"{label}: {field!r}: {message[:1].lower()}{message[1:]}{shown}"
