"""Turn a webhook body from a service into the hub's normalized events, or refuse it.

Every refusal is a ``WebhookRejected(400, …)`` whose reason names the offending field
(``events[1].sender.id: Field required``), so a service developer can fix the call
from the answer alone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from hub.contract import (
    InboundEvent,
    InboundMessage,
    MediaPart,
    SenderProfile,
    StatusUpdate,
    TextPart,
    UnsupportedPart,
    WebhookRejected,
    media_kind_of,
)
from hub.contract.models import ContentPart
from pydantic import BaseModel, ValidationError

from hub_custom_channel.payloads import (
    Attachment,
    MessageEvent,
    OtherEvent,
    Sender,
    StatusEvent,
)

Threading = Literal["per_thread_id", "per_contact"]
_MAX_ERRORS_SHOWN = 3


def parse_events(
    body: bytes, *, threading: Threading, now: datetime | None = None
) -> list[InboundEvent]:
    """The normalized events of one webhook body (one event or ``{"events": [...]}``)."""
    document = _load_json(body)
    if isinstance(document, dict) and "events" in document:
        batch = document["events"]
        if not isinstance(batch, list) or not batch:
            raise WebhookRejected(400, "events: must be a non-empty list of event objects")
        located = [(f"events[{index}]", item) for index, item in enumerate(batch)]
    else:
        located = [("", document)]
    received = now or datetime.now(UTC)
    return [_event(where, item, threading, received) for where, item in located]


def _load_json(body: bytes) -> Any:
    try:
        document = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as err:
        # ValueError covers bad UTF-8, bad JSON and NaN; RecursionError absurd nesting.
        detail = err.args[0] if isinstance(err, ValueError) and err.args else "too deeply nested"
        raise WebhookRejected(400, f"body is not valid JSON: {detail}") from err
    _check_text(document, "body")
    return document


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_text(value: Any, where: str) -> None:
    # A NUL or a lone surrogate cannot be stored as text in PostgreSQL; refuse it here
    # with its place rather than fail the transaction later.
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, place = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise WebhookRejected(400, f"{place}: text must not contain NUL characters")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise WebhookRejected(400, f"{place}: text is not valid Unicode") from None
        elif isinstance(item, dict):
            stack.extend((key, place) for key in item)
            stack.extend((child, f"{place}.{key}") for key, child in item.items())
        elif isinstance(item, list):
            stack.extend((child, f"{place}[{index}]") for index, child in enumerate(item))


def _validate(model: type[BaseModel], item: dict[str, Any], where: str) -> Any:
    try:
        return model.model_validate(item)
    except ValidationError as err:
        raise WebhookRejected(400, describe_errors(err, where)) from err


def describe_errors(err: ValidationError, where: str = "") -> str:
    """A short reason naming each invalid field, e.g. ``events[0].timestamp: …``."""
    parts = []
    for error in err.errors()[:_MAX_ERRORS_SHOWN]:
        path = where
        for step in error["loc"]:
            path += f"[{step}]" if isinstance(step, int) else (f".{step}" if path else str(step))
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{path}: {message}" if path else message)
    more = err.error_count() - _MAX_ERRORS_SHOWN
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def _event(where: str, item: Any, threading: Threading, received: datetime) -> InboundEvent:
    label = where or "body"
    if not isinstance(item, dict):
        raise WebhookRejected(400, f"{label}: must be a JSON object (an event)")
    kind = item.get("type")
    prefix = f"{where}." if where else ""
    if kind is None:
        raise WebhookRejected(400, f"{prefix}type: Field required (message or status)")
    if not isinstance(kind, str):
        raise WebhookRejected(400, f"{prefix}type: must be a string (message or status)")
    if kind == "message":
        message: MessageEvent = _validate(MessageEvent, item, where)
        return _message(message, item, threading)
    if kind == "status":
        status: StatusEvent = _validate(StatusEvent, item, where)
        return StatusUpdate(
            external_id=status.id,
            status=status.status,
            timestamp=status.timestamp,
            reason=status.reason,
            raw=item,
        )
    # A newer event type: kept as unsupported content so it is never silently dropped,
    # provided it can be placed (a sender) and deduplicated (an id).
    if "id" not in item or "sender" not in item:
        raise WebhookRejected(
            400,
            f"{prefix}type: unknown event type {kind[:50]!r}; expected message or status "
            "(other types need an id and a sender to be kept as unsupported messages)",
        )
    other: OtherEvent = _validate(OtherEvent, item, where)
    return InboundMessage(
        external_id=other.id,
        sender_id=other.sender.id,
        sender=_profile(other.sender),
        timestamp=other.timestamp or received,
        thread_key=other.thread_id if threading == "per_thread_id" else None,
        parts=(
            UnsupportedPart(
                raw_type=other.type, description=f"a {other.type!r} event the hub cannot show"
            ),
        ),
        raw=item,
    )


def _message(event: MessageEvent, raw: dict[str, Any], threading: Threading) -> InboundMessage:
    parts: list[ContentPart] = []
    if event.text and event.text.strip():
        parts.append(TextPart(text=event.text))
    parts.extend(_media(attachment) for attachment in event.attachments)
    return InboundMessage(
        external_id=event.id,
        sender_id=event.sender.id,
        sender=_profile(event.sender),
        timestamp=event.timestamp,
        # per_contact leaves threading to the core: the contact's open conversation.
        thread_key=event.thread_id if threading == "per_thread_id" else None,
        reply_to_external_id=event.reply_to,
        parts=tuple(parts),
        raw=raw,
    )


def _profile(sender: Sender) -> SenderProfile:
    return SenderProfile(
        name=sender.name or None, email=sender.email or None, phone=sender.phone or None
    )


def _media(attachment: Attachment) -> MediaPart:
    content_type: str | None = attachment.content_type
    url: str | None = attachment.url
    if attachment.data is not None:
        # The contract's MediaPart carries no bytes: the file travels as a data: URL,
        # which fetch_media decodes locally.
        content_type = content_type or "application/octet-stream"
        url = f"data:{content_type};base64,{attachment.data}"
    return MediaPart(
        media_kind=media_kind_of(content_type),
        url=url,
        mime_type=content_type,
        filename=attachment.filename or None,
        size=attachment.size,
    )
