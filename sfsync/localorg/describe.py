"""Describe bodies: describeGlobal, sObject basic info and full field describes."""

from __future__ import annotations

from typing import Any

from sfsync.localorg.schema import FieldDef, ObjectDef, Schema

__all__ = ["basic_info", "describe_field", "describe_global", "describe_object"]

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "double": "xsd:double",
    "int": "xsd:int",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "address": "urn:address",
}
_NOT_FILTERABLE = {"textarea", "address"}


def _object_flags(obj: ObjectDef, version: str) -> dict[str, Any]:
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    deletable = "IsDeleted" in obj.fields
    return {
        "activateable": False,
        "createable": True,
        "custom": False,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": obj.name != "Task",
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": True,
        "mergeable": obj.name in ("Account", "Contact"),
        "mruEnabled": True,
        "name": obj.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": deletable,
        "updateable": True,
        "urls": {
            "rowTemplate": f"{base}/{{ID}}",
            "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
            "describe": f"{base}/describe",
            "sobject": base,
        },
    }


def describe_global(schema: Schema, version: str) -> dict[str, Any]:
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [_object_flags(o, version) for o in schema.objects.values()],
    }


def basic_info(obj: ObjectDef, version: str) -> dict[str, Any]:
    return {"objectDescribe": _object_flags(obj, version), "recentItems": []}


def describe_object(schema: Schema, obj: ObjectDef, version: str) -> dict[str, Any]:
    flags = _object_flags(obj, version)
    body: dict[str, Any] = {
        "actionOverrides": [],
        "activateable": flags["activateable"],
        "associateEntityType": None,
        "associateParentEntity": None,
        "childRelationships": _child_relationships(schema, obj),
        "compactLayoutable": True,
        "createable": True,
        "custom": False,
        "customSetting": False,
        "deepCloneable": False,
        "defaultImplementation": None,
        "deletable": flags["deletable"],
        "deprecatedAndHidden": False,
        "extendedBy": None,
        "extendsInterfaces": None,
        "feedEnabled": flags["feedEnabled"],
        "fields": [describe_field(f) for f in obj.visible_fields()],
        "hasSubtypes": False,
        "implementedBy": None,
        "implementsInterfaces": None,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": True,
        "listviewable": None,
        "lookupLayoutable": None,
        "mergeable": flags["mergeable"],
        "mruEnabled": True,
        "name": obj.name,
        "namedLayoutInfos": [],
        "networkScopeFieldName": None,
        "queryable": True,
        "recordTypeInfos": [
            {
                "active": True,
                "available": True,
                "defaultRecordTypeMapping": True,
                "developerName": "Master",
                "master": True,
                "name": "Master",
                "recordTypeId": "012000000000000AAA",
                "urls": {
                    "layout": f"/services/data/v{version}/sobjects/{obj.name}"
                    "/describe/layouts/012000000000000AAA"
                },
            }
        ],
        "replicateable": True,
        "retrieveable": True,
        "searchLayoutable": True,
        "searchable": True,
        "sobjectDescribeOption": "FULL",
        "supportedScopes": [{"label": "All records", "name": "everything"}],
        "triggerable": True,
        "undeletable": flags["undeletable"],
        "updateable": True,
        "urls": flags["urls"],
    }
    return body


def _child_relationships(schema: Schema, obj: ObjectDef) -> list[dict[str, Any]]:
    children = []
    for child in schema.objects.values():
        for definition in child.visible_fields():
            if (
                definition.type != "reference"
                or obj.name not in definition.reference_to
            ):
                continue
            children.append(
                {
                    "cascadeDelete": child.name in ("Opportunity", "Contact")
                    and definition.name == "AccountId",
                    "childSObject": child.name,
                    "deprecatedAndHidden": False,
                    "field": definition.name,
                    "junctionIdListNames": [],
                    "junctionReferenceTo": [],
                    "relationshipName": _child_name(child, definition),
                    "restrictedDelete": False,
                }
            )
    return children


def _child_name(child: ObjectDef, definition: FieldDef) -> str | None:
    known = {
        ("Opportunity", "AccountId"): "Opportunities",
        ("Contact", "AccountId"): "Contacts",
        ("Task", "WhatId"): "Tasks",
        ("Task", "WhoId"): "Tasks",
        ("Account", "ParentId"): "ChildAccounts",
    }
    if (child.name, definition.name) in known:
        return known[(child.name, definition.name)]
    if definition.custom and definition.relationship_name:
        return f"{child.label_plural.replace(' ', '')}__r"
    return None


def describe_field(definition: FieldDef) -> dict[str, Any]:
    """All 57 keys of a v59.0 field describe, in Salesforce's alphabetical order."""
    kind = definition.type
    text_like = kind in (
        "string",
        "textarea",
        "picklist",
        "multipicklist",
        "email",
        "phone",
        "url",
        "combobox",
    )
    byte_length = (
        definition.length * 3
        if text_like
        else (18 if kind in ("id", "reference") else 0)
    )
    default = definition.default_value
    return {
        "aggregatable": kind not in ("textarea", "address", "multipicklist"),
        "aiPredictionField": False,
        "autoNumber": False,
        "byteLength": byte_length,
        "calculated": definition.calculated,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": definition.case_sensitive,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": definition.createable,
        "custom": definition.custom,
        "defaultValue": default
        if kind == "boolean" and default is not None
        else (False if kind == "boolean" else None),
        "defaultValueFormula": None,
        "defaultedOnCreate": definition.defaulted_on_create,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": definition.digits,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": definition.external_id,
        "extraTypeInfo": None,
        "filterable": kind not in _NOT_FILTERABLE,
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": kind
        not in (
            "textarea",
            "double",
            "currency",
            "percent",
            "datetime",
            "address",
            "multipicklist",
        ),
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": definition.id_lookup,
        "inlineHelpText": None,
        "label": definition.label,
        "length": definition.length,
        "mask": None,
        "maskType": None,
        "name": definition.name,
        "nameField": definition.name == "Name",
        "namePointing": len(definition.reference_to) > 1,
        "nillable": definition.nillable,
        "permissionable": definition.nillable and definition.updateable,
        "picklistValues": [
            {
                "active": True,
                "defaultValue": value == default,
                "label": value,
                "validFor": None,
                "value": value,
            }
            for value in definition.picklist_values
        ],
        "polymorphicForeignKey": len(definition.reference_to) > 1,
        "precision": definition.precision,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(definition.reference_to),
        "relationshipName": definition.relationship_name,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": definition.restricted_picklist,
        "scale": definition.scale,
        "searchPrefilterable": kind == "reference",
        "soapType": _SOAP_TYPES.get(kind, "xsd:string"),
        "sortable": kind not in ("textarea", "address", "multipicklist"),
        "type": kind,
        "unique": definition.unique,
        "updateable": definition.updateable,
        "writeRequiresMasterRead": False,
    }
