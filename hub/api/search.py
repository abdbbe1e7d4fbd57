"""Search: contacts, messages and comments the caller may see, or one conversation."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_query
from hub.api.context import current_viewer, work
from hub.api.responses import json_items
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.search import SearchHitOut, SearchParams
from hub.inbox.search import search as run_search

api = ApiRoutes("search")


@api.get("/api/v1/search", query=SearchParams, response=Page[SearchHitOut], errors=(404,))
async def search(request: web.Request) -> web.Response:
    """Find contacts, messages and comments; contacts first, then messages, then comments.

    Only what the caller may see is searched. With `conversation_id`, only that
    conversation's messages and comments (404 when it is hidden from the caller).
    """
    viewer = await current_viewer(request)
    params = read_query(request, SearchParams)
    async with work(request) as w:
        hits, next_cursor = await run_search(
            w.db,
            viewer,
            params.q,
            types=params.types,
            conversation_id=params.conversation_id,
            cursor=params.cursor,
            limit=params.limit,
        )
    return json_items([SearchHitOut.of(hit) for hit in hits], next_cursor)
