"""The exception tree every part of sfsync raises from.

One root, ``SfsyncError``. Every error knows whether retrying the same
operation can help (``retryable``) and may carry a ``hint``: the next thing a
person should do. Messages name the file, line, object, field or record.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigError",
    "ConflictError",
    "DescribeMismatchError",
    "InputError",
    "LimitReachedError",
    "NonAdvancingCursorError",
    "SalesforceError",
    "SfsyncError",
    "StoreError",
    "TransientSalesforceError",
]


class SfsyncError(Exception):
    """Root of every error sfsync raises on purpose."""

    retryable: bool = False
    exit_code: int = 1

    def __init__(
        self, message: str, *, hint: str | None = None, retryable: bool | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}; {self.hint}"
        return self.message


class ConfigError(SfsyncError):
    """A settings, mapping, playbook or rules file is wrong; fix the file."""

    exit_code = 2


class DescribeMismatchError(ConfigError):
    """A mapped field is missing in the org, not visible, or of another type."""


class InputError(SfsyncError):
    """Input given on the command line or in an import file is wrong."""

    exit_code = 2


class StoreError(SfsyncError):
    """The local database could not do what was asked."""


class ConflictError(SfsyncError):
    """Another run holds the lock for this job; try again when it ends."""

    retryable = True
    exit_code = 3


class SalesforceError(SfsyncError):
    """Salesforce answered with an error, or could not be reached."""

    exit_code = 4

    def __init__(
        self,
        message: str,
        *,
        error_code: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.error_code = error_code
        self.status = status


class TransientSalesforceError(SalesforceError):
    """A failure that a later retry can clear (5xx, lock contention, timeouts)."""

    retryable = True


class AuthError(SalesforceError):
    """Login was refused or the session could not be renewed."""

    exit_code = 5


class LimitReachedError(SalesforceError):
    """The org's API allocation, or sfsync's reserve of it, is used up."""

    exit_code = 6


class NonAdvancingCursorError(SalesforceError):
    """A paged pull stopped making progress; continuing would loop forever."""
