"""The org's objects and fields: standard definitions plus SFDX custom fields."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sfsync.localorg.errors import StartupError
from sfsync.localorg.ids import KEY_PREFIXES

__all__ = ["FieldDef", "ObjectDef", "Schema", "load_metadata_dir"]

_MD = "{http://soap.sforce.com/2006/04/metadata}"
_FIELD_LAYOUT = "objects/<Object>/fields/*.field-meta.xml"

# Read-only system fields every writable object shares; named so validation
# can tell "read-only" (INVALID_FIELD_FOR_INSERT_UPDATE) from "unknown".
AUDIT_FIELDS = (
    "CreatedDate",
    "CreatedById",
    "LastModifiedDate",
    "LastModifiedById",
    "SystemModstamp",
)


@dataclass(frozen=True)
class FieldDef:
    """One field as describe reports it (the subset the emulator acts on)."""

    name: str
    label: str
    type: str
    length: int = 0
    precision: int = 0
    scale: int = 0
    digits: int = 0
    nillable: bool = False
    createable: bool = False
    updateable: bool = False
    custom: bool = False
    calculated: bool = False
    defaulted_on_create: bool = False
    external_id: bool = False
    unique: bool = False
    case_sensitive: bool = False
    restricted_picklist: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    picklist_values: tuple[str, ...] = ()
    default_value: Any = None
    id_lookup: bool = False

    @property
    def required_on_create(self) -> bool:
        return (
            self.createable
            and not self.nillable
            and not self.defaulted_on_create
            and self.type != "boolean"
        )

    @classmethod
    def from_table(cls, row: dict[str, Any]) -> FieldDef:
        return cls(
            name=row["name"],
            label=row.get("label", row["name"]),
            type=row["type"],
            length=row.get("length", 0),
            precision=row.get("precision", 0),
            scale=row.get("scale", 0),
            digits=row.get("digits", 0),
            nillable=row.get("nillable", False),
            createable=row.get("createable", False),
            updateable=row.get("updateable", False),
            custom=row.get("custom", False),
            calculated=row.get("calculated", False),
            defaulted_on_create=row.get("defaultedOnCreate", False),
            external_id=row.get("externalId", False),
            unique=row.get("unique", False),
            restricted_picklist=row.get("restrictedPicklist", False),
            reference_to=tuple(row.get("referenceTo", ())),
            relationship_name=row.get("relationshipName"),
            picklist_values=tuple(row.get("picklistValues", ())),
            id_lookup=row["type"] == "id",
        )


@dataclass
class ObjectDef:
    """An sObject: its name, key prefix, labels and fields in describe order."""

    name: str
    key_prefix: str
    label: str
    label_plural: str
    fields: dict[str, FieldDef]
    hidden: set[str] = field(default_factory=set)
    _lower: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self._lower = {name.lower(): name for name in self.fields}

    def add_field(self, definition: FieldDef) -> None:
        self.fields[definition.name] = definition
        self.reindex()

    def field(self, name: str) -> FieldDef | None:
        """Case-insensitive lookup of a field visible to the integration user."""
        canonical = self._lower.get(name.lower())
        if canonical is None or canonical in self.hidden:
            return None
        return self.fields[canonical]

    def visible_fields(self) -> list[FieldDef]:
        return [f for f in self.fields.values() if f.name not in self.hidden]

    def parent(self, relationship: str) -> FieldDef | None:
        wanted = relationship.lower()
        for definition in self.visible_fields():
            name = definition.relationship_name
            if definition.type == "reference" and name and name.lower() == wanted:
                return definition
        return None


_LABELS = {
    "Account": ("Account", "Accounts"),
    "Contact": ("Contact", "Contacts"),
    "Opportunity": ("Opportunity", "Opportunities"),
    "User": ("User", "Users"),
    "Task": ("Task", "Tasks"),
}


_STANDARD_ID_LOOKUPS = (
    ("Contact", "Email"),
    ("User", "Username"),
    ("User", "Email"),
    ("User", "CommunityNickname"),
)


class Schema:
    """All sObjects of the org, looked up case-insensitively."""

    def __init__(self) -> None:
        table = json.loads(
            (Path(__file__).with_name("standard_objects.json")).read_text("utf-8")
        )
        self.objects: dict[str, ObjectDef] = {}
        for name, rows in table.items():
            label, plural = _LABELS[name]
            fields = {row["name"]: FieldDef.from_table(row) for row in rows}
            self.objects[name] = ObjectDef(
                name, KEY_PREFIXES[name], label, plural, fields
            )
        self._apply_standard_defaults()
        self._lower = {name.lower(): name for name in self.objects}
        self._by_prefix = {o.key_prefix: o.name for o in self.objects.values()}

    def reload(self, metadata_dirs: list[Path]) -> None:
        """Rebuild in place from the standard table and the metadata dirs."""
        self.__init__()  # type: ignore[misc]
        for directory in metadata_dirs:
            self.apply_metadata(directory)

    def _apply_standard_defaults(self) -> None:
        task = self.objects["Task"]
        for name, default in (("Status", "Not Started"), ("Priority", "Normal")):
            task.fields[name] = replace(task.fields[name], default_value=default)
        user = self.objects["User"]
        user.fields["IsActive"] = replace(user.fields["IsActive"], default_value=True)
        # Standard fields Salesforce lets upsert and lookups match on.
        for obj_name, field_name in _STANDARD_ID_LOOKUPS:
            obj = self.objects[obj_name]
            obj.fields[field_name] = replace(obj.fields[field_name], id_lookup=True)

    def object(self, name: str) -> ObjectDef | None:
        canonical = self._lower.get(name.lower())
        return self.objects[canonical] if canonical else None

    def object_for_id(self, record_id: str) -> ObjectDef | None:
        name = self._by_prefix.get(record_id[:3])
        return self.objects[name] if name else None

    def hide_field(self, sobject: str, field_name: str) -> None:
        obj = self._require(sobject)
        definition = obj.field(field_name)
        if definition is None:
            raise KeyError(f"{sobject}.{field_name} is not a field of the org")
        obj.hidden.add(definition.name)

    def set_read_only(self, sobject: str, field_name: str) -> None:
        obj = self._require(sobject)
        definition = obj.field(field_name)
        if definition is None:
            raise KeyError(f"{sobject}.{field_name} is not a field of the org")
        obj.fields[definition.name] = replace(definition, updateable=False)

    def _require(self, sobject: str) -> ObjectDef:
        obj = self.object(sobject)
        if obj is None:
            raise KeyError(f"{sobject} is not an sObject of the org")
        return obj

    def apply_metadata(self, root: Path) -> list[str]:
        """Add the custom fields and permission sets found under an SFDX tree."""
        added = []
        for obj_name, definition in load_metadata_dir(root):
            obj = self._require(obj_name)
            obj.add_field(definition)
            added.append(f"{obj.name}.{definition.name}")
        granted: dict[tuple[str, str], tuple[bool, bool]] = {}
        for path in sorted(root.rglob("*.permissionset-meta.xml")):
            self._collect_permissions(path, granted)
        # The integration user holds every permission set deployed with the
        # org; as in Salesforce, the most permissive grant of a field wins.
        for (obj_name, field_name), (readable, editable) in granted.items():
            if not readable:
                self.hide_field(obj_name, field_name)
            elif not editable:
                self.set_read_only(obj_name, field_name)
        return added

    def _collect_permissions(
        self, path: Path, granted: dict[tuple[str, str], tuple[bool, bool]]
    ) -> None:
        tree = ET.parse(path)  # noqa: S314 - local metadata files the operator supplies
        for node in tree.getroot().iter(f"{_MD}fieldPermissions"):
            qualified = _text(node, "field") or ""
            if "." not in qualified:
                continue
            obj_name, field_name = qualified.split(".", 1)
            obj = self.object(obj_name)
            if obj is None or obj.field(field_name) is None:
                continue
            key = (obj.name, field_name)
            readable = _text(node, "readable") != "false"
            editable = _text(node, "editable") == "true"
            before = granted.get(key, (False, False))
            granted[key] = (before[0] or readable, before[1] or editable)


def _text(node: ET.Element, tag: str) -> str | None:
    child = node.find(f"{_MD}{tag}")
    return child.text.strip() if child is not None and child.text else None


def _int(node: ET.Element, tag: str, default: int) -> int:
    value = _text(node, tag)
    return int(value) if value else default


def load_metadata_dir(root: Path) -> list[tuple[str, FieldDef]]:
    """Read every ``objects/<Object>/fields/*.field-meta.xml`` under ``root``.

    A folder that does not exist or holds no field metadata is an error: it is
    almost always a mistyped path, and ignoring it would start an org without
    the custom fields its callers then fail to find.
    """
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise StartupError(
            f"metadata folder {root} {what}; give an SFDX source folder holding "
            f"{_FIELD_LAYOUT}"
        )
    found = []
    for path in sorted(root.rglob("*.field-meta.xml")):
        if path.parent.name != "fields":
            continue
        obj_name = path.parent.parent.name
        found.append((obj_name, _field_from_xml(path)))
    if not found:
        raise StartupError(
            f"metadata folder {root} holds no custom field metadata; expected "
            f"{_FIELD_LAYOUT} somewhere under it (for example "
            "force-app/main/default/objects/Account/fields/Segment__c.field-meta.xml)"
        )
    return found


def _field_from_xml(path: Path) -> FieldDef:
    node = ET.parse(path).getroot()  # noqa: S314 - local metadata files
    name = _text(node, "fullName") or path.name.split(".")[0]
    label = _text(node, "label") or name
    kind = _text(node, "type") or "Text"
    required = _text(node, "required") == "true"
    external = _text(node, "externalId") == "true"
    unique = _text(node, "unique") == "true"
    base: dict[str, Any] = {
        "name": name,
        "label": label,
        "custom": True,
        "nillable": not required,
        "createable": True,
        "updateable": True,
        "external_id": external,
        "id_lookup": external,
        "unique": unique,
        "case_sensitive": _text(node, "caseSensitive") == "true",
    }
    if kind == "Text":
        return FieldDef(type="string", length=_int(node, "length", 255), **base)
    if kind in ("LongTextArea", "Html"):
        return FieldDef(type="textarea", length=_int(node, "length", 32768), **base)
    if kind == "TextArea":
        return FieldDef(type="textarea", length=255, **base)
    if kind in ("Number", "Percent", "Currency"):
        describe_type = {"Number": "double", "Percent": "percent"}.get(kind, "currency")
        return FieldDef(
            type=describe_type,
            precision=_int(node, "precision", 18),
            scale=_int(node, "scale", 0),
            **base,
        )
    if kind in ("Email", "Phone", "Url"):
        length = {"Email": 80, "Phone": 40, "Url": 255}[kind]
        return FieldDef(type=kind.lower(), length=length, **base)
    if kind == "Date":
        return FieldDef(type="date", **base)
    if kind == "DateTime":
        return FieldDef(type="datetime", **base)
    if kind == "Checkbox":
        default = (_text(node, "defaultValue") or "false").lower() == "true"
        base.update(nillable=False, defaulted_on_create=True)
        return FieldDef(type="boolean", default_value=default, **base)
    if kind in ("Picklist", "MultiselectPicklist"):
        return _picklist(node, kind, base)
    if kind in ("Lookup", "MasterDetail"):
        target = _text(node, "referenceTo") or "Account"
        relationship = name[:-3] + "__r" if name.endswith("__c") else name
        return FieldDef(
            type="reference",
            length=18,
            reference_to=(target,),
            relationship_name=relationship,
            **base,
        )
    raise ValueError(f"{path}: field type {kind} is not supported by localorg")


def _picklist(node: ET.Element, kind: str, base: dict[str, Any]) -> FieldDef:
    values: list[str] = []
    restricted = False
    default = None
    value_set = node.find(f"{_MD}valueSet")
    if value_set is not None:
        restricted = _text(value_set, "restricted") == "true"
        definition = value_set.find(f"{_MD}valueSetDefinition")
        if definition is not None:
            for value in definition.findall(f"{_MD}value"):
                full_name = _text(value, "fullName")
                if full_name is None:
                    continue
                values.append(full_name)
                if _text(value, "default") == "true":
                    default = full_name
    if default is not None:
        base["defaulted_on_create"] = True
    return FieldDef(
        type="picklist" if kind == "Picklist" else "multipicklist",
        length=255 if kind == "Picklist" else 4099,
        restricted_picklist=restricted,
        picklist_values=tuple(values),
        default_value=default,
        **base,
    )
