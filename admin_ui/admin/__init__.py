"""The admin section: pages for owners and managers (``/admin/...``), one module per area.

It is a sub-app of its own: every error is a page, and ``admin_guard`` lets only owners
and managers in, once for every page (handlers read the admin with ``viewer_of``).
"""

from __future__ import annotations

from aiohttp import web

from admin_ui.access import admin_guard
from admin_ui.admin import (
    audit_log,
    business_hours,
    channel_connect,
    channel_routing,
    channels,
    crm,
    crm_connect,
    crm_settings,
    csat,
    dead_letters,
    inbound_log,
    labels,
    plugins,
    rules,
    sla,
    snippets,
    teams,
    users,
    webhooks,
    workspace,
)
from admin_ui.errors import page_errors
from admin_ui.urls import page_url
from hub.api.routing import mount_routes

PREFIX = "/admin"
routes = web.RouteTableDef()
AREAS = (
    channels,
    channel_connect,
    channel_routing,
    crm_connect,
    crm,
    crm_settings,
    users,
    teams,
    snippets,
    labels,
    sla,
    rules,
    business_hours,
    workspace,
    csat,
    inbound_log,
    dead_letters,
    webhooks,
    audit_log,
    plugins,
)


def admin_app() -> web.Application:
    """The admin sub-app, to mount at ``/admin``; ``/admin`` itself opens the channels."""
    app = web.Application(middlewares=[page_errors, admin_guard])
    for area_routes in (routes, *(area.routes for area in AREAS)):
        mount_routes(app.router, PREFIX, area_routes)
    return app


@routes.get(PREFIX, name="admin")
async def start(request: web.Request) -> web.StreamResponse:
    """The admin section's first page."""
    raise web.HTTPSeeOther(page_url(request, "admin.channels"))
