"""The push mapping: which local values are written to which Salesforce fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

from sfsync.errors import ConfigError, DescribeMismatchError
from sfsync.kpi.snapshot import KpiSnapshot
from sfsync.store.models import Project
from sfsync.yamlfile import load_located_yaml

__all__ = [
    "ACCOUNT_ROLLUPS",
    "FIELD_TYPES",
    "PushField",
    "PushMapping",
    "check_push_describe",
    "load_push_mapping",
]

# Describe types a pushed field of each type may have in the org.
FIELD_TYPES: dict[str, frozenset[str]] = {
    "text": frozenset({"string", "textarea"}),
    "picklist": frozenset({"picklist"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"datetime"}),
    "number": frozenset({"double", "int", "currency"}),
    "percent": frozenset({"percent", "double"}),
    "boolean": frozenset({"boolean"}),
}

ACCOUNT_ROLLUPS = frozenset(
    {"active_projects", "projects", "worst_health", "next_go_live"}
)
# What a KPI snapshot row holds: the engine's snapshot, the values the KPI
# step stores beside it for CRM users, and the row's own time stamps.
KPI_KEYS = frozenset(
    {f.name for f in dataclass_fields(KpiSnapshot)}
    | {
        "onboarding_status",
        "current_phase",
        "probability_on_target_percent",
        "computed_at",
        "data_as_of",
    }
)
SOURCES_BY_OBJECT = {"Opportunity": ("project", "kpi"), "Account": ("account",)}
FIELD_KEYS = frozenset(
    {
        "source",
        "type",
        "values",
        "length",
        "precision",
        "scale",
        "label",
        "description",
        "with_changes",
    }
)


@dataclass(frozen=True)
class PushField:
    """One Salesforce field the push writes, and where its value comes from."""

    sobject: str
    name: str
    source: str
    type: str
    line: int
    path: Path
    values: Mapping[str, str] = field(default_factory=dict)
    length: int = 255
    precision: int = 18
    scale: int = 0
    label: str = ""
    description: str = ""
    # Written only together with another changed field of the record: a
    # time stamp that moves every run must not turn an idle cycle into writes.
    with_changes: bool = False

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def source_kind(self) -> str:
        return self.source.partition(".")[0]

    @property
    def source_key(self) -> str:
        return self.source.partition(".")[2]


@dataclass(frozen=True)
class PushMapping:
    """Every pushed field, by sObject, as read from ``mappings/push.yaml``."""

    path: Path
    objects: Mapping[str, tuple[PushField, ...]]

    def fields_for(self, sobject: str) -> tuple[str, ...]:
        """The API names pushed on ``sobject`` (the pull reads them back)."""
        return tuple(f.name for f in self.objects.get(sobject, ()))

    def lookup(self, sobject: str, name: str) -> PushField:
        for candidate in self.objects.get(sobject, ()):
            if candidate.name.lower() == name.lower():
                return candidate
        raise KeyError(f"{sobject}.{name}")


def load_push_mapping(path: Path) -> PushMapping:
    """Read the push mapping; every problem names the file, line and key."""
    doc = load_located_yaml(path)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("objects"), dict):
        raise ConfigError(
            f"{path}:1: expected a top-level 'objects' mapping",
            hint="see the comment at the top of mappings/push.yaml for the layout",
        )
    unknown = set(data) - {"objects", "description"}
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(f"{doc.where(key)}: unknown key '{key}'")
    objects: dict[str, tuple[PushField, ...]] = {}
    for sobject, spec in data["objects"].items():
        where = doc.where("objects", sobject)
        if sobject not in SOURCES_BY_OBJECT:
            raise ConfigError(
                f"{where}: sfsync pushes to {sorted(SOURCES_BY_OBJECT)}, "
                f"not {sobject!r}"
            )
        if not isinstance(spec, dict) or not isinstance(spec.get("fields"), dict):
            raise ConfigError(f"{where}: '{sobject}' needs a 'fields' mapping")
        objects[sobject] = tuple(
            _field(doc, path, sobject, str(name), value)
            for name, value in spec["fields"].items()
        )
    return PushMapping(path=path, objects=objects)


def _field(doc: Any, path: Path, sobject: str, name: str, spec: Any) -> PushField:
    key = ("objects", sobject, "fields", name)
    where = doc.where(*key)
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: '{name}' needs at least source and type")
    extra = set(spec) - FIELD_KEYS
    if extra:
        raise ConfigError(
            f"{where}: unknown key '{sorted(extra)[0]}' under '{name}'",
            hint=f"the keys are {', '.join(sorted(FIELD_KEYS))}",
        )
    kind = spec.get("type")
    if kind not in FIELD_TYPES:
        raise ConfigError(
            f"{where}: type {kind!r} of '{name}' is not one of {sorted(FIELD_TYPES)}"
        )
    source = spec.get("source")
    _check_source(where, sobject, name, source)
    values = spec.get("values", {})
    if isinstance(values, list):
        values = {str(v): str(v) for v in values}
    if kind == "picklist" and (not isinstance(values, dict) or not values):
        raise ConfigError(
            f"{where}: picklist '{name}' needs 'values' (a list, or local value -> "
            "Salesforce value)"
        )
    numbers = {k: spec.get(k) for k in ("length", "precision", "scale") if k in spec}
    for number_key, number in numbers.items():
        if not isinstance(number, int) or number < 0:
            raise ConfigError(
                f"{where}: '{number_key}' of '{name}' must be a whole number >= 0"
            )
    return PushField(
        sobject=sobject,
        name=name,
        source=str(source),
        type=str(kind),
        line=doc.line(*key),
        path=path,
        values={str(k): str(v) for k, v in dict(values).items()},
        length=int(spec.get("length", 255)),
        precision=int(spec.get("precision", 18)),
        scale=int(spec.get("scale", 0)),
        label=str(spec.get("label") or name.removesuffix("__c").replace("_", " ")),
        description=str(spec.get("description", "")),
        with_changes=bool(spec.get("with_changes", False)),
    )


def _check_source(where: str, sobject: str, name: str, source: Any) -> None:
    allowed = SOURCES_BY_OBJECT[sobject]
    kind, dot, key = str(source).partition(".")
    if not isinstance(source, str) or not dot or kind not in allowed or not key:
        raise ConfigError(
            f"{where}: source {source!r} of '{name}' must look like "
            f"{' or '.join(a + '.<name>' for a in allowed)}"
        )
    if kind == "project" and key not in Project.model_fields:
        raise ConfigError(
            f"{where}: '{key}' is not a column of the project table",
            hint=f"use one of {', '.join(sorted(Project.model_fields))}",
        )
    if kind == "kpi" and key not in KPI_KEYS:
        raise ConfigError(
            f"{where}: '{key}' is not a value of a KPI snapshot",
            hint=f"use one of {', '.join(sorted(KPI_KEYS))} (docs/kpis.md)",
        )
    if kind == "account" and key not in ACCOUNT_ROLLUPS:
        raise ConfigError(
            f"{where}: account rollup '{key}' is unknown",
            hint=f"use one of {', '.join(sorted(ACCOUNT_ROLLUPS))}",
        )


def check_push_describe(
    fields: tuple[PushField, ...], describe: Mapping[str, Any]
) -> None:
    """Check each pushed field exists, is updateable and of a compatible type.

    Raises before anything is written, naming the file, line and field.
    """
    by_name = {f["name"].lower(): f for f in describe.get("fields", [])}
    problems: list[str] = []
    for pushed in fields:
        info = by_name.get(pushed.name.lower())
        label = f"{pushed.where}: {pushed.sobject}.{pushed.name}"
        if info is None:
            problems.append(
                f"{label} is missing or not visible to the integration user"
            )
        elif not info.get("updateable", False):
            problems.append(f"{label} is not updateable by the integration user")
        elif info.get("type") not in FIELD_TYPES[pushed.type]:
            problems.append(
                f"{label} is of type {info.get('type')} in the org, which does not "
                f"fit type '{pushed.type}'"
            )
    if problems:
        raise DescribeMismatchError(
            "; ".join(problems),
            hint="deploy the fields with `sfsync metadata export DIR` and grant the "
            "integration user edit access, or fix mappings/push.yaml",
        )
