"""Which conversation an inbound message joins (``thread``): first by what it names —
the earlier messages it follows (``references``, an email's ``In-Reply-To`` and
``References``) and its thread hints (an email's subject or Outlook thread index) — then
by its thread key, then the contact's open conversation.

Only a conversation of the same contact is ever joined, so replies of different people
to one mailing never merge. A hint joins only while the conversation's last message is
within the hint's window. Every hint of a stored message is then kept as a key of its
conversation (``conversation_thread_keys``), the latest conversation taking a key over.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub.contract.models import InboundMessage, ThreadHint
from hub.events.work import Work
from hub.inbox import conversations
from hub.inbox.channel_settings import ChannelSettings
from hub.inbox.intake_batch import BatchIndex
from hub.inbox.storable import key, scrub
from hub.store.models import Channel, Contact, Conversation, ConversationThreadKey, Message
from hub.store.types import utcnow

# How many referenced ids are looked up: a long mail thread's References grows by one
# per reply, and the nearest ones are the ones that decide.
REFERENCES_LOOKED_UP = 50


async def by_references(
    work: Work, channel: Channel, contact_id: int, references: Sequence[str]
) -> Conversation | None:
    """The same contact's conversation holding the nearest referenced message we know."""
    wanted = [key(reference) for reference in references[:REFERENCES_LOOKED_UP] if reference]
    if not wanted:
        return None
    rows = await work.db.execute(
        select(Message.external_id, Conversation)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Message.channel_id == channel.id,
            Message.external_id.in_(wanted),
            Conversation.contact_id == contact_id,
        )
    )
    found = {external_id: conversation for external_id, conversation in rows.all()}
    return next((found[ref] for ref in wanted if ref in found), None)


async def by_hints(
    work: Work,
    channel: Channel,
    contact_id: int,
    hints: Sequence[ThreadHint],
    now: datetime,
) -> Conversation | None:
    """The same contact's conversation holding the first hint's key, within its window."""
    if not hints:
        return None
    rows = await work.db.execute(
        select(ConversationThreadKey.key, Conversation)
        .join(Conversation, Conversation.id == ConversationThreadKey.conversation_id)
        .where(
            ConversationThreadKey.channel_id == channel.id,
            ConversationThreadKey.key.in_([key(hint.key) for hint in hints]),
            Conversation.contact_id == contact_id,
        )
    )
    found = {thread_key: conversation for thread_key, conversation in rows.all()}
    for hint in hints:
        conversation = found.get(key(hint.key))
        if conversation is None:
            continue
        window = hint.within_hours
        if window is None or conversation.last_message_at >= now - timedelta(hours=window):
            return conversation
    return None


async def named_conversation(
    work: Work, channel: Channel, contact_id: int, event: InboundMessage, now: datetime
) -> Conversation | None:
    """The conversation the message names by reference, else by hint; None when neither."""
    return await by_references(work, channel, contact_id, event.references) or await by_hints(
        work, channel, contact_id, event.thread_hints, now
    )


async def keep_hints(
    work: Work, channel: Channel, conversation: Conversation, hints: Sequence[ThreadHint]
) -> None:
    """Make each hint a key of ``conversation``, taking it over from an older one."""
    if not hints:
        return
    # Deduplicated: PostgreSQL refuses to update one row twice in a statement.
    keys = dict.fromkeys(key(hint.key) for hint in hints)
    rows = [
        {"channel_id": channel.id, "key": thread_key, "conversation_id": conversation.id}
        for thread_key in keys
    ]
    insert = pg_insert if work.db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(ConversationThreadKey).values(rows)
    # One statement: two messages of one thread stored at once never collide on the key.
    await work.db.execute(
        statement.on_conflict_do_update(
            index_elements=["channel_id", "key"],
            set_={"conversation_id": statement.excluded.conversation_id},
        )
    )


def subject_of(event: InboundMessage) -> str | None:
    """The subject a new conversation or message keeps: scrubbed, at most 1,000 characters."""
    return scrub(event.subject)[:1000] if event.subject else None


