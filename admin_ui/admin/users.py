"""Users: invite, change role and contact visibility, deactivate."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
