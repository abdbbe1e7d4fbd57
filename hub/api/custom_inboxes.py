"""Custom inboxes: saved filters owned by their creator, shared with users and teams."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_json, read_query
from hub.api.context import current_viewer, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.custom_inboxes import (
    CustomInboxCreateBody,
    CustomInboxOut,
    CustomInboxPatchBody,
    CustomInboxQuery,
)
from hub.inbox import custom_inboxes

api = ApiRoutes("custom-inboxes")
ITEM = "/api/v1/custom-inboxes/{inbox_id}"


@api.get("/api/v1/custom-inboxes", query=CustomInboxQuery, response=Page[CustomInboxOut])
async def list_(request: web.Request) -> web.Response:
    """List the caller's custom inboxes by name: `scope` all, mine (By me) or others (By
    others: shared with the caller by someone else)."""
    viewer = await current_viewer(request)
    query = read_query(request, CustomInboxQuery)
    async with work(request) as w:
        rows, next_cursor = await custom_inboxes.list_custom_inboxes(
            w.db, viewer, scope=query.scope, cursor=query.cursor, limit=query.limit
        )
    return json_items([CustomInboxOut.of(row, viewer) for row in rows], next_cursor)


@api.post("/api/v1/custom-inboxes", body=CustomInboxCreateBody, response=CustomInboxOut, status=201)
async def create(request: web.Request) -> web.Response:
    """Save a filter as a custom inbox owned by the caller, shared with users and teams."""
    viewer = await current_viewer(request)
    body = await read_json(request, CustomInboxCreateBody)
    async with work(request) as w:
        shared = await custom_inboxes.create_custom_inbox(
            w.db, viewer, body.name, body.filters, body.share.sharing()
        )
        out = CustomInboxOut.of(shared, viewer)
    return json_model(out, 201)


@api.get(ITEM, response=CustomInboxOut)
async def get(request: web.Request) -> web.Response:
    """One custom inbox the caller owns or has been shared (404 otherwise)."""
    viewer = await current_viewer(request)
    inbox_id = path_id(request, "inbox_id", "custom inbox")
    async with work(request) as w:
        out = CustomInboxOut.of(
            await custom_inboxes.get_custom_inbox(w.db, viewer, inbox_id), viewer
        )
    return json_model(out)


@api.patch(ITEM, body=CustomInboxPatchBody, response=CustomInboxOut, errors=(403,))
async def update(request: web.Request) -> web.Response:
    """Change name, filters or sharing: its creator only (403 for others who have it)."""
    viewer = await current_viewer(request)
    inbox_id = path_id(request, "inbox_id", "custom inbox")
    body = await read_json(request, CustomInboxPatchBody)
    async with work(request) as w:
        shared = await custom_inboxes.update_custom_inbox(
            w.db,
            viewer,
            inbox_id,
            name=body.name,
            filters=body.filters,
            sharing=body.share.sharing() if body.share is not None else None,
        )
        out = CustomInboxOut.of(shared, viewer)
    return json_model(out)


@api.delete(ITEM, status=204, errors=(403,))
async def delete(request: web.Request) -> web.Response:
    """Delete a custom inbox: its creator only (403 for others who have it)."""
    viewer = await current_viewer(request)
    inbox_id = path_id(request, "inbox_id", "custom inbox")
    async with work(request) as w:
        await custom_inboxes.delete_custom_inbox(w.db, viewer, inbox_id)
    return web.Response(status=204)
