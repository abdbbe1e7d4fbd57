"""Delivery statuses of our own messages, as providers report them through webhooks.

Part of the intake (``hub.inbox.intake``): runs inside the inbound pipe's unit of work,
and its realtime event and observer notice go out only after the commit.
"""

from __future__ import annotations

from sqlalchemy import select

from hub.contract.models import StatusUpdate
from hub.contract.notices import MessageStatusChanged
from hub.events.work import Work
from hub.inbox.intake_result import Intake
from hub.inbox.messages import announce_update
from hub.inbox.storable import key, scrub
from hub.store.models import Channel, Conversation, Message
from hub.store.types import utcnow

# Delivery progress of an outbound message; a status never moves back down this order.
PROGRESS = {"pending": 0, "sent": 1, "delivered": 2, "read": 3}


def moves_forward(current: str, new: str) -> bool:
    """Whether ``new`` may replace ``current``: progress only goes up (a late
    "delivered" after "read" is ignored); "failed" may follow pending or sent; a
    "delivered" or "read" after "failed" proves it arrived after all."""
    if new == "failed":
        return current in ("pending", "sent")
    if current == "failed":
        return new in ("delivered", "read")
    return PROGRESS.get(new, -1) > PROGRESS.get(current, -1)


async def take_status(work: Work, channel: Channel, event: StatusUpdate) -> Intake:
    """Apply a delivery status to our outbound message with that provider id."""
    message = await work.db.scalar(
        select(Message).where(
            Message.channel_id == channel.id,
            Message.external_id == key(event.external_id),
            Message.direction == "out",
        )
    )
    if message is None:
        return Intake("unknown")
    if not moves_forward(message.status, event.status):
        return Intake("duplicate", message.id, message.conversation_id)
    at = min(event.timestamp or utcnow(), utcnow())
    message.status = event.status
    if event.status == "failed":
        message.failure_reason = scrub(event.reason) or "the provider reported a failure"
        message.error_code = scrub(event.error_code or "")[:100] or None
    else:
        message.failure_reason, message.error_code = None, None
        # Each later stage implies the earlier ones happened (by then at the latest).
        message.sent_at = message.sent_at or at
        if event.status in ("delivered", "read"):
            message.delivered_at = message.delivered_at or at
        if event.status == "read":
            message.read_at = message.read_at or at
    conversation = await work.db.get_one(Conversation, message.conversation_id)
    await work.db.flush()
    await announce_update(work, message, conversation)
    work.observe(
        MessageStatusChanged(
            channel_id=channel.id,
            conversation_id=conversation.id,
            message_id=message.id,
            status=event.status,
            reason=message.failure_reason,
        )
    )
    return Intake("stored", message.id, conversation.id)
