"""Channels: the list, one channel's page, disable / enable / replay held, delete."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
