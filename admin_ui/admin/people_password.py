"""Carrying a generated password from the post that made it to the page that shows it once
(see ``admin_ui.show_once``): a new user's, or a new password an admin set for a user."""

from __future__ import annotations

from aiohttp import web

from admin_ui import show_once

COOKIE = "hub_new_password"
LIFETIME_SECONDS = 300


def shown_at(user_id: int) -> str:
    """The page that shows a new user's generated password."""
    return f"/admin/users/{user_id}/created"


def reset_shown_at(user_id: int) -> str:
    """The page that shows a password generated for an existing user."""
    return f"/admin/users/{user_id}/password/new"


def carry_password(
    request: web.Request,
    response: web.StreamResponse,
    user_id: int,
    password: str,
    page: str | None = None,
) -> None:
    """Put the generated password of ``user_id`` in the short-lived encrypted cookie, for
    ``page`` (by default the new user's page)."""
    path = page or shown_at(user_id)
    show_once.carry(
        request,
        response,
        cookie=COOKIE,
        path=path,
        # Bound to the page too: a new user's password never shows as a reset one.
        bound_to={"user_id": user_id, "page": path},
        value=password,
        max_age=LIFETIME_SECONDS,
    )


def read_password(request: web.Request, user_id: int, page: str | None = None) -> str | None:
    """The carried password of ``user_id``, if the cookie holds a fresh one for them."""
    bound_to = {"user_id": user_id, "page": page or shown_at(user_id)}
    password = show_once.take(request, cookie=COOKIE, bound_to=bound_to)
    return password if isinstance(password, str) else None


def forget_password(
    request: web.Request, response: web.StreamResponse, user_id: int, page: str | None = None
) -> None:
    """Clear the cookie once its page has shown the password."""
    show_once.forget(request, response, cookie=COOKIE, path=page or shown_at(user_id))
