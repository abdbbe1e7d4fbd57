"""Dead letters: outbound messages that failed for good; retry one or all."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
