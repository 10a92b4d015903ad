"""Playbook templates: loading, validating and scheduling projects from them."""

from sfsync.playbooks.load import PlaybookError, load_playbook, load_playbooks
from sfsync.playbooks.model import (
    ChecklistItem,
    Dependency,
    Milestone,
    Phase,
    Playbook,
    RoleSource,
    Task,
)
from sfsync.playbooks.schedule import (
    Schedule,
    ScheduledMilestone,
    ScheduledPhase,
    ScheduledTask,
    schedule,
)
from sfsync.playbooks.source import Problem

__all__ = [
    "ChecklistItem",
    "Dependency",
    "Milestone",
    "Phase",
    "Playbook",
    "PlaybookError",
    "Problem",
    "RoleSource",
    "Schedule",
    "ScheduledMilestone",
    "ScheduledPhase",
    "ScheduledTask",
    "Task",
    "load_playbook",
    "load_playbooks",
    "schedule",
]