def _reopen(work: Work, conversation: Conversation, now: datetime) -> None:
    conversation.status = "open"
    conversation.status_changed_at = now
    conversation.opened_at = now
    conversation.closed_at = None
    conversation.snoozed_until = None
    conversations.record(work, conversation, "reopened", None, by="message")


def _wake(work: Work, conversation: Conversation, now: datetime) -> None:
    conversation.status = "open"
    conversation.status_changed_at = now
    conversation.snoozed_until = None
    conversations.record(work, conversation, "unsnoozed", None, by="message")


async def thread(
    work: Work, channel: Channel, contact: Contact, event: InboundMessage
) -> tuple[Conversation, bool]:
    """The conversation the message belongs to, and whether it was just created.

    First the same contact's conversation the message names by its references or thread
    hints (``hub.inbox.intake_threads``); then, with a thread key, the channel's
    conversation of that key; without, the contact's open (or snoozed: woken)
    conversation on the channel. A closed one is reopened or left closed for a new one,
    per the channel's ``closed_conversation`` setting; a machine's message reopens none.
    """
    now = utcnow()
    if event.references or event.thread_hints:
        named = await named_conversation(work, channel, contact.id, event, now)
        if named is not None and _join(work, channel, named, event, now):
            return named, False
    index = BatchIndex.of(work.db)
    known, latest, live = (
        index.live_and_latest(channel.id, contact.id)
        if index is not None and event.thread_key is None
        else (False, None, None)
    )
    if not known:
        latest, live = await _latest_and_live(work, channel, contact, event)
    if live is not None and _join(work, channel, live, event, now):
        return live, False
    if latest is not None and latest is not live and _join(work, channel, latest, event, now):
        return latest, False
    conversation = Conversation(
        contact_id=contact.id,
        channel_id=channel.id,
        status="open",
        thread_key=None if event.thread_key is None else key(event.thread_key),
        subject=subject_of(event),
        contact_blocked=contact.blocked,
        opened_at=now,
        status_changed_at=now,
        last_message_at=now,
        unread_count=0,
    )
    work.db.add(conversation)
    await work.db.flush()
    if index is not None:
        index.forget_conversations(channel.id, contact.id)
    # It started with the message, which the timeline places at the provider's time
    # (hub.inbox.intake.message_row): "Conversation started" goes there too, not after it.
    conversations.record(
        work,
        conversation,
        "created",
        None,
        at=min(event.timestamp, now),
        contact_id=contact.id,
        channel_id=channel.id,
    )
    return conversation, True


def _join(
    work: Work, channel: Channel, conversation: Conversation, event: InboundMessage, now: datetime
) -> bool:
    """Whether the message joins ``conversation``: an open one always; a snoozed one,
    waking it; a closed one when the channel reopens (``closed_conversation``). A
    machine's message (``automated``: an auto-reply, a bounce) joins any, waking and
    reopening nothing: it is no reason to start work again."""
    if conversation.status == "open" or event.automated is not None:
        return True
    if conversation.status == "snoozed":
        _wake(work, conversation, now)
        return True
    if ChannelSettings.of(channel).closed_conversation == "reopen":
        _reopen(work, conversation, now)
        return True
    return False


async def _latest_and_live(
    work: Work, channel: Channel, contact: Contact, event: InboundMessage
) -> tuple[Conversation | None, Conversation | None]:
    """The thread's latest conversation, and the one a message joins (open or snoozed)."""
    # A conversation merged into another is history: its thread continues in the target.
    query = select(Conversation).where(
        Conversation.channel_id == channel.id, Conversation.merged_into_id.is_(None)
    )
    if event.thread_key is not None:
        query = query.where(Conversation.thread_key == key(event.thread_key))
    else:
        query = query.where(Conversation.contact_id == contact.id)
    latest = await work.db.scalar(query.order_by(Conversation.id.desc()).limit(1))
    live = latest
    if latest is not None and latest.status == "closed" and event.thread_key is None:
        # Per contact, an older open conversation (e.g. started by an agent) still wins.
        live = await work.db.scalar(
            query.where(Conversation.status.in_(("open", "snoozed")))
            .order_by(Conversation.id.desc())
            .limit(1)
        )
    return latest, live
