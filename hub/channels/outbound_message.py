"""The rows one delivery needs, and the ``OutboundMessage`` a plugin's ``send`` receives.

Loaded just before each attempt, so the attempt sees the latest state: a contact blocked,
a channel disabled or deleted since the message was queued.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.contract.models import OutboundAttachment, OutboundMessage
from hub.inbox.csat_settings import choices_of_parts
from hub.inbox.outgoing_rules import template_of_parts
from hub.media.links import signed_media_url
from hub.settings import Settings
from hub.store.models import (
    Attachment,
    Channel,
    Contact,
    ContactIdentity,
    Conversation,
    Message,
    OutboxItem,
    User,
)

# How many earlier messages a reply names (an email's References): enough to thread in
# any client, bounded so a long conversation's header stays small.
REFERENCES_KEPT = 20


def idempotency_key(message_id: int) -> str:
    """The key a provider may use to drop a repeated send of one message: the same on
    every attempt, so a retry after a timeout (sent, but the answer lost) is not doubled."""
    return f"hub-msg-{message_id}"


@dataclass(frozen=True)
class Delivery:
    """Everything one delivery attempt reads from the store."""

    item: OutboxItem
    message: Message
    conversation: Conversation
    channel: Channel
    contact: Contact
    recipient_id: str | None
    reply_to_external_id: str | None
    attachments: list[Attachment]
    references: tuple[str, ...] = ()
    sender_name: str | None = None

    @property
    def blocked(self) -> bool:
        """Whether the contact was blocked after the message was queued."""
        return self.contact.blocked or self.conversation.contact_blocked


async def load_delivery(db: AsyncSession, item: OutboxItem) -> Delivery | None:
    """The rows behind ``item``; None when its message or conversation is gone."""
    message = await db.get(Message, item.message_id)
    if message is None:
        return None
    conversation = await db.get(Conversation, message.conversation_id)
    channel = await db.get(Channel, item.channel_id)
    if conversation is None or channel is None:
        return None
    contact = await db.get(Contact, conversation.contact_id)
    if contact is None:
        return None
    # A contact may hold several identities on one channel (after a merge); the oldest
    # is the one the conversation most likely began with.
    recipient_id = await db.scalar(
        select(ContactIdentity.external_id)
        .where(
            ContactIdentity.contact_id == contact.id,
            ContactIdentity.channel_id == channel.id,
        )
        .order_by(ContactIdentity.id)
        .limit(1)
    )
    reply_to_external_id = None
    if message.reply_to_id is not None:
        reply_to_external_id = await db.scalar(
            select(Message.external_id).where(Message.id == message.reply_to_id)
        )
    attachments = list(
        await db.scalars(
            select(Attachment).where(Attachment.message_id == message.id).order_by(Attachment.id)
        )
    )
    earlier = await db.scalars(
        select(Message.external_id)
        .where(
            Message.conversation_id == conversation.id,
            Message.id < message.id,
            Message.external_id.is_not(None),
        )
        .order_by(Message.id.desc())
        .limit(REFERENCES_KEPT)
    )
    sender_name = None
    if message.sender_user_id is not None:
        sender_name = await db.scalar(select(User.name).where(User.id == message.sender_user_id))
    return Delivery(
        item=item,
        message=message,
        conversation=conversation,
        channel=channel,
        contact=contact,
        recipient_id=recipient_id,
        reply_to_external_id=reply_to_external_id,
        attachments=attachments,
        references=tuple(reversed([ref for ref in earlier if ref])),
        sender_name=sender_name,
    )


def build_outbound(
    delivery: Delivery,
    recipient_id: str,
    *,
    settings: Settings,
    secret_key: str,
) -> OutboundMessage:
    """The normalized message handed to the plugin's ``send``.

    Each attachment carries a signed link the provider can fetch without a login, and
    its sha256, by which plugins that upload the bytes themselves (email, Telegram)
    read it through ``ChannelContext.read_attachment``. A template message carries its
    ``TemplateRef``.
    """
    message = delivery.message
    attachments = tuple(
        OutboundAttachment(
            filename=a.filename,
            content_type=a.content_type,
            size=a.size,
            sha256=a.sha256,
            url=signed_media_url(settings, secret_key, a.id, a.filename),
        )
        for a in delivery.attachments
    )
    return OutboundMessage(
        message_id=message.id,
        conversation_id=message.conversation_id,
        recipient_id=recipient_id,
        idempotency_key=idempotency_key(message.id),
        text=message.text,
        subject=message.subject or delivery.conversation.subject,
        thread_key=delivery.conversation.thread_key,
        reply_to_external_id=delivery.reply_to_external_id,
        attachments=attachments,
        # A template message's text is only the inbox's rendering of it.
        template=template_of_parts(message.parts),
        references=delivery.references,
        cc=tuple((message.envelope or {}).get("cc") or ()),
        sender_name=delivery.sender_name,
        # A CSAT survey's buttons (hub.inbox.csat); stored only for channels that show them.
        choices=choices_of_parts(message.parts),
    )
