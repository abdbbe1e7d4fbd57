"""The bundled web UI: server-rendered Jinja pages (admin section and agents' inbox).

``setup_pages`` puts the public pages, static files and the page URLs on the hub's root
app; ``admin_app`` is the admin section, a sub-app the hub mounts at ``/admin``, and
``inbox_app`` the agents' inbox, mounted at ``/inbox``.

Every page's route comes from a table (``admin_ui/route_tables``, ``hub.api.lazy_routes``),
so a page's module, and what it imports, loads on its first request rather than before
the hub can answer ``/healthz``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path, PurePosixPath

from aiohttp import web

from admin_ui.admin import admin_app
from admin_ui.errors import browser_errors
from admin_ui.inbox import inbox_app
from admin_ui.locale_choice import request_locale
from admin_ui.rendering import create_environment
from admin_ui.route_files import table
from admin_ui.urls import PageUrls, page_url
from hub import appkeys
from hub.api.lazy_routes import route_defs
from hub.errors import NotFound

__all__ = ["admin_app", "inbox_app", "setup_pages"]
STATIC = Path(__file__).parent / "static"
FAVICON = "favicon.svg"


def setup_pages(app: web.Application) -> None:
    """Add the root's pages, error pages and static files to the hub's root ``app``."""
    urls = PageUrls(app)
    app[appkeys.URLS] = urls
    app[appkeys.TEMPLATES] = create_environment(urls)
    # The browser's language for whatever is worded from here on, error pages included.
    app.middlewares.append(request_locale)
    # Innermost, inside the root's JSON error middleware: browsers get error pages.
    app.middlewares.append(browser_errors)
    # The public pages, the CSAT survey, logos, report pages and the personal pages.
    app.router.add_routes(route_defs(table("root")))
    app.router.add_get("/static/{path:.+}", static_file, name="static")
    app.router.add_get("/favicon.ico", favicon, name="favicon")


async def static_file(request: web.Request) -> web.FileResponse:
    """A file of the UI's static folder; a 404 for anything else."""
    parts = PurePosixPath(request.match_info["path"]).parts
    # No way out of the folder, and no hidden files.
    if not parts or any(part in ("..", "/") or part.startswith(".") for part in parts):
        raise NotFound("file")
    path = STATIC.joinpath(*parts)
    if not await asyncio.to_thread(path.is_file):
        raise NotFound("file")
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})


async def favicon(request: web.Request) -> web.StreamResponse:
    """Where browsers look for an icon unasked: the one the pages link (``rel=icon``)."""
    raise web.HTTPFound(page_url(request, "static", path=FAVICON))
