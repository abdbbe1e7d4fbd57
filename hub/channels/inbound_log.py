"""The columns of an inbound log entry: one raw webhook request and what became of it.

Shared by the inbound pipe (one ORM row per request) and the set-based intake
(``hub.inbox.intake_fast``, one multi-row INSERT per batch), so both write the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.contract.models import WebhookRequest
from hub.inbox.intake import scrub


def log_row(
    channel_id: int | None,
    request: WebhookRequest,
    result: str,
    status: int,
    reason: str | None = None,
    events: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """The ``inbound_log`` columns (but id and received_at) of a handled request."""
    return {
        "channel_id": channel_id,
        "method": request.method,
        "path": scrub(request.url)[:2000],
        "headers": scrub(dict(request.headers)),
        "query": scrub(dict(request.query)),
        "body": request.body,
        "result": result,
        "status_code": status,
        "reason": reason,
        "event_count": len(events or ()),
        "events": None if events is None else [scrub(e.model_dump(mode="json")) for e in events],
    }
