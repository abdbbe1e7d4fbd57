"""The outbox as admins see it: the deliveries by status (dead letters above all), and
putting a dead or failed one back in the queue."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select

from hub.channels.outbox_outcomes import hold
from hub.errors import HubError, NotFound
from hub.inbox.messages import announce_update
from hub.inbox.timeline import after_id, encode_id_cursor
from hub.inbox.work import Work
from hub.store.models import Conversation, Message, OutboxItem
from hub.store.types import utcnow

OutboxStatus = Literal["pending", "done", "failed", "dead"]
RETRYABLE = ("dead", "failed")


async def list_outbox(
    work: Work,
    *,
    status: OutboxStatus | None = None,
    channel_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[tuple[OutboxItem, int]], str | None]:
    """One page of outbox rows, newest first, each with its message's conversation id,
    and the next page's cursor."""
    query = select(OutboxItem, Message.conversation_id).join(
        Message, Message.id == OutboxItem.message_id
    )
    if status is not None:
        query = query.where(OutboxItem.status == status)
    if channel_id is not None:
        query = query.where(OutboxItem.channel_id == channel_id)
    condition = after_id(OutboxItem.id, cursor, "desc")
    if condition is not None:
        query = query.where(condition)
    rows = [
        (item, conversation_id)
        for item, conversation_id in (
            await work.db.execute(query.order_by(OutboxItem.id.desc()).limit(limit + 1))
        )
    ]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_id_cursor(rows[-1][0].id)
    return rows, next_cursor


async def retry_delivery(work: Work, item_id: int) -> tuple[OutboxItem, int]:
    """Queue a dead or failed delivery again: the row pending with no attempts counted,
    due now, and its message back to ``pending`` (409 ``not_retryable`` for a row in
    any other state; 404 for none)."""
    item = await work.db.scalar(select(OutboxItem).where(OutboxItem.id == item_id))
    if item is None:
        raise NotFound("outbox item")
    if item.status not in RETRYABLE:
        raise HubError(
            409,
            "not_retryable",
            f"only a dead or failed delivery can be retried; this one is {item.status}",
        )
    message = await work.db.get(Message, item.message_id)
    conversation = await work.db.get(Conversation, message.conversation_id) if message else None
    if message is None or conversation is None:
        raise NotFound("outbox item")
    item.status = "pending"
    item.attempts = 0
    item.next_attempt_at = utcnow()
    hold(item)
    message.status = "pending"
    message.failure_reason = None
    message.error_code = None
    await work.db.flush()
    # Also wakes the outbox worker of every hub process sharing the bus.
    await announce_update(work, message, conversation)
    return item, conversation.id
