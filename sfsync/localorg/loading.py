"""Loads records from REST query responses and SFDX data-tree files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sfsync.localorg import ids
from sfsync.localorg.errors import ApiError, StartupError
from sfsync.localorg.store import Store

__all__ = ["load_file", "load_records"]

_EXPECTED = (
    'expected a REST query response ({"records": [...]}) or an SFDX data-tree file'
)


def load_file(store: Store, path: Path) -> int:
    """Load one JSON file; returns how many records were stored.

    Every problem raises :class:`StartupError` naming the file (and the record,
    counted from 1, when one record is at fault).
    """
    records = _read_records(path)
    references: dict[str, str] = {}
    count = 0
    with store.lock:
        for number, record in enumerate(records, start=1):
            try:
                count += _load_one(store, record, references, parent=None)
            except (ValueError, TypeError) as exc:
                raise StartupError(
                    f"{path}: record {number}: {exc}; {_EXPECTED}"
                ) from exc
            except (KeyError, ApiError) as exc:
                reason = exc.args[0] if isinstance(exc, KeyError) else exc.message
                raise StartupError(
                    f"{path}: record {number}: {reason}; if it is a custom field, "
                    "start the org with its SFDX metadata (serve --metadata DIR)"
                ) from exc
    return count


def _read_records(path: Path) -> list[dict[str, Any]]:
    """The top-level records of a query response or data-tree file, unchecked."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise StartupError(f"{path}: no such file; {_EXPECTED}") from None
    except IsADirectoryError:
        raise StartupError(f"{path}: is a folder, not a file; {_EXPECTED}") from None
    except UnicodeDecodeError:
        raise StartupError(f"{path}: not UTF-8 text; {_EXPECTED}") from None
    except OSError as exc:
        raise StartupError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StartupError(
            f"{path}: not JSON (line {exc.lineno} column {exc.colno}: {exc.msg}); "
            f"{_EXPECTED}"
        ) from None
    records: list[Any]
    if isinstance(data, dict) and isinstance(data.get("records"), list):
        records = data["records"]
    elif isinstance(data, list) and data and all(_is_plan_step(item) for item in data):
        files = [f for step in data for f in step.get("files", [])]
        raise StartupError(
            f"{path}: is a data-tree plan file; load the files it lists instead "
            f"({', '.join(map(str, files))})"
        )
    elif isinstance(data, list):
        records = data
    else:
        raise StartupError(f"{path}: no top-level 'records' list; {_EXPECTED}")
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise StartupError(
                f"{path}: record {number} is {type(record).__name__}, not an "
                f"object; {_EXPECTED}"
            )
    return records


def _is_plan_step(item: Any) -> bool:
    return isinstance(item, dict) and "sobject" in item and "files" in item


def load_records(store: Store, records: list[dict[str, Any]]) -> int:
    """Store REST-shaped or data-tree records, keeping Ids and parents."""
    references: dict[str, str] = {}
    count = 0
    with store.lock:
        for record in records:
            count += _load_one(store, record, references, parent=None)
    return count


def _load_one(
    store: Store,
    record: dict[str, Any],
    references: dict[str, str],
    parent: tuple[str, str] | None,
) -> int:
    attributes = record.get("attributes") or {}
    sobject = attributes.get("type")
    if not sobject:
        raise ValueError(f"record without attributes.type: {str(record)[:80]}")
    if store.schema.object(sobject) is None:
        raise KeyError(f"{sobject} is not an object of the org")
    obj = store.object(sobject)
    flat: dict[str, Any] = {}
    children: list[tuple[str, list[dict[str, Any]]]] = []
    count = 0
    if "Id" not in record and "url" in attributes:
        flat["Id"] = str(attributes["url"]).rsplit("/", 1)[-1]
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict) and "records" in value:
            children.append((key, value["records"]))
        elif isinstance(value, dict) and "attributes" in value:
            count += _load_parent(store, obj.name, key, value, flat, references)
        elif value is None and obj.field(key) is None:
            continue  # an empty parent relationship ("Account": null)
        elif (
            isinstance(value, str) and value.startswith("@") and value[1:] in references
        ):
            flat[key] = references[value[1:]]
        else:
            flat[key] = value
    if parent is not None:
        flat.setdefault(parent[0], parent[1])
    existing = ids.normalize(flat.get("Id"))
    if existing and existing in store.rows[obj.name]:
        record_id = existing
    else:
        record_id = store.load_rows(obj.name, [flat])[0]
        count += 1
    if attributes.get("referenceId"):
        references[attributes["referenceId"]] = record_id
    for relationship, rows in children:
        field_name = _child_field(store, obj.name, relationship, rows)
        for child in rows:
            count += _load_one(store, child, references, (field_name, record_id))
    return count


def _load_parent(
    store: Store,
    sobject: str,
    relationship: str,
    value: dict[str, Any],
    flat: dict[str, Any],
    references: dict[str, str],
) -> int:
    obj = store.object(sobject)
    definition = obj.parent(relationship)
    if definition is None:
        raise KeyError(f"{sobject}.{relationship} is not a relationship of the org")
    before = sum(len(t) for t in store.rows.values())
    _load_one(store, value, references, parent=None)
    url = str(value["attributes"].get("url", ""))
    parent_id = value.get("Id") or (url.rsplit("/", 1)[-1] if url else None)
    if parent_id:
        flat.setdefault(definition.name, ids.normalize(parent_id))
    return sum(len(t) for t in store.rows.values()) - before


def _child_field(
    store: Store, parent: str, relationship: str, rows: list[dict[str, Any]]
) -> str:
    names = {
        "Opportunities": "AccountId",
        "Contacts": "AccountId",
        "ChildAccounts": "ParentId",
    }
    if relationship in names:
        return names[relationship]
    child_type = (rows[0].get("attributes") or {}).get("type") if rows else None
    child = store.schema.object(child_type) if child_type else None
    if child is not None:
        for definition in child.visible_fields():
            if definition.type == "reference" and parent in definition.reference_to:
                return definition.name
    raise KeyError(f"{parent}.{relationship} is not a child relationship of the org")
