"""Checks a parsed SOQL query against a catalog and runs it over stored rows."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol, cast

from sfsync.localorg.soql_compile import (
    COMPARE_KEYS,
    LITERAL_KINDS,
    SORT_KEYS,
    TYPE_WORDS,
    Bounds,
    Getter,
    Predicate,
    Row,
    SortKey,
    all_of,
    any_of,
    compare,
    key_getter,
    membership,
    sorted_rows,
    type_family,
)
from sfsync.localorg.soql_dates import day_bounds_as_datetime, relative_range
from sfsync.localorg.soql_errors import (
    INVALID_FIELD,
    SoqlError,
    invalid_type,
    malformed,
    no_such_column,
)
from sfsync.localorg.soql_parse import (
    AllOf,
    AnyOf,
    Comparison,
    Condition,
    CountCall,
    FieldPath,
    Negation,
    OrderItem,
    Query,
    Value,
)

__all__ = ["Catalog", "FieldInfo", "Result", "execute"]


_FLOAT_TYPES = frozenset({"double", "currency", "percent"})
_ORDERING_OPERATORS = frozenset({"<", "<=", ">", ">="})


@dataclass(frozen=True)
class FieldInfo:
    """What the engine needs to know of one field from the describe."""

    name: str
    type: str
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None


class Catalog(Protocol):
    """The org's schema and rows, as the query engine reads them."""

    def object_name(self, name: str) -> str | None:
        """Canonical sObject name for ``name`` in any case, or None if unknown."""

    def field(self, sobject: str, name: str) -> FieldInfo | None:
        """The field called ``name`` (any case) on ``sobject``, or None."""

    def parent(
        self, sobject: str, relationship_name: str
    ) -> tuple[str, tuple[str, ...]] | None:
        """Reference field name and target objects behind a relationship name."""

    def records(self, sobject: str, *, include_deleted: bool) -> Iterable[Row]:
        """Stored rows: canonical field names to wire values."""

    def get(self, sobject: str, record_id: str) -> Row | None:
        """One stored row by its Id, or None."""


@dataclass
class Result:
    """Rows in REST wire shape and the totalSize to report.

    ``total_size`` counts the rows after OFFSET and LIMIT, as Salesforce's
    totalSize does; for ``COUNT()`` it is the count and ``records`` is empty.
    """

    records: list[Row]
    total_size: int


def execute(
    query: Query,
    catalog: Catalog,
    *,
    now: datetime,
    api_version: str,
    include_deleted: bool = False,
) -> Result:
    """Run a parsed query; raise SoqlError for names or literals the org refuses."""
    try:
        return _Run(query, catalog, now, api_version).result(include_deleted)
    except SoqlError:
        raise
    except RecursionError:
        raise malformed("query is nested too deeply to be run") from None
    except Exception as exc:
        # The server turns SoqlError into an error body; any other exception
        # would surface as a crash, so an internal fault is reported as a
        # refused query that still names the cause.
        raise malformed(
            f"query could not be run ({type(exc).__name__}: {exc})"
        ) from exc


@dataclass(frozen=True)
class _Hop:
    key: str
    reference_field: str
    targets: tuple[str, ...]


@dataclass(frozen=True)
class _Resolved:
    hops: tuple[_Hop, ...]
    info: FieldInfo


@dataclass(frozen=True)
class _Leaf:
    field_name: str
    coerce: Callable[[Any], Any] | None


@dataclass
class _Node:
    entries: dict[str, _Leaf | _Branch] = field(default_factory=dict)


@dataclass(frozen=True)
class _Branch:
    hop: _Hop
    node: _Node


def _coercer(info: FieldInfo) -> Callable[[Any], Any] | None:
    """How a stored value is rendered, or None when it is rendered as stored."""
    kind = info.type.lower()
    if kind in _FLOAT_TYPES:
        return lambda value: float(value) if type(value) is int else value
    if kind == "int":
        return lambda value: int(value) if type(value) is float else value
    return None


