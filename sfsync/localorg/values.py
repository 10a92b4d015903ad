"""Turns values a client sends into the wire values the org stores and returns."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sfsync.localorg import ids
from sfsync.localorg.errors import ApiError, RecordError
from sfsync.localorg.schema import FieldDef

__all__ = ["coerce", "format_datetime", "parse_datetime"]

_TEXT_TYPES = {
    "string",
    "textarea",
    "picklist",
    "multipicklist",
    "email",
    "phone",
    "url",
    "combobox",
}
_NUMBER_TYPES = {"double", "currency", "percent"}
_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def format_datetime(moment: datetime) -> str:
    """Render a datetime the way Salesforce returns it: UTC, ms, ``+0000``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime | None:
    """Parse the datetime forms Salesforce accepts; None when not one of them."""
    match = _DATETIME_RE.match(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = UTC
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        tz = timezone(sign * delta)
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            micro,
            tzinfo=tz,
        )
    except ValueError:
        return None


def _parser_error(kind: str, value: Any) -> ApiError:
    token = "VALUE_STRING" if isinstance(value, str) else "VALUE_NUMBER_INT"
    return ApiError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from {token} value {value} "
        "or request may be missing a required field",
    )


def coerce(definition: FieldDef, value: Any) -> Any:
    """Convert one incoming JSON value to its stored wire value or raise.

    Type errors that Salesforce reports while reading the JSON body raise
    :class:`ApiError` (the whole request fails); value errors it reports per
    record raise :class:`RecordError`.
    """
    kind = definition.type
    if value is None or (value == "" and kind not in ("boolean",)):
        return False if kind == "boolean" else None
    if kind in _TEXT_TYPES:
        return _text(definition, value)
    if kind == "boolean":
        return _boolean(value)
    if kind == "int":
        return _integer(definition, value)
    if kind in _NUMBER_TYPES:
        return _number(definition, value)
    if kind == "date":
        if isinstance(value, str) and _DATE_RE.match(value):
            try:
                date.fromisoformat(value)
            except ValueError as exc:
                raise _parser_error("date", value) from exc
            return value
        raise _parser_error("date", value)
    if kind == "datetime":
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            raise _parser_error("datetime", value)
        return format_datetime(parsed)
    if kind in ("reference", "id"):
        normalized = ids.normalize(value)
        if normalized is None:
            raise RecordError(
                "MALFORMED_ID",
                f"{definition.label}: id value of incorrect type: {value}",
                [definition.name],
            )
        return normalized
    if isinstance(value, (dict, list)):
        raise _parser_error(kind, value)
    return value


def _text(definition: FieldDef, value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float, str)):
        text = str(value)
    else:
        raise _parser_error("String", value)
    if definition.length and len(text) > definition.length:
        raise RecordError(
            "STRING_TOO_LONG",
            f"{definition.label}: data value too large: {text} "
            f"(max length={definition.length})",
            [definition.name],
        )
    restricted = definition.restricted_picklist
    if (
        restricted
        and definition.type == "picklist"
        and (text not in definition.picklist_values)
    ):
        raise _bad_picklist(definition, text)
    if definition.type == "multipicklist" and definition.restricted_picklist:
        for part in text.split(";"):
            if part not in definition.picklist_values:
                raise _bad_picklist(definition, part)
    return text


def _bad_picklist(definition: FieldDef, text: str) -> RecordError:
    return RecordError(
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        f"{definition.label}: bad value for restricted picklist field: {text}",
        [definition.name],
    )


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _parser_error("boolean", value)


def _to_float(kind: str, value: Any) -> float:
    if isinstance(value, (bool, dict, list)):
        raise _parser_error(kind, value)
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise _parser_error(kind, value) from exc
    if math.isnan(number) or math.isinf(number):
        raise _parser_error(kind, value)
    return number


def _integer(definition: FieldDef, value: Any) -> int:
    number = _to_float("int", value)
    if number != int(number) or abs(number) >= 10 ** max(definition.digits, 9):
        raise _out_of_range(definition, value)
    return int(number)


def _number(definition: FieldDef, value: Any) -> float:
    number = _to_float("double", value)
    precision = definition.precision or 18
    left = precision - definition.scale
    if abs(number) >= 10**left:
        raise _out_of_range(definition, value)
    if definition.scale or definition.custom:
        return float(round(number, definition.scale))
    return number


def _out_of_range(definition: FieldDef, value: Any) -> RecordError:
    return RecordError(
        "NUMBER_OUTSIDE_VALID_RANGE",
        f"{definition.label}: value outside of valid range on numeric field: {value}",
        [definition.name],
    )
