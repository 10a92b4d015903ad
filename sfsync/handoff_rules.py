"""Decides when a deal is handed off and which playbook it gets (mappings/handoff.yaml).

Rules are data, never code: a condition is a field, one operator and a value,
or an ``all`` / ``any`` / ``not`` of conditions. Field names are Salesforce
API names prefixed with their object: ``opportunity.Amount``,
``account.NumberOfEmployees``. Rules are tried in file order and the first
match wins; when none matches, the ``default`` playbook is chosen.

How values compare:

- numbers (int, float, Decimal, or numeric text) compare as decimals, so
  ``100000`` equals ``Decimal("100000.00")`` and ``0.1`` equals ``0.1``;
- dates compare as dates, whether given as ``date``, ``datetime`` (its day)
  or ``'YYYY-MM-DD'`` text;
- booleans compare with booleans or the text ``true`` / ``false``;
- text compares exactly for ``equals`` and ``in``; ``contains`` ignores case;
- a missing or empty value (None or "") matches nothing but ``is_null``, so
  ``not_equals`` and ``not_in`` are false for it too;
- values of kinds that cannot be compared (text against a number for
  ``gte``) do not match; they do not raise.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sfsync.errors import ConfigError
from sfsync.playbooks.source import Loc, Problem, YamlSource, format_problems, read_yaml

__all__ = [
    "OPERATORS",
    "AllOf",
    "AnyOf",
    "Choice",
    "Condition",
    "FieldCondition",
    "HandoffRules",
    "HandoffRulesError",
    "Not",
    "Rule",
    "load_handoff_rules",
]

OPERATORS: tuple[str, ...] = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "gte",
    "lte",
    "gt",
    "lt",
    "between",
    "is_null",
    "contains",
)
_COMBINATORS = ("all", "any", "not")
_OBJECTS = ("opportunity", "account")
_ORDERED = ("gte", "lte", "gt", "lt")

Records = Mapping[str, Mapping[str, Any] | None]


class HandoffRulesError(ConfigError):
    """The handoff rules file is wrong; ``problems`` lists each with its line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = sorted(problems)
        super().__init__(
            format_problems(self.problems),
            hint="fix the rules at each line named; `sfsync check` reads them again",
        )


@dataclass(frozen=True, slots=True)
class FieldCondition:
    """``<object>.<field> <operator> <value>``, evaluated against one record."""

    object_name: str
    field: str
    operator: str
    value: Any

    def matches(self, records: Records) -> bool:
        """Whether the record's field satisfies the operator."""
        record = records.get(self.object_name)
        actual = record.get(self.field) if record is not None else None
        if self.operator == "is_null":
            return _is_null(actual) is self.value
        if _is_null(actual):
            return False
        return _OPERATIONS[self.operator](actual, self.value)


@dataclass(frozen=True, slots=True)
class AllOf:
    """True when every condition is (and when there are none)."""

    conditions: tuple[Condition, ...]

    def matches(self, records: Records) -> bool:
        """Whether every condition matches."""
        return all(condition.matches(records) for condition in self.conditions)


@dataclass(frozen=True, slots=True)
class AnyOf:
    """True when at least one condition is."""

    conditions: tuple[Condition, ...]

    def matches(self, records: Records) -> bool:
        """Whether any condition matches."""
        return any(condition.matches(records) for condition in self.conditions)


@dataclass(frozen=True, slots=True)
class Not:
    """The opposite of one condition."""

    condition: Condition

    def matches(self, records: Records) -> bool:
        """Whether the inner condition does not match."""
        return not self.condition.matches(records)


Condition = FieldCondition | AllOf | AnyOf | Not


@dataclass(frozen=True, slots=True)
class Rule:
    """Choose ``playbook`` when ``when`` matches."""

    name: str
    playbook: str
    when: Condition


@dataclass(frozen=True, slots=True)
class Choice:
    """The playbook chosen for a deal and the rule that chose it ("default")."""

    playbook_key: str
    rule_name: str


