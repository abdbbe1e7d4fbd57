"""Messages: list and fetch them, send a reply, start a new outbound conversation.

Sending never talks to a provider: it stores the message as ``pending`` and an outbox
row in the same transaction; the outbox worker (the channel pipes) delivers it later.
So a message that exists is always queued exactly once, and a failed request queues
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from hub.auth.visibility import ConversationScope, Viewer, conversation_filter
from hub.errors import HubError, Invalid, NotFound
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.inbox import conversations, sla_clocks
from hub.inbox.channel_plugins import ChannelPlugins, ChannelUnavailable
from hub.inbox.drafts import discard_draft
from hub.inbox.email_addresses import check_cc
from hub.inbox.outgoing_rules import (
    TemplateChoice,
    check_template,
    check_window,
    last_inbound_at,
)
from hub.inbox.timeline import (
    Order,
    attachments_of,
    check_attachments,
    claim_attachments,
    page_of_conversation,
)
from hub.media.store import MediaLimits, OutgoingFile, check_channel_accepts
from hub.store.models import (
    Attachment,
    Channel,
    Contact,
    ContactIdentity,
    Conversation,
    Message,
    OutboxItem,
)
from hub.store.types import utcnow


@dataclass(frozen=True)
class Outgoing:
    """What an agent sends: text and/or uploaded attachments, optionally a reply to one
    of the conversation's messages, a subject (for channels that thread by it) and
    addresses to copy (``cc``, for channels whose capabilities have ``cc``: email); or a
    provider-approved template (alone)."""

    text: str | None = None
    attachments: list[int] = field(default_factory=list)
    reply_to: int | None = None
    subject: str | None = None
    template: TemplateChoice | None = None
    cc: list[str] = field(default_factory=list)

    @property
    def clean_text(self) -> str | None:
        """The text, or None when it is missing or only whitespace."""
        return self.text if self.text is not None and self.text.strip() else None


@dataclass(frozen=True)
class MessageRow:
    """A message with its attachments."""

    message: Message
    attachments: list[Attachment]


# --- reading ------------------------------------------------------------------------------


async def list_messages(
    work: Work,
    viewer: Viewer,
    conversation_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
    order: Order = "asc",
) -> tuple[list[MessageRow], str | None]:
    """One page of a visible conversation's messages by id (oldest first unless
    ``order="desc"``) and the next page's cursor; 404 if the conversation is hidden."""
    await conversations.get_visible(work, viewer, conversation_id)
    messages, next_cursor = await page_of_conversation(
        work, Message, conversation_id, cursor=cursor, limit=limit, order=order
    )
    found = await attachments_of(work, message_ids=[m.id for m in messages])
    rows = [MessageRow(m, found.get(("message", m.id), [])) for m in messages]
    return rows, next_cursor


async def get_message(work: Work, viewer: Viewer, message_id: int) -> MessageRow:
    """One message, if its conversation is visible to the caller; 404 otherwise."""
    message = await work.db.scalar(
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.id == message_id, conversation_filter(viewer))
    )
    if message is None:
        raise NotFound("message")
    found = await attachments_of(work, message_ids=[message.id])
    return MessageRow(message, found.get(("message", message.id), []))


# --- sending ------------------------------------------------------------------------------


def enqueue_delivery(work: Work, message: Message) -> OutboxItem:
    """The outbox row that hands ``message`` to the outbox worker."""
    item = OutboxItem(message_id=message.id, channel_id=message.channel_id, status="pending")
    work.db.add(item)
    return item


def message_payload(message: Message, attachments: list[Attachment]) -> dict[str, Any]:
    """What realtime ``message.created`` and ``message.updated`` events carry: one shape,
    so a client handles every change of a message the same way."""

    def iso(at: datetime | None) -> str | None:
        return at.isoformat() if at else None

    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "status": message.status,
        "text": message.text,
        "subject": message.subject,
        "parts": message.parts,
        "media_pending": message.media_pending,
        "external_id": message.external_id,
        "failure_reason": message.failure_reason,
        "error_code": message.error_code,
        "sender_user_id": message.sender_user_id,
        "reply_to": message.reply_to_id,
        "created_at": message.created_at.isoformat(),
        "sent_at": iso(message.sent_at),
        "delivered_at": iso(message.delivered_at),
        "read_at": iso(message.read_at),
        "attachments": [
            {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in attachments
        ],
    }


async def announce_update(work: Work, message: Message, conversation: Conversation) -> None:
    """Emit ``message.updated`` with the message as it now is, attachments included."""
    found = await attachments_of(work, message_ids=[message.id])
    payload = message_payload(message, found.get(("message", message.id), []))
    work.emit(HubEvent("message.updated", payload, scope=ConversationScope.of(conversation)))


