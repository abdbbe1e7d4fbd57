"""Creating a user, and the page that shows their generated password once.

The hub sends no email: the admin either types a password or leaves it empty
to have a strong one generated, which the next page shows once with a copy button.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.admin.people_forms import (
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
from admin_ui.admin.people_password import carry_password, forget_password, read_password, shown_at
from admin_ui.i18n import gettext as _
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from admin_ui.wording import validate_form
from hub import appkeys
from hub.api.context import path_id, work
from hub.api.schemas.people import UserCreateBody
from hub.auth.passwords import MIN_LENGTH
from hub.errors import HubError
from hub.people import directory

NEW_FIELDS = ("name", "email", "role", "visibility", "password", "team_ids")
# Errors the service raises without naming a field, and the field they are about.
BY_CODE = {"email_taken": "email", "forbidden": "role"}


async def _new_page(
    request: web.Request, state: FormState | None = None, status: int = 200
) -> web.Response:
    async with work(request) as w:
        teams = await all_teams(w.db)
    state = state or FormState({"role": "agent", "visibility": "all", "team_ids": []})
    context: dict[str, Any] = {
        "team_options": [(team.id, team.name, None) for team in teams],
        "values": state.values,
        "errors": state.errors,
        "message": state.message,
        "role_options": translated(ROLE_OPTIONS),
        "visibility_options": translated(VISIBILITY_OPTIONS),
        "visibility_note": _(VISIBILITY_NOTE),
        "min_length": MIN_LENGTH,
    }
    return await render(request, "admin/users/new.html", context, status)


async def new_form(request: web.Request) -> web.StreamResponse:
    """The form to create a user."""
    return await _new_page(request)


async def create(request: web.Request) -> web.StreamResponse:
    """Create the user; a generated password goes, encrypted, to the page that shows it."""
    viewer = viewer_of(request)
    form = await request.post()
    values: dict[str, object] = {
        "name": text(form, "name"),
        "email": text(form, "email"),
        "role": text(form, "role"),
        "visibility": text(form, "visibility"),
        "team_ids": id_list(form, "team_ids"),
    }
    password = text(form, "password")
    try:
        # An empty password field means "generate one" (the API's null).
        body = validate_form(UserCreateBody, {**values, "password": password or None})
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
            user_id, name = user.id, user.name
    except HubError as err:
        # The typed password is never sent back into the page.
        return await _new_page(request, failed(err, values, NEW_FIELDS, BY_CODE), err.status)
    if generated is None:
        return redirect(
            request,
            page_url(request, "admin.user", user_id=user_id),
            ("success", _("Created %(name)s.") % {"name": name}),
        )
    response = redirect(
        request, shown_at(request, user_id), ("success", _("Created %(name)s.") % {"name": name})
    )
    carry_password(request, response, user_id, generated)
    return response


async def created(request: web.Request) -> web.StreamResponse:
    """The new user's generated password, shown this once (a reload no longer shows it)."""
    user_id = path_id(request, "user_id", "user")
    async with work(request) as w:
        user = await directory.get_user(w.db, user_id)
    password = read_password(request, user_id)
    base = request.config_dict[appkeys.SETTINGS].public_url or str(request.url.origin())
    context = {"subject": user, "password": password, "login_url": f"{base.rstrip('/')}/login"}
    page = await render(request, "admin/users/created.html", context)
    forget_password(request, page, user_id)
    return page
