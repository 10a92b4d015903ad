"""SFDX field metadata of the pushed fields, for ops to deploy before a first push."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from sfsync.push.mapping import PushField, PushMapping, load_push_mapping

__all__ = ["deployable_metadata", "export_metadata", "field_metadata"]

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


def export_metadata(mapping: PushMapping, directory: Path) -> list[Path]:
    """Write ``objects/<sObject>/fields/<Field>.field-meta.xml`` per pushed field."""
    written: list[Path] = []
    for sobject, fields in mapping.objects.items():
        folder = directory / "objects" / sobject / "fields"
        folder.mkdir(parents=True, exist_ok=True)
        for pushed in fields:
            path = folder / f"{pushed.name}.field-meta.xml"
            path.write_text(field_metadata(pushed), encoding="utf-8")
            written.append(path)
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
