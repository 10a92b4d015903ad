"""The handoff: a won deal becomes a scheduled project; a lost one is put on hold.

Instantiation is idempotent. One project per opportunity is a database
constraint, and the project row is inserted with ON CONFLICT DO NOTHING, so
re-runs and concurrent replicas create nothing twice. A project is never
deleted: an opportunity that stops being won puts it on hold with the reason,
and the same project resumes when the deal is won again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from sfsync.calendar import BusinessCalendar
from sfsync.errors import ConfigError
from sfsync.handoff_rules import HandoffRules, load_handoff_rules
from sfsync.logs import get_logger
from sfsync.mapping import ObjectMapping
from sfsync.playbooks import Playbook, Schedule, load_playbooks, schedule
from sfsync.runs import RunStats, recorded_run
from sfsync.store.db import Store, upsert_insert
from sfsync.store.models import (
    Account,
    Opportunity,
    Project,
    ProjectEvent,
    ProjectMilestone,
    ProjectPhase,
    ProjectTask,
)

__all__ = ["HandoffConfig", "HandoffResult", "handoff", "run_handoff", "sf_view"]

log = get_logger(__name__)


def sf_view(mapping: ObjectMapping, row: Any) -> dict[str, Any]:
    """A local row seen through its mapping: Salesforce field name -> value."""
    if row is None:
        return {}
    view: dict[str, Any] = {}
    for fmap in mapping.fields:
        if fmap.column.startswith("extra."):
            view[fmap.field] = (row.extra or {}).get(fmap.column.removeprefix("extra."))
        else:
            view[fmap.field] = getattr(row, fmap.column, None)
    return view


@dataclass
class HandoffConfig:
    """Playbooks, rules and calendar for instantiating projects."""

    playbooks: dict[str, Playbook]
    rules: HandoffRules
    calendar: BusinessCalendar
    mappings: Mapping[str, ObjectMapping]

    @classmethod
    def load(
        cls,
        *,
        config_dir: Path,
        mappings_dir: Path,
        mappings: Mapping[str, ObjectMapping],
        country: str,
    ) -> HandoffConfig:
        playbooks = load_playbooks(config_dir / "playbooks")
        known = {
            "opportunity": {f.field for f in mappings["Opportunity"].fields},
            "account": {f.field for f in mappings["Account"].fields},
        }
        rules = load_handoff_rules(
            mappings_dir / "handoff.yaml",
            known_fields=known,
            playbook_keys=set(playbooks),
        )
        mapped = known["opportunity"]
        for playbook in playbooks.values():
            for role, source in playbook.roles.items():
                if source.from_field and source.from_field not in mapped:
                    raise ConfigError(
                        f"playbook {playbook.key}: role '{role}' is resolved from "
                        f"Opportunity.{source.from_field}, which sfsync does not "
                        "mirror",
                        hint=f"add {source.from_field} to "
                        f"{mappings['Opportunity'].path} or change the role's "
                        "from_field",
                    )
        return cls(playbooks, rules, BusinessCalendar(country), mappings)

    @cached_property
    def field_to_column(self) -> dict[str, str]:
        return {f.field: f.column for f in self.mappings["Opportunity"].fields}


@dataclass
class HandoffResult:
    created: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    resumed: list[int] = field(default_factory=list)
    unassigned_roles: int = 0


def _handoff_date(opportunity: Opportunity, today: date) -> date:
    # The close date is when the deal was won; a missing or future one (data
    # entered late or wrong) falls back to the day the win was seen.
    if opportunity.close_date is None or opportunity.close_date > today:
        return today
    return opportunity.close_date


def _insert_projects(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert projects unless they exist; opportunity id -> id of those made here."""
    if not rows:
        return {}
    table = Project.__table__  # type: ignore[attr-defined]
    statement = (
        upsert_insert(session, table)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["opportunity_id"])
        .returning(table.c.id, table.c.opportunity_id)
    )
    return {opp_id: project_id for project_id, opp_id in session.execute(statement)}


