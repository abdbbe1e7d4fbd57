"""The caller's API tokens: list, create (shown once), revoke."""

from __future__ import annotations

from aiohttp import web

from hub import appkeys
from hub.api.bodies import read_json
from hub.api.context import announce_access_changed
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas import CreatedTokenOut, TokenBody, TokenOut
from hub.auth.api_tokens import create_token, list_tokens, revoke_token
from hub.auth.identity import require_user
from hub.errors import NotFound

api = ApiRoutes("tokens")


@api.get("/api/v1/tokens", response=Page[TokenOut])
async def list_(request: web.Request) -> web.Response:
    """The caller's tokens, newest first."""
    user = await require_user(request)
    async with request.config_dict[appkeys.SESSIONS]() as db:
        rows = await list_tokens(db, user)
    return json_items([TokenOut.of(row) for row in rows])


@api.post("/api/v1/tokens", body=TokenBody, response=CreatedTokenOut, status=201)
async def create(request: web.Request) -> web.Response:
    """Create a token; its plaintext is in this response only."""
    user = await require_user(request)
    body = await read_json(request, TokenBody)
    async with request.config_dict[appkeys.SESSIONS]() as db:
        plaintext, row = await create_token(db, user, body.name)
        await db.commit()
    return json_model(CreatedTokenOut(**TokenOut.of(row).model_dump(), token=plaintext), 201)


@api.delete("/api/v1/tokens/{token_id}", status=204)
async def revoke(request: web.Request) -> web.Response:
    """Revoke one of the caller's tokens."""
    user = await require_user(request)
    token_id = request.match_info["token_id"]
    if not token_id.isdigit():
        raise NotFound("token")
    async with request.config_dict[appkeys.SESSIONS]() as db:
        await revoke_token(db, user, int(token_id))
        await db.commit()
    await announce_access_changed(request, user.id)
    return web.Response(status=204)
