"""Users: the list, editing role, visibility and teams, deactivating and reactivating.

Creating a user (and showing a generated password once) is in ``people_user_new``; its
pages are registered on this module's routes.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_ui.access import admin_viewer
from admin_ui.admin import people_user_new
from admin_ui.admin.people_forms import (
    PAGE_SIZE,
    ROLE_OPTIONS,
    VISIBILITY_NOTE,
    VISIBILITY_OPTIONS,
    FormState,
    all_teams,
    failed,
    id_list,
    text,
)
from admin_ui.paging import page_links
from admin_ui.rendering import redirect, render
from hub.api.bodies import validate
from hub.api.context import path_id, work
from hub.api.schemas.people import UserPatchBody, UserQuery
from hub.auth.visibility import Viewer
from hub.errors import HubError
from hub.people import directory
from hub.store.models import User

routes = web.RouteTableDef()
USER = r"/admin/users/{user_id:\d+}"
EDIT_FIELDS = ("name", "role", "visibility", "team_ids")
STATUS_FILTERS = {"active": True, "deactivated": False}

# Declared before the numbered routes so that "new" is never read as a user id.
routes.get("/admin/users/new")(people_user_new.new_form)
routes.post("/admin/users/new")(people_user_new.create)
routes.get(USER + "/created")(people_user_new.created)


@routes.get("/admin/users")
async def list_users(request: web.Request) -> web.StreamResponse:
    """Users by name: search by name or email, filter active / deactivated, paged."""
    await admin_viewer(request)
    q = request.query.get("q", "").strip()
    status = request.query.get("status", "")
    cursor = request.query.get("cursor") or None
    query = validate(
        UserQuery, {"q": q or None, "active": STATUS_FILTERS.get(status), "cursor": cursor}
    )
    async with work(request) as w:
        users, next_cursor = await directory.list_users(
            w.db, q=query.q, active=query.active, cursor=query.cursor, limit=PAGE_SIZE
        )
    status = status if status in STATUS_FILTERS else ""
    context: dict[str, Any] = {
        "users": users,
        "q": q,
        "status": status,
        "visibility_labels": {value: label for value, label, _ in VISIBILITY_OPTIONS},
        **page_links("/admin/users", {"q": q, "status": status}, next_cursor, cursor),
    }
    return await render(request, "admin/users/list.html", context)


def _values_of(user: User) -> dict[str, object]:
    return {
        "name": user.name,
        "role": user.role,
        "visibility": user.visibility,
        "team_ids": [str(team.id) for team in user.teams],
    }


async def _edit_page(
    request: web.Request, user_id: int, state: FormState | None = None, status: int = 200
) -> web.Response:
    async with work(request) as w:
        user = await directory.get_user(w.db, user_id)
        teams = await all_teams(w.db)
        state = state or FormState(_values_of(user))
    context: dict[str, Any] = {
        "subject": user,
        "team_options": [(team.id, team.name, None) for team in teams],
        "values": state.values,
        "errors": state.errors,
        "message": state.message,
        "role_options": ROLE_OPTIONS,
        "visibility_options": VISIBILITY_OPTIONS,
        "visibility_note": VISIBILITY_NOTE,
    }
    return await render(request, "admin/users/edit.html", context, status)


@routes.get(USER)
async def edit_form(request: web.Request) -> web.StreamResponse:
    """A user's page: their status and the form to change name, role, visibility, teams."""
    await admin_viewer(request)
    return await _edit_page(request, path_id(request, "user_id", "user"))


@routes.post(USER)
async def update(request: web.Request) -> web.StreamResponse:
    """Save the edit form; on a refusal show why beside the field, keeping the input."""
    viewer = await admin_viewer(request)
    user_id = path_id(request, "user_id", "user")
    form = await request.post()
    values: dict[str, object] = {
        "name": text(form, "name"),
        "role": text(form, "role"),
        "visibility": text(form, "visibility"),
        "team_ids": id_list(form, "team_ids"),
    }
    async with work(request) as w:
        before_role = (await directory.get_user(w.db, user_id)).role
    try:
        body = validate(UserPatchBody, values)
        async with work(request) as w:
            user = await directory.update_account(w, viewer, user_id, body.changes())
            name = user.name
    except HubError as err:
        by_code = {"last_owner": "role"}
        # A refusal to grant the owner role belongs beside the role field; a refusal to
        # touch an owner's account at all (a manager editing an owner) goes above the form.
        if values["role"] == "owner" and before_role != "owner":
            by_code["forbidden"] = "role"
        return await _edit_page(
            request, user_id, failed(err, values, EDIT_FIELDS, by_code), err.status
        )
    return redirect(request, f"/admin/users/{user_id}", ("success", f"Saved {name}."))


@routes.get(USER + "/deactivate")
async def deactivate_confirm(request: web.Request) -> web.StreamResponse:
    """Ask before deactivating, saying what it does."""
    await admin_viewer(request)
    user_id = path_id(request, "user_id", "user")
    async with work(request) as w:
        user = await directory.get_user(w.db, user_id)
    context = {
        "heading": f"Deactivate {user.name}?",
        "message": f"{user.name} ({user.email}) will no longer be able to use the hub.",
        "details": [
            "They cannot log in; the sessions they have open end at once.",
            "Their API tokens stop working (and work again if you reactivate them).",
            "Conversations assigned to them stay assigned to them: reassign them from "
            "the inbox if someone else should answer.",
            "Routing no longer gives them new conversations.",
            "Nothing is deleted: you can reactivate them from this page later.",
        ],
        "action": f"/admin/users/{user_id}/deactivate",
        "confirm_label": "Deactivate",
        "cancel_url": f"/admin/users/{user_id}",
        "section": "users",
    }
    return await render(request, "admin/confirm.html", context)


async def _set_active(request: web.Request, active: bool) -> web.Response:
    viewer: Viewer = await admin_viewer(request)
    user_id = path_id(request, "user_id", "user")
    back = f"/admin/users/{user_id}"
    try:
        async with work(request) as w:
            changes = validate(UserPatchBody, {"is_active": active}).changes()
            user = await directory.update_account(w, viewer, user_id, changes)
            name = user.name
    except HubError as err:
        if err.status == 404:
            raise
        # e.g. deactivating yourself or the last owner: say why on the user's page.
        return redirect(request, back, ("error", f"Not changed: {err.message}."))
    done = "reactivated" if active else "deactivated"
    return redirect(request, back, ("success", f"{name} is {done}."))


@routes.post(USER + "/deactivate")
async def deactivate(request: web.Request) -> web.StreamResponse:
    """Deactivate the user (after the confirmation page)."""
    return await _set_active(request, False)


@routes.post(USER + "/reactivate")
async def reactivate(request: web.Request) -> web.StreamResponse:
    """Reactivate a deactivated user: they can log in again."""
    return await _set_active(request, True)
