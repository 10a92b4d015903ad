"""SOQL built with escaping: values are quoted, never formatted into the text."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from simple_salesforce.format import quote_soql_value

__all__ = ["datetime_literal", "literal", "select"]


def datetime_literal(value: datetime) -> str:
    """A SOQL datetime literal in UTC with milliseconds; naive values are refused."""
    if value.tzinfo is None:
        raise ValueError(
            f"naive datetime {value.isoformat()} refused: pass an aware UTC datetime"
        )
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def literal(value: Any) -> str:
    """Quote one value (or a list of values) for a SOQL expression."""
    if isinstance(value, datetime):
        return datetime_literal(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple | set | frozenset):
        return "(" + ",".join(literal(v) for v in value) + ")"
    return str(quote_soql_value(value))


def _name(name: str) -> str:
    # Field and object names come from mapping files, not from records, but a
    # stray quote or space there would still change the query's meaning.
    cleaned = name.replace(".", "").replace("_", "")
    if not cleaned.isalnum() or not cleaned.isascii():
        raise ValueError(f"{name!r} is not a Salesforce field or object name")
    return name


def select(
    sobject: str,
    fields: Iterable[str],
    *,
    where: str | None = None,
    order_by: Iterable[str] = (),
    limit: int | None = None,
) -> str:
    """Assemble a SELECT; ``where`` must already be built with ``literal``."""
    # Only names checked by _name reach the text; values come in ``where``,
    # already quoted by ``literal``.
    text = f"SELECT {', '.join(_name(f) for f in fields)} FROM {_name(sobject)}"  # noqa: S608
    if where:
        text += f" WHERE {where}"
    orders = list(order_by)
    if orders:
        text += " ORDER BY " + ", ".join(_name(o) for o in orders)
    if limit is not None:
        text += f" LIMIT {int(limit)}"
    return text
