"""Installed plugins with kind, version, distribution and status."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
