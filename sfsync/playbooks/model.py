"""The playbook template: phases, tasks, dependencies, milestones, roles, checklists."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

__all__ = [
    "Audience",
    "ChecklistItem",
    "Dependency",
    "DependencyType",
    "Milestone",
    "MilestoneKind",
    "Phase",
    "Playbook",
    "RoleSource",
    "Task",
]

DependencyType = Literal["FS", "SS", "FF"]
Audience = Literal["internal", "customer"]
MilestoneKind = Literal["kickoff", "go_live", "first_value", "other"]
REQUIRED_MILESTONE_KINDS: tuple[MilestoneKind, ...] = (
    "kickoff",
    "go_live",
    "first_value",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dependency(_Strict):
    """A link from a predecessor task; ``lag`` is in business days, may be < 0.

    FS: start after the predecessor ends, plus lag. SS: start no earlier than
    the predecessor's start plus lag. FF: end no earlier than the
    predecessor's end plus lag. A bare task id in YAML means FS with lag 0.
    """

    task: str
    type: DependencyType = "FS"
    lag: int = 0

    @model_validator(mode="before")
    @classmethod
    def _from_task_id(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"task": value}
        return value


class Task(_Strict):
    """One piece of work of ``duration`` business days, owned by a role."""

    id: str
    title: str
    description: str = ""
    duration: int = Field(gt=0)
    depends_on: tuple[Dependency, ...] = ()
    owner_role: str
    audience: Audience = "internal"
    effort: float | None = Field(default=None, gt=0)
    customer_plan: bool = False

    @property
    def weight(self) -> float:
        """Effort used for weighted progress; the duration when none is given."""
        return float(self.duration) if self.effort is None else self.effort


class ChecklistItem(_Strict):
    """A yes/no question answered during a phase."""

    id: str
    text: str


class Phase(_Strict):
    """An ordered stage of the onboarding with its tasks and checklist."""

    id: str
    name: str
    description: str = ""
    before_milestone: str | None = None
    tasks: tuple[Task, ...] = ()
    checklist: tuple[ChecklistItem, ...] = ()


class Milestone(_Strict):
    """A dated event reached when every task in ``after`` has finished."""

    id: str
    name: str
    kind: MilestoneKind
    after: tuple[str, ...]


class RoleSource(_Strict):
    """Where a role's person comes from at handoff: a record field or the customer."""

    from_field: str | None = None
    customer: bool = False

    @model_validator(mode="after")
    def _exactly_one_source(self) -> RoleSource:
        if (self.from_field is None) == (not self.customer):
            raise ValueError(
                "give either from_field (a Salesforce user field) or customer: true"
            )
        return self


class Playbook(_Strict):
    """A validated playbook template, as loaded from one YAML file."""

    key: str
    name: str
    version: str
    description: str = ""
    segment: str | None = None
    roles: dict[str, RoleSource]
    phases: tuple[Phase, ...]
    milestones: tuple[Milestone, ...]

    # Filled by the scheduler the first time it plans this template, so that
    # every project built from it reuses one calendar-free plan.
    _plan: Any = PrivateAttr(default=None)

    @field_validator("version", mode="before")
    @classmethod
    def _quoted_version(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            # YAML reads 2026.10 as the number 2026.1; refuse rather than guess.
            raise ValueError(f'write the version in quotes, like "{value}"')
        return value

    @property
    def tasks(self) -> tuple[Task, ...]:
        """Every task, in file order."""
        return tuple(task for phase in self.phases for task in phase.tasks)

    def task(self, task_id: str) -> Task:
        """The task with ``task_id``; KeyError if there is none."""
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)

    def milestone_of_kind(self, kind: MilestoneKind) -> Milestone:
        """The first milestone of ``kind``; loading guarantees the required ones."""
        for milestone in self.milestones:
            if milestone.kind == kind:
                return milestone
        raise KeyError(kind)
