"""Carrying a generated password from the create-user post to the page that shows it once
(see ``admin_ui.show_once``)."""

from __future__ import annotations

from aiohttp import web

from admin_ui import show_once
from admin_ui.urls import page_url

COOKIE = "hub_new_password"
LIFETIME_SECONDS = 300


def shown_at(request: web.Request, user_id: int) -> str:
    """The page that shows a new user's generated password."""
    return page_url(request, "admin.user.created", user_id=user_id)


def carry_password(
    request: web.Request, response: web.StreamResponse, user_id: int, password: str
) -> None:
    """Put the generated password of ``user_id`` in the short-lived encrypted cookie."""
    show_once.carry(
        request,
        response,
        cookie=COOKIE,
        path=shown_at(request, user_id),
        bound_to={"user_id": user_id},
        value=password,
        max_age=LIFETIME_SECONDS,
    )


def read_password(request: web.Request, user_id: int) -> str | None:
    """The carried password of ``user_id``, if the cookie holds a fresh one for them."""
    password = show_once.take(request, cookie=COOKIE, bound_to={"user_id": user_id})
    return password if isinstance(password, str) else None


def forget_password(request: web.Request, response: web.StreamResponse, user_id: int) -> None:
    """Clear the cookie once its page has shown the password."""
    show_once.forget(request, response, cookie=COOKIE, path=shown_at(request, user_id))
