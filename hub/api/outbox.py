"""The outbox, for owners and managers: deliveries by status, and retrying dead letters."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_query
from hub.api.context import current_admin, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.outbox import OutboxItemOut, OutboxQuery
from hub.channels.outbox_admin import list_outbox, retry_delivery

api = ApiRoutes("outbox")


@api.get("/api/v1/outbox", query=OutboxQuery, response=Page[OutboxItemOut], errors=(403,))
async def list_(request: web.Request) -> web.Response:
    """List outbound deliveries, newest first (owners and managers).

    Filter by `status` (`dead` shows the dead letters) and `channel_id`.
    """
    await current_admin(request)
    query = read_query(request, OutboxQuery)
    async with work(request) as w:
        rows, next_cursor = await list_outbox(
            w,
            status=query.status,
            channel_id=query.channel_id,
            cursor=query.cursor,
            limit=query.limit,
        )
        items = [OutboxItemOut.of(item, conversation_id) for item, conversation_id in rows]
    return json_items(items, next_cursor)


@api.post("/api/v1/outbox/{item_id}/retry", response=OutboxItemOut, errors=(403, 404, 409))
async def retry(request: web.Request) -> web.Response:
    """Queue a dead or failed delivery again (owners and managers).

    The delivery becomes `pending` with no attempts counted and its message `pending`;
    the outbox worker tries it at once. `409 not_retryable` for any other state.
    """
    await current_admin(request)
    item_id = path_id(request, "item_id", "outbox item")
    async with work(request) as w:
        item, conversation_id = await retry_delivery(w, item_id)
        out = OutboxItemOut.of(item, conversation_id)
    return json_model(out)
