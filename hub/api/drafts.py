"""The caller's drafts: one per conversation, saved as the agent types, listed for the
conversation list's "Draft" marker."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_json, read_query
from hub.api.context import current_viewer, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.drafts import DraftBody, DraftOut, DraftQuery, DraftSummary
from hub.inbox import drafts

api = ApiRoutes("drafts")
ITEM = "/api/v1/conversations/{conversation_id}/draft"


@api.get("/api/v1/drafts", query=DraftQuery, response=Page[DraftSummary])
async def list_(request: web.Request) -> web.Response:
    """List the caller's drafts in conversations they may see, by conversation, newest first."""
    viewer = await current_viewer(request)
    query = read_query(request, DraftQuery)
    async with work(request) as w:
        rows, next_cursor = await drafts.list_drafts(
            w, viewer, cursor=query.cursor, limit=query.limit
        )
    return json_items([DraftSummary.of(row) for row in rows], next_cursor)


@api.get(ITEM, response=DraftOut, empty_status=204)
async def get(request: web.Request) -> web.Response:
    """The caller's draft in a conversation; 204 when there is none.

    404 only when the conversation does not exist or is hidden, as everywhere.
    """
    viewer = await current_viewer(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    async with work(request) as w:
        draft = await drafts.get_draft(w, viewer, conversation_id)
    if draft is None:
        return web.Response(status=204)
    return json_model(DraftOut.of(draft))


@api.put(ITEM, body=DraftBody, response=DraftOut)
async def put(request: web.Request) -> web.Response:
    """Save the caller's draft in a conversation, replacing the one there (last write wins).

    The caller's other tabs and devices hear ``draft.updated``.
    """
    viewer = await current_viewer(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    body = await read_json(request, DraftBody)
    async with work(request) as w:
        draft = await drafts.save_draft(w, viewer, conversation_id, body.text())
    return json_model(DraftOut.of(draft))


@api.delete(ITEM, status=204)
async def delete(request: web.Request) -> web.Response:
    """Delete the caller's draft in a conversation (none there is not an error)."""
    viewer = await current_viewer(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    async with work(request) as w:
        await drafts.delete_draft(w, viewer, conversation_id)
    return web.Response(status=204)
