"""Custom inboxes: saved filters owned by a user, shared with chosen users and teams."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import NotFound
from hub.inbox.visibility import Viewer
from hub.store.models import CustomInbox, CustomInboxShare


def accessible_inboxes(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition: custom inboxes the viewer owns or that are shared with them."""
    shared = exists(
        select(CustomInboxShare.id).where(
            CustomInboxShare.inbox_id == CustomInbox.id,
            or_(
                CustomInboxShare.user_id == viewer.id,
                CustomInboxShare.team_id.in_(viewer.team_ids),
            ),
        )
    )
    return or_(CustomInbox.owner_id == viewer.id, shared)


async def get_accessible_inbox(db: AsyncSession, viewer: Viewer, inbox_id: int) -> CustomInbox:
    """A custom inbox the viewer may use; 404 otherwise (never say it exists)."""
    inbox = await db.scalar(
        select(CustomInbox).where(CustomInbox.id == inbox_id, accessible_inboxes(viewer))
    )
    if inbox is None:
        raise NotFound("custom inbox")
    return inbox
