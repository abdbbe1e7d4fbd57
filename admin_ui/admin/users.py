"""Users: the list, editing role, visibility and teams, deactivating and reactivating.

Creating a user (and showing a generated password once) is in ``people_user_new``, setting
a user's new password in ``people_password_set``; their pages are registered on this
module's routes.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.admin import people_password_set, people_user_new
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
    translated,
)
from admin_ui.i18n import gettext as _
from admin_ui.paging import page_links
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from admin_ui.wording import validate_form
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
routes.get("/admin/users/new", name="admin.users.new")(people_user_new.new_form)
routes.post("/admin/users/new")(people_user_new.create)
routes.get(USER + "/created", name="admin.user.created")(people_user_new.created)
routes.get(USER + "/password", name="admin.user.password")(people_password_set.password_form)
routes.post(USER + "/password")(people_password_set.set_password)
routes.get(USER + "/password/new", name="admin.user.password.new")(
    people_password_set.password_shown
)


@routes.get("/admin/users", name="admin.users")
async def list_users(request: web.Request) -> web.StreamResponse:
    """Users by name: search by name or email, filter active / deactivated, paged."""
    q = request.query.get("q", "").strip()
    status = request.query.get("status", "")
    cursor = request.query.get("cursor") or None
    query = validate_form(
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
        "visibility_labels": {value: _(label) for value, label, _help in VISIBILITY_OPTIONS},
        **page_links(
            page_url(request, "admin.users"), {"q": q, "status": status}, next_cursor, cursor
        ),
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
        "role_options": translated(ROLE_OPTIONS),
        "visibility_options": translated(VISIBILITY_OPTIONS),
        "visibility_note": _(VISIBILITY_NOTE),
    }
    return await render(request, "admin/users/edit.html", context, status)


@routes.get(USER, name="admin.user")
async def edit_form(request: web.Request) -> web.StreamResponse:
    """A user's page: their status and the form to change name, role, visibility, teams."""
    return await _edit_page(request, path_id(request, "user_id", "user"))


@routes.post(USER)
async def update(request: web.Request) -> web.StreamResponse:
    """Save the edit form; on a refusal show why beside the field, keeping the input."""
    viewer = viewer_of(request)
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
        body = validate_form(UserPatchBody, values)
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
    return redirect(
        request,
        page_url(request, "admin.user", user_id=user_id),
        ("success", _("Saved %(name)s.") % {"name": name}),
    )


@routes.get(USER + "/deactivate", name="admin.user.deactivate")
async def deactivate_confirm(request: web.Request) -> web.StreamResponse:
    """Ask before deactivating, saying what it does (never for one's own account)."""
    viewer = viewer_of(request)
    user_id = path_id(request, "user_id", "user")
    if user_id == viewer.id:
        refusal = _("You cannot deactivate your own account: ask another owner or manager.")
        return redirect(
            request, page_url(request, "admin.user", user_id=user_id), ("error", refusal)
        )
    async with work(request) as w:
        user = await directory.get_user(w.db, user_id)
    context = {
        "heading": _("Deactivate %(name)s?") % {"name": user.name},
        "message": _("%(name)s (%(email)s) will no longer be able to use the hub.")
        % {"name": user.name, "email": user.email},
        "details": [
            _("They cannot log in; the sessions they have open end at once."),
            _("Their API tokens stop working (and work again if you reactivate them)."),
            _(
                "Conversations assigned to them stay assigned to them: reassign them from "
                "the inbox if someone else should answer."
            ),
            _("Routing no longer gives them new conversations."),
            _("Nothing is deleted: you can reactivate them from this page later."),
        ],
        "action": page_url(request, "admin.user.deactivate", user_id=user_id),
        "confirm_label": "Deactivate",
        "cancel_url": page_url(request, "admin.user", user_id=user_id),
        "section": "users",
    }
    return await render(request, "admin/confirm.html", context)


async def _set_active(request: web.Request, active: bool) -> web.Response:
    viewer: Viewer = viewer_of(request)
    user_id = path_id(request, "user_id", "user")
    back = page_url(request, "admin.user", user_id=user_id)
    try:
        async with work(request) as w:
            changes = validate_form(UserPatchBody, {"is_active": active}).changes()
            user = await directory.update_account(w, viewer, user_id, changes)
            name = user.name
    except HubError as err:
        if err.status == 404:
            raise
        # e.g. deactivating yourself or the last owner: say why on the user's page.
        return redirect(
            request, back, ("error", _("Not changed: %(reason)s.") % {"reason": err.message})
        )
    done = "reactivated" if active else "deactivated"
    return redirect(request, back, ("success", f"{name} is {done}."))


@routes.post(USER + "/deactivate")
async def deactivate(request: web.Request) -> web.StreamResponse:
    """Deactivate the user (after the confirmation page)."""
    return await _set_active(request, False)


@routes.post(USER + "/reactivate", name="admin.user.reactivate")
async def reactivate(request: web.Request) -> web.StreamResponse:
    """Reactivate a deactivated user: they can log in again."""
    return await _set_active(request, True)
