"""The tables of the local store."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from sfsync.store.types import Money, UTCDateTime

__all__ = [
    "Account",
    "JobLock",
    "KpiSnapshot",
    "Opportunity",
    "OutboxRow",
    "Project",
    "ProjectEvent",
    "ProjectMilestone",
    "ProjectPhase",
    "ProjectTask",
    "SyncRun",
    "SyncState",
]


def _utc(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(UTCDateTime(), nullable=nullable, index=index),
    )


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Account(SQLModel, table=True):
    """A Salesforce Account as last pulled."""

    __tablename__ = "account"

    id: str = Field(primary_key=True, max_length=18)
    name: str | None = None
    type: str | None = None
    industry: str | None = None
    billing_country: str | None = None
    number_of_employees: int | None = None
    annual_revenue: Decimal | None = Field(default=None, sa_column=Column(Money()))
    owner_id: str | None = Field(default=None, max_length=18)
    segment: str | None = None
    created_date: datetime | None = _utc()
    last_modified_date: datetime | None = _utc()
    system_modstamp: datetime | None = _utc(index=True)
    is_deleted: bool = False
    deleted_at: datetime | None = _utc()
    # Pushed fields as Salesforce last held them, for the diff before a push.
    sf_pushed: dict[str, Any] = _json()
    extra: dict[str, Any] = _json()
    pulled_at: datetime | None = _utc()


class Opportunity(SQLModel, table=True):
    """A Salesforce Opportunity as last pulled."""

    __tablename__ = "opportunity"

    id: str = Field(primary_key=True, max_length=18)
    account_id: str | None = Field(default=None, max_length=18, index=True)
    name: str | None = None
    stage_name: str | None = None
    is_won: bool = False
    is_closed: bool = False
    close_date: date | None = None
    amount: Decimal | None = Field(default=None, sa_column=Column(Money()))
    probability: float | None = None
    type: str | None = None
    lead_source: str | None = None
    owner_id: str | None = Field(default=None, max_length=18)
    onboarding_manager_id: str | None = Field(default=None, max_length=18)
    target_go_live: date | None = None
    segment: str | None = None
    created_date: datetime | None = _utc()
    last_modified_date: datetime | None = _utc()
    system_modstamp: datetime | None = _utc(index=True)
    is_deleted: bool = False
    deleted_at: datetime | None = _utc()
    sf_pushed: dict[str, Any] = _json()
    extra: dict[str, Any] = _json()
    pulled_at: datetime | None = _utc()


class SyncState(SQLModel, table=True):
    """Where the pull of one sObject stands: its watermark and the floor it began at."""

    __tablename__ = "sync_state"

    sobject: str = Field(primary_key=True, max_length=80)
    watermark: datetime | None = _utc()
    watermark_id: str | None = Field(default=None, max_length=18)
    # Salesforce's clock when the last complete pull queried: every record
    # not seen by then was stamped after this, less the commit-lag overlap.
    read_until: datetime | None = _utc()
    floor: datetime | None = _utc()
    last_reconciled_at: datetime | None = _utc()
    updated_at: datetime | None = _utc()


class SyncRun(SQLModel, table=True):
    """One run of one job: what it read, wrote and spent, and how it ended."""

    __tablename__ = "sync_run"

    id: str = Field(primary_key=True, max_length=40)
    job: str = Field(max_length=40, index=True)
    started_at: datetime | None = _utc(index=True)
    finished_at: datetime | None = _utc()
    outcome: str = Field(default="running", max_length=20)
    records_read: int = 0
    records_written: int = 0
    records_deleted: int = 0
    records_failed: int = 0
    api_calls: int = 0
    error: str | None = None
    details: dict[str, Any] = _json()


class Project(SQLModel, table=True):
    """An onboarding project; exactly one per opportunity, by constraint."""

    __tablename__ = "project"
    __table_args__ = (
        UniqueConstraint("opportunity_id", name="uq_project_opportunity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    opportunity_id: str = Field(max_length=18)
    account_id: str | None = Field(default=None, max_length=18, index=True)
    name: str | None = None
    playbook_key: str = Field(max_length=80)
    playbook_version: str = Field(max_length=40)
    rule: str | None = None
    segment: str | None = None
    status: str = Field(default="active", max_length=20, index=True)
    hold_reason: str | None = None
    handoff_date: date
    close_date: date | None = None
    target_go_live: date | None = None
    baseline_go_live: date | None = None
    calendar_country: str | None = None
    created_at: datetime | None = _utc()
    updated_at: datetime | None = _utc()


class ProjectPhase(SQLModel, table=True):
    """A phase of a project, with its checklist answers."""

    __tablename__ = "project_phase"
    __table_args__ = (UniqueConstraint("project_id", "phase_key"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    phase_key: str = Field(max_length=80)
    name: str
    position: int
    checklist: dict[str, Any] = _json()


class ProjectTask(SQLModel, table=True):
    """A task of a project: its plan, baseline, owner and progress."""

    __tablename__ = "project_task"
    __table_args__ = (UniqueConstraint("project_id", "task_key"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    task_key: str = Field(max_length=80)
    phase_key: str = Field(max_length=80)
    title: str
    duration: int
    owner_role: str = Field(max_length=80)
    owner_id: str | None = Field(default=None, max_length=18)
    owner_unassigned: bool = False
    audience: str = Field(max_length=20)
    effort: float
    customer_plan: bool = False
    status: str = Field(default="not_started", max_length=20)
    planned_start: date
    planned_end: date
    baseline_start: date
    baseline_end: date
    actual_start: date | None = None
    actual_end: date | None = None
    blocked_since: date | None = None
    is_critical: bool = False
    depends_on: list[Any] = Field(default_factory=list, sa_column=Column(JSON))


class ProjectMilestone(SQLModel, table=True):
    """A milestone of a project: kick-off, go-live, first value, others."""

    __tablename__ = "project_milestone"
    __table_args__ = (UniqueConstraint("project_id", "milestone_key"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    milestone_key: str = Field(max_length=80)
    kind: str = Field(max_length=20)
    name: str
    planned: date
    baseline: date
    actual: date | None = None
    # The task keys whose completion reaches this milestone.
    after: list[str] = Field(default_factory=list, sa_column=Column(JSON))


class ProjectEvent(SQLModel, table=True):
    """Who changed what, when: task status, sentiment, notes, holds."""

    __tablename__ = "project_event"
    __table_args__ = (Index("ix_project_event_project_at", "project_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    kind: str = Field(max_length=30)
    task_key: str | None = Field(default=None, max_length=80)
    actor: str | None = None
    from_value: str | None = None
    to_value: str | None = None
    note: str | None = None
    data: dict[str, Any] = _json()


class KpiSnapshot(SQLModel, table=True):
    """A project's KPIs and health as computed on one day."""

    __tablename__ = "kpi_snapshot"
    # Reports read one day across all projects; the key leads with project.
    __table_args__ = (Index("ix_kpi_snapshot_day", "day"),)

    project_id: int = Field(foreign_key="project.id", primary_key=True)
    day: date = Field(primary_key=True)
    computed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    data_as_of: datetime | None = _utc()
    health: str = Field(max_length=10)
    data: dict[str, Any] = _json()


class OutboxRow(SQLModel, table=True):
    """One record's field changes waiting to be written to Salesforce."""

    __tablename__ = "push_outbox"
    __table_args__ = (Index("ix_push_outbox_status", "status", "sobject"),)

    id: int | None = Field(default=None, primary_key=True)
    sobject: str = Field(max_length=80)
    record_id: str = Field(max_length=18)
    group_key: str | None = Field(default=None, max_length=18)
    fields: dict[str, Any] = _json()
    previous: dict[str, Any] = _json()
    status: str = Field(default="pending", max_length=20)
    attempts: int = 0
    error_code: str | None = None
    error: str | None = None
    created_at: datetime | None = _utc()
    updated_at: datetime | None = _utc()
    next_attempt_at: datetime | None = _utc()
    sent_at: datetime | None = _utc()


class JobLock(SQLModel, table=True):
    """A lease on a job, for databases without advisory locks (SQLite)."""

    __tablename__ = "job_lock"

    name: str = Field(primary_key=True, max_length=80)
    holder: str = Field(max_length=80)
    acquired_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
