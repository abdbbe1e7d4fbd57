"""``/webhooks/{channel_id}``: where providers deliver a channel's events (and handshakes).

Thin: it reads the raw request, finds the channel, and hands both to the inbound pipe
(``hub.channels.inbound``), which verifies through the plugin, logs, stores and decides
the answer. No API token here: the plugin checks the provider's own signature.
"""

from __future__ import annotations

from aiohttp import web

from hub import appkeys
from hub.api.bodies import read_limited
from hub.api.context import path_id
from hub.channels.inbound import Answer
from hub.contract.models import WebhookRequest
from hub.errors import NotFound

routes = web.RouteTableDef()


def _respond(answer: Answer) -> web.Response:
    if answer.response is not None:
        return web.Response(
            status=answer.response.status,
            text=answer.response.body,
            content_type=answer.response.content_type,
        )
    return web.json_response(answer.body, status=answer.status, headers=answer.headers)


@routes.route("GET", "/webhooks/{channel_id}")
@routes.route("POST", "/webhooks/{channel_id}")
async def webhook(request: web.Request) -> web.Response:
    """Receive one webhook request of a channel; answered after its events are stored."""
    channel_id = path_id(request, "channel_id", "channel")
    # Cached for a moment and dropped on every change; the request's own transaction
    # checks again that the channel is still enabled and not deleted.
    channel = await request.config_dict[appkeys.CHANNELS].channel_row(
        request.config_dict[appkeys.SESSIONS], channel_id
    )
    if channel is None:
        # Unknown ids are not logged: anyone can post to any id, and the log is for
        # channels that exist (the access log still records the request).
        raise NotFound("channel")
    pipe = request.config_dict[appkeys.INBOUND]
    source = request.remote
    limit = request.config_dict[appkeys.SETTINGS].max_body_bytes
    body = await read_limited(request, limit)
    raw = WebhookRequest(
        method=request.method,
        url=str(request.rel_url),
        headers=dict(request.headers),
        query=dict(request.query),
        body=body or b"",
    )
    if body is None:
        answer = await pipe.reject(channel, raw, 413, f"the body is over {limit} bytes", source)
    else:
        answer = await pipe.receive(channel, raw, source)
    return _respond(answer)
