"""The org's records: validated writes, recycle bin, stamps and the SOQL catalog."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sfsync.localorg import ids
from sfsync.localorg.derived import derive
from sfsync.localorg.errors import ApiError, RecordError
from sfsync.localorg.schema import FieldDef, ObjectDef, Schema
from sfsync.localorg.soql import FieldInfo
from sfsync.localorg.values import coerce, format_datetime

__all__ = ["Row", "Store", "StoreCatalog", "UpsertOutcome"]

_SYSTEM_FIELDS = frozenset(
    {
        "Id",
        "IsDeleted",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
    }
)
# Children removed with their parent, as the standard cascade-delete
# relationships of a default org do.
_CASCADES = {"Account": (("Opportunity", "AccountId"), ("Contact", "AccountId"))}


class Row(dict[str, Any]):
    """A stored record: absent fields read as null, like an empty column."""

    def __missing__(self, key: str) -> None:
        return None


@dataclass(frozen=True)
class UpsertOutcome:
    record_id: str
    created: bool


class Store:
    """In-memory records of every sObject, guarded by one re-entrant lock.

    Writes run the same checks Salesforce runs for the integration user and
    raise :class:`RecordError` (per record) or :class:`ApiError` (request).
    """

    def __init__(
        self,
        schema: Schema,
        *,
        clock: Callable[[], datetime] | None = None,
        id_factory: ids.IdFactory | None = None,
    ) -> None:
        self.schema = schema
        self.lock = threading.RLock()
        self.ids = id_factory or ids.IdFactory()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._last_ms = 0
        self.rows: dict[str, dict[str, Row]] = {name: {} for name in schema.objects}
        self.deleted_log: dict[str, list[tuple[str, str]]] = {
            name: [] for name in schema.objects
        }
        self.org_id = ids.to18("00D8d000000LoCl")
        self.user_id = ids.to18("0058d000000IntU")
        self._locked: dict[str, int | None] = {}
        self._seed_integration_user()

    def clear(self) -> None:
        """Drop every record and fault; only the integration user remains."""
        with self.lock:
            self.rows = {name: {} for name in self.schema.objects}
            self.deleted_log = {name: [] for name in self.schema.objects}
            self._locked.clear()
            self._seed_integration_user()

    # -- clock ---------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock()

    def stamp(self) -> str:
        """A millisecond stamp that never goes backwards between writes."""
        with self.lock:
            ms = int(self._clock().timestamp() * 1000)
            # Same-millisecond writes may share a stamp, as they can in Salesforce.
            self._last_ms = max(ms, self._last_ms)
            moment = datetime.fromtimestamp(self._last_ms / 1000, UTC)
            return format_datetime(moment)

    # -- faults --------------------------------------------------------------

    def lock_ids(self, record_ids: Iterable[str], times: int | None = None) -> None:
        with self.lock:
            for record_id in record_ids:
                self._locked[ids.to18(record_id)] = times

    def unlock_all(self) -> None:
        with self.lock:
            self._locked.clear()

    def _check_lock(self, record_id: str) -> None:
        if record_id not in self._locked:
            return
        remaining = self._locked[record_id]
        if remaining is not None:
            if remaining <= 1:
                del self._locked[record_id]
            else:
                self._locked[record_id] = remaining - 1
        raise RecordError(
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access to this record or 1 records: "
            f"{record_id}",
        )

    # -- lookups -------------------------------------------------------------

    def object(self, name: str) -> ObjectDef:
        obj = self.schema.object(name)
        if obj is None:
            raise ApiError(
                404,
                "NOT_FOUND",
                "The requested resource does not exist",
                not_found_order=True,
            )
        return obj

    def find(self, record_id: str) -> tuple[ObjectDef, Row] | None:
        normalized = ids.normalize(record_id)
        if normalized is None:
            return None
        obj = self.schema.object_for_id(normalized)
        if obj is None:
            return None
        row = self.rows[obj.name].get(normalized)
        return (obj, row) if row is not None else None

    def get(self, sobject: str, record_id: str) -> Row | None:
        normalized = ids.normalize(record_id)
        if normalized is None:
            return None
        return self.rows[self.object(sobject).name].get(normalized)

    def live_row(self, obj: ObjectDef, record_id: str) -> Row:
        """The non-deleted row for an Id, or Salesforce's 404 record error."""
        normalized = ids.normalize(record_id)
        row = self.rows[obj.name].get(normalized) if normalized else None
        if row is None:
            raise RecordError(
                "NOT_FOUND", "The requested resource does not exist", status=404
            )
        if row.get("IsDeleted"):
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", status=404)
        return row

    # -- writes --------------------------------------------------------------

    def create(
        self,
        sobject: str,
        values: dict[str, Any],
        *,
        system: bool = False,
    ) -> str:
        """Insert one record; ``system`` allows audit fields and a given Id."""
        with self.lock:
            obj = self.object(sobject)
            fields = self._read_fields(obj, values, creating=True, system=system)
            missing = [
                f.name
                for f in obj.visible_fields()
                if f.required_on_create and fields.get(f.name) is None
            ]
            if missing:
                raise RecordError(
                    "REQUIRED_FIELD_MISSING",
                    f"Required fields are missing: [{', '.join(missing)}]",
                    missing,
                )
            record_id = fields.pop("Id", None) or self.ids.new(obj.key_prefix)
            self._check_unique(obj, fields, record_id)
            row = self._new_row(obj, record_id)
            row.update(fields)
            self._stamp_row(row, obj, creating=True, explicit=fields)
            derive(obj.name, row, None, self)
            self.rows[obj.name][record_id] = row
            return record_id

    def update(
        self,
        sobject: str,
        record_id: str,
        values: dict[str, Any],
        *,
        system: bool = False,
    ) -> None:
        with self.lock:
            obj = self.object(sobject)
            row = self.live_row(obj, record_id)
            fields = self._read_fields(obj, values, creating=False, system=system)
            fields.pop("Id", None)
            self._check_lock(row["Id"])
            self._check_unique(obj, fields, row["Id"])
            for name, value in fields.items():
                definition = obj.fields[name]
                if value is None and not definition.nillable:
                    raise RecordError(
                        "REQUIRED_FIELD_MISSING",
                        f"Required fields are missing: [{name}]",
                        [name],
                    )
            before = Row(row)
            row.update(fields)
            self._stamp_row(row, obj, creating=False, explicit=fields)
            derive(obj.name, row, before, self)

    def upsert(
        self, sobject: str, field_name: str, value: Any, values: dict[str, Any]
    ) -> UpsertOutcome:
        """Create or update by an idLookup field; 300 when several records match."""
        with self.lock:
            obj = self.object(sobject)
            definition = obj.field(field_name)
            if definition is None or not definition.id_lookup:
                raise ApiError(
                    404,
                    "NOT_FOUND",
                    "Provided external ID field does not exist or is not "
                    f"accessible: {field_name}",
                )
            matches = self.match(obj, definition, value)
            body = {k: v for k, v in values.items() if k.lower() != field_name.lower()}
            if not matches:
                if definition.type != "id" and value not in (None, ""):
                    body[definition.name] = value
                return UpsertOutcome(self.create(obj.name, body), True)
            if len(matches) > 1:
                raise ApiError(300, "MULTIPLE_CHOICES", "more than one record found")
            self.update(obj.name, matches[0], body)
            return UpsertOutcome(matches[0], False)

    def match(self, obj: ObjectDef, definition: FieldDef, value: Any) -> list[str]:
        if value in (None, ""):
            return []
        if definition.type == "id":
            normalized = ids.normalize(value)
            row = self.rows[obj.name].get(normalized) if normalized else None
            return [row["Id"]] if row and not row.get("IsDeleted") else []
        wanted = self._match_key(definition, coerce(definition, value))
        return [
            record_id
            for record_id, row in self.rows[obj.name].items()
            if not row.get("IsDeleted")
            and self._match_key(definition, row.get(definition.name)) == wanted
        ]

    @staticmethod
    def _match_key(definition: FieldDef, value: Any) -> Any:
        if isinstance(value, str) and not definition.case_sensitive:
            return value.lower()
        return value

    def delete(self, sobject: str | None, record_id: str) -> str:
        """Move a record (and its cascade children) to the recycle bin."""
        with self.lock:
            if sobject is None:
                found = self.find(record_id)
                if found is None:
                    raise RecordError(
                        "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"
                    )
                obj = found[0]
            else:
                obj = self.object(sobject)
            row = self.live_row(obj, record_id)
            if "IsDeleted" not in obj.fields:
                raise RecordError(
                    "INVALID_OPERATION", f"{obj.name} records cannot be deleted"
                )
            self._check_lock(row["Id"])
            self._soft_delete(obj, row)
            return str(row["Id"])

    def _soft_delete(self, obj: ObjectDef, row: Row) -> None:
        stamp = self.stamp()
        row["IsDeleted"] = True
        row["SystemModstamp"] = stamp
        self.deleted_log[obj.name].append((row["Id"], stamp))
        for child_name, field_name in _CASCADES.get(obj.name, ()):
            child_obj = self.schema.objects[child_name]
            for child in list(self.rows[child_name].values()):
                if child.get(field_name) == row["Id"] and not child.get("IsDeleted"):
                    self._soft_delete(child_obj, child)

    def hard_delete(self, sobject: str, record_id: str) -> None:
        with self.lock:
            obj = self.object(sobject)
            normalized = ids.normalize(record_id)
            row = self.rows[obj.name].pop(normalized or "", None)
            if row is None:
                raise KeyError(f"{obj.name} {record_id} does not exist")
            if not row.get("IsDeleted"):
                self.deleted_log[obj.name].append((row["Id"], self.stamp()))

    # -- bulk load -----------------------------------------------------------

    def load_rows(self, sobject: str, records: Iterable[dict[str, Any]]) -> list[str]:
        """Store records as given, without API validation (fast path).

        Field names must exist; values are stored as they are (wire values);
        missing Ids and audit fields are filled in.
        """
        with self.lock:
            obj = self.object(sobject)
            stamp = self.stamp()
            loaded = []
            table = self.rows[obj.name]
            lower = {name.lower(): name for name in obj.fields}
            for record in records:
                row = self._new_row(obj, "")
                for key, value in record.items():
                    if key == "attributes" or isinstance(value, dict):
                        continue
                    canonical = lower.get(key.lower())
                    if canonical is None:
                        raise KeyError(f"{obj.name}.{key} is not a field of the org")
                    row[canonical] = value
                record_id = ids.normalize(row.get("Id")) or self.ids.new(obj.key_prefix)
                row["Id"] = record_id
                for name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
                    if name in obj.fields and row.get(name) is None:
                        row[name] = stamp
                for name in ("CreatedById", "LastModifiedById"):
                    if name in obj.fields and row.get(name) is None:
                        row[name] = self.user_id
                if "OwnerId" in obj.fields and row.get("OwnerId") is None:
                    row["OwnerId"] = self.user_id
                derive(obj.name, row, None, self)
                table[record_id] = row
                loaded.append(record_id)
            return loaded

    # -- helpers -------------------------------------------------------------

    def _new_row(self, obj: ObjectDef, record_id: str) -> Row:
        row = Row(Id=record_id)
        for definition in obj.fields.values():
            if definition.type == "boolean":
                row[definition.name] = bool(definition.default_value)
            elif definition.default_value is not None:
                row[definition.name] = definition.default_value
        if "OwnerId" in obj.fields:
            row["OwnerId"] = self.user_id
        return row

    def _read_fields(
        self,
        obj: ObjectDef,
        values: dict[str, Any],
        *,
        creating: bool,
        system: bool,
    ) -> dict[str, Any]:
        if not isinstance(values, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "Expected a JSON object")
        fields: dict[str, Any] = {}
        read_only = []
        for key, value in values.items():
            if key == "attributes":
                continue
            definition = obj.field(key)
            if definition is None:
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{key}' on sobject of type {obj.name}",
                )
            allowed = definition.createable if creating else definition.updateable
            if system and definition.name in _SYSTEM_FIELDS:
                allowed = True
            if not allowed:
                if definition.name == "Id" and not creating:
                    continue
                read_only.append(definition.name)
                continue
            fields[definition.name] = coerce(definition, value)
        if read_only:
            raise RecordError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(read_only)}. Please "
                "check the security settings of this field and verify that it is "
                "read/write for your profile or permission set.",
                read_only,
            )
        for name, value in fields.items():
            definition = obj.fields[name]
            if definition.type == "reference" and value is not None:
                self._check_reference(definition, value)
        return fields

    def _check_reference(self, definition: FieldDef, value: str) -> None:
        targets = [self.schema.object(t) for t in definition.reference_to]
        known = [t for t in targets if t is not None]
        if len(known) < len(targets) and not any(
            t.key_prefix == value[:3] for t in known
        ):
            return  # an object this org does not store (Profile, Lead ...)
        for target in known:
            if target.key_prefix == value[:3]:
                row = self.rows[target.name].get(value)
                if row is not None and not row.get("IsDeleted"):
                    return
                break
        raise RecordError(
            "FIELD_INTEGRITY_EXCEPTION"
            if not any(t.key_prefix == value[:3] for t in known)
            else "INVALID_CROSS_REFERENCE_KEY",
            f"{definition.label}: id value of incorrect type: {value}"
            if not any(t.key_prefix == value[:3] for t in known)
            else "invalid cross reference id",
            [definition.name],
        )

    def _check_unique(
        self, obj: ObjectDef, fields: dict[str, Any], record_id: str
    ) -> None:
        for name, value in fields.items():
            definition = obj.fields[name]
            if not definition.unique or value is None:
                continue
            for other in self.match(obj, definition, value):
                if other != record_id:
                    raise RecordError(
                        "DUPLICATE_VALUE",
                        f"duplicate value found: {name} duplicates value on record "
                        f"with id: {other[:15]}",
                    )

    def _stamp_row(
        self, row: Row, obj: ObjectDef, *, creating: bool, explicit: dict[str, Any]
    ) -> None:
        stamp = self.stamp()
        audit = {
            "LastModifiedDate": stamp,
            "SystemModstamp": stamp,
            "LastModifiedById": self.user_id,
        }
        if creating:
            audit.update(CreatedDate=stamp, CreatedById=self.user_id)
        for name, value in audit.items():
            if name in obj.fields and name not in explicit:
                row[name] = value

    def _seed_integration_user(self) -> None:
        self.load_rows(
            "User",
            [
                {
                    "Id": self.user_id,
                    "Username": "integration.user@localorg.test",
                    "FirstName": "Integration",
                    "LastName": "User",
                    "Email": "integration.user@localorg.test",
                    "Alias": "integ",
                    "CommunityNickname": "integration",
                    "TimeZoneSidKey": "GMT",
                    "LocaleSidKey": "en_US",
                    "EmailEncodingKey": "UTF-8",
                    "LanguageLocaleKey": "en_US",
                    "ProfileId": ids.to18("00e8d000000AdmI"),
                    "UserType": "Standard",
                    "IsActive": True,
                }
            ],
        )

    # -- persistence ---------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "records": {
                    name: list(table.values()) for name, table in self.rows.items()
                },
                "deleted": {
                    name: [list(entry) for entry in log]
                    for name, log in self.deleted_log.items()
                },
            }

    def restore(self, data: dict[str, Any]) -> None:
        with self.lock:
            for name, records in data.get("records", {}).items():
                if name in self.rows:
                    self.rows[name] = {r["Id"]: Row(r) for r in records}
            for name, log in data.get("deleted", {}).items():
                if name in self.deleted_log:
                    self.deleted_log[name] = [(e[0], e[1]) for e in log]
            self.ids.skip_past(sum(len(t) for t in self.rows.values()) + 10_000)

    def count(self, sobject: str) -> int:
        return sum(1 for r in self.rows[sobject].values() if not r.get("IsDeleted"))

    def iter_rows(self, sobject: str, *, include_deleted: bool) -> Iterator[Row]:
        for row in self.rows[sobject].values():
            if include_deleted or not row.get("IsDeleted"):
                yield row


