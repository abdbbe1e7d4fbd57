"""Carrying a value that must be shown once (a generated secret or password) to the page
after a redirect.

It rides in a cookie encrypted with the hub's credentials cipher (neither the browser's
cookie store nor a log shows it in clear), HttpOnly, SameSite=Strict, scoped to the one
page that shows it and alive for minutes; that page deletes it, so a reload no longer
shows the value. The cookie is bound to a purpose and to who and what it was made for,
so another ciphertext of the same key (a stored config) cannot pass for it.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from hub import appkeys
from hub.store.crypto import CredentialsUnreadable


def carry(
    request: web.Request,
    response: web.StreamResponse,
    *,
    cookie: str,
    path: str,
    bound_to: dict[str, Any],
    value: Any,
    max_age: int,
) -> None:
    """Set ``cookie`` for the page at ``path`` to carry ``value`` (JSON-able)."""
    payload = {"bound_to": bound_to, "until": time.time() + max_age, "value": value}
    response.set_cookie(
        cookie,
        request.config_dict[appkeys.CIPHER].encrypt(payload),
        path=path,
        max_age=max_age,
        httponly=True,
        secure=request.config_dict[appkeys.SETTINGS].secure_cookies,
        samesite="Strict",
    )


def take(request: web.Request, *, cookie: str, bound_to: dict[str, Any]) -> Any | None:
    """The carried value, if the cookie holds a fresh one made for ``bound_to``; else None
    (absent, expired, forged, or made for another page or person)."""
    token = request.cookies.get(cookie)
    if not token:
        return None
    try:
        payload = request.config_dict[appkeys.CIPHER].decrypt(token)
    except (CredentialsUnreadable, ValueError):
        return None
    until = payload.get("until")
    if payload.get("bound_to") != bound_to or not isinstance(until, int | float):
        return None
    return payload.get("value") if until > time.time() else None


def forget(request: web.Request, response: web.StreamResponse, *, cookie: str, path: str) -> None:
    """Delete the cookie once its page has shown the value."""
    if cookie in request.cookies:
        response.del_cookie(cookie, path=path)
