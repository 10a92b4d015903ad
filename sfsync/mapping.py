"""Field mappings: which Salesforce fields land in which local columns, and how."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlmodel import SQLModel

from sfsync.errors import ConfigError, DescribeMismatchError
from sfsync.store.models import Account, Opportunity
from sfsync.yamlfile import load_located_yaml

__all__ = [
    "ConversionStats",
    "FieldMap",
    "ObjectMapping",
    "check_against_describe",
    "load_mapping",
    "parse_sf_datetime",
]

TABLES: dict[str, type[SQLModel]] = {"Account": Account, "Opportunity": Opportunity}

# Describe types each mapping kind accepts. A kind reads its value the same
# way whichever of these the org reports.
COMPATIBLE: dict[str, frozenset[str]] = {
    "id": frozenset({"id"}),
    "text": frozenset(
        {
            "string",
            "textarea",
            "email",
            "phone",
            "url",
            "picklist",
            "combobox",
            "id",
            "reference",
            "multipicklist",
        }
    ),
    "picklist": frozenset({"picklist", "string", "combobox"}),
    "reference": frozenset({"reference", "id"}),
    "boolean": frozenset({"boolean"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"datetime"}),
    "currency": frozenset({"currency", "double"}),
    "percent": frozenset({"percent", "double"}),
    "number": frozenset({"double", "currency", "percent", "int"}),
    "integer": frozenset({"int", "double"}),
}

# Columns every pull needs whatever the mapping says.
SYSTEM_FIELDS = {
    "id": ("Id", "id"),
    "system_modstamp": ("SystemModstamp", "datetime"),
    "is_deleted": ("IsDeleted", "boolean"),
}


@dataclass(frozen=True)
class FieldMap:
    column: str
    field: str
    kind: str
    line: int
    optional: bool = False


@dataclass
class ConversionStats:
    """Repairs made while converting records, reported once per run."""

    nul_bytes_removed: int = 0


@dataclass(frozen=True)
class ObjectMapping:
    """The mapping of one sObject onto its local table."""

    sobject: str
    table: type[SQLModel]
    fields: tuple[FieldMap, ...]
    path: Path

    def soql_fields(self, *, skip: frozenset[str] = frozenset()) -> list[str]:
        return [f.field for f in self.fields if f.field not in skip]

    def by_field(self) -> dict[str, FieldMap]:
        return {f.field.lower(): f for f in self.fields}

    def convert(
        self,
        record: Mapping[str, Any],
        *,
        stats: ConversionStats | None = None,
        skip: frozenset[str] = frozenset(),
    ) -> dict[str, Any]:
        """Turn one wire record (REST JSON or Bulk CSV strings) into column values."""
        row: dict[str, Any] = {}
        for fmap in self.fields:
            if fmap.field in skip:
                continue
            raw = record.get(fmap.field)
            try:
                row[fmap.column] = convert_value(fmap.kind, raw, stats)
            except (ValueError, InvalidOperation) as exc:
                raise ConfigError(
                    f"{self.sobject} {record.get('Id')}: field {fmap.field} holds "
                    f"{raw!r}, which is not a {fmap.kind} ({exc})",
                    hint=f"fix the kind of '{fmap.column}' in {self.path}",
                ) from None
        return row


def parse_sf_datetime(text: str) -> datetime:
    """Parse Salesforce's datetime forms (+0000, Z, with or without millis) to UTC."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    elif len(value) > 5 and value[-5] in "+-" and value[-4:].isdigit():
        value = value[:-2] + ":" + value[-2:]
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"datetime {text!r} has no zone")
    return parsed.astimezone(UTC)


def _text(raw: Any, stats: ConversionStats | None) -> str | None:
    if raw is None:
        return None
    text = str(raw)
    if "\x00" in text:
        if stats is not None:
            stats.nul_bytes_removed += text.count("\x00")
        text = text.replace("\x00", "")
    # Bulk API 2.0 CSV writes null as an empty field; Salesforce does not
    # distinguish an empty text from null either.
    return text or None


def convert_value(kind: str, raw: Any, stats: ConversionStats | None = None) -> Any:
    if raw is None or (isinstance(raw, str) and raw == ""):
        return False if kind == "boolean" else None
    if kind in {"text", "picklist", "id", "reference"}:
        return _text(raw, stats)
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        lowered = str(raw).strip().lower()
        if lowered not in {"true", "false"}:
            raise ValueError("expected true or false")
        return lowered == "true"
    if kind == "date":
        # A date is a calendar day: never routed through a zoned datetime.
        return date.fromisoformat(str(raw)[:10])
    if kind == "datetime":
        return parse_sf_datetime(str(raw))
    if kind == "currency":
        return Decimal(str(raw))
    if kind in {"percent", "number"}:
        return float(raw)
    if kind == "integer":
        number = Decimal(str(raw))
        if number != number.to_integral_value():
            raise ValueError("expected a whole number")
        return int(number)
    raise ValueError(f"unknown kind {kind}")


