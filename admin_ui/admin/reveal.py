"""The done page of a new channel, and the cookie carrying its generated secrets there.

Creating a channel reveals its secrets once. The page that creates it redirects to the
routing step first, so the secrets the hub generated (a signing secret, a verify token)
travel in a show-once cookie (``admin_ui.show_once``) alive for 15 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from admin_ui import show_once
from admin_ui.access import viewer_of
from admin_ui.rendering import render
from admin_ui.urls import page_url
from hub import appkeys
from hub.api.context import path_id
from hub.channels.channel_queries import live_channel
from hub.channels.registry import webhook_url
from hub.inbox.channel_plugins import ChannelUnavailable

COOKIE: Final = "hub_connected"
MAX_AGE_SECONDS: Final = 15 * 60
PURPOSE: Final = "channel-connected"


@dataclass(frozen=True)
class RevealedSecret:
    """One secret to show on the done page."""

    key: str
    label: str
    value: str


def done_path(request: web.Request, channel_id: int) -> str:
    """The done page of a channel, also the cookie's path."""
    return page_url(request, "admin.channel.connected", channel_id=channel_id)


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
    show_once.carry(
        request,
        response,
        cookie=COOKIE,
        path=done_path(request, channel_id),
        bound_to=_bound_to(channel_id, user_id),
        value=[[s.key, s.label, s.value] for s in secrets],
        max_age=MAX_AGE_SECONDS,
    )


def take(request: web.Request, channel_id: int, user_id: int) -> list[RevealedSecret]:
    """The secrets carried to this done page for this user (none when absent, expired,
    forged or someone else's); call ``forget`` on the response so they are shown once."""
    carried = show_once.take(request, cookie=COOKIE, bound_to=_bound_to(channel_id, user_id))
    if not isinstance(carried, list):
        return []
    return [RevealedSecret(str(key), str(label), str(value)) for key, label, value in carried]


def forget(request: web.Request, response: web.StreamResponse, channel_id: int) -> None:
    """Delete the cookie, whatever it held."""
    show_once.forget(request, response, cookie=COOKIE, path=done_path(request, channel_id))


def _bound_to(channel_id: int, user_id: int) -> dict[str, Any]:
    return {"purpose": PURPOSE, "channel_id": channel_id, "user_id": user_id}


async def connected_page(request: web.Request) -> web.Response:
    """The done page: the webhook URL, and the generated secrets this once."""
    viewer = viewer_of(request)
    channel_id = path_id(request, "channel_id", "channel")
    async with request.config_dict[appkeys.SESSIONS]() as db:
        channel = await live_channel(db, channel_id)
    secrets = take(request, channel.id, viewer.id)
    instances = request.config_dict[appkeys.CHANNELS]
    channel_type = instances.types.get(channel.type)
    try:
        polls = instances.for_channel(channel).polls()
    except ChannelUnavailable:
        polls = False  # the channel page says what is wrong; the URL is still right
    context = {
        "channel": channel,
        "type_title": channel_type.title if channel_type else channel.type,
        "webhook_url": webhook_url(request.config_dict[appkeys.SETTINGS], channel.id),
        "secrets": secrets,
        "polls": polls,
    }
    response = await render(request, "admin/channels/connected.html", context)
    forget(request, response, channel.id)
    return response