async def _check_outgoing(
    work: Work,
    viewer: Viewer,
    outgoing: Outgoing,
    conversation_id: int | None,
    channel: Channel,
    channels: ChannelPlugins | None,
    contact_id: int,
) -> None:
    MediaLimits().check_count(len(outgoing.attachments))
    if outgoing.template is not None:
        if outgoing.clean_text is not None or outgoing.attachments:
            raise Invalid("template", "a template is sent alone: no text or attachments")
    elif outgoing.clean_text is None and not outgoing.attachments:
        raise Invalid("text", "a message needs text or at least one attachment")
    if outgoing.reply_to is not None:
        replied = await work.db.scalar(
            select(Message.id).where(
                Message.id == outgoing.reply_to, Message.conversation_id == conversation_id
            )
        )
        if replied is None:
            raise Invalid("reply_to", "no message with this id in this conversation")
    check_cc(outgoing.cc)
    await check_attachments(work, viewer, outgoing.attachments)
    await _check_channel_limits(work, outgoing, channel, channels, contact_id)


async def _check_channel_limits(
    work: Work,
    outgoing: Outgoing,
    channel: Channel,
    channels: ChannelPlugins | None,
    contact_id: int,
) -> None:
    """The message against what the channel can carry: its plugin object's
    ``capabilities`` (a type's, unless a plugin sets them per channel from its config):
    templates (422), the customer-service window (409 ``window_closed`` for anything
    but a template), the files. A channel whose plugin cannot be built is not checked
    here: the outbox reports it."""
    if channels is None:
        return
    try:
        plugin = channels.for_channel(channel)
    except ChannelUnavailable:
        return
    label = f"the channel {channel.name!r} ({plugin.title})"
    if outgoing.cc and not plugin.capabilities.cc:
        raise Invalid("cc", f"{label} cannot send copies to other addresses")
    if outgoing.template is not None:
        check_template(plugin.capabilities, label)
    elif plugin.capabilities.window_hours is not None:
        check_window(plugin.capabilities, await last_inbound_at(work, contact_id, channel.id))
    if not outgoing.attachments:
        return
    rows = await work.db.scalars(
        select(Attachment).where(Attachment.id.in_(outgoing.attachments)).order_by(Attachment.id)
    )
    files = [OutgoingFile(a.filename, a.content_type, a.size) for a in rows]
    check_channel_accepts(plugin.capabilities, label, files)


async def _store_outgoing(
    work: Work, viewer: Viewer, conversation: Conversation, outgoing: Outgoing
) -> MessageRow:
    """The message, its outbox row and its attachments; the conversation now answered."""
    message = Message(
        conversation_id=conversation.id,
        channel_id=conversation.channel_id,
        direction="out",
        sender_user_id=viewer.actor_id,
        text=outgoing.template.rendering() if outgoing.template else outgoing.clean_text,
        subject=outgoing.subject,
        reply_to_id=outgoing.reply_to,
        status="pending",
        parts=[outgoing.template.part()] if outgoing.template else [],
        # The outbox's plugin reads the copies from here (``build_outbound``).
        envelope={"cc": check_cc(outgoing.cc)} if outgoing.cc else None,
    )
    work.db.add(message)
    await work.db.flush()
    enqueue_delivery(work, message)
    await claim_attachments(work, viewer, outgoing.attachments, message_id=message.id)
    attachments = list(
        await work.db.scalars(
            select(Attachment).where(Attachment.message_id == message.id).order_by(Attachment.id)
        )
    )
    conversation.last_message_at = message.created_at
    conversation.last_message_direction = "out"
    sla_clocks.reply_sent(work, conversation)
    scope = ConversationScope.of(conversation)
    # Replying shows the conversation was read, as marking it read would (the assignee's
    # count; anyone's while unassigned).
    if conversation.unread_count and conversation.assignee_id in (None, viewer.id):
        conversation.unread_count = 0
        work.emit(HubEvent("counts.changed", {}, scope=scope))
    work.emit(HubEvent("message.created", message_payload(message, attachments), scope=scope))
    await work.db.flush()
    return MessageRow(message, attachments)