@dataclass(frozen=True, slots=True)
class HandoffRules:
    """The loaded rules: when a deal is handed off and which playbook it gets."""

    handed_off_when: Condition
    rules: tuple[Rule, ...]
    default: str

    def is_handed_off(self, opp: Mapping[str, Any]) -> bool:
        """Whether this opportunity should become an onboarding project."""
        return self.handed_off_when.matches({"opportunity": opp, "account": None})

    def choose(
        self, opp: Mapping[str, Any], account: Mapping[str, Any] | None = None
    ) -> Choice:
        """The first rule matching the opportunity and its account, else the default."""
        records: Records = {"opportunity": opp, "account": account}
        for rule in self.rules:
            if rule.when.matches(records):
                return Choice(rule.playbook, rule.name)
        return Choice(self.default, "default")


def load_handoff_rules(
    path: Path | str,
    *,
    known_fields: Mapping[str, set[str]] | None = None,
    playbook_keys: set[str] | None = None,
) -> HandoffRules:
    """Read and check the rules file; HandoffRulesError lists every problem.

    ``known_fields`` maps an object name (``opportunity``, ``account``) to the
    Salesforce fields sfsync mirrors; a rule naming any other field is an
    error. ``playbook_keys`` are the playbooks that exist. Either may be None
    to skip that check.
    """
    source = read_yaml(path)
    if source.problems and source.data is None:
        raise HandoffRulesError(source.problems)
    fields = (
        None
        if known_fields is None
        else {name.lower(): set(names) for name, names in known_fields.items()}
    )
    parser = _Parser(source, fields, playbook_keys)
    rules = parser.parse()
    if source.problems or rules is None:
        raise HandoffRulesError(source.problems)
    return rules


