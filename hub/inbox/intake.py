"""Taking normalized inbound events into the inbox: identity, threading, the message,
and delivery statuses of our own messages (``hub.inbox.intake_status``).

Everything here runs inside the caller's unit of work (the inbound pipe's batch
savepoint): a request's events land together or not at all, and their realtime events
and observer notices go out only after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from hub.auth.visibility import ConversationScope
from hub.contract.models import InboundMessage, SenderProfile, StatusUpdate
from hub.contract.notices import MessageReceived
from hub.errors import Invalid
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.inbox.contact_fields import NAME_LENGTH, normalize_email, normalize_phone, split_name
from hub.inbox.csat import answer_of
from hub.inbox.intake_batch import BatchIndex
from hub.inbox.intake_groups import add_to_group, load_group
from hub.inbox.intake_result import Intake
from hub.inbox.intake_status import take_status
from hub.inbox.intake_threads import keep_hints, subject_of, thread
from hub.inbox.message_notices import NewMessage, notify_assignees
from hub.inbox.messages import announce_update, message_payload
from hub.inbox.routing import route_new_conversation
from hub.inbox.storable import key, parts_of, scrub
from hub.media.parts import MEDIA_PART_KINDS
from hub.store.models import Channel, Contact, ContactIdentity, Conversation, Message
from hub.store.types import utcnow

# A channel's last_inbound_at is written at most this often: under load, one row update
# a second rather than one per message.
INBOUND_MARK_EVERY = timedelta(seconds=1)


async def take_events(
    work: Work, channel: Channel, events: Sequence[InboundMessage | StatusUpdate]
) -> list[Intake]:
    """Take every event of one request, in order."""
    results = []
    for event in events:
        if isinstance(event, InboundMessage):
            results.append(await take_message(work, channel, event))
        else:
            results.append(await take_status(work, channel, event))
    return results


def stored_external_id(event: InboundMessage) -> str:
    """The external id the event's message is stored under: its own, or for an item of a
    group (an album) the group's, so the unique (channel, external id) keeps one message
    per group, also when items race."""
    if event.group_key is not None:
        return key("group:" + event.group_key)
    return key(event.external_id)


# --- contact identity ----------------------------------------------------------------


def _clean(normalize: Any, value: str | None) -> str | None:
    # A provider's malformed email or phone is dropped, not a reason to lose the message.
    if not value:
        return None
    try:
        result: str = normalize(value)
    except Invalid:
        return None
    return result


async def identify(work: Work, channel: Channel, sender_id: str, profile: SenderProfile) -> Contact:
    """The contact behind ``sender_id`` on this channel; created on first contact.

    A new contact's first and last name are split from the provider's name
    (``split_name``). A later profile name the provider reports replaces the contact's
    names only while they are still the provider's earlier ones: a name an agent typed
    stays.
    """
    sender_id = key(sender_id)
    index = BatchIndex.of(work.db)
    known, identity = index.identity((channel.id, sender_id)) if index else (False, None)
    if not known:
        identity = await work.db.scalar(
            select(ContactIdentity).where(
                ContactIdentity.channel_id == channel.id, ContactIdentity.external_id == sender_id
            )
        )
    email = _clean(normalize_email, profile.email)
    phone = _clean(normalize_phone, profile.phone)
    seen = scrub(profile.model_dump(mode="json", exclude_none=True))
    if identity is None:
        # An email, phone or id stands in for a missing name, but is no first name.
        first_name, last_name = split_name(seen.get("name"))
        contact = Contact(
            name=(seen.get("name") or email or phone or sender_id)[:NAME_LENGTH],
            first_name=first_name,
            last_name=last_name,
            email=email,
            phone=phone,
            avatar_url=profile.avatar_url,
            fields={},
            blocked=False,
        )
        work.db.add(contact)
        await work.db.flush()
        if index is not None:
            index.forget_identity((channel.id, sender_id))
            index.new_contact(channel.id, contact.id)
        work.db.add(
            ContactIdentity(
                contact_id=contact.id, channel_id=channel.id, external_id=sender_id, profile=seen
            )
        )
        await work.db.flush()
        return contact
    contact = await _current(work, identity.contact_id)
    old_name = identity.profile.get("name")
    new_name = seen.get("name")
    if new_name and new_name != old_name and contact.name == (old_name or contact.name):
        contact.name = new_name[:NAME_LENGTH]
        # First and last name follow while they are the split of the provider's earlier
        # name (or empty: taken in before names were split); an agent's stay.
        if (contact.first_name, contact.last_name) in {split_name(old_name), (None, None)}:
            contact.first_name, contact.last_name = split_name(new_name)
    contact.email = contact.email or email
    contact.phone = contact.phone or phone
    if seen != identity.profile:
        identity.profile = {**identity.profile, **seen}
    return contact


def sender_unchanged(identity: ContactIdentity, contact: Contact, profile: SenderProfile) -> bool:
    """Whether ``identify`` would leave this known sender's identity and contact as they
    are: the profile brings nothing new and fills no empty email or phone."""
    seen = scrub(profile.model_dump(mode="json", exclude_none=True))
    if any(identity.profile.get(name) != value for name, value in seen.items()):
        return False
    if not contact.email and _clean(normalize_email, profile.email):
        return False
    return bool(contact.phone or not _clean(normalize_phone, profile.phone))


async def _current(work: Work, contact_id: int) -> Contact:
    """The contact, following merges to the one that absorbed it."""
    contact = await work.db.get_one(Contact, contact_id)
    for _ in range(10):  # merges form short chains; the bound guards a corrupt cycle
        if contact.merged_into_id is None:
            break
        contact = await work.db.get_one(Contact, contact.merged_into_id)
    return contact


# --- messages ------------------------------------------------------------------------


def _text_of(event: InboundMessage) -> str | None:
    # Captions count as text: a photo with a caption reads as that caption in lists.
    # A tapped button (a ChoicePart) reads as its title.
    pieces = [
        getattr(part, "text", None)
        or getattr(part, "caption", None)
        or getattr(part, "title", None)
        for part in event.parts
    ]
    text = scrub("\n".join(p for p in pieces if p))
    return text or None


async def _message_id(work: Work, channel: Channel, external_id: str | None) -> int | None:
    if external_id is None:
        return None
    return await work.db.scalar(
        select(Message.id).where(
            Message.channel_id == channel.id, Message.external_id == key(external_id)
        )
    )


def _emit_created(work: Work, message: Message, conversation: Conversation) -> None:
    payload = message_payload(message, [])  # a new message has no attachments yet
    work.emit(HubEvent("message.created", payload, scope=ConversationScope.of(conversation)))


async def _edit(work: Work, message: Message, event: InboundMessage) -> Intake:
    text = _text_of(event)
    parts = parts_of(event)
    if text == message.text and parts == message.parts:
        return Intake("duplicate", message.id, message.conversation_id)  # a re-delivered edit
    replaced = {"text": message.text, "parts": message.parts, "replaced_at": utcnow().isoformat()}
    # A new list, so the JSON column is seen as changed.
    message.edit_history = [*(message.edit_history or []), replaced]
    message.text, message.parts = text, parts
    conversation = await work.db.get_one(Conversation, message.conversation_id)
    await work.db.flush()
    await announce_update(work, message, conversation)
    return Intake("stored", message.id, conversation.id)


async def mark_inbound(work: Work, channel: Channel, now: datetime) -> None:
    """Note when the channel last received, leaving its ``updated_at`` alone: that is
    when an admin last edited it, and it keys the cached plugin object
    (``ChannelInstances``), which a bump per message would rebuild per request."""
    last = channel.last_inbound_at
    if last is not None and now - last < INBOUND_MARK_EVERY:
        return
    await work.db.execute(
        update(Channel)
        .where(Channel.id == channel.id)
        .values(last_inbound_at=now, updated_at=Channel.updated_at)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(channel, "last_inbound_at", now)


def reply_target(event: InboundMessage) -> str | None:
    """The provider id of the message this one answers or reacts to, if any."""
    return event.reply_to_external_id or next(
        (p.target_external_id for p in event.parts if p.kind == "reaction"), None
    )


def message_row(
    channel: Channel, conversation: Conversation, event: InboundMessage, now: datetime
) -> dict[str, Any]:
    """The columns of a new inbound message (all but ``reply_to_id``), shared by the
    per-message path and the set-based one (``hub.inbox.intake_fast``)."""
    return {
        "conversation_id": conversation.id,
        "channel_id": channel.id,
        "direction": "in",
        "sender_user_id": None,
        "external_id": stored_external_id(event),
        "text": _text_of(event),
        "subject": subject_of(event),
        "parts": parts_of(event),
        "raw": scrub(event.raw),
        "status": "received",
        # The provider's time (a late delivery shows when it was written), never in the
        # future: a sender's skewed clock must not pin a message to the top.
        "created_at": min(event.timestamp, now),
        "media_pending": any(part.kind in MEDIA_PART_KINDS for part in event.parts),
        "edit_history": [],
        "envelope": _envelope(event),
        "automated": event.automated,
    }


def _envelope(event: InboundMessage) -> dict[str, list[str]] | None:
    """Who else the message was addressed to, as stored: only the lists that have names."""
    if event.envelope is None:
        return None
    lists = {
        name: [scrub(address) for address in addresses]
        for name, addresses in event.envelope.model_dump().items()
        if addresses
    }
    return lists or None


def announce_message(
    work: Work,
    channel: Channel,
    message: Message,
    conversation: Conversation,
    contact_id: int,
    created: bool,
    event: InboundMessage,
) -> None:
    """The realtime events and observer notice of a stored inbound message."""
    scope = ConversationScope.of(conversation)
    _emit_created(work, message, conversation)
    work.emit(
        HubEvent(
            "conversation.updated",
            {"conversation_id": conversation.id, "event": "message", "actor_id": None},
            scope=scope,
        )
    )
    work.emit(HubEvent("counts.changed", {}, scope=scope))
    work.observe(
        MessageReceived(
            channel_id=channel.id,
            channel_type=channel.type,
            conversation_id=conversation.id,
            message_id=message.id,
            contact_id=contact_id,
            new_conversation=created,
            message=event,
        )
    )


async def take_message(work: Work, channel: Channel, event: InboundMessage) -> Intake:
    """Store one contact message (or apply an edit); a re-delivery is a ``duplicate``.
    A later item of a group joins the group's message (``hub.inbox.intake_groups``)."""
    # Imported here: the groups module uses this one's helpers.
    external_id = stored_external_id(event)
    index = BatchIndex.of(work.db)
    known, known_id = index.message((channel.id, external_id)) if index else (False, None)
    if event.group_key is not None:
        # The batch index knows items' own ids, not groups': always ask, and lock.
        existing = await load_group(work, channel, external_id)
        if existing is not None:
            return await add_to_group(work, existing, event)
    elif not known:
        existing = await work.db.scalar(
            select(Message).where(
                Message.channel_id == channel.id, Message.external_id == external_id
            )
        )
    else:
        existing = None if known_id is None else await work.db.get_one(Message, known_id)
    if existing is not None:
        if event.edited and existing.direction == "in":
            return await _edit(work, existing, event)
        return Intake("duplicate", existing.id, existing.conversation_id)
    contact = await identify(work, channel, event.sender_id, event.sender)
    # A CSAT answer joins its surveyed conversation and leaves it closed (hub.inbox.csat).
    answer = await answer_of(work, channel, contact, event)
    if answer is not None:
        conversation, created = answer.conversation, False
    else:
        conversation, created = await thread(work, channel, contact, event)
    if created and not contact.blocked:
        await route_new_conversation(work, channel, conversation)
    await keep_hints(work, channel, conversation, event.thread_hints)
    # Events recorded so far get their times before the message: the timeline reads in order.
    await work.db.flush()
    now = utcnow()
    message = Message(
        **message_row(channel, conversation, event, now),
        reply_to_id=await _message_id(work, channel, reply_target(event)),
    )
    work.db.add(message)
    await work.db.flush()
    if index is not None:
        index.forget_message((channel.id, external_id))
    conversation.last_message_at = max(conversation.last_message_at, message.created_at)
    conversation.last_inbound_at = now
    conversation.last_message_direction = "in"
    # A CSAT answer is no new work: it leaves the closed conversation read.
    if not contact.blocked and answer is None:
        conversation.unread_count = (conversation.unread_count or 0) + 1
    await mark_inbound(work, channel, now)
    announce_message(work, channel, message, conversation, contact.id, created, event)
    if answer is not None:
        await answer.record(work)
        return Intake("stored", message.id, conversation.id)
    # A new conversation's assignee hears of it as "assigned"; a machine's message
    # (an out-of-office, a bounce) is no reason to interrupt anyone.
    if not created and event.automated is None:
        await notify_assignees(work.db, [NewMessage(work, conversation, message.id, message.text)])
    return Intake("stored", message.id, conversation.id)
