"""The admin section: pages for owners and managers (``/admin/...``), one module per area."""

from __future__ import annotations

from aiohttp import web

from admin_ui.access import admin_viewer
from admin_ui.admin import (
    channel_connect,
    channel_routing,
    channels,
    dead_letters,
    inbound_log,
    plugins,
    snippets,
    teams,
    users,
    workspace,
)

AREAS = (
    channels,
    channel_connect,
    channel_routing,
    users,
    teams,
    snippets,
    workspace,
    inbound_log,
    dead_letters,
    plugins,
)


def add_admin_routes(router: web.UrlDispatcher) -> None:
    """Add every admin page; ``/admin`` itself opens the channels."""
    router.add_get("/admin", _start)
    for area in AREAS:
        router.add_routes(area.routes)


async def _start(request: web.Request) -> web.StreamResponse:
    await admin_viewer(request)
    raise web.HTTPSeeOther("/admin/channels")
