"""Channel and CRM types' logos, for ``<img>`` on any page a logged-in user sees.

Outside ``/admin``: the admin section is for owners and managers, but agents' pages show
a conversation's channel type too.
"""

from __future__ import annotations

from aiohttp import web

from admin_ui.access import page_identity
from hub import appkeys
from hub.channels.manifest import DEFAULT_LOGO

routes = web.RouteTableDef()
LOGO_HEADERS = {
    # An SVG opened on its own could run script: sandboxed, it cannot.
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, max-age=300",
}


@routes.get("/channel-types/{type_name}/logo.svg", name="channel_type.logo")
async def logo(request: web.Request) -> web.Response:
    """A type's logo (a generic one for a type without one, or unknown)."""
    await page_identity(request)
    found = request.config_dict[appkeys.CHANNELS].types.get(request.match_info["type_name"])
    svg = (found.logo if found is not None else "") or DEFAULT_LOGO
    return web.Response(text=svg, content_type="image/svg+xml", headers=LOGO_HEADERS)


@routes.get("/crm-types/{type_name}/logo.svg", name="crm_type.logo")
async def crm_logo(request: web.Request) -> web.Response:
    """A CRM type's logo (the generic one for a type without one, or unknown)."""
    await page_identity(request)
    found = request.config_dict[appkeys.CRM].env.instances.types.get(
        request.match_info["type_name"]
    )
    svg = (found.logo if found is not None else "") or DEFAULT_LOGO
    return web.Response(text=svg, content_type="image/svg+xml", headers=LOGO_HEADERS)
