"""The notification bell in the inbox's top bar: the unread count and the latest
notifications, each opening its conversation. ``inbox.notifications`` serves it alone,
for the script to refresh on a ``notification`` or ``notifications.read`` event; reading
goes through the REST API (``/api/v1/notifications/...``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import select

from admin_ui.access import viewer_of
from admin_ui.rendering import render_fragment
from hub.api.context import work
from hub.auth.visibility import Viewer
from hub.events.work import Work
from hub.inbox.notification_settings import NotificationSettings, load_settings
from hub.inbox.notifications import list_notifications, unread_count
from hub.store.models import Contact, Conversation, Notification, User

routes = web.RouteTableDef()
SHOWN = 15


@dataclass(frozen=True)
class Bell:
    """The bell: how many are unread, the newest notifications, and who they name."""

    unread: int
    items: list[Notification]
    contacts: dict[int, str]  # conversation id → its contact's name
    users: dict[int, str]
    settings: NotificationSettings

    def contact_of(self, notification: Notification) -> str:
        """The name of the contact the notification's conversation is with."""
        return self.contacts.get(notification.conversation_id or 0, "a conversation")

    def by(self, notification: Notification) -> str | None:
        """Who caused it (the mentioning or assigning user), if anyone."""
        user_id = notification.data.get("by")
        return self.users.get(user_id) if isinstance(user_id, int) else None


async def load_bell(w: Work, viewer: Viewer) -> Bell:
    """The viewer's bell, by the same domain functions as the REST API."""
    items, _ = await list_notifications(w, viewer, limit=SHOWN)
    conversation_ids = {n.conversation_id for n in items if n.conversation_id}
    contacts: dict[int, str] = {}
    if conversation_ids:
        rows = await w.db.execute(
            select(Conversation.id, Contact.name)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(Conversation.id.in_(conversation_ids))
        )
        contacts = {conversation_id: name for conversation_id, name in rows.all()}
    user_ids = {n.data.get("by") for n in items} - {None}
    users: dict[int, str] = {}
    if user_ids:
        rows = await w.db.execute(select(User.id, User.name).where(User.id.in_(user_ids)))
        users = {user_id: name for user_id, name in rows.all()}
    return Bell(
        await unread_count(w, viewer),
        items,
        contacts,
        users,
        await load_settings(w.db, viewer.id),
    )


async def bell_context(w: Work, viewer: Viewer) -> dict[str, Any]:
    """What the page's top bar needs for the bell."""
    return {"bell": await load_bell(w, viewer)}


@routes.get("/inbox/notifications", name="inbox.notifications")
async def bell(request: web.Request) -> web.StreamResponse:
    """The bell with its menu, to refresh it live."""
    viewer = viewer_of(request)
    async with work(request) as w:
        context = await bell_context(w, viewer)
    return await render_fragment(request, "inbox/_notifications.html", context)
