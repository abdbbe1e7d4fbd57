"""What a contact panel shows beside the contact's fields: the contact's conversations
(newest first) and the activity in them (comments and timeline events, newest first),
with the changes the hub made to the contact's CRM records (edits, reverts, pushes and
refused pushes), which belong to the contact rather than to a conversation.

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
from hub.store.models import (
    Channel,
    Comment,
    Conversation,
    ConversationEvent,
    CrmConnection,
    CrmFieldChange,
    User,
)


@dataclass(frozen=True)
class ContactConversation:
    """One of a contact's conversations, with its channel's name and type."""

    conversation: Conversation
    channel_name: str
    channel_type: str


@dataclass(frozen=True)
class Activity:
    """A comment or a timeline event in one of the contact's conversations, or a change
    to one of its CRM records (``conversation_id`` None)."""

    kind: Literal["comment", "event", "crm"]
    id: int
    conversation_id: int | None
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
    crm = await crm_changes(db, contact_id, limit)
    if not visible:
        return crm
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
    items = (
        [
            Activity("comment", c.id, c.conversation_id, c.created_at, name, c.body)
            for c, name in comments.all()
        ]
        + [
            Activity("event", e.id, e.conversation_id, e.created_at, name, e.kind)
            for e, name in events.all()
        ]
        + crm
    )
    items.sort(key=lambda a: (a.created_at, a.kind, a.id), reverse=True)
    return items[:limit]


async def crm_changes(db: AsyncSession, contact_id: int, limit: int = 30) -> list[Activity]:
    """The newest changes the hub made to the contact's CRM records, as activity:
    ``what`` reads e.g. "HubSpot: lifecyclestage changed from lead to customer"."""
    rows = await db.execute(
        select(CrmFieldChange, CrmConnection.name, User.name)
        .join(CrmConnection, CrmConnection.id == CrmFieldChange.connection_id)
        .outerjoin(User, User.id == CrmFieldChange.actor_id)
        .where(CrmFieldChange.contact_id == contact_id)
        .order_by(CrmFieldChange.created_at.desc(), CrmFieldChange.id.desc())
        .limit(limit)
    )
    return [
        Activity("crm", c.id, None, c.created_at, who, _crm_what(c, connection))
        for c, connection, who in rows.all()
    ]


def _crm_what(change: CrmFieldChange, connection: str) -> str:
    old = "(empty)" if change.old_value in (None, "") else str(change.old_value)
    new = "(empty)" if change.new_value in (None, "") else str(change.new_value)
    if change.source == "conflict":
        return (
            f"{connection}: {change.field} not updated to {new}: "
            f"it was changed to {old} in the CRM (conflict)"
        )
    return f"{connection}: {change.field} changed from {old} to {new}"