def load_mapping(path: Path) -> ObjectMapping:
    """Read one mapping file; every problem names the file, line and key."""
    doc = load_located_yaml(path)
    data = doc.data
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: expected keys 'sobject' and 'fields'")
    unknown = set(data) - {"sobject", "fields", "description"}
    if unknown:
        key = sorted(unknown)[0]
        raise ConfigError(
            f"{doc.where(key)}: unknown key '{key}'",
            hint="the keys are sobject, fields and description",
        )
    sobject = data.get("sobject")
    if sobject not in TABLES:
        raise ConfigError(
            f"{doc.where('sobject')}: sobject must be one of {sorted(TABLES)}, "
            f"not {sobject!r}"
        )
    table = TABLES[sobject]
    columns = set(table.model_fields)
    fields_data = data.get("fields")
    if not isinstance(fields_data, dict) or not fields_data:
        raise ConfigError(f"{doc.where('fields')}: 'fields' must map columns to fields")
    fields: list[FieldMap] = []
    for column, spec in fields_data.items():
        where = doc.where("fields", column)
        if isinstance(spec, str):
            spec = {"field": spec}
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}: '{column}' needs field and kind")
        extra_keys = set(spec) - {"field", "kind", "optional"}
        if extra_keys:
            raise ConfigError(
                f"{where}: unknown key '{sorted(extra_keys)[0]}' under '{column}'",
                hint="the keys are field, kind and optional",
            )
        if column not in columns and not str(column).startswith("extra."):
            raise ConfigError(
                f"{where}: '{column}' is not a column of the local {sobject} table",
                hint=f"use one of {', '.join(sorted(columns))}, or 'extra.<name>' "
                "to keep the value in the extra JSON column",
            )
        kind = spec.get("kind", "text")
        if kind not in COMPATIBLE:
            raise ConfigError(
                f"{where}: kind '{kind}' is unknown; use one of {sorted(COMPATIBLE)}"
            )
        field_name = spec.get("field")
        if not isinstance(field_name, str) or not field_name:
            raise ConfigError(f"{where}: '{column}' has no Salesforce field")
        fields.append(
            FieldMap(
                column=str(column),
                field=field_name,
                kind=kind,
                line=doc.line("fields", column),
                optional=bool(spec.get("optional", False)),
            )
        )
    present = {f.column for f in fields}
    for column, (field_name, kind) in SYSTEM_FIELDS.items():
        if column not in present:
            fields.append(FieldMap(column, field_name, kind, doc.line("fields")))
    seen: dict[str, FieldMap] = {}
    for fmap in fields:
        other = seen.get(fmap.field.lower())
        if other is not None:
            raise ConfigError(
                f"{path}:{fmap.line}: field {fmap.field} is mapped twice "
                f"(also to '{other.column}' at line {other.line})"
            )
        seen[fmap.field.lower()] = fmap
    return ObjectMapping(sobject=sobject, table=table, fields=tuple(fields), path=path)


def load_mappings(mappings_dir: Path) -> dict[str, ObjectMapping]:
    return {
        m.sobject: m
        for m in (
            load_mapping(mappings_dir / "account.yaml"),
            load_mapping(mappings_dir / "opportunity.yaml"),
        )
    }


def check_against_describe(
    mapping: ObjectMapping,
    describe: Mapping[str, Any],
    *,
    pushed: Sequence[str] = (),
) -> list[str]:
    """Check every mapped field exists, is readable and of a compatible type.

    Returns the optional fields the org lacks (they are left out of the pull).
    A missing required field, or one of another type, raises before anything
    is written.
    """
    by_name = {f["name"].lower(): f for f in describe.get("fields", [])}
    problems: list[str] = []
    missing_optional: list[str] = []
    for fmap in mapping.fields:
        info = by_name.get(fmap.field.lower())
        where = f"{mapping.path}:{fmap.line}"
        if info is None:
            if fmap.optional:
                missing_optional.append(fmap.field)
                continue
            problems.append(
                f"{where}: {mapping.sobject}.{fmap.field} (column '{fmap.column}') is "
                "missing or not visible to the integration user"
            )
            continue
        if info.get("type") not in COMPATIBLE[fmap.kind]:
            problems.append(
                f"{where}: {mapping.sobject}.{fmap.field} is of type "
                f"{info.get('type')}, which does not fit kind '{fmap.kind}'"
            )
    for name in pushed:
        if name.lower() not in by_name:
            problems.append(
                f"{mapping.sobject}.{name} (a pushed field) is missing or not visible "
                "to the integration user"
            )
    if problems:
        raise DescribeMismatchError(
            "; ".join(problems),
            hint="deploy the fields (`sfsync metadata export DIR`), grant the "
            "integration user read access, or fix the mapping; a local org "
            "gets them with `sfsync localorg serve --metadata config/salesforce "
            "--metadata DIR`",
        )
    return missing_optional
