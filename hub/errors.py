"""The one error type the core raises for a request that cannot be served as asked."""

from __future__ import annotations

from typing import Any


class HubError(Exception):
    """An error with an HTTP status, a stable machine code and a human message.

    Domain code raises it (e.g. ``HubError(404, "not_found", "no such conversation")``);
    the error middleware renders it as ``{"error": {"code", "message", "details"}}``.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


class NotFound(HubError):
    """The thing does not exist, or the caller may not see it (never tell which)."""

    def __init__(self, what: str) -> None:
        super().__init__(404, "not_found", f"{what} not found")


class Forbidden(HubError):
    """The caller is known but not allowed to do this."""

    def __init__(self, message: str = "you are not allowed to do this") -> None:
        super().__init__(403, "forbidden", message)


class Invalid(HubError):
    """The input is well-formed but breaks a rule; ``field`` names where."""

    def __init__(self, field: str, message: str) -> None:
        details = [{"field": field, "message": message}]
        super().__init__(422, "validation_error", f"{field}: {message}", details)
