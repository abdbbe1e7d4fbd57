"""What a contact panel shows beside the contact's fields: the contact's conversations
(newest first) and the activity in them (comments and timeline events, newest first).

Both follow the visibility rule: a viewer sees only what happened in conversations they
may see, so a restricted agent's panel never shows a colleague's hidden conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.visibility import Viewer
from hub.inbox.contacts import visible_conversation_ids
from hub.store.models import Channel, Comment, Conversation, ConversationEvent, User


@dataclass(frozen=True)
class ContactConversation:
    """One of a contact's conversations, with its channel's name and type."""

    conversation: Conversation
    channel_name: str
    channel_type: str


@dataclass(frozen=True)
class Activity:
    """A comment or a timeline event in one of the contact's conversations."""

    kind: Literal["comment", "event"]
    id: int
    conversation_id: int
    created_at: datetime
    who: str | None  # the author or actor; None for the hub itself
    what: str  # the comment's text, or the event's kind (assigned, closed, …)


async def contact_conversations(
    db: AsyncSession,
    viewer: Viewer,
    contact_id: int,
    limit: int = 20,
    *,
    visible: list[int] | None = None,
) -> list[ContactConversation]:
    """The contact's conversations the viewer may see, most recent first. ``visible``:
    their ids, when the caller already has them (``visible_conversation_ids``)."""
    if visible is None:
        visible = await visible_conversation_ids(db, viewer, contact_id)
    rows = await db.execute(
        select(Conversation, Channel.name, Channel.type)
        .join(Channel, Channel.id == Conversation.channel_id)
        .where(Conversation.id.in_(visible))
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(limit)
    )
    return [ContactConversation(c, name, kind) for c, name, kind in rows.all()]


async def contact_activity(
    db: AsyncSession,
    viewer: Viewer,
    contact_id: int,
    limit: int = 30,
    *,
    visible: list[int] | None = None,
) -> list[Activity]:
    """The newest comments and events of the contact's visible conversations, merged,
    newest first. ``visible``: their ids, when the caller already has them."""
    if visible is None:
        visible = await visible_conversation_ids(db, viewer, contact_id)
    if not visible:
        return []
    comments = await db.execute(
        select(Comment, User.name)
        .outerjoin(User, User.id == Comment.author_id)
        .where(Comment.conversation_id.in_(visible))
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    )
    events = await db.execute(
        select(ConversationEvent, User.name)
        .outerjoin(User, User.id == ConversationEvent.actor_id)
        .where(ConversationEvent.conversation_id.in_(visible))
        .order_by(ConversationEvent.created_at.desc(), ConversationEvent.id.desc())
        .limit(limit)
    )
    items = [
        Activity("comment", c.id, c.conversation_id, c.created_at, name, c.body)
        for c, name in comments.all()
    ] + [
        Activity("event", e.id, e.conversation_id, e.created_at, name, e.kind)
        for e, name in events.all()
    ]
    items.sort(key=lambda a: (a.created_at, a.kind, a.id), reverse=True)
    return items[:limit]
