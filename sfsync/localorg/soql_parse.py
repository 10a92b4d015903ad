"""Reads SOQL text into a Query tree, checking syntax only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal as TypingLiteral

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from sfsync.localorg.soql_dates import RELATIVE_LITERALS, datetime_literal_key
from sfsync.localorg.soql_errors import SoqlError, malformed

__all__ = [
    "AllOf",
    "AnyOf",
    "Comparison",
    "Condition",
    "CountCall",
    "FieldPath",
    "Negation",
    "OrderItem",
    "Query",
    "Value",
    "parse",
]

_PARSER = Lark(
    (Path(__file__).with_name("soql.lark")).read_text(encoding="utf-8"),
    parser="lalr",
    lexer="basic",
)

_ESCAPES = {
    "'": "'",
    '"': '"',
    "\\": "\\",
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
}
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")

ValueKind = TypingLiteral[
    "string", "number", "date", "datetime", "boolean", "null", "relative"
]


@dataclass(frozen=True)
class FieldPath:
    """A field as written: ``Name`` or a parent path such as ``Account.Owner.Name``."""

    names: tuple[str, ...]
    row: int
    column: int

    @property
    def dotted(self) -> str:
        """The path as written, joined with dots."""
        return ".".join(self.names)


@dataclass(frozen=True)
class CountCall:
    """``COUNT()`` when ``argument`` is None, else ``COUNT(field)``."""

    argument: FieldPath | None
    alias: str | None
    row: int
    column: int


@dataclass(frozen=True)
class Value:
    """A literal on the right of a comparison.

    ``value`` is the text of a string (escapes resolved), an int or float, a
    ``YYYY-MM-DD`` date, a UTC datetime key ``YYYY-MM-DDTHH:MM:SS.mmm``, a
    bool, None, or for a relative date a ``(NAME, n)`` pair. ``like`` is the
    regular expression a string stands for after LIKE.
    """

    kind: ValueKind
    value: object
    source: str
    row: int
    column: int
    like: str | None = None


@dataclass(frozen=True)
class Comparison:
    """``field <operator> value``; IN and NOT IN carry several values."""

    field: FieldPath
    operator: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class AllOf:
    """Conditions joined by AND."""

    terms: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    """Conditions joined by OR."""

    terms: tuple[Condition, ...]


@dataclass(frozen=True)
class Negation:
    """NOT applied to a condition."""

    term: Condition


Condition = Comparison | AllOf | AnyOf | Negation


@dataclass(frozen=True)
class OrderItem:
    """One ORDER BY key with its direction and the place of nulls."""

    field: FieldPath
    descending: bool
    nulls_first: bool


@dataclass(frozen=True)
class Query:
    """A parsed SOQL query; names are kept as written and checked in execute."""

    text: str
    sobject: str
    sobject_row: int
    sobject_column: int
    select: tuple[FieldPath | CountCall, ...]
    where: Condition | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None

    @property
    def count_only(self) -> bool:
        """True for ``SELECT COUNT() FROM ...``, whose answer is a bare count."""
        return len(self.select) == 1 and _is_count_star(self.select[0])

    @property
    def aggregate(self) -> bool:
        """True when the select list holds ``COUNT(field)`` calls."""
        return any(isinstance(item, CountCall) for item in self.select) and (
            not self.count_only
        )


def _is_count_star(item: FieldPath | CountCall) -> bool:
    return isinstance(item, CountCall) and item.argument is None


def parse(text: str) -> Query:
    """Parse SOQL text; raise SoqlError(MALFORMED_QUERY) for anything unsupported."""
    try:
        tree = _PARSER.parse(text)
        return _Builder(text).query(tree)
    except SoqlError:
        raise
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    except RecursionError:
        raise malformed("query is nested too deeply to be read") from None
    except Exception as exc:
        raise malformed(f"query could not be read ({type(exc).__name__})") from exc


def _syntax_error(text: str, exc: UnexpectedInput) -> SoqlError:
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        lines = text.split("\n")
        return malformed(
            "unexpected token: '<EOF>'",
            text=text,
            row=len(lines),
            column=len(lines[-1]) + 1,
        )
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        return malformed(
            f"unexpected token: '{token}'",
            text=text,
            row=token.line,
            column=token.column,
        )
    if isinstance(exc, UnexpectedCharacters):
        return malformed(
            f"no viable alternative at character '{exc.char}'",
            text=text,
            row=exc.line,
            column=exc.column,
        )
    return malformed("unexpected input", text=text)


def _tokens(tree: Tree[Token]) -> list[Token]:
    return [child for child in tree.children if isinstance(child, Token)]


def _trees(tree: Tree[Token]) -> list[Tree[Token]]:
    return [child for child in tree.children if isinstance(child, Tree)]


class _Builder:
    """Turns lark's tree into the Query dataclasses, raising positioned errors."""

    def __init__(self, text: str) -> None:
        self.text = text

    def error(self, description: str, token: Token) -> SoqlError:
        return malformed(
            description, text=self.text, row=token.line, column=token.column
        )

    def query(self, tree: Tree[Token]) -> Query:
        clauses = {child.data: child for child in _trees(tree)}
        select = self.select(clauses["select_clause"])
        sobject = _trees(clauses["from_clause"])[0].children[0]
        assert isinstance(sobject, Token)
        where = None
        if "where_clause" in clauses:
            where = self.condition(_trees(clauses["where_clause"])[0])
        order_by: tuple[OrderItem, ...] = ()
        if "order_clause" in clauses:
            order_by = tuple(
                self.order_item(item) for item in _trees(clauses["order_clause"])
            )
        limit = offset = None
        if "limit_clause" in clauses:
            limit = self.count_number(_tokens(clauses["limit_clause"])[1])
        if "offset_clause" in clauses:
            offset = self.count_number(_tokens(clauses["offset_clause"])[1])
        return Query(
            text=self.text,
            sobject=str(sobject),
            sobject_row=sobject.line or 1,
            sobject_column=sobject.column or 1,
            select=select,
            where=where,
            order_by=order_by,
            limit=limit,
            offset=offset,
        )

    def select(self, tree: Tree[Token]) -> tuple[FieldPath | CountCall, ...]:
        items: list[FieldPath | CountCall] = []
        for child in _trees(tree):
            if child.data == "function_call":
                items.append(self.function_call(child))
            else:
                items.append(self.field_path(child))
        counts = [item for item in items if isinstance(item, CountCall)]
        fields = [item for item in items if isinstance(item, FieldPath)]
        stars = [item for item in counts if item.argument is None]
        if stars and len(items) > 1:
            star = stars[0]
            raise malformed(
                "COUNT() must be the only element in the SELECT list",
                text=self.text,
                row=star.row,
                column=star.column,
            )
        if counts and fields:
            # Without GROUP BY an aggregate query returns one row, so a plain
            # field has no single value to show.
            field = fields[0]
            raise malformed(
                f"Field must be grouped or aggregated: {field.dotted}",
                text=self.text,
                row=field.row,
                column=field.column,
            )
        return tuple(items)

    def function_call(self, tree: Tree[Token]) -> CountCall:
        name, *rest = _tokens(tree)
        if name.upper() != "COUNT":
            raise self.error(
                f"function '{name}' is not supported; only COUNT() and "
                "COUNT(field) are",
                name,
            )
        paths = _trees(tree)
        argument = self.field_path(paths[0]) if paths else None
        alias = str(rest[0]) if rest else None
        if argument is None and alias is not None:
            raise self.error(f"unexpected token: '{alias}'", rest[0])
        return CountCall(argument, alias, name.line or 1, name.column or 1)

    def field_path(self, tree: Tree[Token]) -> FieldPath:
        names = [segment.children[0] for segment in _trees(tree)]
        first = names[0]
        assert isinstance(first, Token)
        return FieldPath(
            tuple(str(name) for name in names), first.line or 1, first.column or 1
        )

    def condition(self, tree: Tree[Token]) -> Condition:
        if tree.data == "all_of":
            return AllOf(tuple(self.condition(term) for term in _trees(tree)))
        if tree.data == "any_of":
            return AnyOf(tuple(self.condition(term) for term in _trees(tree)))
        if tree.data == "negation":
            return Negation(self.condition(_trees(tree)[0]))
        return self.comparison(tree)

    def comparison(self, tree: Tree[Token]) -> Comparison:
        path_tree, value_tree = _trees(tree)
        field = self.field_path(path_tree)
        if tree.data == "compare":
            operator = str(_tokens(tree)[0])
            operator = "!=" if operator == "<>" else operator
            return Comparison(field, operator, (self.value(value_tree),))
        if tree.data == "like":
            return Comparison(field, "LIKE", (self.value(value_tree),))
        values = tuple(self.value(value) for value in _trees(value_tree))
        operator = "IN" if tree.data == "within" else "NOT IN"
        return Comparison(field, operator, values)

    def value(self, tree: Tree[Token]) -> Value:
        tokens = _tokens(tree)
        token = tokens[0]
        row, column, source = token.line or 1, token.column or 1, str(token)
        if tree.data == "string_value":
            text, like = self.string(token)
            return Value("string", text, source, row, column, like)
        if tree.data == "number_value":
            return Value("number", _number(source), source, row, column)
        if tree.data == "date_value":
            try:
                day = date.fromisoformat(source)
            except ValueError:
                raise self.error(f"invalid date: {source}", token) from None
            return Value("date", day.isoformat(), source, row, column)
        if tree.data == "datetime_value":
            key = datetime_literal_key(source)
            if key is None:
                raise self.error(f"invalid dateTime: {source}", token)
            return Value("datetime", key, source, row, column)
        if tree.data == "word_n_value":
            return self.relative_n(token, tokens[1])
        return self.word(token)

    def word(self, token: Token) -> Value:
        row, column, word = token.line or 1, token.column or 1, token.upper()
        if word == "NULL":
            return Value("null", None, str(token), row, column)
        if word in ("TRUE", "FALSE"):
            return Value("boolean", word == "TRUE", str(token), row, column)
        if RELATIVE_LITERALS.get(word) is False:
            return Value("relative", (word, None), str(token), row, column)
        raise self.error(f"unexpected token: '{token}'", token)

    def relative_n(self, name: Token, number: Token) -> Value:
        word = name.upper()
        if RELATIVE_LITERALS.get(word) is not True:
            raise self.error(f"unexpected token: '{name}'", name)
        if not number.isdigit():
            raise self.error(
                f"invalid value for {word}: '{number}', expected a whole number",
                number,
            )
        source = f"{name}:{number}"
        return Value(
            "relative",
            (word, int(number)),
            source,
            name.line or 1,
            name.column or 1,
        )

    def order_item(self, tree: Tree[Token]) -> OrderItem:
        path, *options = _trees(tree)
        descending = False
        nulls_first: bool | None = None
        for option in options:
            keyword = _tokens(option)[-1].upper()
            if option.data == "direction":
                descending = keyword == "DESC"
            else:
                nulls_first = keyword == "FIRST"
        if nulls_first is None:
            nulls_first = not descending
        return OrderItem(self.field_path(path), descending, nulls_first)

    def count_number(self, token: Token) -> int:
        if not token.isdigit():
            raise self.error(f"expected a whole number, found '{token}'", token)
        return int(token)

    def string(self, token: Token) -> tuple[str, str]:
        """Resolve escapes; return the text and the regex it means after LIKE."""
        body = str(token)[1:-1]
        text: list[str] = []
        pattern: list[str] = []
        index = 0
        while index < len(body):
            char = body[index]
            if char != "\\":
                text.append(char)
                if char == "%":
                    pattern.append(".*")
                elif char == "_":
                    pattern.append(".")
                else:
                    pattern.append(re.escape(char))
                index += 1
                continue
            code = body[index + 1]
            if code in _ESCAPES:
                resolved, width = _ESCAPES[code], 2
            elif code in "%_":
                # Escaped wildcards stand for themselves, after LIKE or not.
                resolved, width = code, 2
            elif code == "u" and _HEX4.fullmatch(body, index + 2, index + 6):
                resolved, width = chr(int(body[index + 2 : index + 6], 16)), 6
            else:
                raise self.error(
                    f"Invalid string literal '{body}'. Illegal character sequence "
                    f"'\\{code}' in string literal.",
                    token,
                )
            text.append(resolved)
            pattern.append(re.escape(resolved))
            index += width
        return "".join(text), "".join(pattern)


def _number(source: str) -> int | float:
    if "." in source:
        return float(source)
    return int(source)
