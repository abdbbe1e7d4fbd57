"""The inbound log: every raw webhook request, what became of it, and replaying it.

Owners and managers only: the log holds raw provider payloads of every channel.
"""

from __future__ import annotations

from aiohttp import web

from hub import appkeys
from hub.api.bodies import read_query
from hub.api.context import current_admin, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.inbound_log import (
    InboundLogEntryOut,
    InboundLogQuery,
    ReplayHeldOut,
    ReplayOut,
)
from hub.channels.inbound_log import get_entry, list_entries

api = ApiRoutes("inbound_log")
ITEM = "/api/v1/inbound-log/{entry_id}"


@api.get(
    "/api/v1/inbound-log", query=InboundLogQuery, response=Page[InboundLogEntryOut], errors=(403,)
)
async def list_(request: web.Request) -> web.Response:
    """List inbound requests, newest first; filter by `channel_id`, `result` and the time
    received (`since`, inclusive; `until`, exclusive)."""
    await current_admin(request)
    query = read_query(request, InboundLogQuery)
    async with work(request) as w:
        rows, next_cursor = await list_entries(
            w,
            channel_id=query.channel_id,
            result=query.result,
            since=query.since,
            until=query.until,
            cursor=query.cursor,
            limit=query.limit,
        )
        items = [InboundLogEntryOut.of(row) for row in rows]
    return json_items(items, next_cursor)


@api.get(ITEM, response=InboundLogEntryOut, errors=(403,))
async def get(request: web.Request) -> web.Response:
    """One inbound request with its raw body, headers and normalized events."""
    await current_admin(request)
    entry_id = path_id(request, "entry_id", "inbound log entry")
    async with work(request) as w:
        out = InboundLogEntryOut.of(await get_entry(w, entry_id))
    return json_model(out)


@api.post(f"{ITEM}/replay", response=ReplayOut, errors=(403, 409))
async def replay(request: web.Request) -> web.Response:
    """Process an entry's stored events again; events already in the inbox are skipped.

    409 when the entry has nothing verified to replay (it was rejected), or its channel
    is disabled or deleted.
    """
    await current_admin(request)
    entry_id = path_id(request, "entry_id", "inbound log entry")
    intakes = await request.app[appkeys.INBOUND].replay(entry_id)
    return json_model(ReplayOut.of(entry_id, intakes))


@api.post("/api/v1/channels/{channel_id}/replay-held", response=ReplayHeldOut, errors=(403, 409))
async def replay_held(request: web.Request) -> web.Response:
    """Replay every entry a channel held while disabled, oldest first (409 while disabled)."""
    await current_admin(request)
    channel_id = path_id(request, "channel_id", "channel")
    counts = await request.app[appkeys.INBOUND].replay_held(channel_id)
    return json_model(ReplayHeldOut.of(counts))
