"""(stub: ``/webhooks/{channel_id}``, filled in by the inbound-pipe work)."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
