"""The bundled web UI: server-rendered Jinja pages (admin section and agents' inbox)."""

from __future__ import annotations

import asyncio
from pathlib import Path, PurePosixPath

from aiohttp import web

from admin_ui import pages
from admin_ui.admin import add_admin_routes
from admin_ui.errors import html_errors
from admin_ui.rendering import create_environment
from hub import appkeys
from hub.errors import NotFound

STATIC = Path(__file__).parent / "static"


def setup_ui(app: web.Application) -> None:
    """Add the UI's pages, its error pages and static files to the hub's app."""
    app[appkeys.TEMPLATES] = create_environment()
    # Innermost, inside the JSON error middleware: page requests get HTML error pages.
    app.middlewares.append(html_errors)
    app.router.add_routes(pages.routes)
    add_admin_routes(app.router)
    app.router.add_get("/static/{path:.+}", static_file, name="static")


async def static_file(request: web.Request) -> web.FileResponse:
    """A file of the UI's static folder; a JSON 404 for anything else."""
    parts = PurePosixPath(request.match_info["path"]).parts
    # No way out of the folder, and no hidden files.
    if not parts or any(part in ("..", "/") or part.startswith(".") for part in parts):
        raise NotFound("file")
    path = STATIC.joinpath(*parts)
    if not await asyncio.to_thread(path.is_file):
        raise NotFound("file")
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})
