"""The admin section: pages for owners and managers (``/admin/...``), one module per area.

It is a sub-app of its own: every error is a page, and ``admin_guard`` lets only owners
and managers in, once for every page (handlers read the admin with ``viewer_of``). Its
routes come from ``admin_ui/route_tables/admin.routes`` (generated from the areas'
declarations, ``admin_ui.route_source``): an area's module is imported on its first
request, not when the hub starts.
"""

from __future__ import annotations

from aiohttp import web

from admin_ui.access import admin_guard
from admin_ui.errors import page_errors
from admin_ui.route_files import table
from hub.api.lazy_routes import route_defs
from hub.api.routing import mount_routes

PREFIX = "/admin"


def admin_app() -> web.Application:
    """The admin sub-app, to mount at ``/admin``; ``/admin`` itself opens the channels."""
    app = web.Application(middlewares=[page_errors, admin_guard])
    mount_routes(app.router, PREFIX, route_defs(table("admin")))
    return app
