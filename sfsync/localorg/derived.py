"""Fields Salesforce computes on save: stages, names, addresses, task state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sfsync.localorg.store import Row, Store

__all__ = ["STAGES", "derive"]

# Default-org OpportunityStage settings: probability, forecast category name,
# closed, won.
STAGES: dict[str, tuple[int, str, bool, bool]] = {
    "Prospecting": (10, "Pipeline", False, False),
    "Qualification": (10, "Pipeline", False, False),
    "Needs Analysis": (20, "Pipeline", False, False),
    "Value Proposition": (50, "Pipeline", False, False),
    "Id. Decision Makers": (60, "Pipeline", False, False),
    "Perception Analysis": (70, "Pipeline", False, False),
    "Proposal/Price Quote": (75, "Pipeline", False, False),
    "Negotiation/Review": (90, "Pipeline", False, False),
    "Closed Won": (100, "Closed", True, True),
    "Closed Lost": (0, "Omitted", True, False),
}
_FORECAST_CATEGORY = {
    "Omitted": "Omitted",
    "Pipeline": "Pipeline",
    "Best Case": "BestCase",
    "Commit": "Forecast",
    "Closed": "Closed",
}
_ADDRESS_PARTS = (
    "Street",
    "City",
    "State",
    "PostalCode",
    "Country",
    "Latitude",
    "Longitude",
    "GeocodeAccuracy",
)


def derive(sobject: str, row: Row, before: Row | None, store: Store) -> None:
    """Recompute the read-only fields of ``row`` after a write."""
    if sobject == "Opportunity":
        _opportunity(row, before, store)
    elif sobject in ("Contact", "User"):
        parts = [row.get("FirstName"), row.get("LastName")]
        row["Name"] = " ".join(p for p in parts if p) or None
        if sobject == "Contact":
            _address(row, "Mailing")
    elif sobject == "Account":
        _address(row, "Billing")
        _address(row, "Shipping")
    elif sobject == "Task":
        _task(row, store)


def _opportunity(row: Row, before: Row | None, store: Store) -> None:
    stage = row.get("StageName")
    changed = before is None or before.get("StageName") != stage
    setting = STAGES.get(stage) if isinstance(stage, str) else None
    if setting is not None:
        probability, category, closed, won = setting
        if changed and _untouched(row, before, "Probability"):
            row["Probability"] = float(probability)
        if closed or (changed and _untouched(row, before, "ForecastCategoryName")):
            row["ForecastCategoryName"] = category
        row["IsClosed"] = closed
        row["IsWon"] = won
    if before is not None and changed:
        row["LastStageChangeDate"] = row.get("SystemModstamp")
    row["ForecastCategory"] = _FORECAST_CATEGORY.get(
        str(row.get("ForecastCategoryName"))
    )
    amount, chance = row.get("Amount"), row.get("Probability")
    row["ExpectedRevenue"] = (
        float(amount) * float(chance) / 100
        if amount is not None and chance is not None
        else None
    )
    close = row.get("CloseDate")
    if isinstance(close, str) and len(close) >= 7:
        year, month = int(close[:4]), int(close[5:7])
        quarter = (month - 1) // 3 + 1
        row["FiscalYear"], row["FiscalQuarter"] = year, quarter
        row["Fiscal"] = f"{year} {quarter}"
    for flag in (
        "IsPrivate",
        "HasOpportunityLineItem",
        "HasOpenActivity",
        "HasOverdueTask",
    ):
        if row.get(flag) is None:
            row[flag] = False
    del store  # stage settings are org-wide constants here


def _untouched(row: Row, before: Row | None, name: str) -> bool:
    """True when this write did not set ``name`` itself."""
    if before is None:
        return row.get(name) is None
    return bool(row.get(name) == before.get(name))


def _address(row: Row, prefix: str) -> None:
    values: dict[str, Any] = {
        part[0].lower() + part[1:]: row.get(prefix + part) for part in _ADDRESS_PARTS
    }
    if all(v is None for v in values.values()):
        row[prefix + "Address"] = None
    else:
        row[prefix + "Address"] = dict(sorted(values.items()))


def _task(row: Row, store: Store) -> None:
    row["IsClosed"] = row.get("Status") == "Completed"
    row["IsHighPriority"] = row.get("Priority") == "High"
    if row["IsClosed"] and row.get("CompletedDateTime") is None:
        row["CompletedDateTime"] = row.get("LastModifiedDate")
    if row.get("TaskSubtype") is None:
        row["TaskSubtype"] = "Task"
    row["AccountId"] = None
    for field_name in ("WhatId", "WhoId"):
        related = row.get(field_name)
        found = store.find(related) if related else None
        if found is None:
            continue
        obj, parent = found
        row["AccountId"] = (
            parent["Id"] if obj.name == "Account" else parent.get("AccountId")
        )
        if row["AccountId"]:
            break
