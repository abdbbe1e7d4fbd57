"""Channels: connect, list, change, disable and delete the hub's messaging channels."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub import appkeys
from hub.api.bodies import read_json, read_query
from hub.api.context import current_viewer, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.channels import (
    ChannelCreateBody,
    ChannelOut,
    ChannelPatchBody,
    ChannelQuery,
    TemplatesOut,
)
from hub.auth.visibility import Viewer
from hub.channels.admin import ChannelAdmin
from hub.channels.agent_signals import list_templates
from hub.channels.channel_queries import list_channels, live_channel
from hub.channels.registry import webhook_url
from hub.store.models import Channel

api = ApiRoutes("channels")
ITEM = "/api/v1/channels/{channel_id}"


def _out(request: web.Request, channel: Channel, config: dict[str, Any] | None) -> ChannelOut:
    return ChannelOut.of(
        channel, webhook_url(request.config_dict[appkeys.SETTINGS], channel.id), config
    )


def _read_out(request: web.Request, viewer: Viewer, channel: Channel) -> ChannelOut:
    # Agents need channels' names to start conversations, never their credentials.
    config = (
        ChannelAdmin.of(request.config_dict).visible_config(channel) if viewer.is_admin else None
    )
    return _out(request, channel, config)


@api.get("/api/v1/channels", query=ChannelQuery, response=Page[ChannelOut])
async def list_(request: web.Request) -> web.Response:
    """List channels by name (or `sort=created`: oldest first); deleted ones only with
    `include_deleted=true`. Agents see no `config`."""
    viewer = await current_viewer(request)
    query = read_query(request, ChannelQuery)
    async with work(request) as w:
        rows, next_cursor = await list_channels(
            w.db,
            sort=query.sort,
            type_=query.type,
            enabled=query.enabled,
            include_deleted=query.include_deleted,
            cursor=query.cursor,
            limit=query.limit,
        )
    return json_items([_read_out(request, viewer, row) for row in rows], next_cursor)


@api.post(
    "/api/v1/channels",
    body=ChannelCreateBody,
    response=ChannelOut,
    status=201,
    errors=(403, 502),
)
async def create(request: web.Request) -> web.Response:
    """Connect a channel (owners and managers); the answer shows its config with every
    secret revealed, generated ones included: this once.

    The plugin checks the credentials with the provider first: 422 `bad_credentials`
    when refused, 502 `provider_unavailable` when it cannot be reached; nothing is stored.
    """
    viewer = await current_viewer(request)
    body = await read_json(request, ChannelCreateBody)
    saved = await ChannelAdmin.of(request.config_dict).create(viewer, body.new())
    return json_model(_out(request, saved.channel, saved.config), 201)


@api.get(ITEM, response=ChannelOut)
async def get(request: web.Request) -> web.Response:
    """One channel; secrets in its `config` read as "********" (agents see no `config`)."""
    viewer = await current_viewer(request)
    channel_id = path_id(request, "channel_id", "channel")
    async with work(request) as w:
        channel = await live_channel(w.db, channel_id)
    return json_model(_read_out(request, viewer, channel))


@api.patch(ITEM, body=ChannelPatchBody, response=ChannelOut, errors=(403, 409, 502))
async def update(request: web.Request) -> web.Response:
    """Change a channel's name, enabled flag, config, routing or settings (owners and
    managers).

    `config` is merged over the stored one and validated whole; a changed config is
    checked with the provider again (same errors as creating). Secrets the patch set or
    regenerated are revealed in the answer; the others read as "********".
    """
    viewer = await current_viewer(request)
    body = await read_json(request, ChannelPatchBody)
    channel_id = path_id(request, "channel_id", "channel")
    saved = await ChannelAdmin.of(request.config_dict).update(viewer, channel_id, body.changes())
    return json_model(_out(request, saved.channel, saved.config))


@api.delete(ITEM, status=204, errors=(403,))
async def delete(request: web.Request) -> web.Response:
    """Delete a channel (owners and managers): its conversations stay readable, it stops
    sending and receiving, and it answers 404 from then on."""
    viewer = await current_viewer(request)
    channel_id = path_id(request, "channel_id", "channel")
    await ChannelAdmin.of(request.config_dict).delete(viewer, channel_id)
    return web.Response(status=204)


@api.get(f"{ITEM}/templates", response=TemplatesOut, errors=(409, 502))
async def templates(request: web.Request) -> web.Response:
    """The message templates the provider approved for this channel, for the composer
    (WhatsApp: the only messages allowed outside the 24-hour window). 409
    `not_supported` when the channel's type has none; the provider's refusal answers
    422 `bad_credentials`, its absence 502 `provider_unavailable`."""
    await current_viewer(request)
    channel_id = path_id(request, "channel_id", "channel")
    found = await list_templates(
        request.config_dict[appkeys.SESSIONS], request.config_dict[appkeys.CHANNELS], channel_id
    )
    return json_model(TemplatesOut(items=found))
