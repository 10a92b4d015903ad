"""SFDX source for the pushed fields and their access, to deploy before a first push.

``sfsync metadata export DIR`` writes a Salesforce DX project: ``sfdx-project.json``
and, under ``force-app/main/default``, one ``.field-meta.xml`` per pushed field
and two permission sets. ``Sfsync_Integration`` gives the integration user
read and edit access to every pushed field; ``Sfsync_Onboarding_Read`` gives
read access only, for everyone else who should see onboarding status (sales,
account managers), so that nobody but sfsync edits values it would overwrite.
Deploy with ``sf project deploy start`` from DIR, then assign the sets.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import escape

from sfsync.push.mapping import PushField, PushMapping, load_push_mapping

__all__ = [
    "INTEGRATION_PERMISSION_SET",
    "READ_PERMISSION_SET",
    "SOURCE_ROOT",
    "deployable_metadata",
    "export_metadata",
    "field_metadata",
    "permission_set_metadata",
]

NAMESPACE = "http://soap.sforce.com/2006/04/metadata"
METADATA_TYPES = {
    "text": "Text",
    "picklist": "Picklist",
    "date": "Date",
    "datetime": "DateTime",
    "number": "Number",
    "percent": "Percent",
    "boolean": "Checkbox",
}
# Where a Salesforce DX project keeps its source, relative to the project.
SOURCE_ROOT = Path("force-app") / "main" / "default"
INTEGRATION_PERMISSION_SET = "Sfsync_Integration"
READ_PERMISSION_SET = "Sfsync_Onboarding_Read"


def _element(tag: str, value: str | int) -> str:
    return f"    <{tag}>{escape(str(value))}</{tag}>\n"


def field_metadata(pushed: PushField) -> str:
    """The ``.field-meta.xml`` text of one pushed field."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<CustomField xmlns="{NAMESPACE}">\n',
        _element("fullName", pushed.name),
        _element("label", pushed.label),
        _element("type", METADATA_TYPES[pushed.type]),
    ]
    if pushed.type == "text":
        parts.append(_element("length", pushed.length))
    if pushed.type in {"number", "percent"}:
        parts.append(_element("precision", pushed.precision))
        parts.append(_element("scale", pushed.scale))
    if pushed.type == "boolean":
        parts.append(_element("defaultValue", "false"))
    else:
        parts.append(_element("required", "false"))
    if pushed.description:
        parts.append(_element("description", pushed.description))
    parts.append(
        _element("inlineHelpText", "Written by sfsync; changes made here are replaced.")
    )
    if pushed.type == "picklist":
        parts.append("    <valueSet>\n        <restricted>true</restricted>\n")
        parts.append(
            "        <valueSetDefinition>\n            <sorted>false</sorted>\n"
        )
        for value in dict.fromkeys(pushed.values.values()):
            text = escape(value)
            parts.append(
                f"            <value><fullName>{text}</fullName>"
                f"<default>false</default><label>{text}</label></value>\n"
            )
        parts.append("        </valueSetDefinition>\n    </valueSet>\n")
    parts.append("</CustomField>\n")
    return "".join(parts)


def permission_set_metadata(
    mapping: PushMapping, *, label: str, description: str, editable: bool
) -> str:
    """The ``.permissionset-meta.xml`` text granting access to every pushed field."""
    flag = "true" if editable else "false"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<PermissionSet xmlns="{NAMESPACE}">\n',
        _element("label", label),
        _element("description", description),
        _element("hasActivationRequired", "false"),
    ]
    for sobject, fields in sorted(mapping.objects.items()):
        for pushed in sorted(fields, key=lambda f: f.name):
            parts.append(
                "    <fieldPermissions>\n"
                f"        <editable>{flag}</editable>\n"
                f"        <field>{escape(sobject)}.{escape(pushed.name)}</field>\n"
                "        <readable>true</readable>\n"
                "    </fieldPermissions>\n"
            )
    for sobject in sorted(mapping.objects):
        parts.append(
            "    <objectPermissions>\n"
            "        <allowCreate>false</allowCreate>\n"
            "        <allowDelete>false</allowDelete>\n"
            f"        <allowEdit>{flag}</allowEdit>\n"
            "        <allowRead>true</allowRead>\n"
            "        <modifyAllRecords>false</modifyAllRecords>\n"
            f"        <object>{escape(sobject)}</object>\n"
            "        <viewAllRecords>false</viewAllRecords>\n"
            "    </objectPermissions>\n"
        )
    parts.append("</PermissionSet>\n")
    return "".join(parts)


def export_metadata(
    mapping: PushMapping, directory: Path, *, api_version: str = "59.0"
) -> list[Path]:
    """Write the SFDX project described in the module docstring; return its files."""
    source = directory / SOURCE_ROOT
    written: list[Path] = []

    def write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    project = {
        "packageDirectories": [{"path": "force-app", "default": True}],
        "name": "sfsync-onboarding-fields",
        "sourceApiVersion": api_version,
    }
    write(directory / "sfdx-project.json", json.dumps(project, indent=2) + "\n")
    for sobject, fields in mapping.objects.items():
        for pushed in fields:
            write(
                source
                / "objects"
                / sobject
                / "fields"
                / f"{pushed.name}.field-meta.xml",
                field_metadata(pushed),
            )
    sets = source / "permissionsets"
    write(
        sets / f"{INTEGRATION_PERMISSION_SET}.permissionset-meta.xml",
        permission_set_metadata(
            mapping,
            label="sfsync integration",
            description="For the integration user only: edit the onboarding "
            "fields sfsync writes.",
            editable=True,
        ),
    )
    write(
        sets / f"{READ_PERMISSION_SET}.permissionset-meta.xml",
        permission_set_metadata(
            mapping,
            label="Onboarding status (read)",
            description="For everyone who should see onboarding status, health "
            "and predicted go-live; sfsync keeps the values.",
            editable=False,
        ),
    )
    return written


def deployable_metadata(
    *, config_dir: Path, mappings_dir: Path, workdir: Path
) -> list[Path]:
    """The SFDX folders an admin deploys for sfsync, ready for a local org.

    The pulled custom fields ship in ``config/salesforce``; the pushed ones
    are exported from ``mappings/push.yaml`` into ``workdir/push-metadata``,
    so an org made from these folders always matches the push mapping.
    """
    exported = workdir / "push-metadata"
    export_metadata(load_push_mapping(mappings_dir / "push.yaml"), exported)
    return [config_dir / "salesforce", exported]
