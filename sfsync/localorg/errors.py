"""The error the emulated org raises and how it renders as a Salesforce body."""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "RecordError", "StartupError", "not_found"]


class StartupError(ValueError):
    """A file or folder given to start the org cannot be used.

    The message names the path and says what the org expects there; the org
    does not start, so nothing is served from a half-loaded store.
    """


class RecordError(Exception):
    """A save error for one record: rendered per record or as a request error."""

    def __init__(
        self,
        code: str,
        message: str,
        fields: list[str] | None = None,
        *,
        status: int = 400,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields if fields is not None else []
        self.status = status

    def rest_body(self) -> list[dict[str, Any]]:
        return [
            {"message": self.message, "errorCode": self.code, "fields": self.fields}
        ]

    def collection_item(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}


class ApiError(Exception):
    """A request-level error: HTTP status plus Salesforce's error array.

    Query, session, limit and not-found errors carry no ``fields`` key, as in
    Salesforce; save errors use :class:`RecordError` instead.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        not_found_order: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self._not_found_order = not_found_order

    def rest_body(self) -> list[dict[str, Any]]:
        if self._not_found_order:
            # Real 404 bodies put errorCode before message.
            return [{"errorCode": self.code, "message": self.message}]
        return [{"message": self.message, "errorCode": self.code}]


def not_found(message: str = "The requested resource does not exist") -> ApiError:
    return ApiError(404, "NOT_FOUND", message, not_found_order=True)
