"""The diff: which pushed fields differ from what Salesforce holds, record by record."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sfsync.push.desired import RecordValues
from sfsync.push.format import canonical
from sfsync.push.mapping import PushMapping

__all__ = ["Change", "diff_records"]


@dataclass(frozen=True)
class Change:
    """The fields of one record to write, and what Salesforce held before."""

    sobject: str
    record_id: str
    group_key: str | None
    fields: dict[str, Any]
    previous: dict[str, Any]


def diff_records(
    mapping: PushMapping,
    desired: Iterable[RecordValues],
    held: Mapping[tuple[str, str], Mapping[str, Any]],
) -> list[Change]:
    """Each record whose desired values differ from ``held``, with only those fields.

    A field absent from ``held`` was never read back from Salesforce, so its
    value there is unknown: a non-empty desired value is written, but a null
    is not, because sfsync never blanks a field it has not seen.
    """
    changes: list[Change] = []
    for record in desired:
        before = held.get((record.sobject, record.record_id))
        if before is None:
            continue
        lowered = {k.lower(): v for k, v in before.items()}
        fields: dict[str, Any] = {}
        previous: dict[str, Any] = {}
        for name, value in record.values.items():
            pushed = mapping.lookup(record.sobject, name)
            if name.lower() not in lowered:
                if value is not None:
                    fields[name] = value
                    previous[name] = None
                continue
            try:
                current = canonical(pushed, lowered[name.lower()])
            except ValueError:
                # Salesforce holds something the field's type cannot read
                # (the field was retyped); writing the value repairs it.
                current = lowered[name.lower()]
            if current != canonical(pushed, value):
                fields[name] = value
                previous[name] = current
        if any(not mapping.lookup(record.sobject, n).with_changes for n in fields):
            # The record is written anyway: its stamp fields go along.
            for name, value in record.values.items():
                pushed = mapping.lookup(record.sobject, name)
                if pushed.with_changes and name not in fields and value is not None:
                    fields[name] = value
                    previous[name] = lowered.get(name.lower())
        else:
            fields = {}
        if fields:
            changes.append(
                Change(
                    record.sobject,
                    record.record_id,
                    record.group_key,
                    fields,
                    previous,
                )
            )
    return changes
