"""The bundled web UI: server-rendered Jinja pages (admin section and agents' inbox)."""

from __future__ import annotations

from aiohttp import web

from admin_ui import pages
from admin_ui.rendering import TEMPLATES, create_environment

STATIC = __path__[0] + "/static"


def setup_ui(app: web.Application) -> None:
    """Add the UI's pages and static files to the hub's app."""
    app[TEMPLATES] = create_environment()
    app.router.add_routes(pages.routes)
    app.router.add_static("/static/", STATIC, name="static")
