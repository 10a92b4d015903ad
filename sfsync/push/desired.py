"""What Salesforce should hold: pushed field values from projects and KPI snapshots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from sfsync.push.format import to_wire
from sfsync.push.mapping import PushField, PushMapping
from sfsync.store.db import Store
from sfsync.store.models import Account, KpiSnapshot, Opportunity, Project

__all__ = [
    "ProjectState",
    "PushInputs",
    "RecordValues",
    "account_values",
    "desired_records",
    "load_push_inputs",
    "opportunity_values",
]

HEALTH_RANK = {"Green": 0, "Amber": 1, "Red": 2}
# A field left out of the desired values is left as Salesforce holds it.
_UNKNOWN = object()


@dataclass(frozen=True)
class ProjectState:
    """A project's columns and its latest KPI snapshot (None before the first)."""

    columns: Mapping[str, Any]
    kpi: Mapping[str, Any] | None = None

    @property
    def opportunity_id(self) -> str:
        return str(self.columns["opportunity_id"])

    @property
    def account_id(self) -> str | None:
        value = self.columns.get("account_id")
        return str(value) if value else None


@dataclass(frozen=True)
class RecordValues:
    """The values one Salesforce record should hold in its pushed fields."""

    sobject: str
    record_id: str
    group_key: str | None
    values: dict[str, Any]


@dataclass
class PushInputs:
    """Everything the diff needs from the store, read in one session."""

    projects: list[ProjectState] = field(default_factory=list)
    # (sobject, record id) -> pushed fields as Salesforce last held them,
    # for live (not deleted) records of the local mirror only.
    held: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)


def _source_value(pushed: PushField, state: ProjectState) -> Any:
    if pushed.source_kind == "project":
        return state.columns.get(pushed.source_key)
    if state.kpi is None or pushed.source_key not in state.kpi:
        return _UNKNOWN
    return state.kpi[pushed.source_key]


def opportunity_values(
    fields: Sequence[PushField], state: ProjectState
) -> dict[str, Any]:
    """The wire values of the opportunity's pushed fields; unknown ones left out."""
    values: dict[str, Any] = {}
    for pushed in fields:
        raw = _source_value(pushed, state)
        if raw is not _UNKNOWN:
            values[pushed.name] = to_wire(pushed, raw)
    return values


def _rollup(key: str, states: Sequence[ProjectState]) -> Any:
    active = [s for s in states if s.columns.get("status") == "active"]
    if key == "projects":
        return len(states)
    if key == "active_projects":
        return len(active)
    healths = [s.kpi.get("health") for s in active if s.kpi]
    if key == "worst_health":
        known = [h for h in healths if h in HEALTH_RANK]
        return max(known, key=HEALTH_RANK.__getitem__) if known else None
    if key == "next_go_live":
        dates = [
            str(s.kpi["go_live_likely"])
            for s in active
            if s.kpi and s.kpi.get("go_live_likely")
        ]
        return min(dates) if dates else None
    raise KeyError(key)


def account_values(
    fields: Sequence[PushField], states: Sequence[ProjectState]
) -> dict[str, Any]:
    """The wire values of an account's pushed fields, rolled up over its projects."""
    return {p.name: to_wire(p, _rollup(p.source_key, states)) for p in fields}


def desired_records(
    mapping: PushMapping,
    projects: Iterable[ProjectState],
    *,
    live: Iterable[tuple[str, str]] | None = None,
) -> list[RecordValues]:
    """Desired values for every opportunity with a project and every account of one.

    ``live`` limits the result to records that exist in the local mirror and
    are not deleted; an update to a deleted record could only fail.
    """
    allowed = set(live) if live is not None else None
    opp_fields = mapping.objects.get("Opportunity", ())
    acc_fields = mapping.objects.get("Account", ())
    by_account: dict[str, list[ProjectState]] = defaultdict(list)
    records: list[RecordValues] = []
    for state in projects:
        if state.account_id:
            by_account[state.account_id].append(state)
        key = ("Opportunity", state.opportunity_id)
        if opp_fields and (allowed is None or key in allowed):
            records.append(
                RecordValues(
                    "Opportunity",
                    state.opportunity_id,
                    state.account_id or state.opportunity_id,
                    opportunity_values(opp_fields, state),
                )
            )
    for account_id, states in sorted(by_account.items()):
        if acc_fields and (allowed is None or ("Account", account_id) in allowed):
            records.append(
                RecordValues(
                    "Account",
                    account_id,
                    account_id,
                    account_values(acc_fields, states),
                )
            )
    return records


def _latest_snapshots(session: Session) -> dict[int, dict[str, Any]]:
    latest = (
        select(KpiSnapshot.project_id, func.max(KpiSnapshot.day).label("day"))
        .group_by(col(KpiSnapshot.project_id))
        .subquery()
    )
    query = select(KpiSnapshot).join(
        latest,
        (col(KpiSnapshot.project_id) == latest.c.project_id)
        & (col(KpiSnapshot.day) == latest.c.day),
    )
    snapshots: dict[int, dict[str, Any]] = {}
    for snapshot in session.exec(query):
        data = dict(snapshot.data)
        # The column is the health of record; the JSON may predate a rule change.
        data["health"] = snapshot.health
        data["computed_at"] = snapshot.computed_at
        data["data_as_of"] = snapshot.data_as_of
        snapshots[snapshot.project_id] = data
    return snapshots


def load_push_inputs(store: Store) -> PushInputs:
    """Read projects, their latest KPI snapshots and the records' pushed values."""
    inputs = PushInputs()
    with store.session() as session:
        snapshots = _latest_snapshots(session)
        for project in session.exec(select(Project).order_by(col(Project.id))):
            columns = project.model_dump()
            kpi = snapshots.get(project.id) if project.id is not None else None
            inputs.projects.append(ProjectState(columns, kpi))
        # Only records that have a project can receive pushed values.
        opportunities = session.exec(
            select(Opportunity.id, Opportunity.sf_pushed)
            .join(Project, col(Project.opportunity_id) == col(Opportunity.id))
            .where(col(Opportunity.is_deleted).is_(False))
        )
        for record_id, pushed in opportunities:
            inputs.held[("Opportunity", record_id)] = dict(pushed or {})
        accounts = session.exec(
            select(Account.id, Account.sf_pushed).where(
                col(Account.is_deleted).is_(False),
                col(Account.id).in_(select(Project.account_id)),
            )
        )
        for record_id, pushed in accounts:
            inputs.held[("Account", record_id)] = dict(pushed or {})
    return inputs
