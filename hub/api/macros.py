"""Macros: list, read, create, change, delete, and run one on a conversation.

Everyone sees the shared macros and their own; owners and managers write the shared
ones. A run is all or nothing: an action that fails answers its error, naming the
action, and nothing the run did is kept.
"""

from __future__ import annotations

from aiohttp import web

from hub import appkeys
from hub.api.bodies import read_json, read_query
from hub.api.context import current_viewer, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.macros import (
    MacroCreateBody,
    MacroOut,
    MacroPatchBody,
    MacroQuery,
    MacroRunBody,
    MacroRunOut,
)
from hub.automation import macros

api = ApiRoutes("macros")
ITEM = "/api/v1/macros/{macro_id}"


@api.get("/api/v1/macros", query=MacroQuery, response=Page[MacroOut])
async def list_(request: web.Request) -> web.Response:
    """List the shared macros and your own, by name; `q` matches part of the name."""
    viewer = await current_viewer(request)
    query = read_query(request, MacroQuery)
    async with work(request) as w:
        rows, next_cursor = await macros.list_macros(
            w, viewer, q=query.q, cursor=query.cursor, limit=query.limit
        )
        items = [MacroOut.of(row) for row in rows]
    return json_items(items, next_cursor)


@api.post("/api/v1/macros", body=MacroCreateBody, response=MacroOut, status=201, errors=(403,))
async def create(request: web.Request) -> web.Response:
    """Create a macro: personal, or `shared` (owners and managers; 403 otherwise). 422
    naming the action's field when a user, team, label or snippet does not exist."""
    viewer = await current_viewer(request)
    body = await read_json(request, MacroCreateBody)
    async with work(request) as w:
        macro = await macros.create_macro(
            w, viewer, name=body.name, actions=body.actions, shared=body.shared
        )
        out = MacroOut.of(macro)
    return json_model(out, 201)


@api.get(ITEM, response=MacroOut)
async def get(request: web.Request) -> web.Response:
    """One macro (another user's personal macro is 404)."""
    viewer = await current_viewer(request)
    macro_id = path_id(request, "macro_id", "macro")
    async with work(request) as w:
        out = MacroOut.of(await macros.get_macro(w, viewer, macro_id))
    return json_model(out)


@api.patch(ITEM, body=MacroPatchBody, response=MacroOut, errors=(403,))
async def update(request: web.Request) -> web.Response:
    """Rename a macro, replace its actions or (owners and managers) share or unshare it.
    Agents change only their own macros (403 for a shared one)."""
    viewer = await current_viewer(request)
    macro_id = path_id(request, "macro_id", "macro")
    body = await read_json(request, MacroPatchBody)
    async with work(request) as w:
        macro = await macros.update_macro(w, viewer, macro_id, body.changes())
        out = MacroOut.of(macro)
    return json_model(out)


@api.delete(ITEM, status=204, errors=(403,))
async def delete(request: web.Request) -> web.Response:
    """Delete a macro (your own; a shared one: owners and managers)."""
    viewer = await current_viewer(request)
    macro_id = path_id(request, "macro_id", "macro")
    async with work(request) as w:
        await macros.delete_macro(w, viewer, macro_id)
    return web.Response(status=204)


@api.post(f"{ITEM}/run", body=MacroRunBody, response=MacroRunOut, errors=(409,))
async def run(request: web.Request) -> web.Response:
    """Run a macro's actions in order on one conversation, as you: each through the
    same checks as doing it by hand (a reply refused where the channel's window is
    closed: 409 `window_closed`). All or nothing: when an action fails, the answer is
    its error, its message and `details` naming the action (`action_index`,
    `action_type`), and nothing the run did is kept."""
    viewer = await current_viewer(request)
    macro_id = path_id(request, "macro_id", "macro")
    body = await read_json(request, MacroRunBody)
    channels = request.config_dict[appkeys.CHANNELS]
    async with work(request) as w:
        result = await macros.run_macro(
            w, viewer, macro_id, body.conversation_id, channels=channels
        )
        out = MacroRunOut.of(result)
    return json_model(out)