async def send_message(
    work: Work,
    viewer: Viewer,
    conversation_id: int,
    outgoing: Outgoing,
    *,
    channels: ChannelPlugins | None = None,
) -> MessageRow:
    """Send a reply in a visible conversation (404 otherwise): stored ``pending`` with its
    outbox row. A closed conversation is reopened first (a "reopened" event); a snoozed
    one stays snoozed. A blocked contact, a merged conversation or a deleted channel (409)
    refuses it; a disabled channel accepts it, and the outbox holds it until the channel
    is enabled.

    With ``channels``, attachments are also checked against the channel's
    capabilities (422 no files at all, 415 a kind it cannot send, 413 too large; 422 a
    template where it has none) and its customer-service window (409 ``window_closed``
    for anything but a template once the contact's last message is older).

    The sender's reply draft of the conversation is deleted with it (``hub.inbox.drafts``)."""
    conversation = await conversations.get_visible(work, viewer, conversation_id)
    if conversation.contact_blocked:
        raise HubError(409, "contact_blocked", "the contact is blocked; unblock them to reply")
    if conversation.merged_into_id is not None:
        # Its timeline, and the thread with the contact, go on in the target.
        raise HubError(
            409,
            "merged",
            f"this conversation was merged into #{conversation.merged_into_id}: reply there",
        )
    channel = await work.db.get(Channel, conversation.channel_id)
    if channel is None or channel.deleted_at is not None:
        raise HubError(409, "channel_deleted", "the conversation's channel has been deleted")
    await _check_outgoing(
        work, viewer, outgoing, conversation.id, channel, channels, conversation.contact_id
    )
    if conversation.status == "closed":
        await conversations.reopen(work, viewer, conversation.id)
        # The event gets its time now, so it sorts before the message in the timeline.
        await work.db.flush()
    row = await _store_outgoing(work, viewer, conversation, outgoing)
    await discard_draft(work, viewer, conversation.id, "reply")
    return row


async def _visible_contact(work: Work, viewer: Viewer, contact_id: int) -> Contact:
    contact = await work.db.get(Contact, contact_id)
    if contact is None or contact.merged_into_id is not None:
        raise NotFound("contact")
    if not viewer.sees_everything:
        # A restricted agent sees a contact only through a conversation they may see.
        seen = await work.db.scalar(
            select(Conversation.id)
            .where(Conversation.contact_id == contact_id, conversation_filter(viewer))
            .limit(1)
        )
        if seen is None:
            raise NotFound("contact")
    return contact


async def start_conversation(
    work: Work,
    viewer: Viewer,
    contact_id: int,
    channel_id: int,
    outgoing: Outgoing,
    *,
    channels: ChannelPlugins | None = None,
) -> tuple[Conversation, MessageRow]:
    """Open a new conversation with a visible contact on an enabled channel, assigned
    to the caller, with its first message queued — all in this one transaction.

    Refused: a contact not visible (404), blocked (409), without an identity on the
    channel (422 ``contact_id``); a missing, deleted or disabled channel (422
    ``channel_id``); an open or snoozed conversation with the contact on the channel
    already, unless a subject starts a new thread (409 ``conversation_exists``).
    Attachments are checked against the channel as in ``send_message``.
    """
    contact = await _visible_contact(work, viewer, contact_id)
    channel = await work.db.get(Channel, channel_id)
    if channel is None or channel.deleted_at is not None:
        raise Invalid("channel_id", "no channel with this id")
    if not channel.enabled:
        raise Invalid("channel_id", "the channel is disabled")
    if contact.blocked:
        raise HubError(409, "contact_blocked", "the contact is blocked; unblock them first")
    identity = await work.db.scalar(
        select(ContactIdentity.id).where(
            ContactIdentity.contact_id == contact_id, ContactIdentity.channel_id == channel_id
        )
    )
    if identity is None:
        raise Invalid("contact_id", "the contact has no identity on this channel")
    if outgoing.reply_to is not None:
        raise Invalid("reply_to", "a new conversation has no message to reply to")
    await _check_outgoing(work, viewer, outgoing, None, channel, channels, contact_id)
    if outgoing.subject is None:
        await _refuse_second_thread(work, viewer, contact_id, channel_id)

    now = utcnow()
    conversation = Conversation(
        contact_id=contact_id,
        channel_id=channel_id,
        status="open",
        assignee_id=viewer.id,
        subject=outgoing.subject,
        contact_blocked=False,
        opened_at=now,
        status_changed_at=now,
        last_message_at=now,
        last_message_direction="out",
    )
    work.db.add(conversation)
    await work.db.flush()
    conversations.record(
        work, conversation, "created", viewer.id, contact_id=contact_id, channel_id=channel_id
    )
    conversations.record(work, conversation, "assigned", viewer.id, user_id=viewer.id, team_id=None)
    # The events get their times before the message does: the timeline reads in order.
    await work.db.flush()
    row = await _store_outgoing(work, viewer, conversation, outgoing)
    return conversation, row


async def _refuse_second_thread(
    work: Work, viewer: Viewer, contact_id: int, channel_id: int
) -> None:
    """Inbound replies go to the contact's open conversation on a channel, so a second
    one would split the thread. 409, with the existing id when the caller may see it."""
    existing = await work.db.scalar(
        select(Conversation).where(
            Conversation.contact_id == contact_id,
            Conversation.channel_id == channel_id,
            Conversation.status.in_(("open", "snoozed")),
        )
    )
    if existing is None:
        return
    visible = await work.db.scalar(
        select(Conversation.id).where(Conversation.id == existing.id, conversation_filter(viewer))
    )
    raise HubError(
        409,
        "conversation_exists",
        "the contact already has an open conversation on this channel; reply there",
        {"conversation_id": visible},
    )