def _insert_many(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(model.__table__.insert(), rows)


def _hold_reason(opportunity: Opportunity) -> str:
    if opportunity.is_deleted:
        return "opportunity deleted in Salesforce"
    if opportunity.is_closed and not opportunity.is_won:
        return f"opportunity closed lost ({opportunity.stage_name})"
    return f"opportunity reopened (stage {opportunity.stage_name})"


class _Instantiator:
    def __init__(self, config: HandoffConfig, now: datetime, today: date) -> None:
        self.config = config
        self.now = now
        self.today = today

    def owner(
        self, playbook: Playbook, role: str, opp_view: Mapping[str, Any]
    ) -> tuple[str | None, bool]:
        """The user a role resolves to, and whether it is left unassigned."""
        source = playbook.roles.get(role)
        if source is None or source.customer or source.from_field is None:
            return None, False
        value = opp_view.get(source.from_field)
        return value, value is None

    def plan(self, opp: Opportunity, account: Account | None) -> _Planned:
        opp_view = sf_view(self.config.mappings["Opportunity"], opp)
        account_view = (
            sf_view(self.config.mappings["Account"], account) if account else None
        )
        choice = self.config.rules.choose(opp_view, account_view)
        playbook = self.config.playbooks[choice.playbook_key]
        start = _handoff_date(opp, self.today)
        dated = schedule(playbook, start=start, calendar=self.config.calendar)
        row = {
            "opportunity_id": opp.id,
            "account_id": opp.account_id,
            "name": opp.name,
            "playbook_key": playbook.key,
            "playbook_version": playbook.version,
            "rule": choice.rule_name,
            "segment": (account.segment if account else None) or playbook.segment,
            "status": "active",
            "handoff_date": start,
            "close_date": opp.close_date,
            "target_go_live": opp.target_go_live or dated.end,
            "baseline_go_live": dated.end,
            "calendar_country": self.config.calendar.country,
            "created_at": self.now,
            "updated_at": self.now,
        }
        return _Planned(opp, opp_view, playbook, dated, choice.rule_name, row)

    def children(
        self, project_id: int, planned: _Planned
    ) -> tuple[dict[str, list[dict[str, Any]]], int]:
        playbook, dated = planned.playbook, planned.schedule
        rows: dict[str, list[dict[str, Any]]] = {
            "phases": [],
            "tasks": [],
            "milestones": [],
            "events": [],
        }
        unassigned = 0
        for position, phase in enumerate(playbook.phases):
            rows["phases"].append(
                {
                    "project_id": project_id,
                    "phase_key": phase.id,
                    "name": phase.name,
                    "position": position,
                    "checklist": {
                        item.id: {"text": item.text, "done": False}
                        for item in phase.checklist
                    },
                }
            )
            for task in phase.tasks:
                scheduled = dated.tasks[task.id]
                owner_id, flagged = self.owner(playbook, task.owner_role, planned.view)
                unassigned += flagged
                effort = task.effort if task.effort is not None else task.duration
                rows["tasks"].append(
                    {
                        "project_id": project_id,
                        "task_key": task.id,
                        "phase_key": phase.id,
                        "title": task.title,
                        "duration": task.duration,
                        "owner_role": task.owner_role,
                        "owner_id": owner_id,
                        "owner_unassigned": flagged,
                        "audience": task.audience,
                        "effort": float(effort),
                        "customer_plan": task.customer_plan,
                        "status": "not_started",
                        "planned_start": scheduled.planned_start,
                        "planned_end": scheduled.planned_end,
                        "baseline_start": scheduled.planned_start,
                        "baseline_end": scheduled.planned_end,
                        "is_critical": scheduled.is_critical,
                        "depends_on": [d.model_dump() for d in task.depends_on],
                    }
                )
        for milestone in playbook.milestones:
            when = dated.milestones[milestone.id].planned_date
            rows["milestones"].append(
                {
                    "project_id": project_id,
                    "milestone_key": milestone.id,
                    "kind": milestone.kind,
                    "name": milestone.name,
                    "planned": when,
                    "baseline": when,
                    "after": list(milestone.after),
                }
            )
        rows["events"].append(
            {
                "project_id": project_id,
                "at": self.now,
                "kind": "project_created",
                "actor": "sfsync",
                "to_value": playbook.key,
                "note": f"playbook {playbook.key} v{playbook.version} chosen by rule "
                f"{planned.rule}",
                "data": {"unassigned_roles": unassigned},
            }
        )
        return rows, unassigned

    def create_batch(
        self, session: Session, batch: list[tuple[Opportunity, Account | None]]
    ) -> tuple[list[int], int]:
        planned = [self.plan(opp, account) for opp, account in batch]
        made = _insert_projects(session, [p.row for p in planned])
        children: dict[str, list[dict[str, Any]]] = {
            "phases": [],
            "tasks": [],
            "milestones": [],
            "events": [],
        }
        unassigned = 0
        for item in planned:
            project_id = made.get(item.opportunity.id)
            if project_id is None:
                continue  # another run made it first
            rows, flagged = self.children(project_id, item)
            unassigned += flagged
            for key, values in rows.items():
                children[key].extend(values)
        _insert_many(session, ProjectPhase, children["phases"])
        _insert_many(session, ProjectTask, children["tasks"])
        _insert_many(session, ProjectMilestone, children["milestones"])
        _insert_many(session, ProjectEvent, children["events"])
        return list(made.values()), unassigned


@dataclass
class _Planned:
    opportunity: Opportunity
    view: dict[str, Any]
    playbook: Playbook
    schedule: Schedule
    rule: str
    row: dict[str, Any]


BATCH = 100


def handoff(
    store: Store,
    config: HandoffConfig,
    *,
    today: date,
    now: datetime | None = None,
    run: RunStats | None = None,
    opportunity_ids: list[str] | None = None,
) -> HandoffResult:
    """Create, hold or resume projects so that they match the opportunities' state."""
    now = now or datetime.now(UTC)
    result = HandoffResult()
    maker = _Instantiator(config, now, today)
    with store.session() as session:
        query = select(Opportunity, Project.id, Project.status).outerjoin(
            Project,
            Project.opportunity_id == Opportunity.id,  # type: ignore[arg-type]
        )
        if opportunity_ids is not None:
            query = query.where(Opportunity.id.in_(opportunity_ids))  # type: ignore[attr-defined]
        rows = list(session.exec(query))
    opp_mapping = config.mappings["Opportunity"]
    to_create: list[Opportunity] = []
    for opp, project_id, status in rows:
        won = not opp.is_deleted and config.rules.is_handed_off(
            sf_view(opp_mapping, opp)
        )
        if won and project_id is None:
            to_create.append(opp)
        elif won and status == "on_hold" and project_id is not None:
            _set_status(
                store,
                project_id,
                "active",
                None,
                "project_resumed",
                now,
                "opportunity won again",
            )
            result.resumed.append(project_id)
        elif not won and project_id is not None and status == "active":
            reason = _hold_reason(opp)
            _set_status(
                store, project_id, "on_hold", reason, "project_on_hold", now, reason
            )
            result.held.append(project_id)
    account_ids = {o.account_id for o in to_create if o.account_id}
    with store.session() as session:
        accounts = (
            {
                a.id: a
                for a in session.exec(
                    select(Account).where(col(Account.id).in_(account_ids))
                )
            }
            if account_ids
            else {}
        )
    # Projects commit in batches, each with all its children: a crash loses
    # at most the batch in flight, never half a project.
    for first in range(0, len(to_create), BATCH):
        batch = [
            (opp, accounts.get(opp.account_id or ""))
            for opp in to_create[first : first + BATCH]
        ]
        with store.transaction() as session:
            made, unassigned = maker.create_batch(session, batch)
        result.created.extend(made)
        result.unassigned_roles += unassigned
    if run is not None:
        run.read += len(rows)
        run.written += len(result.created) + len(result.held) + len(result.resumed)
        run.details.update(
            created=len(result.created),
            held=len(result.held),
            resumed=len(result.resumed),
            unassigned_roles=result.unassigned_roles,
        )
    if result.unassigned_roles:
        log.warning(
            "handoff_roles_unassigned",
            tasks=result.unassigned_roles,
            hint="set the onboarding manager on the opportunity in Salesforce",
        )
    return result


def _set_status(
    store: Store,
    project_id: int,
    status: str,
    reason: str | None,
    kind: str,
    now: datetime,
    note: str,
) -> None:
    with store.transaction() as session:
        project = session.get(Project, project_id)
        if project is None or project.status == status:
            return
        before = project.status
        project.status = status
        project.hold_reason = reason
        project.updated_at = now
        session.add(project)
        session.add(
            ProjectEvent(
                project_id=project_id,
                at=now,
                kind=kind,
                actor="sfsync",
                from_value=before,
                to_value=status,
                note=note,
            )
        )


def run_handoff(app: Any, *, today: date) -> HandoffResult:
    """The cycle's handoff step, recorded as its own run."""
    config = HandoffConfig.load(
        config_dir=app.settings.config_dir,
        mappings_dir=app.settings.mappings_dir,
        mappings=app.mappings,
        country=app.settings.holiday_country,
    )
    with recorded_run(app.store, "handoff") as run:
        return handoff(app.store, config, today=today, run=run)
