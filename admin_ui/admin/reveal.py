"""The done page of a new channel, and the cookie carrying its generated secrets there.

Creating a channel reveals its secrets once. The page that creates it redirects to the
routing step first, so the secrets the hub generated (a signing secret, a verify token)
travel in a cookie: encrypted with the hub's credentials cipher, HttpOnly, scoped to the
one done page's path, alive for 15 minutes and deleted by the first page that reads it.
Nothing is written to the database, a URL or a log in plain form.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from admin_ui.access import admin_viewer
from admin_ui.rendering import render
from hub import appkeys
from hub.api.context import path_id
from hub.channels.admin import live_channel
from hub.channels.registry import ChannelUnavailable, webhook_url
from hub.store.crypto import CredentialsUnreadable

COOKIE: Final = "hub_connected"
MAX_AGE_SECONDS: Final = 15 * 60
PURPOSE: Final = "channel-connected"


@dataclass(frozen=True)
class RevealedSecret:
    """One secret to show on the done page."""

    key: str
    label: str
    value: str


def done_path(channel_id: int) -> str:
    """The done page of a channel, also the cookie's path."""
    return f"/admin/channels/{channel_id}/connected"


def remember(
    request: web.Request,
    response: web.StreamResponse,
    channel_id: int,
    user_id: int,
    secrets: list[RevealedSecret],
) -> None:
    """Set the cookie carrying ``secrets`` to the channel's done page (none: no cookie)."""
    if not secrets:
        return
    payload: dict[str, Any] = {
        # The purpose keeps any other ciphertext of the same key (a stored config) from
        # passing for this cookie.
        "purpose": PURPOSE,
        "channel_id": channel_id,
        "user_id": user_id,
        "expires": int(time.time()) + MAX_AGE_SECONDS,
        "secrets": [[s.key, s.label, s.value] for s in secrets],
    }
    response.set_cookie(
        COOKIE,
        request.app[appkeys.CIPHER].encrypt(payload),
        path=done_path(channel_id),
        max_age=MAX_AGE_SECONDS,
        httponly=True,
        secure=request.app[appkeys.SETTINGS].secure_cookies,
        samesite="Strict",
    )


def take(request: web.Request, channel_id: int, user_id: int) -> list[RevealedSecret]:
    """The secrets carried to this done page for this user (none when absent, expired,
    forged or someone else's); call ``forget`` on the response so they are shown once."""
    token = request.cookies.get(COOKIE)
    if not token:
        return []
    try:
        payload = request.app[appkeys.CIPHER].decrypt(token)
    except (CredentialsUnreadable, ValueError):
        return []
    if (
        payload.get("purpose") != PURPOSE
        or payload.get("channel_id") != channel_id
        or payload.get("user_id") != user_id
        or not isinstance(payload.get("expires"), int)
        or payload["expires"] < time.time()
    ):
        return []
    return [
        RevealedSecret(str(key), str(label), str(value))
        for key, label, value in payload.get("secrets", [])
    ]


def forget(request: web.Request, response: web.StreamResponse, channel_id: int) -> None:
    """Delete the cookie, whatever it held."""
    if COOKIE in request.cookies:
        response.del_cookie(COOKIE, path=done_path(channel_id))


async def connected_page(request: web.Request) -> web.Response:
    """The done page: the webhook URL, and the generated secrets this once."""
    viewer = await admin_viewer(request)
    channel_id = path_id(request, "channel_id", "channel")
    async with request.app[appkeys.SESSIONS]() as db:
        channel = await live_channel(db, channel_id)
    secrets = take(request, channel.id, viewer.id)
    instances = request.app[appkeys.CHANNELS]
    channel_type = instances.types.get(channel.type)
    try:
        polls = instances.for_channel(channel).polls()
    except ChannelUnavailable:
        polls = False  # the channel page says what is wrong; the URL is still right
    context = {
        "channel": channel,
        "type_title": channel_type.title if channel_type else channel.type,
        "webhook_url": webhook_url(request.app[appkeys.SETTINGS], channel.id),
        "secrets": secrets,
        "polls": polls,
    }
    response = await render(request, "admin/channels/connected.html", context)
    forget(request, response, channel.id)
    return response
