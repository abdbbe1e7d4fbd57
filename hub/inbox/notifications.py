"""A user's notifications: list them, mark one or all read.

Notifications are written by ``conversations.notify`` (mentions, assignments, snoozes
ending) and by intake (``hub.inbox.message_notices``: new messages in the assignee's
conversations), each only when the user's settings want its kind. A user sees only their own, and only while they may still see the
conversation a notification is about: losing access to a conversation hides its
notifications too, like everything else hanging off it.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, func, or_, select, update

from hub.auth.visibility import Viewer, conversation_filter
from hub.errors import NotFound
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.inbox.timeline import after_id, encode_id_cursor
from hub.store.models import Conversation, Notification
from hub.store.types import utcnow


def _visible(viewer: Viewer) -> ColumnElement[bool]:
    # Used with an outer join on the conversation: no conversation, or a visible one.
    return or_(Notification.conversation_id.is_(None), conversation_filter(viewer))


async def list_notifications(
    work: Work,
    viewer: Viewer,
    *,
    unread: bool | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> tuple[list[Notification], str | None]:
    """One page of the caller's notifications, newest first, and the next cursor.
    ``unread=True`` keeps the unread ones, ``False`` the read ones."""
    query = (
        select(Notification)
        .outerjoin(Conversation, Conversation.id == Notification.conversation_id)
        .where(Notification.user_id == viewer.id, _visible(viewer))
    )
    if unread is not None:
        query = query.where(
            Notification.read_at.is_(None) if unread else Notification.read_at.is_not(None)
        )
    condition = after_id(Notification.id, cursor, "desc")
    if condition is not None:
        query = query.where(condition)
    rows = list(await work.db.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_id_cursor(rows[-1].id)
    return rows, next_cursor


async def unread_count(work: Work, viewer: Viewer) -> int:
    """How many of the caller's notifications are unread (the bell's number); the same
    visibility rule as the list, so the number matches what the list shows."""
    count = await work.db.scalar(
        select(func.count(Notification.id))
        .select_from(Notification)
        .outerjoin(Conversation, Conversation.id == Notification.conversation_id)
        .where(
            Notification.user_id == viewer.id,
            Notification.read_at.is_(None),
            _visible(viewer),
        )
    )
    return int(count or 0)


async def mark_read(work: Work, viewer: Viewer, notification_id: int) -> Notification:
    """Mark one of the caller's notifications read (404 for anyone else's); reading a
    read one keeps its first read time."""
    notification = await work.db.scalar(
        select(Notification)
        .outerjoin(Conversation, Conversation.id == Notification.conversation_id)
        .where(
            Notification.id == notification_id,
            Notification.user_id == viewer.id,
            _visible(viewer),
        )
    )
    if notification is None:
        raise NotFound("notification")
    if notification.read_at is None:
        notification.read_at = utcnow()
        work.emit(
            HubEvent(
                "notifications.read", {"ids": [notification.id]}, user_ids=frozenset({viewer.id})
            )
        )
    return notification


async def mark_all_read(work: Work, viewer: Viewer) -> int:
    """Mark every unread notification of the caller read; the number marked."""
    result = cast(
        CursorResult[Any],
        await work.db.execute(
            update(Notification)
            .where(Notification.user_id == viewer.id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount:
        work.emit(HubEvent("notifications.read", {"all": True}, user_ids=frozenset({viewer.id})))
    return int(result.rowcount)
