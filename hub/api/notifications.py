"""The caller's notifications: list them, mark one or all read."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_query
from hub.api.context import current_viewer, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.notifications import NotificationOut, NotificationQuery, ReadAllOut
from hub.inbox import notifications

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
