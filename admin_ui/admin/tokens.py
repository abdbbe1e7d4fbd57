"""API tokens of the logged-in admin: list, create (the plaintext shown once), revoke.

The token service (``hub.auth.api_tokens``) only ever handles the caller's own tokens, as
the REST API does: nobody, not even an owner, sees or revokes another person's tokens
here; deactivating a user is what cuts off their tokens.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from hub import appkeys
from hub.api.bodies import validation_details
from hub.api.schemas import TokenBody
from hub.auth.api_tokens import create_token, list_tokens, own_token, revoke_token
from hub.auth.identity import identify
from hub.errors import NotFound
from hub.store.models import ApiToken, User

routes = web.RouteTableDef()
PAGE_SIZE = 50


async def _current_user(request: web.Request) -> User:
    """The logged-in owner or manager (the admin guard checked role and CSRF first)."""
    identity = await identify(request)
    assert identity is not None  # the admin guard has redirected anonymous visitors
    return identity.user


def _token_id(request: web.Request) -> int:
    raw = request.match_info["token_id"]
    if not raw.isdigit():
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
    async with request.config_dict[appkeys.SESSIONS]() as db:
        # One more than a page, to know whether there is a next one.
        rows = await list_tokens(
            db, user, before=int(before) if before.isdigit() else None, limit=PAGE_SIZE + 1
        )
    shown = rows[:PAGE_SIZE]
    listed = page_url(request, "admin.tokens")
    next_url = (
        page_url(request, "admin.tokens", {"before": shown[-1].id})
        if len(rows) > PAGE_SIZE
        else None
    )
    context: dict[str, Any] = {
        "tokens": shown,
        "next_url": next_url,
        "first_url": listed if before else None,
        "name": name,
        "errors": errors or {},
        "section": "tokens",
    }
    return await render(request, "admin/tokens/list.html", context, status=status)


@routes.get("/admin/tokens", name="admin.tokens")
async def tokens_page(request: web.Request) -> web.Response:
    """Your API tokens and the form to create one."""
    user = await _current_user(request)
    return await _list_page(request, user)


@routes.post("/admin/tokens")
async def create(request: web.Request) -> web.Response:
    """Create a token and show its plaintext on this response only (it is stored hashed)."""
    user = await _current_user(request)
    form = await request.post()
    name = str(form.get("name", ""))
    try:
        body = TokenBody.model_validate({"name": name})
    except ValidationError as err:
        errors = {d["field"]: _message(d["message"]) for d in validation_details(err)}
        return await _list_page(request, user, name=name, errors=errors, status=422)
    async with request.config_dict[appkeys.SESSIONS]() as db:
        plaintext, row = await create_token(db, user, body.name)
        await db.commit()
    # Rendered, not redirected: the plaintext must never sit in a URL, a flash or a log.
    return await render(
        request,
        "admin/tokens/created.html",
        {"token": row, "plaintext": plaintext, "section": "tokens"},
        status=201,
    )


def _message(pydantic_message: str) -> str:
    """A field error a person can act on, instead of pydantic's wording."""
    if "at least 1 character" in pydantic_message:
        return "Enter a name, e.g. the program or person that will use the token."
    if "at most" in pydantic_message:
        return "Use a name of at most 200 characters."
    return pydantic_message


async def _own_token(request: web.Request, user: User) -> ApiToken:
    token_id = _token_id(request)
    async with request.config_dict[appkeys.SESSIONS]() as db:
        return await own_token(db, user, token_id)


@routes.get("/admin/tokens/{token_id}/revoke", name="admin.token.revoke")
async def confirm_revoke(request: web.Request) -> web.Response:
    """Ask before revoking: programs using the token stop working at once."""
    user = await _current_user(request)
    token = await _own_token(request, user)
    if token.revoked_at is not None:
        return redirect(
            request,
            page_url(request, "admin.tokens"),
            ("info", f"The token “{token.name}” is revoked already."),
        )
    return await render(
        request,
        "admin/confirm.html",
        {
            "section": "tokens",
            "heading": f"Revoke the token “{token.name}”?",
            "message": "Anything that uses this token to call the API is refused (401) from now on.",
            "details": [
                f"Token: {token.name} ({token.prefix}…)",
                "This cannot be undone: to give access again, create a new token.",
            ],
            "action": page_url(request, "admin.token.revoke", token_id=token.id),
            "confirm_label": "Revoke token",
            "cancel_url": page_url(request, "admin.tokens"),
        },
    )


@routes.post("/admin/tokens/{token_id}/revoke")
async def revoke(request: web.Request) -> web.Response:
    """Revoke one of your tokens (asked first on the confirmation page)."""
    user = await _current_user(request)
    token = await _own_token(request, user)
    async with request.config_dict[appkeys.SESSIONS]() as db:
        await revoke_token(db, user, token.id)
        await db.commit()
    return redirect(
        request,
        page_url(request, "admin.tokens"),
        ("success", f"The token “{token.name}” is revoked."),
    )
