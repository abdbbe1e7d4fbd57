"""Users: list and read (everyone), create and edit (owners and managers), availability."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_json, read_query
from hub.api.context import current_viewer, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.auth import UserOut
from hub.api.schemas.people import (
    AvailabilityBody,
    CreatedUserOut,
    UserCreateBody,
    UserPatchBody,
    UserQuery,
)
from hub.people import directory

api = ApiRoutes("users")
ITEM = "/api/v1/users/{user_id}"


@api.get("/api/v1/users", query=UserQuery, response=Page[UserOut])
async def list_(request: web.Request) -> web.Response:
    """List users by name; `q` searches name and email, `active` filters by status.

    Every user may list users: agents assign conversations and @mention each other.
    """
    await current_viewer(request)
    query = read_query(request, UserQuery)
    async with work(request) as w:
        users, next_cursor = await directory.list_users(
            w.db, q=query.q, active=query.active, cursor=query.cursor, limit=query.limit
        )
        items = [UserOut.of(user) for user in users]
    return json_items(items, next_cursor)


@api.post(
    "/api/v1/users", body=UserCreateBody, response=CreatedUserOut, status=201, errors=(403, 409)
)
async def create(request: web.Request) -> web.Response:
    """Create a user (owners and managers; only an owner can create an owner).

    Without a `password` the hub generates one and answers it in `password`, once.
    """
    viewer = await current_viewer(request)
    body = await read_json(request, UserCreateBody)
    async with work(request) as w:
        user, generated = await directory.create_account(
            w,
            viewer,
            email=body.email,
            name=body.name,
            role=body.role,
            visibility=body.visibility,
            password=body.password,
            team_ids=body.team_ids,
        )
        out = CreatedUserOut(**UserOut.of(user).model_dump(), password=generated)
    return json_model(out, 201)


@api.get(ITEM, response=UserOut)
async def get(request: web.Request) -> web.Response:
    """One user."""
    await current_viewer(request)
    user_id = path_id(request, "user_id", "user")
    async with work(request) as w:
        out = UserOut.of(await directory.get_user(w.db, user_id))
    return json_model(out)


@api.patch(ITEM, body=UserPatchBody, response=UserOut, errors=(403, 409))
async def update(request: web.Request) -> web.Response:
    """Change a user's name, role, visibility, teams, or deactivate / reactivate them.

    Owners and managers only, except that anyone may change their own `name`. A manager
    cannot make anyone an owner or change an owner. The last active owner cannot be
    demoted or deactivated (409 `last_owner`). Deactivating ends the user's sessions.
    """
    viewer = await current_viewer(request)
    user_id = path_id(request, "user_id", "user")
    body = await read_json(request, UserPatchBody)
    async with work(request) as w:
        user = await directory.update_account(w, viewer, user_id, body.changes())
        out = UserOut.of(user)
    return json_model(out)


@api.put("/api/v1/me/availability", body=AvailabilityBody, response=UserOut)
async def set_availability(request: web.Request) -> web.Response:
    """Set the caller available or unavailable for new conversations (routing uses it)."""
    viewer = await current_viewer(request)
    body = await read_json(request, AvailabilityBody)
    async with work(request) as w:
        out = UserOut.of(await directory.set_availability(w, viewer.id, body.available))
    return json_model(out)
