"""Your API tokens, for every role: list, create (the plaintext shown once), revoke.

The token service (``hub.auth.api_tokens``) only ever handles the caller's own tokens, as
the REST API does: nobody, not even an owner, sees or revokes another person's tokens
here; deactivating a user is what cuts off their tokens. The pages lived under
``/admin/tokens`` while only admins could reach them; those addresses redirect here.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_ui.access import page_identity
from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from admin_ui.wording import required, validate_form
from hub import appkeys
from hub.api.context import announce_access_changed
from hub.api.schemas import TokenBody
from hub.auth.api_tokens import create_token, list_tokens, own_token, revoke_token
from hub.errors import HubError, NotFound
from hub.store.models import ApiToken, User

routes = web.RouteTableDef()
PAGE_SIZE = 50
LIST_URL = "/me/tokens"
NAME_NEEDED = N_("Enter a name, e.g. the program or person that will use the token.")


async def _current_user(request: web.Request) -> User:
    """The logged-in user, whatever their role (``page_identity`` checks CSRF of writes)."""
    return (await page_identity(request)).user


def _token_id(request: web.Request) -> int:
    raw = request.match_info["token_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound("token")
    return int(raw)


async def _list_page(
    request: web.Request,
    user: User,
    *,
    name: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The list with the create form; ``before`` (a token id) pages back through older ones."""
    before = request.query.get("before", "")
    older_than = int(before) if before.isdigit() and len(before) <= 18 else None
    async with request.config_dict[appkeys.SESSIONS]() as db:
        # One more than a page, to know whether there is a next one.
        rows = await list_tokens(db, user, before=older_than, limit=PAGE_SIZE + 1)
    shown = rows[:PAGE_SIZE]
    listed = page_url(request, "me.tokens")
    next_url = (
        page_url(request, "me.tokens", {"before": shown[-1].id}) if len(rows) > PAGE_SIZE else None
    )
    context: dict[str, Any] = {
        "tokens": shown,
        "next_url": next_url,
        "first_url": listed if before else None,
        "name": name,
        "errors": errors or {},
        "section": "tokens",
    }
    return await render(request, "personal/tokens/list.html", context, status=status)


@routes.get(LIST_URL, name="me.tokens")
async def tokens_page(request: web.Request) -> web.Response:
    """Your API tokens and the form to create one."""
    user = await _current_user(request)
    return await _list_page(request, user)


@routes.post(LIST_URL, name="me.tokens")
async def create(request: web.Request) -> web.Response:
    """Create a token and show its plaintext on this response only (it is stored hashed)."""
    user = await _current_user(request)
    form = await request.post()
    name = str(form.get("name", ""))
    try:
        body = validate_form(TokenBody, {"name": name})
    except HubError as err:
        errors = {str(d["field"]): str(d["message"]) for d in err.details}
        if errors.get("name") == required():
            errors["name"] = _(NAME_NEEDED)
        return await _list_page(request, user, name=name, errors=errors, status=422)
    async with request.config_dict[appkeys.SESSIONS]() as db:
        plaintext, row = await create_token(db, user, body.name)
        await db.commit()
    # Rendered, not redirected: the plaintext must never sit in a URL, a flash or a log.
    return await render(
        request,
        "personal/tokens/created.html",
        {"token": row, "plaintext": plaintext, "section": "tokens"},
        status=201,
    )


async def _own_token(request: web.Request, user: User) -> ApiToken:
    token_id = _token_id(request)
    async with request.config_dict[appkeys.SESSIONS]() as db:
        return await own_token(db, user, token_id)


@routes.get(LIST_URL + r"/{token_id}/revoke", name="me.tokens.revoke")
async def confirm_revoke(request: web.Request) -> web.Response:
    """Ask before revoking: programs using the token stop working at once."""
    user = await _current_user(request)
    token = await _own_token(request, user)
    if token.revoked_at is not None:
        return redirect(
            request,
            page_url(request, "me.tokens"),
            ("info", _("The token “%(name)s” is revoked already.") % {"name": token.name}),
        )
    return await render(
        request,
        "admin/confirm.html",
        {
            "layout": "personal/layout.html",
            "section": "tokens",
            "heading": _("Revoke the token “%(name)s”?") % {"name": token.name},
            "message": _(
                "Anything that uses this token to call the API is refused (401) from now on."
            ),
            "details": [
                _("Token: %(name)s (%(prefix)s…)") % {"name": token.name, "prefix": token.prefix},
                _("This cannot be undone: to give access again, create a new token."),
            ],
            "action": page_url(request, "me.tokens.revoke", token_id=token.id),
            "confirm_label": _("Revoke token"),
            "cancel_url": page_url(request, "me.tokens"),
        },
    )


@routes.post(LIST_URL + r"/{token_id}/revoke", name="me.tokens.revoke")
async def revoke(request: web.Request) -> web.Response:
    """Revoke one of your tokens (asked first on the confirmation page)."""
    user = await _current_user(request)
    token = await _own_token(request, user)
    async with request.config_dict[appkeys.SESSIONS]() as db:
        await revoke_token(db, user, token.id)
        await db.commit()
    await announce_access_changed(request, user.id)
    return redirect(
        request,
        page_url(request, "me.tokens"),
        ("success", _("The token “%(name)s” is revoked.") % {"name": token.name}),
    )


# The old addresses, from bookmarks and older docs. They answer before any login check, so
# an agent lands on the login page or their tokens, never on a 403. 308 keeps a POST a
# POST (its form, CSRF token included, goes to the new address).
OLD_PATHS = ("/admin/tokens", r"/admin/tokens/{token_id}/revoke")


async def moved(request: web.Request) -> web.StreamResponse:
    """Send an old ``/admin/tokens…`` address to the same page under ``/me/tokens``."""
    path = LIST_URL + request.path.removeprefix("/admin/tokens")
    target = f"{path}?{request.query_string}" if request.query_string else path
    if request.method == "POST":
        raise web.HTTPPermanentRedirect(target)
    raise web.HTTPMovedPermanently(target)


for old_path in OLD_PATHS:
    routes.get(old_path)(moved)
    routes.post(old_path)(moved)
