"""A channel's routing and conversation defaults (also the connect wizard's second step)."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
