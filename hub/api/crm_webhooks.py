"""``/crm-webhooks/{connection_id}``: where a CRM pushes contact changes (HubSpot's
webhooks). No session or token: the plugin checks the CRM's own signature."""

from __future__ import annotations

from aiohttp import web

from hub import appkeys
from hub.api.context import path_id
from hub.contract.models import WebhookRequest
from hub.crm.sync import receive_webhook

routes = web.RouteTableDef()


@routes.post("/crm-webhooks/{connection_id}")
async def crm_webhook(request: web.Request) -> web.Response:
    """Verify and apply one CRM webhook; 404 for an unknown connection or a type without
    webhooks, the plugin's status for a bad signature, 413 for a body over the limit."""
    connection_id = path_id(request, "connection_id", "CRM connection")
    limit = request.config_dict[appkeys.SETTINGS].max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return web.json_response(
            {"error": {"code": "too_large", "message": f"over {limit} bytes", "details": None}},
            status=413,
        )
    body = await request.read()
    base = request.config_dict[appkeys.SETTINGS].base_url
    # The public URL the CRM signed (HubSpot's v3 signature covers it), not the one a
    # reverse proxy forwarded to.
    raw = WebhookRequest(
        method=request.method,
        url=f"{base}{request.rel_url}",
        headers=dict(request.headers),
        query=dict(request.query),
        body=body,
    )
    engine = request.config_dict[appkeys.CRM]
    changed = await receive_webhook(engine.env, connection_id, raw)
    return web.json_response({"ok": True, "changed": changed})
