"""Login, logout, the caller (``/me``) and the one-time owner setup."""

from __future__ import annotations

from aiohttp import web

from hub import appkeys
from hub.api.bodies import read_json
from hub.api.context import announce_access_changed
from hub.api.routing import ApiRoutes
from hub.api.schemas import LoginBody, MeOut, SetupBody, UserOut
from hub.auth.identity import identify, require_user
from hub.auth.login import check_login, close_session, open_session
from hub.auth.setup import complete_setup
from hub.store.models import User

api = ApiRoutes("auth")


async def _session_response(request: web.Request, user: User, status: int) -> web.Response:
    response = web.Response(status=status, content_type="application/json")
    csrf = await open_session(request, user, response)
    me = MeOut(**UserOut.of(user).model_dump(), auth="session", csrf_token=csrf)
    response.text = me.model_dump_json()
    return response


@api.post("/api/v1/auth/login", body=LoginBody, response=MeOut, auth=False, errors=(401, 429))
async def login(request: web.Request) -> web.Response:
    """Check email and password and set the session cookie; the body carries the CSRF token."""
    body = await read_json(request, LoginBody)
    user = await check_login(request, body.email, body.password)
    return await _session_response(request, user, 200)


@api.post("/api/v1/auth/logout", status=204, errors=(403,))
async def logout(request: web.Request) -> web.Response:
    """End the cookie session. A bearer token stays valid: revoke it instead."""
    await require_user(request)
    identity = await identify(request)
    response = web.Response(status=204)
    await close_session(request, identity.session if identity else None, response)
    if identity is not None:
        await announce_access_changed(request, identity.user.id)
    return response


@api.get("/api/v1/me", response=MeOut)
async def me(request: web.Request) -> web.Response:
    """The caller, with ``id``, ``role`` and ``visibility``."""
    user = await require_user(request)
    identity = await identify(request)
    assert identity is not None
    csrf = identity.session.csrf_token if identity.session else None
    body = MeOut(**UserOut.of(user).model_dump(), auth=identity.via, csrf_token=csrf)
    return web.Response(text=body.model_dump_json(), content_type="application/json")


@api.post(
    "/api/v1/setup", body=SetupBody, response=MeOut, status=201, auth=False, errors=(403, 409)
)
async def setup(request: web.Request) -> web.Response:
    """Create the owner account with the one-time link's token, and log them in."""
    body = await read_json(request, SetupBody)
    async with request.config_dict[appkeys.SESSIONS]() as db:
        owner = await complete_setup(db, body.token, body.owner())
        await db.commit()
        await db.refresh(owner, ["teams"])
    return await _session_response(request, owner, 201)
