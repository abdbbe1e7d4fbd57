"""Connecting a channel: type cards, the credentials form, the done page; editing credentials."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
