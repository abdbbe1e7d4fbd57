"""The agents' inbox (``/inbox/...``): the three-pane page every role works in, and the
fragments of it that the page's scripts fetch to update it live.

A sub-app of its own: every error is a page, and ``member_guard`` lets any logged-in
user in once, for every page (handlers read the user with ``viewer_of``). What each user
then sees is decided in the queries, by the same domain functions the REST API calls.
"""

from __future__ import annotations

from aiohttp import web

from admin_ui.access import member_guard
from admin_ui.errors import page_errors
from admin_ui.inbox import (
    bulk,
    composer,
    contact,
    conversation,
    crm,
    email_frame,
    files,
    listing,
    new_conversation,
    notifications,
    search,
    triage,
)
from hub.api.routing import mount_routes

PREFIX = "/inbox"
AREAS = (
    listing,
    bulk,
    conversation,
    composer,
    new_conversation,
    search,
    files,
    email_frame,
    contact,
    crm,
    notifications,
    triage,
)


def inbox_app() -> web.Application:
    """The inbox sub-app, to mount at ``/inbox``."""
    app = web.Application(middlewares=[page_errors, member_guard])
    for area in AREAS:
        mount_routes(app.router, PREFIX, area.routes)
    return app
