"""Users: list and read (everyone), create and edit (owners and managers), passwords,
availability."""

from __future__ import annotations

from aiohttp import web

from hub import appkeys
from hub.api.bodies import read_json, read_query
from hub.api.context import announce_access_changed, current_viewer, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.auth import SessionOut, SessionsEndedOut, UserOut
from hub.api.schemas.people import (
    AvailabilityBody,
    CreatedUserOut,
    LocaleBody,
    PasswordChangeBody,
    PasswordSetBody,
    PasswordSetOut,
    UserCreateBody,
    UserPatchBody,
    UserQuery,
)
from hub.auth.identity import identify
from hub.auth.login import change_own_password
from hub.auth.sessions import end_other_sessions, list_sessions
from hub.inbox import availability
from hub.inbox.user_locale import save_locale
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


@api.post(ITEM + "/password", body=PasswordSetBody, response=PasswordSetOut, errors=(403,))
async def set_password(request: web.Request) -> web.Response:
    """Set a new password for another user (owners and managers; only an owner for an owner).

    Without a `password` the hub generates one and answers it in `password`, once. The
    user's browser sessions end; their API tokens keep working. Your own password is
    changed with `POST /api/v1/me/password` (403 here).
    """
    viewer = await current_viewer(request)
    user_id = path_id(request, "user_id", "user")
    body = await read_json(request, PasswordSetBody)
    async with work(request) as w:
        user, generated = await directory.set_user_password(w, viewer, user_id, body.password)
        out = PasswordSetOut(**UserOut.of(user).model_dump(), password=generated)
    return json_model(out)


@api.post("/api/v1/me/password", body=PasswordChangeBody, status=204, errors=(403, 429))
async def change_password(request: web.Request) -> web.Response:
    """Change your own password; `current_password` must be right (422 `wrong_password`).

    Your other browser sessions end; the session making the request (if any) stays.
    Wrong current passwords count as failed logins (429 `throttled` after too many).
    """
    await current_viewer(request)  # 401 without a caller; CSRF for a cookie session
    identity = await identify(request)
    assert identity is not None  # current_viewer refused anonymous callers
    body = await read_json(request, PasswordChangeBody)
    await change_own_password(
        request, identity.user, identity.session, body.current_password, body.new_password
    )
    await announce_access_changed(request, identity.user.id)
    return web.Response(status=204)


@api.get("/api/v1/me/sessions", response=Page[SessionOut])
async def my_sessions(request: web.Request) -> web.Response:
    """Your browser sessions that have not expired (other browsers and devices too),
    newest first; `current` marks the one making the request."""
    await current_viewer(request)
    identity = await identify(request)
    assert identity is not None  # current_viewer refused anonymous callers
    current = identity.session.id if identity.session else None
    async with request.config_dict[appkeys.SESSIONS]() as db:
        rows = await list_sessions(db, identity.user.id)
    return json_items(
        [
            SessionOut(
                id=row.id,
                created_at=row.created_at,
                expires_at=row.expires_at,
                ip=row.ip,
                user_agent=row.user_agent,
                current=row.id == current,
            )
            for row in rows
        ]
    )


@api.post("/api/v1/me/sessions/end-others", response=SessionsEndedOut, errors=(403,))
async def end_my_other_sessions(request: web.Request) -> web.Response:
    """Log out everywhere else: end every session of yours but the one making the request
    (all of them when called with an API token). API tokens stay; their open websockets
    too, while the sessions' close at once."""
    await current_viewer(request)  # 401 without a caller; CSRF for a cookie session
    identity = await identify(request)
    assert identity is not None
    async with request.config_dict[appkeys.SESSIONS]() as db:
        keep = identity.session.id if identity.session else None
        ended = await end_other_sessions(db, identity.user.id, keep)
        await db.commit()
    await announce_access_changed(request, identity.user.id)
    return json_model(SessionsEndedOut(ended=ended))


@api.put("/api/v1/me/availability", body=AvailabilityBody, response=UserOut)
async def set_availability(request: web.Request) -> web.Response:
    """Set the caller available or unavailable for new conversations (routing uses it).
    With an availability schedule on, this holds until the schedule's next boundary."""
    viewer = await current_viewer(request)
    body = await read_json(request, AvailabilityBody)
    async with work(request) as w:
        out = UserOut.of(await availability.set_by_hand(w, viewer.id, body.available))
    return json_model(out)


@api.put("/api/v1/me/locale", body=LocaleBody, response=UserOut)
async def set_locale(request: web.Request) -> web.Response:
    """Set the caller's UI language and time zone (the profile page's fields); null is
    automatic: the browser's language, the workspace's business hours' zone (else UTC).
    422 for a language the UI does not speak or a zone that is not an IANA one."""
    viewer = await current_viewer(request)
    body = await read_json(request, LocaleBody)
    async with work(request) as w:
        user = await save_locale(w, viewer.id, body.language, body.time_zone)
        out = UserOut.of(user)
    return json_model(out)
