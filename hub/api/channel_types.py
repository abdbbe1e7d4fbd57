"""Channel types: the installed plugin types and the declarative ones (JSON manifests)."""

from __future__ import annotations

from aiohttp import web

from hub import appkeys
from hub.api.bodies import read_json
from hub.api.context import current_viewer, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.channels import ChannelTypeOut, ChannelTypePatchBody
from hub.channels import definitions
from hub.channels.manifest import ChannelManifest
from hub.channels.registry import ChannelTypes
from hub.channels.type_sync import types_changed
from hub.errors import NotFound

api = ApiRoutes("channel_types")
ITEM = "/api/v1/channel-types/{name}"


def _types(request: web.Request) -> ChannelTypes:
    return request.config_dict[appkeys.CHANNELS].types


async def _reload(request: web.Request) -> None:
    """Make this process serve the definitions as just committed, and tell the others."""
    await definitions.load_declared(request.config_dict[appkeys.SESSIONS], _types(request))
    await request.config_dict[appkeys.BUS].publish(types_changed())


@api.get("/api/v1/channel-types", response=Page[ChannelTypeOut])
async def list_(request: web.Request) -> web.Response:
    """Every channel type: plugin types first, then declared ones, each by name."""
    await current_viewer(request)
    types = _types(request)
    return json_items(
        [ChannelTypeOut.of(kind, types.is_declared(name)) for name, kind in types.all().items()]
    )


@api.get(ITEM, response=ChannelTypeOut)
async def get(request: web.Request) -> web.Response:
    """One channel type, with its Config as JSON Schema."""
    await current_viewer(request)
    types = _types(request)
    name = request.match_info["name"]
    found = types.get(name)
    if found is None:
        raise NotFound("channel type")
    return json_model(ChannelTypeOut.of(found, types.is_declared(name)))


@api.post(
    "/api/v1/channel-types",
    body=ChannelManifest,
    response=ChannelTypeOut,
    status=201,
    errors=(403, 409),
)
async def create(request: web.Request) -> web.Response:
    """Declare a channel type from a manifest (owners and managers), no Python needed.

    409 when the name is a plugin type's or another definition's; 422 when the base is
    not an extensible type or a credential name is one of the base Config's fields.
    """
    viewer = await current_viewer(request)
    manifest = await read_json(request, ChannelManifest)
    async with work(request) as w:
        built = await definitions.create_definition(w.db, viewer, _types(request), manifest)
    await _reload(request)
    return json_model(ChannelTypeOut.of(built, True), 201)


@api.patch(ITEM, body=ChannelTypePatchBody, response=ChannelTypeOut, errors=(403, 409))
async def update(request: web.Request) -> web.Response:
    """Change a declared type's title, description, logo, credentials or capabilities.

    Plugin types answer 409 ``plugin_type``; a change that would leave a channel of the
    type with invalid settings answers 409 ``definition_in_use``.
    """
    viewer = await current_viewer(request)
    changes = await read_json(request, ChannelTypePatchBody)
    name = request.match_info["name"]
    async with work(request) as w:
        built, channel_ids = await definitions.update_definition(
            w.db, viewer, _types(request), request.config_dict[appkeys.CIPHER], name, changes
        )
    await _reload(request)
    for channel_id in channel_ids:
        request.config_dict[appkeys.CHANNELS].forget(channel_id)
    return json_model(ChannelTypeOut.of(built, True))


@api.delete(ITEM, status=204, errors=(403, 409))
async def delete(request: web.Request) -> web.Response:
    """Delete a declared type; 409 ``type_in_use`` while a channel uses it, 409
    ``plugin_type`` for a plugin's type."""
    viewer = await current_viewer(request)
    name = request.match_info["name"]
    async with work(request) as w:
        await definitions.delete_definition(w.db, viewer, _types(request), name)
    await _reload(request)
    return web.Response(status=204)
