"""Flash messages: one-time notices ("Channel connected") carried across a redirect.

They ride in a cookie signed with the hub's secret key, so nobody else can plant text in
the page; the page that shows them clears the cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Literal, get_args

from aiohttp import web

from hub import appkeys

COOKIE = "hub_flash"
Level = Literal["success", "info", "warning", "error"]
LEVELS: frozenset[str] = frozenset(get_args(Level))
Flash = tuple[Level, str]


def _signature(request: web.Request, payload: str) -> str:
    key = request.config_dict[appkeys.SECRET_KEY].encode()
    digest = hmac.new(key, b"flash:" + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _encode(request: web.Request, flashes: list[Flash]) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(flashes).encode()).decode().rstrip("=")
    return f"{payload}.{_signature(request, payload)}"


def pending_flashes(request: web.Request) -> list[Flash]:
    """The notices waiting for this request (an unsigned or garbled cookie gives none)."""
    payload, _, signature = request.cookies.get(COOKIE, "").partition(".")
    if not payload or not hmac.compare_digest(signature, _signature(request, payload)):
        return []
    try:
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return []
    return [(level, str(text)) for level, text in decoded if level in LEVELS]


def add_flash(request: web.Request, response: web.StreamResponse, level: Level, text: str) -> None:
    """Queue a notice for the next page this browser shows."""
    flashes = [*pending_flashes(request), (level, text)]
    secure = request.config_dict[appkeys.SETTINGS].secure_cookies
    response.set_cookie(
        COOKIE, _encode(request, flashes), path="/", httponly=True, secure=secure, samesite="Lax"
    )


def clear_flashes(request: web.Request, response: web.StreamResponse) -> None:
    """Forget the notices once a page has shown them."""
    if COOKIE in request.cookies:
        response.del_cookie(COOKIE, path="/")