class _Run:
    """One execution: resolved names, compiled closures and a parent cache."""

    def __init__(
        self, query: Query, catalog: Catalog, now: datetime, api_version: str
    ) -> None:
        self.query = query
        self.catalog = catalog
        moment = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        self.today: date = moment.astimezone(UTC).date()
        self.version = api_version.lstrip("vV")
        self.parents: dict[tuple[tuple[str, ...], Any], tuple[str, Row] | None] = {}
        sobject = catalog.object_name(query.sobject)
        if sobject is None:
            raise invalid_type(
                query.sobject,
                text=query.text,
                row=query.sobject_row,
                column=query.sobject_column,
            )
        self.sobject = sobject

    def result(self, include_deleted: bool) -> Result:
        render = self.projection()
        predicate = self.condition(self.query.where) if self.query.where else None
        sorts = [self.sort_key(item) for item in self.query.order_by]
        if self.query.aggregate and self.query.order_by:
            item = self.query.order_by[0].field
            raise self.malformed_at(
                f"Ordered field must be grouped or aggregated: {item.dotted}", item
            )

        rows = self.catalog.records(self.sobject, include_deleted=include_deleted)
        if predicate is None:
            matched = list(rows)
        else:
            matched = [row for row in rows if predicate(row)]
        if not self.query.count_only:
            matched = sorted_rows(matched, sorts)

        if self.query.count_only:
            return Result([], len(self.page(matched)))
        if self.query.aggregate:
            records = self.page([self.aggregate_row(matched)])
            return Result(records, len(records))
        records = [render(row) for row in self.page(matched)]
        return Result(records, len(records))

    def page(self, rows: list[Any]) -> list[Any]:
        # Salesforce refuses an OFFSET above 2,000 with an error code outside
        # this engine's three; the local org serves any offset instead.
        start = self.query.offset or 0
        if self.query.limit is None:
            return rows[start:]
        return rows[start : start + self.query.limit]

    # Names.

    def malformed_at(self, description: str, path: FieldPath | Value) -> SoqlError:
        return malformed(
            description, text=self.query.text, row=path.row, column=path.column
        )

    def invalid_field_at(self, description: str, at: FieldPath | Value) -> SoqlError:
        return SoqlError(
            INVALID_FIELD,
            description,
            text=self.query.text,
            row=at.row,
            column=at.column,
        )

    def resolve(self, path: FieldPath) -> _Resolved:
        names = list(path.names)
        if (
            len(names) > 1
            and names[0].lower() == self.sobject.lower()
            and self.catalog.parent(self.sobject, names[0]) is None
        ):
            # "SELECT Account.Name FROM Account" names the queried object itself.
            names = names[1:]
        objects: tuple[str, ...] = (self.sobject,)
        hops: list[_Hop] = []
        for name in names[:-1]:
            hop = self.hop(objects, name)
            if hop is None:
                raise self.invalid_field_at(
                    f"Didn't understand relationship '{name}' in field path. If you "
                    "are attempting to use a custom relationship, be sure to append "
                    "the '__r' after the custom relationship name. Please reference "
                    "your WSDL or the describe call for the appropriate names.",
                    path,
                )
            hops.append(hop)
            objects = hop.targets
        for sobject in objects:
            info = self.catalog.field(sobject, names[-1])
            if info is not None:
                return _Resolved(tuple(hops), info)
        raise no_such_column(
            names[-1],
            objects[0] if objects else self.sobject,
            text=self.query.text,
            row=path.row,
            column=path.column,
        )

    def hop(self, objects: tuple[str, ...], name: str) -> _Hop | None:
        # A polymorphic lookup (Owner -> User or Group) resolves the next name
        # on the first target object that has it, which is looser than
        # Salesforce's rule of allowing only the fields common to all targets.
        for sobject in objects:
            found = self.catalog.parent(sobject, name)
            if found is None:
                continue
            reference_field, targets = found
            info = self.catalog.field(sobject, reference_field)
            key = (info.relationship_name if info else None) or name
            return _Hop(key, info.name if info else reference_field, tuple(targets))
        return None

    def fetch(self, targets: tuple[str, ...], record_id: Any) -> tuple[str, Row] | None:
        cache_key = (targets, record_id)
        if cache_key in self.parents:
            return self.parents[cache_key]
        found: tuple[str, Row] | None = None
        if isinstance(record_id, str):
            for target in targets:
                row = self.catalog.get(target, record_id)
                if row is not None:
                    found = (target, row)
                    break
        self.parents[cache_key] = found
        return found

    def getter(self, resolved: _Resolved) -> Getter:
        name = resolved.info.name
        hops = resolved.hops
        if not hops:
            return lambda row: row.get(name)
        fetch = self.fetch

        def get(row: Row) -> Any:
            current = row
            for hop in hops:
                reference = current.get(hop.reference_field)
                if reference is None:
                    return None
                found = fetch(hop.targets, reference)
                if found is None:
                    return None
                current = found[1]
            return current.get(name)

        return get

    # SELECT.

    def projection(self) -> Callable[[Row], Row]:
        root = _Node()
        for item in self.query.select:
            if isinstance(item, CountCall):
                if item.argument is not None:
                    self.resolve(item.argument)
                continue
            resolved = self.resolve(item)
            node = root
            for hop in resolved.hops:
                entry = node.entries.get(hop.key)
                if not isinstance(entry, _Branch):
                    entry = _Branch(hop, _Node())
                    node.entries[hop.key] = entry
                node = entry.node
            if resolved.info.name in node.entries:
                raise self.malformed_at(
                    f"duplicate field selected: {item.dotted}", item
                )
            node.entries[resolved.info.name] = _Leaf(
                resolved.info.name, _coercer(resolved.info)
            )
        render = self.renderer(root)
        sobject = self.sobject
        return lambda row: render(sobject, row)

    def renderer(self, node: _Node) -> Callable[[str, Row], Row]:
        """Compile a projection node into a function building one wire record."""
        prefix = f"/services/data/v{self.version}/sobjects/"
        leaves: list[tuple[str, str, Callable[[Any], Any] | None]] = []
        steps: list[tuple[str, _Hop, Callable[[str, Row], Row]] | None] = []
        for key, entry in node.entries.items():
            if isinstance(entry, _Leaf):
                leaves.append((key, entry.field_name, entry.coerce))
                steps.append(None)
            else:
                steps.append((key, entry.hop, self.renderer(entry.node)))
        fetch = self.fetch

        if all(step is None for step in steps):
            # Only own fields: the shape of nearly every sync query.
            def render_flat(sobject: str, row: Row) -> Row:
                out: Row = {
                    "attributes": {
                        "type": sobject,
                        "url": f"{prefix}{sobject}/{row.get('Id')}",
                    }
                }
                for key, name, coerce in leaves:
                    value = row.get(name)
                    out[key] = (
                        value if coerce is None or value is None else coerce(value)
                    )
                return out

            return render_flat

        def render(sobject: str, row: Row) -> Row:
            out: Row = {
                "attributes": {
                    "type": sobject,
                    "url": f"{prefix}{sobject}/{row.get('Id')}",
                }
            }
            leaf = iter(leaves)
            for step in steps:
                if step is None:
                    key, name, coerce = next(leaf)
                    value = row.get(name)
                    out[key] = (
                        value if coerce is None or value is None else coerce(value)
                    )
                    continue
                key, hop, child = step
                reference = row.get(hop.reference_field)
                found = None if reference is None else fetch(hop.targets, reference)
                out[key] = None if found is None else child(*found)
            return out

        return render

    def aggregate_row(self, rows: list[Row]) -> Row:
        out: Row = {"attributes": {"type": "AggregateResult"}}
        for index, item in enumerate(self.query.select):
            if not isinstance(item, CountCall) or item.argument is None:
                raise malformed("only COUNT(field) can share the SELECT list")
            get = self.getter(self.resolve(item.argument))
            out[item.alias or f"expr{index}"] = sum(
                1 for row in rows if get(row) is not None
            )
        return out

    # ORDER BY.

    def sort_key(self, item: OrderItem) -> SortKey:
        resolved = self.resolve(item.field)
        keyer = SORT_KEYS[type_family(resolved.info.type)]
        key_of = key_getter(
            None if resolved.hops else resolved.info.name, self.getter(resolved), keyer
        )
        return SortKey(key_of, item.descending, item.nulls_first)

    # WHERE.

    def condition(self, condition: Condition) -> Predicate:
        if isinstance(condition, AllOf):
            return all_of([self.condition(term) for term in condition.terms])
        if isinstance(condition, AnyOf):
            return any_of([self.condition(term) for term in condition.terms])
        if isinstance(condition, Negation):
            inner = self.condition(condition.term)
            return lambda row: not inner(row)
        return self.comparison(condition)

    def comparison(self, comparison: Comparison) -> Predicate:
        resolved = self.resolve(comparison.field)
        category = type_family(resolved.info.type)
        get = self.getter(resolved)
        operator = comparison.operator
        if operator == "LIKE":
            return self.like(comparison, resolved, category, get)
        if category in ("boolean", "multipicklist") and operator in _ORDERING_OPERATORS:
            raise self.invalid_field_at(
                f"invalid operator {operator} on {resolved.info.type} field "
                f"'{resolved.info.name}'",
                comparison.field,
            )
        keyer = COMPARE_KEYS[category]

        key_of = key_getter(None if resolved.hops else resolved.info.name, get, keyer)

        bounds = [
            self.bounds(value, resolved.info, category) for value in comparison.values
        ]
        if operator in ("IN", "NOT IN"):
            inside = membership(key_of, bounds)
            if operator == "IN":
                return inside
            return lambda row: not inside(row)
        return compare(key_of, operator, bounds[0])

    def like(
        self, comparison: Comparison, resolved: _Resolved, category: str, get: Getter
    ) -> Predicate:
        value = comparison.values[0]
        if category not in ("text", "multipicklist"):
            raise self.invalid_field_at(
                f"invalid operator LIKE on {resolved.info.type} field "
                f"'{resolved.info.name}'; LIKE works on text fields only",
                comparison.field,
            )
        if value.kind == "null":
            return lambda row: False
        if value.kind != "string" or value.like is None:
            raise self.type_mismatch(value, resolved.info, category)
        pattern = re.compile(value.like, re.IGNORECASE | re.DOTALL)

        def matches(row: Row) -> bool:
            stored = get(row)
            if stored is None:
                return False
            return pattern.fullmatch(str(stored)) is not None

        return matches

    def bounds(self, value: Value, info: FieldInfo, category: str) -> Bounds | None:
        """The inclusive key range a literal stands for, or None for null."""
        if value.kind == "null":
            return None
        if value.kind not in LITERAL_KINDS[category]:
            raise self.type_mismatch(value, info, category)
        if value.kind == "relative":
            name, n = cast(tuple[str, int | None], value.value)
            try:
                first, last = relative_range(name, n, self.today)
            except (OverflowError, ValueError):
                raise self.malformed_at(
                    f"date literal {value.source} is out of range", value
                ) from None
            if category == "date":
                return first.isoformat(), last.isoformat()
            return day_bounds_as_datetime(first, last)
        if value.kind in ("date", "datetime"):
            # The parser already turned these literals into comparison keys.
            return value.value, value.value
        key = COMPARE_KEYS[category](value.value)
        return key, key

    def type_mismatch(self, value: Value, info: FieldInfo, category: str) -> SoqlError:
        expected = LITERAL_KINDS[category][0]
        if expected == "string":
            description = (
                f"value of filter criterion for field '{info.name}' must be of "
                "type string and should be enclosed in quotes"
            )
        else:
            word = TYPE_WORDS.get(category) or (
                "integer" if info.type.lower() in ("int", "long") else "double"
            )
            description = (
                f"value of filter criterion for field '{info.name}' must be of "
                f"type {word} and should not be enclosed in quotes"
            )
        return self.invalid_field_at(description, value)
