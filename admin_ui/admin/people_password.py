"""Carrying a generated password from the create-user post to the page that shows it once.

The password rides in a cookie encrypted with the hub's credentials cipher (so neither
the browser's cookie store nor a log shows it in clear), HttpOnly, scoped to the one page
that shows it, and valid for a few minutes; that page clears it, so a reload no longer
shows the password.
"""

from __future__ import annotations

import time

from aiohttp import web

from hub import appkeys
from hub.store.crypto import CredentialsUnreadable

COOKIE = "hub_new_password"
LIFETIME_SECONDS = 300


def shown_at(user_id: int) -> str:
    """The page that shows a new user's generated password."""
    return f"/admin/users/{user_id}/created"


def carry_password(
    request: web.Request, response: web.StreamResponse, user_id: int, password: str
) -> None:
    """Put the generated password of ``user_id`` in the short-lived encrypted cookie."""
    payload = {"user_id": user_id, "password": password, "until": time.time() + LIFETIME_SECONDS}
    token = request.app[appkeys.CIPHER].encrypt(payload)
    response.set_cookie(
        COOKIE,
        token,
        path=shown_at(user_id),
        max_age=LIFETIME_SECONDS,
        httponly=True,
        secure=request.app[appkeys.SETTINGS].secure_cookies,
        samesite="Strict",
    )


def read_password(request: web.Request, user_id: int) -> str | None:
    """The carried password of ``user_id``, if the cookie holds a fresh one for them."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        payload = request.app[appkeys.CIPHER].decrypt(token)
    except CredentialsUnreadable:
        return None  # tampered with, or made under another secret key
    fresh = isinstance(payload.get("until"), int | float) and payload["until"] > time.time()
    if payload.get("user_id") != user_id or not fresh:
        return None
    password = payload.get("password")
    return password if isinstance(password, str) else None


def forget_password(request: web.Request, response: web.StreamResponse, user_id: int) -> None:
    """Clear the cookie once its page has shown the password."""
    if COOKIE in request.cookies:
        response.del_cookie(COOKIE, path=shown_at(user_id))
