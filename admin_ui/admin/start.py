"""``/admin`` itself: the admin section's first page."""

from __future__ import annotations

from aiohttp import web

from admin_ui.urls import page_url

routes = web.RouteTableDef()


@routes.get("/admin", name="admin")
async def start(request: web.Request) -> web.StreamResponse:
    """The admin section's first page."""
    raise web.HTTPSeeOther(page_url(request, "admin.channels"))