class _Parser:
    def __init__(
        self,
        source: YamlSource,
        known_fields: dict[str, set[str]] | None,
        playbook_keys: set[str] | None,
    ) -> None:
        self.source = source
        self.known_fields = known_fields
        self.playbook_keys = playbook_keys

    def parse(self) -> HandoffRules | None:
        data = self.source.data
        if not isinstance(data, dict):
            self.source.problem((), "expected a mapping with handoff, rules, default")
            return None
        self._unknown_keys(data, (), ("handoff", "rules", "default"), "the file")

        handoff = data.get("handoff")
        when: Condition | None = None
        if not isinstance(handoff, dict) or "when" not in handoff:
            self.source.problem(
                ("handoff",),
                "handoff.when is required: the condition that marks a deal as "
                "handed off, e.g. {field: opportunity.IsWon, equals: true}",
            )
        else:
            self._unknown_keys(handoff, ("handoff",), ("when",), "handoff")
            when = self._condition(
                handoff["when"], ("handoff", "when"), objects=("opportunity",)
            )

        rules: list[Rule] = []
        raw_rules = data.get("rules", [])
        if not isinstance(raw_rules, list):
            self.source.problem(("rules",), "rules must be a list")
            raw_rules = []
        names: set[str] = set()
        for index, raw in enumerate(raw_rules):
            rule = self._rule(raw, ("rules", index), names)
            if rule is not None:
                rules.append(rule)

        default = data.get("default")
        if not isinstance(default, str):
            self.source.problem(
                ("default",),
                "default is required: the playbook key used when no rule matches",
            )
        else:
            self._playbook(default, ("default",))

        if when is None or not isinstance(default, str):
            return None
        return HandoffRules(handed_off_when=when, rules=tuple(rules), default=default)

    def _rule(self, raw: Any, loc: Loc, names: set[str]) -> Rule | None:
        if not isinstance(raw, dict):
            self.source.problem(loc, "a rule is a mapping with name, playbook, when")
            return None
        self._unknown_keys(raw, loc, ("name", "playbook", "when"), "a rule")
        name = raw.get("name")
        if not isinstance(name, str):
            self.source.problem(loc, "a rule needs a name (text)")
        elif name in names:
            self.source.problem((*loc, "name"), f"rule name {name!r} is used twice")
        else:
            names.add(name)
        playbook = raw.get("playbook")
        if not isinstance(playbook, str):
            self.source.problem(loc, f"rule {name!r} needs a playbook key")
        else:
            self._playbook(playbook, (*loc, "playbook"))
        if "when" not in raw:
            self.source.problem(loc, f"rule {name!r} needs a when condition")
            return None
        when = self._condition(raw["when"], (*loc, "when"), objects=_OBJECTS)
        if when is None or not isinstance(name, str) or not isinstance(playbook, str):
            return None
        return Rule(name=name, playbook=playbook, when=when)

    def _playbook(self, key: str, loc: Loc) -> None:
        if self.playbook_keys is not None and key not in self.playbook_keys:
            known = ", ".join(sorted(self.playbook_keys))
            self.source.problem(
                loc,
                f"unknown playbook {key!r}; known playbooks are {known} "
                f"(the key: in each config/playbooks/*.yaml)",
            )

    def _condition(
        self, raw: Any, loc: Loc, *, objects: Sequence[str]
    ) -> Condition | None:
        if not isinstance(raw, dict):
            self.source.problem(
                loc, "a condition is a mapping: {field: ..., <operator>: ...}"
            )
            return None
        combinators = [key for key in _COMBINATORS if key in raw]
        if combinators:
            if len(raw) != 1:
                self.source.problem(
                    loc,
                    f"{combinators[0]!r} must stand alone in its condition; "
                    f"nest the other keys inside it",
                )
                return None
            return self._combined(combinators[0], raw[combinators[0]], loc, objects)
        return self._field_condition(raw, loc, objects)

    def _combined(
        self, combinator: str, raw: Any, loc: Loc, objects: Sequence[str]
    ) -> Condition | None:
        inner_loc = (*loc, combinator)
        if combinator == "not":
            inner = self._condition(raw, inner_loc, objects=objects)
            return None if inner is None else Not(inner)
        if not isinstance(raw, list) or not raw:
            self.source.problem(
                inner_loc, f"{combinator} needs a non-empty list of conditions"
            )
            return None
        parts = [
            self._condition(item, (*inner_loc, index), objects=objects)
            for index, item in enumerate(raw)
        ]
        conditions = tuple(part for part in parts if part is not None)
        if len(conditions) != len(parts):
            return None
        return AllOf(conditions) if combinator == "all" else AnyOf(conditions)

    def _field_condition(
        self, raw: dict[str, Any], loc: Loc, objects: Sequence[str]
    ) -> FieldCondition | None:
        name = raw.get("field")
        operators = [key for key in raw if key != "field"]
        unknown = [key for key in operators if key not in OPERATORS]
        for key in unknown:
            self.source.problem(
                (*loc, key),
                f"unknown operator {key!r}"
                + _did_you_mean(str(key), OPERATORS)
                + f"; operators are {', '.join(OPERATORS)}, combined with all/any/not",
            )
        if not isinstance(name, str):
            self.source.problem(loc, "a condition needs field: <object>.<FieldName>")
            return None
        if unknown:
            return None
        if len(operators) != 1:
            self.source.problem(
                loc,
                f"condition on {name!r} needs exactly one operator, found "
                f"{len(operators)}; use all: to combine several",
            )
            return None
        target = self._field(name, (*loc, "field"), objects)
        operator = operators[0]
        value = self._value(operator, raw[operator], (*loc, operator), name)
        if target is None or value is _INVALID:
            return None
        return FieldCondition(target[0], target[1], operator, value)

    def _field(
        self, name: str, loc: Loc, objects: Sequence[str]
    ) -> tuple[str, str] | None:
        object_name, dot, field = name.partition(".")
        object_name = object_name.lower()
        if not dot or object_name not in objects or not field:
            allowed = " or ".join(f"{o}.<FieldName>" for o in objects)
            self.source.problem(loc, f"field {name!r} must be written {allowed}")
            return None
        if self.known_fields is not None:
            known = self.known_fields.get(object_name, set())
            if field not in known:
                self.source.problem(
                    loc,
                    f"unknown field {name!r}: sfsync does not mirror {field} on "
                    f"{object_name}; add it to mappings/{object_name}.yaml or fix "
                    f"the rule" + _did_you_mean(field, sorted(known)),
                )
                return None
        return object_name, field

    def _value(self, operator: str, value: Any, loc: Loc, name: str) -> Any:
        where = f"{operator} on {name!r}"
        if operator == "is_null":
            if not isinstance(value, bool):
                self.source.problem(loc, f"{where} takes true or false")
                return _INVALID
            return value
        if operator in ("in", "not_in"):
            if not isinstance(value, list) or not value:
                self.source.problem(loc, f"{where} takes a non-empty list of values")
                return _INVALID
            return tuple(value)
        if operator == "between":
            bounds = (
                [_ordered_value(item) for item in value]
                if isinstance(value, list)
                else []
            )
            if len(bounds) != 2 or any(b is None for b in bounds):
                self.source.problem(
                    loc, f"{where} takes [low, high]: two numbers or two dates"
                )
                return _INVALID
            low, high = bounds
            if type(low) is not type(high) or low > high:  # type: ignore[operator]
                self.source.problem(
                    loc, f"{where}: low and high must be of one kind, low <= high"
                )
                return _INVALID
            return (low, high)
        if operator in _ORDERED:
            ordered = _ordered_value(value)
            if ordered is None:
                self.source.problem(
                    loc, f"{where} takes a number or a date (YYYY-MM-DD), got {value!r}"
                )
                return _INVALID
            return ordered
        if operator == "contains" and not isinstance(value, str):
            self.source.problem(loc, f"{where} takes text")
            return _INVALID
        if isinstance(value, list | dict):
            self.source.problem(loc, f"{where} takes a single value")
            return _INVALID
        return value

    def _unknown_keys(
        self, raw: dict[str, Any], loc: Loc, allowed: Sequence[str], what: str
    ) -> None:
        for key in raw:
            if key not in allowed:
                self.source.problem(
                    (*loc, key),
                    f"unknown key {key!r} in {what}; allowed keys are "
                    + ", ".join(allowed),
                )


