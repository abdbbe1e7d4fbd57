"""The outbox as admins see it: the deliveries by status (dead letters above all), and
putting dead or failed ones back in the queue, one or all at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, func, select

from hub.channels.outbox_outcomes import hold
from hub.errors import HubError, NotFound
from hub.events.work import Work
from hub.inbox.messages import announce_update
from hub.inbox.timeline import after_id, encode_id_cursor
from hub.store.models import Contact, Conversation, Message, OutboxItem
from hub.store.types import utcnow

OutboxStatus = Literal["pending", "done", "failed", "dead"]
RETRYABLE: tuple[OutboxStatus, ...] = ("dead", "failed")


async def list_outbox(
    work: Work,
    *,
    status: OutboxStatus | None = None,
    channel_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
    statuses: Sequence[OutboxStatus] | None = None,
) -> tuple[list[tuple[OutboxItem, int]], str | None]:
    """One page of outbox rows, newest first, each with its message's conversation id,
    and the next page's cursor. ``statuses`` keeps rows in any of several states (the
    dead letters are ``RETRYABLE``), ``status`` those in one."""
    query = select(OutboxItem, Message.conversation_id).join(
        Message, Message.id == OutboxItem.message_id
    )
    if status is not None:
        query = query.where(OutboxItem.status == status)
    if statuses is not None:
        query = query.where(OutboxItem.status.in_(statuses))
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
    await requeue(work, item, message, conversation)
    return item, conversation.id


async def requeue(
    work: Work, item: OutboxItem, message: Message, conversation: Conversation
) -> None:
    """Put a delivery back in the queue: the row pending with no attempts counted, due
    now, and its message ``pending`` again, announced to whoever sees it."""
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


@dataclass(frozen=True)
class DeliveryContext:
    """What an admin needs to recognise a delivery: who it was for and what it said."""

    contact_name: str
    text: str | None


async def delivery_contexts(work: Work, message_ids: Sequence[int]) -> dict[int, DeliveryContext]:
    """The contact and text of each of these messages, by message id (one query)."""
    if not message_ids:
        return {}
    rows = await work.db.execute(
        select(Message.id, Message.text, Contact.name)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Message.id.in_(list(message_ids)))
    )
    return {
        message_id: DeliveryContext(contact_name=name or "", text=text)
        for message_id, text, name in rows
    }


def _retryable(
    channel_id: int | None, statuses: Sequence[OutboxStatus]
) -> list[ColumnElement[bool]]:
    wanted = [s for s in statuses if s in RETRYABLE]
    conditions: list[ColumnElement[bool]] = [OutboxItem.status.in_(wanted)]
    if channel_id is not None:
        conditions.append(OutboxItem.channel_id == channel_id)
    return conditions


async def count_retryable(
    work: Work, *, channel_id: int | None = None, statuses: Sequence[OutboxStatus] = RETRYABLE
) -> int:
    """How many deliveries ``retry_all`` with the same filters would queue again."""
    query = select(func.count()).select_from(OutboxItem)
    query = query.where(*_retryable(channel_id, statuses))
    return int(await work.db.scalar(query) or 0)


async def retry_all(
    work: Work, *, channel_id: int | None = None, statuses: Sequence[OutboxStatus] = RETRYABLE
) -> int:
    """Queue every dead or failed delivery (of one channel, of some states) again, as
    ``retry_delivery`` does one; the number queued."""
    query = select(OutboxItem.id).where(*_retryable(channel_id, statuses))
    ids = list(await work.db.scalars(query.order_by(OutboxItem.id)))
    for item_id in ids:
        await retry_delivery(work, item_id)
    return len(ids)