def field_info(definition: FieldDef) -> FieldInfo:
    kind = "string" if definition.type == "combobox" else definition.type
    return FieldInfo(
        name=definition.name,
        type=kind,
        reference_to=definition.reference_to,
        relationship_name=definition.relationship_name,
    )


class StoreCatalog:
    """The :mod:`soql` catalog over the store, as the integration user sees it."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def object_name(self, name: str) -> str | None:
        obj = self._store.schema.object(name)
        return obj.name if obj else None

    def field(self, sobject: str, name: str) -> FieldInfo | None:
        obj = self._store.schema.object(sobject)
        definition = obj.field(name) if obj else None
        return field_info(definition) if definition else None

    def parent(
        self, sobject: str, relationship_name: str
    ) -> tuple[str, tuple[str, ...]] | None:
        obj = self._store.schema.object(sobject)
        definition = obj.parent(relationship_name) if obj else None
        if definition is None:
            return None
        return definition.name, definition.reference_to

    def records(
        self, sobject: str, *, include_deleted: bool
    ) -> Iterable[dict[str, Any]]:
        return self._store.iter_rows(sobject, include_deleted=include_deleted)

    def get(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        obj = self._store.schema.object(sobject)
        if obj is None:
            return None
        return self._store.rows[obj.name].get(record_id)


def today(store: Store) -> date:
    return store.now().date()
