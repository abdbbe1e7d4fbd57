"""Notifications of new inbound messages: one for the conversation's assignee per
message, when their settings want them (``hub.inbox.notification_settings``).

Intake calls this for every stored message, on both paths, so it stays cheap: nothing
at all for unassigned conversations, else one query for the assignees' settings and one
multi-row INSERT for the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.events.event import HubEvent
from hub.events.work import Work
from hub.inbox.notification_settings import assignees_wanting
from hub.store.models import Conversation, Notification
from hub.store.types import utcnow

NOTIFICATIONS: Table = Notification.__table__  # type: ignore[assignment]
EXCERPT = 200


@dataclass(frozen=True)
class NewMessage:
    """A stored inbound message, with the unit of work whose events announce it."""

    work: Work
    conversation: Conversation
    message_id: int
    text: str | None


async def notify_assignees(db: AsyncSession, messages: list[NewMessage]) -> None:
    """Store and push a ``message`` notification per message to its conversation's
    assignee. Blocked contacts' messages notify no one."""
    assigned = [
        m
        for m in messages
        if m.conversation.assignee_id is not None and not m.conversation.contact_blocked
    ]
    if not assigned:
        return
    wanted = await assignees_wanting(
        db, {m.conversation.assignee_id for m in assigned if m.conversation.assignee_id}, "message"
    )
    now = utcnow()
    rows = []
    for m in assigned:
        user_id = m.conversation.assignee_id
        if user_id not in wanted:
            continue
        data = {"message_id": m.message_id, "excerpt": (m.text or "")[:EXCERPT]}
        rows.append(
            {
                "user_id": user_id,
                "kind": "message",
                "conversation_id": m.conversation.id,
                "data": data,
                "created_at": now,
            }
        )
        payload = {"kind": "message", "conversation_id": m.conversation.id, **data}
        m.work.emit(HubEvent("notification", payload, user_ids=frozenset({user_id})))
    if rows:
        await db.execute(insert(NOTIFICATIONS), rows)
