"""``/crm-webhooks/{connection_id}``: where a CRM pushes contact changes (HubSpot's
webhooks). No session or token: the plugin checks the CRM's own signature."""

from __future__ import annotations

from aiohttp import web

from hub import appkeys
from hub.api.bodies import read_limited
from hub.api.context import path_id
from hub.channels.webhook_body import body_problem
from hub.contract.models import WebhookRequest
from hub.crm.sync import receive_webhook
from hub.errors import HubError

routes = web.RouteTableDef()


@routes.post("/crm-webhooks/{connection_id}")
async def crm_webhook(request: web.Request) -> web.Response:
    """Verify and apply one CRM webhook; 404 for an unknown connection or a type without
    webhooks, the plugin's status for a bad signature, 413 for a body over the limit,
    400 for one that is not UTF-8 or nests too deep (as channel webhooks)."""
    connection_id = path_id(request, "connection_id", "CRM connection")
    settings = request.config_dict[appkeys.SETTINGS]
    body = await read_limited(request, settings.max_body_bytes)
    if body is None:
        raise HubError(413, "too_large", f"the body is over {settings.max_body_bytes} bytes")
    base = settings.base_url
    # The public URL the CRM signed (HubSpot's v3 signature covers it), not the one a
    # reverse proxy forwarded to.
    raw = WebhookRequest(
        method=request.method,
        url=f"{base}{request.rel_url}",
        headers=dict(request.headers),
        query=dict(request.query),
        body=body,
    )
    problem = body_problem(raw, settings.webhook_max_depth)
    if problem is not None:
        raise HubError(400, "bad_body", problem)
    engine = request.config_dict[appkeys.CRM]
    changed = await receive_webhook(engine.env, connection_id, raw)
    return web.json_response({"ok": True, "changed": changed})
