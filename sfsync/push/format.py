"""Values as Salesforce takes them: one canonical form per pushed field type.

The same form serves both sides of the diff: what sfsync wants a field to
hold, and what the pull read back from Salesforce (REST JSON or Bulk CSV
strings), so that "2024-05-01" and a date, or 42 and "42.0", compare equal.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sfsync.errors import ConfigError
from sfsync.mapping import parse_sf_datetime
from sfsync.push.mapping import PushField

__all__ = ["canonical", "to_wire"]

ELLIPSIS = "…"


def to_wire(pushed: PushField, value: Any) -> Any:
    """The JSON value to send for ``value``, a local value of ``pushed``'s source.

    Raises ConfigError when a value cannot be written as the field's type (a
    picklist value the mapping does not list, a naive datetime).
    """
    if value is None or value == "":
        return None
    if pushed.type == "picklist":
        key = str(value)
        if key not in pushed.values:
            raise ConfigError(
                f"{pushed.where}: {pushed.sobject}.{pushed.name} has no picklist "
                f"value for {key!r} (from {pushed.source})",
                hint=f"add {key!r} under 'values' of {pushed.name}",
            )
        return pushed.values[key]
    if pushed.type == "text":
        text = str(value)
        if len(text) > pushed.length:
            # A longer text would fail the record with STRING_TOO_LONG.
            text = text[: pushed.length - 1] + ELLIPSIS
        return text
    if pushed.type == "datetime" and isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(
                f"{pushed.sobject}.{pushed.name}: refusing the naive datetime "
                f"{value.isoformat()}; sfsync sends aware UTC datetimes only"
            )
        return _datetime_text(value)
    if pushed.type == "date" and isinstance(value, datetime):
        raise ValueError(
            f"{pushed.sobject}.{pushed.name}: a date field got the datetime "
            f"{value.isoformat()}; pass the calendar day itself"
        )
    return canonical(pushed, value)


def canonical(pushed: PushField, value: Any) -> Any:
    """``value`` in the one form that fields of ``pushed``'s type are compared in."""
    if value is None or (isinstance(value, str) and value == ""):
        return None
    kind = pushed.type
    if kind in {"text", "picklist"}:
        return str(value)
    if kind == "date":
        if isinstance(value, date) and not isinstance(value, datetime):
            return value.isoformat()
        return date.fromisoformat(str(value)[:10]).isoformat()
    if kind == "datetime":
        if isinstance(value, datetime):
            return _datetime_text(value)
        return _datetime_text(parse_sf_datetime(str(value)))
    if kind in {"number", "percent"}:
        return _number(pushed, value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() == "true"
    raise ValueError(f"unknown pushed field type {kind}")


def _datetime_text(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no zone")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _number(pushed: PushField, value: Any) -> int | float:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(
            f"{pushed.sobject}.{pushed.name}: {value!r} is not a number"
        ) from None
    step = Decimal(1).scaleb(-pushed.scale)
    rounded = number.quantize(step, rounding=ROUND_HALF_UP)
    if pushed.scale == 0:
        return int(rounded)
    return float(rounded)
