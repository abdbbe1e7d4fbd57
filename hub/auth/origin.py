"""Where a request's changes come from (address, browser, API token), for the audit log.

The domain functions take a ``Viewer``, not the request, so the request's origin rides
on a context variable instead: ``identify`` sets it once per request, in the request's
own task, and the audit recorder reads it in the same task. aiohttp runs each request
in a task of its own, on a copy of the connection's context, so one request's origin
never reaches the next one on a kept-alive connection. Work done outside a request
(automation, the CLI, background jobs) sees the empty default.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from aiohttp import web

from hub.store.models import ApiToken

_AGENT_MAX = 300


@dataclass(frozen=True)
class Origin:
    """The address and user agent of a request, and the API token it came with."""

    ip: str | None = None
    user_agent: str | None = None
    token_id: int | None = None
    token_name: str | None = None


_NOWHERE = Origin()
_ORIGIN: ContextVar[Origin | None] = ContextVar("hub_request_origin", default=None)


def note_origin(request: web.Request, token: ApiToken | None) -> None:
    """Remember where the current request comes from, for the rest of its task."""
    agent = request.headers.get("User-Agent")
    _ORIGIN.set(
        Origin(
            ip=request.remote,
            user_agent=agent[:_AGENT_MAX] if agent else None,
            token_id=token.id if token is not None else None,
            token_name=token.name if token is not None else None,
        )
    )


def current_origin() -> Origin:
    """The current request's origin; empty outside a request."""
    return _ORIGIN.get() or _NOWHERE
