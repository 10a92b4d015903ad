"""The SOQL engine's error and the Salesforce-style texts it carries."""

from __future__ import annotations

__all__ = [
    "INVALID_FIELD",
    "INVALID_TYPE",
    "MALFORMED_QUERY",
    "SoqlError",
    "invalid_type",
    "malformed",
    "no_such_column",
]

MALFORMED_QUERY = "MALFORMED_QUERY"
INVALID_FIELD = "INVALID_FIELD"
INVALID_TYPE = "INVALID_TYPE"


class SoqlError(Exception):
    """A query Salesforce would refuse, with its error code and message.

    ``message`` is the whole text Salesforce puts in the error body: when the
    position of the fault is known it starts with the query line, a caret
    under the fault and ``ERROR at Row:r:Column:c``, then the description.
    ``description`` is the last part alone; ``row`` and ``column`` are 1-based
    and ``None`` when no position is known.
    """

    def __init__(
        self,
        error_code: str,
        description: str,
        *,
        text: str | None = None,
        row: int | None = None,
        column: int | None = None,
    ) -> None:
        self.error_code = error_code
        self.description = description
        self.row = row
        self.column = column
        self.message = _layout(description, text, row, column)
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"SoqlError({self.error_code!r}, {self.description!r})"


def _layout(
    description: str, text: str | None, row: int | None, col: int | None
) -> str:
    if text is None or row is None or col is None:
        return description
    lines = text.split("\n")
    line = lines[row - 1] if 0 < row <= len(lines) else text
    caret = " " * (col - 1) + "^"
    return f"\n{line}\n{caret}\nERROR at Row:{row}:Column:{col}\n{description}"


def malformed(
    description: str,
    *,
    text: str | None = None,
    row: int | None = None,
    column: int | None = None,
) -> SoqlError:
    """Build a MALFORMED_QUERY error."""
    return SoqlError(MALFORMED_QUERY, description, text=text, row=row, column=column)


def no_such_column(
    name: str,
    sobject: str,
    *,
    text: str | None = None,
    row: int | None = None,
    column: int | None = None,
) -> SoqlError:
    """Build the INVALID_FIELD error for a field the object does not have."""
    description = (
        f"No such column '{name}' on entity '{sobject}'. If you are attempting to "
        "use a custom field, be sure to append the '__c' after the custom field "
        "name. Please reference your WSDL or the describe call for the "
        "appropriate names."
    )
    return SoqlError(INVALID_FIELD, description, text=text, row=row, column=column)


def invalid_type(
    name: str,
    *,
    text: str | None = None,
    row: int | None = None,
    column: int | None = None,
) -> SoqlError:
    """Build the INVALID_TYPE error for an object the org does not have."""
    description = (
        f"sObject type '{name}' is not supported. If you are attempting to use a "
        "custom object, be sure to append the '__c' after the entity name. Please "
        "reference your WSDL or the describe call for the appropriate names."
    )
    return SoqlError(INVALID_TYPE, description, text=text, row=row, column=column)
