"""Comparison keys per field type and the closures that filter and sort rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sfsync.localorg.soql_dates import date_key, datetime_key

__all__ = [
    "COMPARE_KEYS",
    "LITERAL_KINDS",
    "SORT_KEYS",
    "TYPE_WORDS",
    "Bounds",
    "Getter",
    "Keyer",
    "Predicate",
    "Row",
    "SortKey",
    "all_of",
    "any_of",
    "as_stored",
    "compare",
    "key_getter",
    "membership",
    "sorted_rows",
    "type_family",
]

Row = dict[str, Any]
Predicate = Callable[[Row], bool]
Getter = Callable[[Row], Any]
Keyer = Callable[[Any], Any]
Bounds = tuple[Any, Any]

_TEXT_TYPES = frozenset(
    {"string", "textarea", "picklist", "email", "phone", "url", "combobox"}
)
_ID_TYPES = frozenset({"id", "reference"})
_NUMBER_TYPES = frozenset({"double", "currency", "percent", "int", "long"})
_ID_KEY_LENGTH = 15


def type_family(field_type: str) -> str:
    """The comparison family of a describe field type."""
    kind = field_type.lower()
    if kind in _TEXT_TYPES:
        return "text"
    if kind in _NUMBER_TYPES:
        return "number"
    if kind in _ID_TYPES:
        return "id"
    if kind in ("multipicklist", "boolean", "date", "datetime"):
        return kind
    return "other"


def _id_key(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _ID_KEY_LENGTH:
        return value[:_ID_KEY_LENGTH]
    return value


# Text compares and sorts case-insensitively by Unicode code point after case
# folding. Salesforce sorts by the user's locale collation, so names starting
# with accented letters (Ærø, Čapek) sort after "z" here but near "a" and "c"
# in a real org.
def _text_key(value: Any) -> str:
    return value.casefold() if isinstance(value, str) else str(value).casefold()


def _multi_key(value: Any) -> str:
    parts = (part.strip().casefold() for part in str(value).split(";"))
    return ";".join(sorted(part for part in parts if part))


def _number_key(value: Any) -> Any:
    return value if value.__class__ in (int, float) else None


def _boolean_key(value: Any) -> Any:
    return value if isinstance(value, bool) else None


def as_stored(value: Any) -> Any:
    return value


# Keys used to compare a stored value with a literal and to sort; a key of
# None makes the value behave as null.
COMPARE_KEYS: dict[str, Keyer] = {
    "text": _text_key,
    "multipicklist": _multi_key,
    "id": _id_key,
    "number": _number_key,
    "boolean": _boolean_key,
    "date": date_key,
    "datetime": datetime_key,
    "other": str,
}
# Ids sort as stored, case-sensitively; everything else sorts by its compare key.
SORT_KEYS: dict[str, Keyer] = {**COMPARE_KEYS, "id": as_stored}

LITERAL_KINDS = {
    "text": ("string",),
    "multipicklist": ("string",),
    "id": ("string",),
    "other": ("string",),
    "number": ("number",),
    "boolean": ("boolean",),
    "date": ("date", "relative"),
    "datetime": ("datetime", "relative"),
}
TYPE_WORDS = {"date": "date", "datetime": "dateTime", "boolean": "boolean"}


def key_getter(own_field: str | None, get: Getter, keyer: Keyer) -> Getter:
    """Compile "row to comparison key" with as few calls as possible.

    ``own_field`` names a field of the row itself; for a parent path it is
    None and ``get`` walks the path.
    """
    if own_field is None:
        return lambda row: None if (value := get(row)) is None else keyer(value)
    name = own_field
    if keyer is as_stored:
        return lambda row: row.get(name)
    if keyer is datetime_key:
        # The sync's cursor field: a stored UTC wire datetime needs a slice only,
        # so the general parser is called for other spellings alone.
        def datetime_key_of(row: Row) -> Any:
            value = row.get(name)
            if value.__class__ is str and value[23:] == "+0000" and len(value) == 28:
                return value[:23]
            return None if value is None else datetime_key(value)

        return datetime_key_of
    return lambda row: None if (value := row.get(name)) is None else keyer(value)


@dataclass(frozen=True)
class SortKey:
    """One ORDER BY item, compiled: the row's key and where nulls go."""

    key_of: Getter
    descending: bool
    nulls_first: bool


def sorted_rows(rows: list[Row], sorts: list[SortKey]) -> list[Row]:
    """Sort by several keys: one stable pass per run of keys of one direction.

    Keys are computed once per row and column. A column with nulls gets a rank
    around its values; as reversing a pass for DESC flips that rank, the rank
    is chosen so that nulls land where asked. Columns without nulls are
    compared bare, which keeps the usual timestamp-and-Id sort fast.
    """
    runs: list[list[SortKey]] = []
    for sort in sorts:
        if runs and runs[-1][0].descending == sort.descending:
            runs[-1].append(sort)
        else:
            runs.append([sort])
    for run in reversed(runs):
        descending = run[0].descending
        columns: list[list[Any]] = []
        for sort in run:
            column = [sort.key_of(row) for row in rows]
            if any(key is None for key in column):
                null = (0, None) if sort.nulls_first != descending else (2, None)
                column = [null if key is None else (1, key) for key in column]
            columns.append(column)
        keys = columns[0] if len(columns) == 1 else list(zip(*columns, strict=True))
        order = sorted(range(len(rows)), key=keys.__getitem__, reverse=descending)
        rows = [rows[index] for index in order]
    return rows


def all_of(terms: list[Predicate]) -> Predicate:
    if len(terms) == 2:
        first, second = terms
        return lambda row: first(row) and second(row)

    def all_of(row: Row) -> bool:
        return all(term(row) for term in terms)

    return all_of


def any_of(terms: list[Predicate]) -> Predicate:
    if len(terms) == 2:
        first, second = terms
        return lambda row: first(row) or second(row)

    def any_of(row: Row) -> bool:
        return any(term(row) for term in terms)

    return any_of


def compare(key_of: Getter, operator: str, bounds: Bounds | None) -> Predicate:
    """Compile one comparison; a range literal compares like Salesforce's."""
    if bounds is None:
        if operator == "=":
            return lambda row: key_of(row) is None
        if operator == "!=":
            return lambda row: key_of(row) is not None
        return lambda row: False
    low, high = bounds
    if operator in ("=", "!="):
        if low == high:

            def equal(row: Row) -> bool:
                return bool(key_of(row) == low)

        else:

            def equal(row: Row) -> bool:
                key = key_of(row)
                return key is not None and low <= key <= high

        if operator == "=":
            return equal
        # In SOQL a null field is "not equal" to any value, unlike SQL.
        return lambda row: not equal(row)

    if operator == "<":
        return lambda row: (key := key_of(row)) is not None and key < low
    if operator == "<=":
        return lambda row: (key := key_of(row)) is not None and key <= high
    if operator == ">":
        return lambda row: (key := key_of(row)) is not None and key > high
    return lambda row: (key := key_of(row)) is not None and key >= low


def membership(key_of: Getter, bounds: list[Bounds | None]) -> Predicate:
    exact = {low for low, high in filter(None, bounds) if low == high}
    ranges = [(low, high) for low, high in filter(None, bounds) if low != high]
    with_null = any(item is None for item in bounds)

    def inside(row: Row) -> bool:
        key = key_of(row)
        if key is None:
            return with_null
        if key in exact:
            return True
        return any(low <= key <= high for low, high in ranges)

    return inside
