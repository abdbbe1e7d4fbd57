"""Setting a new password for a user (owners and managers): typed, or generated and shown
once, like creating a user. The user's browser sessions end; ``hub.auth`` hashes it."""

from __future__ import annotations

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.admin.people_forms import FormState, failed, text
from admin_ui.admin.people_password import (
    carry_password,
    forget_password,
    read_password,
    reset_shown_at,
)
from admin_ui.i18n import gettext as _
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from admin_ui.wording import validate_form
from hub import appkeys
from hub.api.context import path_id, work
from hub.api.schemas.people import PasswordSetBody
from hub.auth.passwords import MIN_LENGTH
from hub.errors import HubError
from hub.people import directory


async def _form_page(
    request: web.Request, user_id: int, state: FormState | None = None, status: int = 200
) -> web.Response:
    viewer = viewer_of(request)
    async with work(request) as w:
        subject = await directory.get_user(w.db, user_id)
    # Refused before the form is shown: one's own password needs the current one, and a
    # manager cannot touch an owner's account.
    directory.check_may_set_password(viewer, subject)
    state = state or FormState()
    context = {
        "subject": subject,
        "errors": state.errors,
        "message": state.message,
        "min_length": MIN_LENGTH,
        "section": "users",
    }
    return await render(request, "admin/users/password.html", context, status)


async def password_form(request: web.Request) -> web.StreamResponse:
    """The form to set a user's new password."""
    return await _form_page(request, path_id(request, "user_id", "user"))


async def set_password(request: web.Request) -> web.StreamResponse:
    """Set the typed password, or generate one and show it on the next page, once."""
    viewer = viewer_of(request)
    user_id = path_id(request, "user_id", "user")
    form = await request.post()
    typed = text(form, "password")
    try:
        # An empty field means "generate one" (the API's null).
        body = validate_form(PasswordSetBody, {"password": typed or None})
        async with work(request) as w:
            user, generated = await directory.set_user_password(w, viewer, user_id, body.password)
            name = user.name
    except HubError as err:
        if err.status in (403, 404):
            raise
        # The typed password is never sent back into the page.
        return await _form_page(request, user_id, failed(err, {}, ("password",)), err.status)
    done = _("%(name)s has a new password; their sessions have ended.") % {"name": name}
    if generated is None:
        return redirect(
            request, page_url(request, "admin.user", user_id=user_id), ("success", done)
        )
    page = reset_shown_at(request, user_id)
    response = redirect(request, page, ("success", done))
    carry_password(request, response, user_id, generated, page)
    return response


async def password_shown(request: web.Request) -> web.StreamResponse:
    """The generated password, shown this once (a reload no longer shows it)."""
    user_id = path_id(request, "user_id", "user")
    async with work(request) as w:
        user = await directory.get_user(w.db, user_id)
    page_path = reset_shown_at(request, user_id)
    password = read_password(request, user_id, page_path)
    base = request.config_dict[appkeys.SETTINGS].public_url or str(request.url.origin())
    context = {
        "subject": user,
        "password": password,
        "login_url": f"{base.rstrip('/')}/login",
        "section": "users",
    }
    page = await render(request, "admin/users/password_shown.html", context)
    forget_password(request, page, user_id, page_path)
    return page
