"""The caller's notifications: list them, count the unread, mark one or all read; and
the caller's notification settings."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_json, read_query
from hub.api.context import current_viewer, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.notifications import (
    NotificationOut,
    NotificationQuery,
    ReadAllOut,
    UnreadCountOut,
)
from hub.inbox import notification_settings, notifications
from hub.inbox.notification_settings import NotificationSettings

api = ApiRoutes("notifications")


@api.get("/api/v1/notifications", query=NotificationQuery, response=Page[NotificationOut])
async def list_(request: web.Request) -> web.Response:
    """List the caller's notifications, newest first (``unread=true`` for unread only)."""
    viewer = await current_viewer(request)
    query = read_query(request, NotificationQuery)
    async with work(request) as w:
        rows, next_cursor = await notifications.list_notifications(
            w, viewer, unread=query.unread, cursor=query.cursor, limit=query.limit
        )
    return json_items([NotificationOut.of(row) for row in rows], next_cursor)


@api.get("/api/v1/notifications/unread-count", response=UnreadCountOut)
async def unread_count(request: web.Request) -> web.Response:
    """How many of the caller's notifications are unread."""
    viewer = await current_viewer(request)
    async with work(request) as w:
        unread = await notifications.unread_count(w, viewer)
    return json_model(UnreadCountOut(unread=unread))


@api.post("/api/v1/notifications/read-all", response=ReadAllOut)
async def read_all(request: web.Request) -> web.Response:
    """Mark every unread notification of the caller read."""
    viewer = await current_viewer(request)
    async with work(request) as w:
        updated = await notifications.mark_all_read(w, viewer)
    return json_model(ReadAllOut(updated=updated))


@api.post("/api/v1/notifications/{notification_id}/read", response=NotificationOut)
async def read(request: web.Request) -> web.Response:
    """Mark one of the caller's notifications read (anyone else's answers 404)."""
    viewer = await current_viewer(request)
    notification_id = path_id(request, "notification_id", "notification")
    async with work(request) as w:
        notification = await notifications.mark_read(w, viewer, notification_id)
    return json_model(NotificationOut.of(notification))


@api.get("/api/v1/me/notification-settings", response=NotificationSettings)
async def get_settings(request: web.Request) -> web.Response:
    """Which notifications the caller gets (new messages in their conversations,
    mentions, assignments, snoozes ending) and whether the inbox page shows desktop
    notifications and plays a sound."""
    viewer = await current_viewer(request)
    async with work(request) as w:
        settings = await notification_settings.load_settings(w.db, viewer.id)
    return json_model(settings)


@api.put(
    "/api/v1/me/notification-settings", body=NotificationSettings, response=NotificationSettings
)
async def put_settings(request: web.Request) -> web.Response:
    """Replace the caller's notification settings; a key left out takes its default. A
    kind turned off is no longer stored (nor counted), from the next one on."""
    viewer = await current_viewer(request)
    body = await read_json(request, NotificationSettings)
    async with work(request) as w:
        settings = await notification_settings.save_settings(w, viewer.id, body)
    return json_model(settings)
