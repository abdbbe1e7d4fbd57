"""Threading by what a message names: the earlier messages it follows (``references``,
an email's ``In-Reply-To`` and ``References``) and its thread hints (an email's subject
or Outlook thread index).

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
from hub.inbox.storable import key
from hub.store.models import Channel, Conversation, ConversationThreadKey, Message

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
    found = {external_id: conversation for external_id, conversation in rows.tuples()}
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
    found = {thread_key: conversation for thread_key, conversation in rows.tuples()}
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
