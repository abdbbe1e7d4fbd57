"""Workspace settings (closing notes: off, optional, mandatory)."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
