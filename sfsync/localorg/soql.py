"""SOQL for the local org: parse a query, check it against a catalog, run it."""

from __future__ import annotations

from sfsync.localorg.soql_errors import SoqlError
from sfsync.localorg.soql_execute import Catalog, FieldInfo, Result, execute
from sfsync.localorg.soql_parse import Query, parse

__all__ = [
    "Catalog",
    "FieldInfo",
    "Query",
    "Result",
    "SoqlError",
    "execute",
    "parse",
]
