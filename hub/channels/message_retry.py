"""An agent retrying a failed reply from the conversation: the same re-queueing as an
admin's outbox retry, reached by the message instead of the outbox row, and only for a
message the caller may see.

Agents cannot use the outbox API (owners and managers only), yet a failed reply is
theirs to deal with. This lives in the pipes' package, beside ``outbox_admin``, because
it puts an outbox row back in the queue; who may do so is the inbox's visibility rule.
"""

from __future__ import annotations

from sqlalchemy import select

from hub.auth.visibility import Viewer
from hub.channels.outbox_admin import requeue
from hub.errors import HubError
from hub.events.work import Work
from hub.inbox.conversations import get_visible
from hub.inbox.messages import MessageRow, enqueue_delivery, get_message
from hub.store.models import Channel, OutboxItem


async def retry_message(work: Work, viewer: Viewer, message_id: int) -> MessageRow:
    """Queue a failed outgoing message again; the message as it now is (``pending``).

    404 when the message is missing or its conversation hidden from the caller; 409
    ``not_retryable`` for anything but a failed outgoing message, ``contact_blocked``
    and ``channel_deleted`` as for a new reply. A message the provider reported failed
    after it had been handed over (its row ``done``) is queued again too: the provider
    said it did not arrive.
    """
    row = await get_message(work, viewer, message_id)
    message = row.message
    if message.direction != "out" or message.status != "failed":
        raise HubError(
            409,
            "not_retryable",
            f"only a failed outgoing message can be retried; this one is {message.status}",
        )
    conversation = await get_visible(work, viewer, message.conversation_id)
    if conversation.contact_blocked:
        raise HubError(409, "contact_blocked", "the contact is blocked; unblock them to retry")
    channel = await work.db.get(Channel, message.channel_id)
    if channel is None or channel.deleted_at is not None:
        raise HubError(409, "channel_deleted", "the conversation's channel has been deleted")
    item = await work.db.scalar(
        select(OutboxItem).where(OutboxItem.message_id == message.id).with_for_update()
    )
    if item is None:  # failed before it was ever queued: queue it now
        item = enqueue_delivery(work, message)
        await work.db.flush()
    await requeue(work, item, message, conversation)
    return row
