"""The agents' inbox (``/inbox/...``): the three-pane page every role works in, and the
fragments of it that the page's scripts fetch to update it live.

A sub-app of its own: every error is a page, and ``member_guard`` lets any logged-in
user in once, for every page (handlers read the user with ``viewer_of``). What each user
then sees is decided in the queries, by the same domain functions the REST API calls.
Its routes come from ``admin_ui/route_tables/inbox.routes`` (generated from the areas'
declarations, ``admin_ui.route_source``): an area's module is imported on its first
request, not when the hub starts.
"""

from __future__ import annotations

from aiohttp import web

from admin_ui.access import member_guard
from admin_ui.errors import page_errors
from admin_ui.route_files import table
from hub.api.lazy_routes import route_defs
from hub.api.routing import mount_routes

PREFIX = "/inbox"


def inbox_app() -> web.Application:
    """The inbox sub-app, to mount at ``/inbox``."""
    app = web.Application(middlewares=[page_errors, member_guard])
    mount_routes(app.router, PREFIX, route_defs(table("inbox")))
    return app
