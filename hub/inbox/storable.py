"""Provider data made storable: strings without NUL characters, provider ids that fit
their columns, message parts, and the inbound-log row of one webhook request.

``log_row`` is shared by the inbound pipe (one ORM row per request) and the set-based
intake (``hub.inbox.intake_fast``, one multi-row INSERT per batch), so both write the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from hub.contract.models import InboundMessage, WebhookRequest
from hub.inbox.nesting import rebuild

KEY_LENGTH = 300  # the width of external_id and thread_key columns


def scrub(value: Any) -> Any:
    """``value`` with NUL characters removed from every string in it: PostgreSQL text and
    JSONB cannot hold them, and a provider's stray NUL must not make a message unstorable
    (the provider would retry it forever). Iterative, so no nesting makes it fail.

    Decoded JSON without any NUL (nearly always) is returned as it is, not copied."""
    if isinstance(value, str):
        return _no_nul(value)
    if not _may_hold_nul(value):
        return value
    return rebuild(value, _no_nul)[0]


def _may_hold_nul(value: Any) -> bool:
    """False when no string or key in ``value`` holds a NUL. ``repr`` escapes a NUL as
    ``\\x00`` in every string it shows and runs in C: a fifth of the time of copying the
    value to find out (a false alarm, the text ``\\x00`` itself, only costs that copy)."""
    try:
        return "\\x00" in repr(value)
    except RecursionError:  # nested deeper than repr goes: copy it the careful way
        return True


def _no_nul(text: str) -> str:
    return text.replace("\x00", "")


def key(value: str) -> str:
    """A provider id as stored (columns of 300 characters): scrubbed, and a longer one
    shortened to a prefix plus its sha256, so distinct long ids stay distinct."""
    value = scrub(value)
    if len(value) <= KEY_LENGTH:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()
    return f"{value[: KEY_LENGTH - 65]}~{digest}"


def parts_of(event: InboundMessage) -> list[dict[str, Any]]:
    """The message parts of ``event`` as stored: scrubbed JSON, an album item's parts
    marked with the item they came from."""
    parts = [scrub(_stored_part(part.model_dump(mode="json"))) for part in event.parts]
    if event.group_key is not None:
        # An album's parts name the item they came from: a re-delivered item is known by it.
        source = key(event.external_id)
        parts = [{**part, "source_external_id": source} for part in parts]
    return parts


# Email's fields of a part, left out when empty: other channels' parts stay as they were.
_EMAIL_ONLY_FIELDS = ("html", "content_id")


def _stored_part(part: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value
        for name, value in part.items()
        if not (value is None and name in _EMAIL_ONLY_FIELDS)
    }


def log_row(
    channel_id: int | None,
    request: WebhookRequest,
    result: str,
    status: int,
    reason: str | None = None,
    events: Sequence[Any] | None = None,
    *,
    rejected_body_bytes: int = 4096,
) -> dict[str, Any]:
    """The ``inbound_log`` columns (but id and received_at) of a handled request; of a
    rejected one only the first ``rejected_body_bytes`` of the body (junk is not worth
    keeping whole), with the whole body's size and sha256 always."""
    body = request.body
    return {
        "channel_id": channel_id,
        "method": request.method,
        "path": scrub(request.url)[:2000],
        "headers": scrub(dict(request.headers)),
        "query": scrub(dict(request.query)),
        "body": body[:rejected_body_bytes] if result == "rejected" else body,
        "body_size": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "result": result,
        "status_code": status,
        "reason": reason,
        "event_count": len(events or ()),
        "events": None if events is None else [scrub(e.model_dump(mode="json")) for e in events],
    }