_INVALID = object()


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _ordered_value(value: Any) -> Decimal | dt.date | None:
    """A rule's bound as a Decimal or a date, or None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return _decimal(value)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return _date(value)
    return None


def _is_null(value: Any) -> bool:
    return value is None or value == ""


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # Through text, so that 0.1 is the decimal 0.1 a person wrote, not the
        # binary fraction nearest to it.
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _coerce(actual: Any, expected: Any) -> Any:
    """``actual`` in the kind of ``expected``, or _INVALID when that is impossible."""
    if isinstance(expected, bool):
        converted: Any = _bool(actual)
    elif isinstance(expected, int | float | Decimal):
        converted = _decimal(actual)
    elif isinstance(expected, dt.date):
        converted = _date(actual)
    elif isinstance(expected, str):
        return actual if isinstance(actual, str) else _INVALID
    else:
        converted = actual
    return _INVALID if converted is None else converted


def _normalised_expected(expected: Any, actual: Any) -> Any:
    if isinstance(expected, bool):
        return expected
    if isinstance(expected, int | float):
        return _decimal(expected)
    if isinstance(expected, str) and isinstance(actual, dt.date):
        # A date written in quotes in the rule still compares as a date.
        return _date(expected) or expected
    return expected


def _equals(actual: Any, expected: Any) -> bool:
    expected = _normalised_expected(expected, actual)
    converted = _coerce(actual, expected)
    return converted is not _INVALID and bool(converted == expected)


def _compare(actual: Any, bound: Decimal | dt.date) -> int | None:
    converted = _coerce(actual, bound)
    if converted is _INVALID:
        return None
    if converted < bound:
        return -1
    return 1 if converted > bound else 0


def _ordered(test: str) -> Callable[[Any, Any], bool]:
    def check(actual: Any, bound: Decimal | dt.date) -> bool:
        order = _compare(actual, bound)
        if order is None:
            return False
        if test == "gte":
            return order >= 0
        if test == "lte":
            return order <= 0
        return order > 0 if test == "gt" else order < 0

    return check


def _between(actual: Any, bounds: tuple[Any, Any]) -> bool:
    low, high = (_compare(actual, bound) for bound in bounds)
    return low is not None and high is not None and low >= 0 and high <= 0


def _contains(actual: Any, needle: str) -> bool:
    if isinstance(actual, str):
        return needle.casefold() in actual.casefold()
    if isinstance(actual, list | tuple | set | frozenset):
        return any(_equals(item, needle) for item in actual)
    return False


_OPERATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": _equals,
    "not_equals": lambda actual, expected: not _equals(actual, expected),
    "in": lambda actual, options: any(_equals(actual, o) for o in options),
    "not_in": lambda actual, options: not any(_equals(actual, o) for o in options),
    "gte": _ordered("gte"),
    "lte": _ordered("lte"),
    "gt": _ordered("gt"),
    "lt": _ordered("lt"),
    "between": _between,
    "contains": _contains,
}
