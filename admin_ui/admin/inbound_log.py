"""The inbound log: filter, read a raw request (secrets redacted), replay."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
