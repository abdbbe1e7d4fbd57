"""API tokens: create (shown once), list, revoke."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
