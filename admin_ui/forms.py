"""CSRF for the forms shown before anyone is logged in (login, owner setup).

A double-submit token: a random value in a SameSite cookie and in the form; a cross-site
page can neither read the cookie nor set it, so it cannot forge a matching pair.
"""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web

from hub.errors import HubError

COOKIE = "hub_form"


def form_token(request: web.Request) -> str:
    """The form token to embed: the existing cookie's or a new one."""
    return request.cookies.get(COOKIE) or secrets.token_urlsafe(24)


def remember_form_token(response: web.StreamResponse, token: str, secure: bool) -> None:
    """Set the cookie half of the pair."""
    response.set_cookie(COOKIE, token, path="/", httponly=True, secure=secure, samesite="Strict")


def check_form_token(request: web.Request, sent: object) -> None:
    """403 unless the form's token matches the cookie."""
    cookie = request.cookies.get(COOKIE, "")
    if not (
        isinstance(sent, str) and cookie and hmac.compare_digest(sent.encode(), cookie.encode())
    ):
        raise HubError(403, "csrf_invalid", "the form expired; reload the page and try again")
