"""The typed errors a plugin raises; the core turns them into retries or visible failures."""

from __future__ import annotations


class PluginError(Exception):
    """Base class of every error a plugin may raise across the contract."""


class RetryLater(PluginError):
    """A transient failure: the core retries, no earlier than ``after`` seconds from now."""

    def __init__(self, message: str = "temporary failure", *, after: float | None = None) -> None:
        super().__init__(message)
        self.after = after


class PermanentFailure(PluginError):
    """The provider refused for good; the message is marked failed with this reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class WindowClosed(PermanentFailure):
    """The provider's customer-service window is closed; only templates may be sent."""

    def __init__(
        self, message: str = "the customer-service window is closed: send a template"
    ) -> None:
        super().__init__("window_closed", message)


class BadCredentials(PluginError):
    """The channel's or CRM's credentials were rejected; an admin must fix the connection."""


class WebhookRejected(PluginError):
    """An inbound webhook request is refused; ``status`` is the HTTP status to answer.

    Plugins raise it from ``handle_webhook`` for unsigned (401), wrongly signed (403),
    stale (403) or malformed (400) requests. ``reason`` is shown to the caller.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
