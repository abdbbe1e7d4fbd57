"""Changing your own password, for every role: the current one, then the new one twice."""

from __future__ import annotations

from aiohttp import web

from admin_ui.access import page_identity
from admin_ui.admin.people_forms import FormState, failed, text
from admin_ui.i18n import gettext as _
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from admin_ui.wording import validate_form
from hub.api.context import announce_access_changed
from hub.api.schemas.people import PasswordChangeBody
from hub.auth.login import change_own_password
from hub.auth.passwords import MIN_LENGTH
from hub.errors import HubError, Invalid

routes = web.RouteTableDef()
FORM_URL = "/me/password"
FIELDS = ("current_password", "new_password", "new_password_again")


async def _page(
    request: web.Request, state: FormState | None = None, status: int = 200
) -> web.Response:
    state = state or FormState()
    context = {
        "section": "password",
        "errors": state.errors,
        "message": state.message,
        "min_length": MIN_LENGTH,
    }
    return await render(request, "personal/password.html", context, status)


@routes.get(FORM_URL, name="me.password")
async def password_form(request: web.Request) -> web.StreamResponse:
    """The form to change your password."""
    await page_identity(request)
    return await _page(request)


@routes.post(FORM_URL, name="me.password")
async def change(request: web.Request) -> web.StreamResponse:
    """Check the current password, set the new one; your other sessions end, this one stays.

    No password is ever sent back into the page, not even after an error.
    """
    identity = await page_identity(request)
    form = await request.post()
    current, new = text(form, "current_password"), text(form, "new_password")
    try:
        body = validate_form(PasswordChangeBody, {"current_password": current, "new_password": new})
        if text(form, "new_password_again") != new:
            raise Invalid("new_password_again", _("Type the same new password twice."))
        await change_own_password(
            request, identity.user, identity.session, body.current_password, body.new_password
        )
    except HubError as err:
        if err.status == 429:
            raise  # the "too many attempts" page, with its Retry-After
        return await _page(request, failed(err, {}, FIELDS), err.status)
    await announce_access_changed(request, identity.user.id)
    message = _("Your password is changed. Your other sessions have ended; this one stays.")
    return redirect(request, page_url(request, "me"), ("success", message))
